"""The data model of a twin's layer catalogue: one :class:`LayerEntry` per layer (``layer.json``), and the
:class:`LayerDefinition` of a ``[[layers]]`` table in ``pipelines/<twin>.toml``.

Only pydantic models and constants live here: :mod:`twin3d.pipeline.config` imports this module, so it must not
import the pipeline or the loader.

Example:
    >>> entry = LayerEntry.model_validate_json(Path("var/layers/lauf/trees/layer.json").read_text())  # doctest: +SKIP
    >>> entry.kind, entry.feature_count, entry.extent  # doctest: +SKIP
    ('vector', 1234, (11.25, 49.49, 11.31, 49.53))
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin3d.auth.users import at_least

LAYER_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
ENTRY_FILE = "layer.json"
FEATURES_FILE = "features.parquet"
OVERLAY_FILE = "overlay.tif"
TERRAIN_FILE = "terrain.tif"
TILESET_DIR = "tileset"

Visibility = Literal["public", "council", "admin"]
LayerKind = Literal["vector", "raster", "terrain", "tiles3d", "pointcloud", "service"]
SourceFormat = Literal[
    "geojson", "gpkg", "shapefile", "fgb", "csv", "geotiff", "cityjson", "citygml", "las", "laz", "xplangml",
    "wms", "wmts",  # map services: their capabilities, no file
]  # fmt: skip
GeometryFamily = Literal["points", "lines", "polygons"]
RasterRole = Literal["overlay", "terrain"]
Origin = Literal["cli", "pipeline", "upload", "service"]
ServiceKind = Literal["wms", "wmts", "wfs", "oapif"]


def visible_to(visibility: str, role: str) -> bool:
    """Whether a caller of ``role`` (public, council or admin) may see a layer of ``visibility``."""
    return at_least(role, visibility)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerStyle(_Strict):
    """How the viewer draws a layer by default (deck.gl / MapLibre paint values)."""

    fill_color: str = Field(default="#2563eb", pattern=COLOR_PATTERN)
    line_color: str = Field(default="#1e3a8a", pattern=COLOR_PATTERN)
    line_width: float = Field(default=1.0, ge=0, le=50, description="pixels")
    opacity: float = Field(default=0.6, ge=0, le=1)
    point_radius: float = Field(default=4.0, gt=0, le=100, description="pixels")
    extrusion_property: str | None = Field(default=None, description="numeric field extruded as height, metres")
    colormap: str | None = Field(default=None, description="rasters: a named ramp (terrain, viridis, greys)")
    rescale: tuple[float, float] | None = Field(default=None, description="rasters: values mapped to the ramp ends")


class LegendItem(_Strict):
    """One line of a layer's legend."""

    label: str
    color: str = Field(pattern=COLOR_PATTERN)
    symbol: Literal["fill", "line", "point", "ramp"] = "fill"
    value: float | None = Field(default=None, description="for ramps: the value this colour stands for")


