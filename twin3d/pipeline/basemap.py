"""The build step of the basemap: the map under the 3D buildings, as vector tiles in the build's tiles folder.

Where the map comes from (``[basemap]`` of the pipeline definition, :class:`~twin3d.pipeline.config.BasemapSection`):

* with ``osm``: land use, water, waterways, roads, railways and places of that OpenStreetMap extract
  (:func:`twin3d.io.osm_basemap.read_osm_basemap`);
* without: what the twin's store holds: street axes (``streets``, where a source made them) and ``paths`` as
  roads, actual land use (``land_use``, e.g. ALKIS: :data:`ALKIS_LAND_USE`) and ``greens`` as land use and water;
* in both: the twin's districts of every level (outlines and a label point each), so a twin without OpenStreetMap
  (Rostock) still shows where it is.

A twin with none of these, or with ``enabled = false``, gets no basemap: its metadata's ``basemap`` is null and the
viewer draws a plain ground. Everything is cut to the twin's extent plus ``margin_m``.

The tiles go to ``<build tiles>/basemap/{z}/{x}/{y}.pbf`` (:mod:`twin3d.tiling.basemap`); the server answers a
missing tile inside the basemap's zooms and bounds with 204 (an empty tile). What the extract could not give
(objects cut at its edge) is a note of the build report with counts per reason, not dropped records of a source:
the basemap is no source of the twin's tables.

Example:
    >>> meta = basemap_step(cfg, build, report)  # doctest: +SKIP
    >>> meta["tiles"], meta["layers"]  # doctest: +SKIP
    ('basemap/{z}/{x}/{y}.pbf', ['landuse', 'water', 'waterway', 'railways', 'roads', 'places'])
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from twin3d.io.osm_basemap import (
    LEISURE_KINDS,
    NATURAL_KINDS,
    OSM_ATTRIBUTION,
    ROAD_RANKS,
    MapLayer,
    read_osm_basemap,
)
from twin3d.pipeline.config import PipelineConfig
from twin3d.pipeline.report import BuildReport
from twin3d.store.features import Cursor
from twin3d.store.queries import table_columns
from twin3d.store.writer import StoreWriter
from twin3d.tiling.basemap import LAYER_ORDER, Layer, write_basemap

BASEMAP_DIR = "basemap"
TILES = f"{BASEMAP_DIR}/{{z}}/{{x}}/{{y}}.pbf"
METRES_PER_DEGREE = 111_320.0  # of latitude (and of longitude at the equator): enough for a margin
STREET_RANK = ROAD_RANKS["residential"]  # a street axis of no known class is drawn as a residential street

#: ALKIS actual land use (tatsächliche Nutzung, object types in lower case) as the basemap's layer and kind, in
#: OpenStreetMap's words where it has them. Traffic areas are ``traffic`` (the streets' own surfaces); unland and
#: shipping areas are not drawn.
ALKIS_LAND_USE: dict[str, tuple[str, str]] = {
    "ax_wohnbauflaeche": ("landuse", "residential"),
    "ax_flaechegemischternutzung": ("landuse", "residential"),
    "ax_industrieundgewerbeflaeche": ("landuse", "industrial"),
    "ax_flaechebesondererfunktionalerpraegung": ("landuse", "public"),
    "ax_sportfreizeitunderholungsflaeche": ("landuse", "recreation_ground"),
    "ax_friedhof": ("landuse", "cemetery"),
    "ax_tagebaugrubesteinbruch": ("landuse", "quarry"),
    "ax_bergbaubetrieb": ("landuse", "quarry"),
    "ax_halde": ("landuse", "landfill"),
    "ax_landwirtschaft": ("landuse", "farmland"),
    "ax_wald": ("landuse", "forest"),
    "ax_gehoelz": ("landuse", "scrub"),
    "ax_heide": ("landuse", "heath"),
    "ax_moor": ("landuse", "wetland"),
    "ax_sumpf": ("landuse", "wetland"),
    "ax_strassenverkehr": ("landuse", "traffic"),
    "ax_weg": ("landuse", "traffic"),
    "ax_platz": ("landuse", "traffic"),
    "ax_bahnverkehr": ("landuse", "railway"),
    "ax_flugverkehr": ("landuse", "aerodrome"),
    "ax_fliessgewaesser": ("water", "river"),
    "ax_stehendesgewaesser": ("water", "lake"),
    "ax_hafenbecken": ("water", "basin"),
    "ax_meer": ("water", "water"),
}


def _store_rows(cur: Cursor, table: str, key: str, columns: dict[str, str]) -> pa.Table | None:
    """The rows of a store table in the order of its ``key`` (the same tiles from the same store), ``columns`` (name
    -> column of the table) and ``wkb`` (lon/lat); None if the table is not in this store (a source kind added later)
    or has no rows."""
    known = table_columns(cur, table)
    if "geom_wgs84" not in known:
        return None
    # Only the table's own columns: an optional one it lacks is null (names come from code, not from input).
    select = ", ".join(f"{sql if sql in known else 'NULL::VARCHAR'} AS {name}" for name, sql in columns.items())
    sql = f"SELECT {select}, ST_AsWKB(geom_wgs84) AS wkb FROM {table} ORDER BY {key}"
    found = cur.execute(sql).to_arrow_table()
    return found if found.num_rows else None


def _geometry(table: pa.Table) -> np.ndarray:
    return np.asarray(shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False)), dtype=object)


def _mapped(values: pa.ChunkedArray, fn: Callable[[str], Any], dtype: pa.DataType) -> pa.Array:
    """``fn`` of each value, called once per distinct value."""
    plain = pc.fill_null(values, "").to_numpy(zero_copy_only=False).astype(str)
    distinct, inverse = np.unique(plain, return_inverse=True)
    return pa.array([fn(str(v)) for v in distinct], dtype).take(pa.array(inverse))


def _road_kind(value: str) -> str:
    """A path class (``highway=footway`` or ``footway``) as a road kind; a class of no known kind is a path."""
    kind = value.rpartition("=")[2].strip().lower()
    return kind if kind in ROAD_RANKS else "path"


def _green_kind(value: str) -> str:
    """A green's category (``leisure=park``) as a land-use kind; any other public green is a park."""
    kind = value.rpartition("=")[2].strip().lower()
    return LEISURE_KINDS.get(kind) or NATURAL_KINDS.get(kind) or "park"


