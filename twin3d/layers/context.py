"""What a load needs to know besides the file: the twin (CRS, extent, geoid) and the caller's options.

The loader takes a :class:`TwinInfo` rather than opening the store itself: the CLI builds one with
:func:`twin_info` (pipeline definition plus, when the twin is built, its extent from the store, opened read-only),
and a server that already holds the store open builds it from its own connection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
from pyproj import CRS

from twin3d.errors import InputError, StoreError
from twin3d.executor import Executor
from twin3d.layers.model import (
    GeometryFamily,
    LayerDefinition,
    LayerStyle,
    LegendItem,
    Origin,
    RasterRole,
    SourceFormat,
    Visibility,
)
from twin3d.layers.report import LoadReport
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.validate import region_bounds
from twin3d.settings import LayerSettings, PathSettings

WGS84 = CRS.from_epsg(4326)
KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class TwinInfo:
    """The twin a layer is loaded into.

    Attributes:
        name: the twin's name.
        crs: its projected CRS; vector and 3D layers are stored in it.
        geoid_undulation: quasigeoid above the ellipsoid at the twin, metres (heights of 3D layers are raised
            by it, as the twin's own tiles are).
        bbox_wgs84: the built twin's extent (lon/lat), or None for a twin not built yet.
        base_dir: the folder of the pipeline definition (``[[layers]]`` paths are relative to it).
    """

    name: str
    crs: CRS
    geoid_undulation: float
    bbox_wgs84: tuple[float, float, float, float] | None = None
    base_dir: Path = Path()

    def region(self, max_distance_km: float) -> tuple[float, float, float, float]:
        """The lon/lat box a layer must lie in: the built twin's extent plus ``max_distance_km``, else the area
        of use of the twin's CRS plus a margin (:func:`twin3d.pipeline.validate.region_bounds`)."""
        if self.bbox_wgs84 is None:
            return region_bounds(self.crs)
        west, south, east, north = self.bbox_wgs84
        dlat = max_distance_km / KM_PER_DEGREE
        dlon = dlat / max(math.cos(math.radians(max(abs(south), abs(north)))), 0.01)
        return (west - dlon, south - dlat, east + dlon, north + dlat)

    def describe_region(self, max_distance_km: float) -> str:
        """Where the region comes from, for error messages."""
        if self.bbox_wgs84 is None:
            return f"the area of use of {self.crs.name}"
        return f"{max_distance_km:g} km around twin {self.name!r}"


def twin_info(paths: PathSettings, twin: str) -> TwinInfo:
    """The twin as the loader needs it, from ``pipelines/<twin>.toml`` and, when built, its store's metadata.

    Raises:
        ConfigError: the twin has no (valid) pipeline definition.
    """
    cfg = load_pipeline(paths.pipeline_file(twin))
    info = TwinInfo(twin, cfg.twin_crs(), cfg.twin.geoid_undulation, None, cfg.base_dir)
    store = paths.store_file(twin)
    if not store.is_file():
        return info
    from twin3d.store.connection import connect  # noqa: PLC0415  (DuckDB only for built twins)
    from twin3d.store.queries import meta  # noqa: PLC0415

    try:
        con = connect(store, read_only=True)
        try:
            stored = meta(con.cursor(), "twin") or {}
        finally:
            con.close()
    except (StoreError, duckdb.Error):
        # A store that cannot be read now (being replaced, older schema): check against the CRS's region only.
        return info
    bbox = stored.get("bbox_wgs84")
    return replace(
        info,
        geoid_undulation=float(stored.get("geoid_undulation", info.geoid_undulation)),
        bbox_wgs84=tuple(float(v) for v in bbox) if bbox and len(bbox) == 4 else None,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class LoadOptions:
    """How to load a file: what to call the layer, who sees it, and how to read the file.

    Attributes:
        title: shown in the viewer; default the file name.
        layer_id: default a slug of the title.
        crs: the CRS to assume for a file that carries none (or a wrong one).
        encoding: the attributes' text encoding, if not UTF-8 (e.g. ``cp1252``).
        source_layer: the layer of a multi-layer GeoPackage, or the member of a zip with several data files.
        only: keep one geometry family and drop the others (counted) instead of rejecting a mixed file.
        role: for a GeoTIFF, an ``overlay`` image or the twin's ``terrain``.
        replace: swap out an existing layer of the same id.
        skip_invalid: leave out broken objects of 3D city models (counted) instead of failing.
        origin: who added the layer (``cli``, ``pipeline``, ``upload``).
        definition_sha256: for pipeline layers, the hash of their ``[[layers]]`` table.
    """

    title: str | None = None
    layer_id: str | None = None
    description: str = ""
    visibility: Visibility = "public"
    licence: str = ""
    attribution: str = ""
    crs: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    only: GeometryFamily | None = None
    role: RasterRole = "overlay"
    style: LayerStyle | None = None
    legend: tuple[LegendItem, ...] | None = None
    replace: bool = False
    skip_invalid: bool = False
    origin: Origin = "cli"
    definition_sha256: str | None = None

    @staticmethod
    def from_definition(d: LayerDefinition, *, replace: bool, definition_sha256: str) -> LoadOptions:
        """The options of a ``[[layers]]`` table."""
        return LoadOptions(
            title=d.title,
            layer_id=d.id,
            description=d.description,
            visibility=d.visibility,
            licence=d.licence,
            attribution=d.attribution,
            crs=d.crs,
            encoding=d.encoding,
            source_layer=d.source_layer,
            only=d.only,
            role=d.role,
            style=d.style,
            legend=tuple(d.legend) if d.legend is not None else None,
            replace=replace,
            origin="pipeline",
            definition_sha256=definition_sha256,
        )


@dataclass(frozen=True)
class LoadJob:
    """One file being loaded into a layer's staging folder: what each format's writer is given.

    Attributes:
        path: the data file (inside the unpacked zip, for a zip).
        format: its format.
        out_dir: the staging folder; everything the layer keeps is written here.
        options: the caller's options.
        twin: the twin.
        limits: size limits.
        report: counts to fill in.
        executor: where a large layer's vector tiles are cut (None: in this process).
    """

    path: Path
    format: SourceFormat
    out_dir: Path
    options: LoadOptions
    twin: TwinInfo
    limits: LayerSettings
    report: LoadReport
    executor: Executor | None = None


def feature_number(i: int) -> str:
    """How a record is named in errors: its 1-based position in the file ("record 3")."""
    return str(i + 1)


def check_region(
    bounds: np.ndarray,
    twin: TwinInfo,
    max_distance_km: float,
    *,
    file: Path,
    record_of: Callable[[int], str] = feature_number,
) -> None:
    """Raise for the first record whose lon/lat box (a row ``west, south, east, north`` of ``bounds``) reaches
    outside the twin's region.

    Raises:
        InputError: naming the record, its lon/lat and the likely fix (a wrong CRS, or data of another place).
    """
    rw, rs, re_, rn = twin.region(max_distance_km)
    outside = (bounds[:, 0] < rw) | (bounds[:, 2] > re_) | (bounds[:, 1] < rs) | (bounds[:, 3] > rn)
    if not outside.any():
        return
    i = int(np.flatnonzero(outside)[0])
    w, s, e, n = bounds[i]
    raise InputError(
        f"coordinates out of range: lon {w:.4f}..{e:.4f}, lat {s:.4f}..{n:.4f} lies outside "
        f"{twin.describe_region(max_distance_km)} (lon {rw:.2f}..{re_:.2f}, lat {rs:.2f}..{rn:.2f}); "
        f"{int(outside.sum()):,} record(s) in all",
        file=file,
        record=record_of(i),
        hint="the file's CRS is probably wrong: declare the right one with --crs EPSG:....; or clip it to the twin",
    )