class LayerDefinition(_Strict):
    """A ``[[layers]]`` table of a pipeline definition, loaded by ``twin3d layers sync <twin>``."""

    id: str = Field(pattern=LAYER_ID_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    path: str = Field(description="the file, relative to the pipeline file")
    description: str = ""
    role: RasterRole = Field(default="overlay", description="GeoTIFF: an overlay image or the twin's terrain")
    crs: str | None = Field(default=None, description="CRS of a file that carries none (or a wrong one)")
    encoding: str | None = Field(default=None, description="text encoding of the attributes, if not UTF-8")
    source_layer: str | None = Field(default=None, description="layer of a GeoPackage, member of a zip")
    only: GeometryFamily | None = Field(default=None, description="keep one geometry family, drop the others")
    licence: str = ""
    attribution: str = ""
    visibility: Visibility = "public"
    style: LayerStyle | None = None
    legend: list[LegendItem] | None = None


class LoadStats(_Strict):
    """What loading did: records read and kept, geometries repaired, records dropped per reason."""

    records_in: int = 0
    records_out: int = 0
    repaired: int = 0
    dropped: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


class RasterInfo(_Strict):
    """The stored raster of an overlay or terrain layer."""

    width: int
    height: int
    bands: int
    dtype: str
    nodata: float | None
    resolution: tuple[float, float] = Field(description="pixel size in units of the stored CRS")
    minimum: float | None = Field(default=None, description="band 1, over the valid pixels")
    maximum: float | None = None


class ServiceSource(_Strict):
    """Where a layer read from a web service comes from, and how to ask that service again.

    A ``wms`` or ``wmts`` layer (kind ``service``) keeps no data: its tiles are asked for and cached when shown.
    A ``wfs`` or ``oapif`` layer is a vector layer imported from the service; a refresh imports it again.

    Attributes:
        url: the URL the administration registered; it may carry credentials, so it never goes to a client.
        layer: the WMS layer name, WMTS layer identifier, WFS feature type or OGC API collection id.
        version: the protocol version used (WMS ``1.3.0`` or ``1.1.1``, WMTS ``1.0.0``, WFS ``2.0.0``).
        format: the image format (``image/png``) or the format the features were fetched in.
        crs: the CRS code asked for (WMS: ``EPSG:3857``; WFS: the ``srsName``).
        tile_matrices: WMTS: Web Mercator zoom -> the identifier of that tile matrix.
        legend_url: the legend image named by the capabilities (on the service's host), if any.
        fetched_at: when the capabilities or the features were read.
    """

    kind: ServiceKind
    url: str
    layer: str
    version: str | None = None
    style: str = ""
    format: str = ""
    time: str | None = None
    crs: str | None = None
    tile_matrix_set: str | None = None
    tile_matrices: dict[int, str] = Field(default_factory=dict)
    legend_url: str | None = None
    fetched_at: datetime


class LayerEntry(_Strict):
    """The catalogue entry of one layer, stored as ``layer.json`` in the layer's folder.

    Attributes:
        files: the layer's data files by role, relative to its folder: ``features`` (GeoParquet),
            ``raster`` (Cloud-Optimised GeoTIFF), ``tileset`` (3D Tiles ``tileset.json``); none for a map service.
        crs: the CRS of the stored data (the twin's CRS for vector and 3D layers, EPSG:3857 for overlays).
        extent: lon/lat (OGC:CRS84) bounds ``[west, south, east, north]``.
        fields: attribute name -> Arrow type of the stored features; names are plain SQL identifiers.
        field_sources: for fields renamed on the way in, the name they have in the file.
    """

    schema_version: Literal[1] = 1
    id: str = Field(pattern=LAYER_ID_PATTERN)
    twin: str
    title: str
    description: str = ""
    kind: LayerKind
    format: SourceFormat
    source: str = Field(description="file name of the loaded file")
    source_sha256: str
    origin: Origin = "cli"
    licence: str = ""
    attribution: str = ""
    source_crs: str
    crs: str
    feature_count: int = Field(ge=0, description="features, buildings or points")
    geometry_type: str | None = None
    extent: tuple[float, float, float, float]
    updated_at: datetime
    visibility: Visibility = "public"
    style: LayerStyle = LayerStyle()
    legend: list[LegendItem] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict)
    field_sources: dict[str, str] = Field(default_factory=dict, description="stored name -> name in the file")
    files: dict[str, str] = Field(default_factory=dict)
    raster: RasterInfo | None = None
    stats: LoadStats = LoadStats()
    definition_sha256: str | None = Field(default=None, description="pipeline layers: hash of their definition")
    service: ServiceSource | None = Field(default=None, description="layers read from a web service")

    @model_validator(mode="after")
    def _extent_in_range(self) -> LayerEntry:
        west, south, east, north = self.extent
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise ValueError(f"extent {self.extent} is not a lon/lat box")
        return self