def _roads(kinds: pa.Array, names: pa.ChunkedArray, geoms: np.ndarray) -> MapLayer:
    n = len(geoms)
    nulls = pa.nulls(n, pa.string())
    ranks = _mapped(pa.chunked_array([kinds]), lambda k: ROAD_RANKS.get(k, STREET_RANK), pa.int32())
    attributes = {"kind": kinds, "name": names, "name_en": nulls, "ref": nulls, "bridge": nulls, "tunnel": nulls}
    return MapLayer(geoms, pa.table({**attributes, "rank": ranks}))


def _joined(parts: list[MapLayer]) -> MapLayer:
    return MapLayer(np.concatenate([p.geometry for p in parts]), pa.concat_tables([p.attributes for p in parts]))


def _land_use(found: pa.Table) -> dict[str, list[MapLayer]]:
    """Land-use polygons (ALKIS actual land use, or a source's own classes) as ``landuse`` and ``water`` parts."""
    layer = _mapped(found["class"], lambda c: (_land_use_kind(c) or ("", ""))[0], pa.string())
    kind = _mapped(found["class"], lambda c: (_land_use_kind(c) or ("", ""))[1], pa.string())
    geoms = _geometry(found)
    out: dict[str, list[MapLayer]] = {}
    for name in ("landuse", "water"):
        mask = pc.equal(layer, name)
        if pc.any(mask).as_py():
            attributes = pa.table({"kind": kind.filter(mask), "name": found["name"].filter(mask)})
            out[name] = [MapLayer(geoms[mask.to_numpy(zero_copy_only=False)], attributes)]
    return out


