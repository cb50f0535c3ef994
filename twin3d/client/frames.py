"""Server answers as pandas and geopandas frames: Arrow streams, GeoJSON and H3 cells, vectorised throughout."""

from __future__ import annotations

import io
from typing import Any

import geopandas as gpd
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy.vector import cells_to_wkb_polygons

WGS84 = "EPSG:4326"


def arrow_table(data: bytes) -> pa.Table:
    """An Arrow IPC stream as a table."""
    return pa.ipc.open_stream(pa.BufferReader(data)).read_all()


def geo_from_arrow(tables: list[pa.Table], crs: Any = None) -> gpd.GeoDataFrame:
    """Pages of features (``geometry`` as GeoArrow WKB in lon/lat) as one GeoDataFrame in ``crs`` (None: WGS 84),
    indexed by the id column the server names in the schema's metadata (``building_id``, ``facility_id``, ...)."""
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    frame = gpd.GeoDataFrame.from_arrow(table).set_crs(WGS84, allow_override=True)
    id_column = (table.schema.metadata or {}).get(b"id_column", b"").decode()
    if id_column in frame.columns:
        frame = frame.set_index(id_column)
    return to_crs(frame, crs)


def geo_from_geojson(content: bytes, crs: Any = None) -> gpd.GeoDataFrame:
    """A GeoJSON FeatureCollection (lon/lat) as a GeoDataFrame in ``crs`` (None: WGS 84); read by GDAL, so its
    nested properties (lists, objects) arrive as JSON text."""
    frame = gpd.read_file(io.BytesIO(content))
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    return to_crs(frame, crs)


def to_crs(frame: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """``frame`` in ``crs`` (None: as it is)."""
    if crs is None or (frame.crs is not None and frame.crs.equals(crs)):
        return frame
    return frame.to_crs(crs)


def h3_outlines(cells: pd.Series | pa.Array | list[str]) -> np.ndarray:
    """The outlines (shapely polygons, lon/lat) of H3 cells given as hex strings."""
    hex_ids = pa.array(cells, pa.string()) if not isinstance(cells, pa.Array) else cells
    if len(hex_ids) == 0:
        return np.empty(0, dtype=object)
    ids = np.asarray(pa.array(h3ronpy.cells_parse(hex_ids)).to_numpy(), dtype=np.uint64)
    return np.asarray(shapely.from_wkb(np.asarray(cells_to_wkb_polygons(ids)).astype(object)))


def cells_frame(frame: pd.DataFrame, column: str = "h3", crs: Any = None) -> gpd.GeoDataFrame:
    """A frame with an H3 column as a GeoDataFrame of the cells' outlines, in ``crs`` (None: WGS 84)."""
    geometry = gpd.GeoSeries(h3_outlines(frame[column].astype(str)), crs=WGS84, index=frame.index)
    return to_crs(gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84), crs)