def _land_use_kind(value: str) -> tuple[str, str] | None:
    """The layer and kind a land-use class is drawn as: ALKIS object types by :data:`ALKIS_LAND_USE` (those not
    listed are not drawn), any other class as a land-use kind of its own name."""
    value = value.strip().lower()
    if value.startswith("ax_"):
        return ALKIS_LAND_USE.get(value)
    return ("landuse", value.replace(" ", "_")) if value else None


def store_layers(cur: Cursor) -> dict[str, MapLayer]:
    """The basemap layers a store gives: ``roads`` from street axes and paths, ``landuse`` from greens and land use
    (with its water as ``water``).

    Args:
        cur: a cursor on the twin's store.

    Returns:
        The layers there are rows for (lon/lat), properties as :func:`twin3d.io.osm_basemap.read_osm_basemap`'s.
    """
    parts: dict[str, list[MapLayer]] = {}
    if (streets := _store_rows(cur, "streets", "street_id", {"name": "name", "class": "street_class"})) is not None:
        kinds = pc.coalesce(streets["class"], pa.scalar("residential")).combine_chunks()
        parts.setdefault("roads", []).append(_roads(kinds, streets["name"], _geometry(streets)))
    if (paths := _store_rows(cur, "paths", "path_id", {"name": "name", "class": "path_class"})) is not None:
        kinds = _mapped(paths["class"], _road_kind, pa.string())
        parts.setdefault("roads", []).append(_roads(kinds, paths["name"], _geometry(paths)))
    # Land use first: the greens on top of it are drawn after it.
    if (land := _store_rows(cur, "land_use", "land_use_id", {"class": "land_use_class", "name": "label"})) is not None:
        for name, found in _land_use(land).items():
            parts.setdefault(name, []).extend(found)
    if (greens := _store_rows(cur, "greens", "green_id", {"name": "name", "category": "category"})) is not None:
        kinds = _mapped(greens["category"], _green_kind, pa.string())
        parts.setdefault("landuse", []).append(
            MapLayer(_geometry(greens), pa.table({"kind": kinds, "name": greens["name"]}))
        )
    return {name: _joined(found) for name, found in parts.items()}


def district_layers(cur: Cursor) -> dict[str, MapLayer]:
    """``districts`` (outlines with ``level``, ``name``, ``code``) and ``district_labels`` (a point inside each, with
    ``level`` and ``name``) of every level; empty if the twin has no districts."""
    found = _store_rows(cur, "districts", "district_id", {"level": "level", "name": "name", "code": "code"})
    if found is None:
        return {}
    geoms = _geometry(found)
    outlines = MapLayer(geoms, found.select(["level", "name", "code"]))
    labels = MapLayer(np.asarray(shapely.point_on_surface(geoms), dtype=object), found.select(["level", "name"]))
    return {"districts": outlines, "district_labels": labels}


def _box(extent: list[float], margin_m: float) -> tuple[float, float, float, float]:
    """The twin's extent (lon/lat) grown by ``margin_m`` metres."""
    west, south, east, north = extent
    dy = margin_m / METRES_PER_DEGREE
    dx = dy / max(math.cos(math.radians((south + north) / 2)), 0.01)
    return west - dx, max(south - dy, -85.0), east + dx, min(north + dy, 85.0)


def _attribution(cfg: PipelineConfig, osm: bool, layers: dict[str, MapLayer]) -> str:
    """OpenStreetMap's credit where the map comes from it, and those of the sources of the store's tables it uses."""
    kinds = {"districts"} if "districts" in layers else set()
    if not osm:
        kinds |= {"streets", "paths"} if "roads" in layers else set()
        kinds |= {"greens", "land_use"} if {"landuse", "water"} & set(layers) else set()
    credits = [OSM_ATTRIBUTION] if osm else []
    credits += [s.attribution for s in cfg.sources if s.kind in kinds and s.attribution]
    return "; ".join(dict.fromkeys(credits))


def _skip_note(skipped: list[tuple[str, str, str]], cut_lines: int) -> str | None:
    reasons = Counter(reason for _, _, reason in skipped)
    parts = [f"{reason}: {n:,}" for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))]
    if cut_lines:
        parts.append(f"lines cut at the extract edge, kept where the extract has their nodes: {cut_lines:,}")
    return "basemap: OpenStreetMap objects not drawn: " + "; ".join(parts) if parts else None


def _map_layers(
    cfg: PipelineConfig, cur: Cursor, box: tuple[float, float, float, float], report: BuildReport
) -> dict[str, MapLayer]:
    """The map's layers cut to ``box``: the OSM extract's or the store's, and the districts; only those with
    features."""
    layers: dict[str, MapLayer] = {}
    if cfg.basemap.osm is not None:
        found = read_osm_basemap(Path(os.path.normpath(cfg.base_dir / cfg.basemap.osm)), bbox=box)
        layers |= found.layers
        if note := _skip_note(found.skipped.entries, found.cut_lines):
            report.notes.append(note)
    else:
        layers |= store_layers(cur)
    layers |= district_layers(cur)
    clipped = {name: layer.clipped(box) for name, layer in layers.items()}
    return {name: layer for name, layer in clipped.items() if len(layer)}


class BuildFolders(Protocol):
    """What a build being written offers the step (``twin3d.pipeline.build``'s build)."""

    store: StoreWriter  # the new store, its tables written
    tiles: Path  # the build's tiles folder
    previous_tiles: Path | None  # the tiles folder of the build it follows, if any


def basemap_step(
    cfg: PipelineConfig,
    build: BuildFolders,
    report: BuildReport,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any] | None:
    """Make the twin's basemap tiles; its metadata for ``twin_meta`` (``twin.basemap``), or None for no basemap.

    Called when the store's tables are written (it reads districts, street axes, paths and greens from them).

    Args:
        cfg: the pipeline definition (its ``[basemap]`` table).
        build: the build being written: its store (tables written), its tiles folder (the tiles go to its
            ``basemap`` folder) and the previous build's (unchanged tiles are linked from it).
        report: where the notes go.
        progress: called as ``progress(step, done, total)``.

    Returns:
        ``{"tiles": "basemap/{z}/{x}/{y}.pbf", "minzoom", "maxzoom", "bounds": [w, s, e, n], "layers": [...],
        "attribution"}``, the path relative to the tileset folder; None if the twin gets no basemap.

    Raises:
        InputError: the configured OSM extract is missing or unreadable.
    """
    section = cfg.basemap
    if not section.enabled:
        report.notes.append("basemap: none ([basemap] enabled = false)")
        return None
    started = perf_counter()
    if progress is not None:
        progress("drawing the basemap", 0, 1)
    store, previous = build.store, build.previous_tiles
    zooms = range(section.minzoom, section.maxzoom + 1)
    extent = store.extent_wgs84()
    if extent is None:
        report.notes.append("basemap: none (the twin has no extent)")
        return None
    box = _box(extent, section.margin_m)
    cur = store.con.cursor()
    try:
        layers = _map_layers(cfg, cur, box, report)
        if not layers:
            report.notes.append(
                "basemap: none (no OSM extract configured, and no districts, streets, paths or land use)"
            )
            return None
        written = write_basemap(
            [Layer(name, layer.geometry, layer.attributes) for name, layer in layers.items()],
            build.tiles / BASEMAP_DIR,
            zooms,
            previous=previous / BASEMAP_DIR if previous is not None else None,
            con=cur,
        )
    finally:
        cur.close()
    counts = ", ".join(f"{name} {n:,}" for name, n in written.features.items())
    report.notes.append(
        f"basemap: {written.tiles:,} vector tiles of zoom {zooms[0]}-{zooms[-1]} ({written.bytes / 1e6:.2f} MB, "
        f"{written.reused:,} unchanged and kept); features: {counts}; {perf_counter() - started:.1f} s"
    )
    if written.bounds is None:
        return None
    present = [name for name in LAYER_ORDER if name in written.features]
    present += sorted(set(written.features) - set(present))
    return {
        "tiles": TILES,
        "minzoom": zooms[0],
        "maxzoom": zooms[-1],
        "bounds": [round(v, 7) for v in written.bounds],
        "layers": present,
        "attribution": _attribution(cfg, section.osm is not None, layers),
    }
