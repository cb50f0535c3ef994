"""How a twin's buildings are partitioned and described in its tiles."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from twin3d.pipeline.buildings import BuildingRows
from twin3d.pipeline.config import PipelineConfig
from twin3d.tiling.tileset import BuildingProperties, TilingOptions, block_partitions

OUTSIDE = "outside"


def district_partitions(centroids: np.ndarray, districts: list[pa.Table], level: str) -> np.ndarray:
    """The code of the ``level`` district that holds each building's centre (``outside`` if none)."""
    table = pa.concat_tables(districts) if districts else None
    out = np.full(len(centroids), OUTSIDE, dtype=object)
    if table is None:
        return out
    table = table.filter(pc.equal(table["level"], level))
    polygons = shapely.from_wkb(table["geom"].to_numpy(zero_copy_only=False))
    codes = np.array([re.sub(r"[^A-Za-z0-9_-]", "_", c) for c in table["code"].to_pylist()], dtype=object)
    points = shapely.points(centroids)
    point_idx, poly_idx = shapely.STRtree(polygons).query(points, predicate="within")
    # A point on a shared border falls in two districts: the first one (lowest code order) takes it.
    order = np.lexsort((poly_idx, point_idx))
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    out[point_idx[first]] = codes[poly_idx[first]]
    return out


def partition_ids(xy: np.ndarray, partition: str, block_size_m: float, districts: list[pa.Table]) -> np.ndarray:
    """The partition of each building centre: ``[tiles] partition`` (blocks, or the districts of a level)."""
    if partition.startswith("districts:"):
        return district_partitions(xy, districts, partition.split(":", 1)[1])
    return block_partitions(xy, block_size_m)


def building_properties(buildings: BuildingRows) -> BuildingProperties:
    """The property table of the tiles: id, height, source, type and where the height came from."""

    def column(name: str) -> np.ndarray:
        return np.asarray(buildings.columns[name].to_numpy(zero_copy_only=False), dtype=object)

    return BuildingProperties(
        ids=np.asarray(buildings.ids.to_numpy(zero_copy_only=False), dtype=object),
        columns={
            "height": ("FLOAT32", buildings.height),
            "source": ("STRING", column("source")),
            "type": ("STRING", column("building_type")),
            "height_source": ("STRING", column("height_source")),
        },
    )


def tiling_options(cfg: PipelineConfig) -> TilingOptions:
    """How the twin's buildings are tiled (``[tiles]``), with the attribution of the twin and its sources."""
    rules = cfg.tiles
    # The twin's own credits, then each source's, once each: a tileset taken elsewhere keeps its licences.
    credits = dict.fromkeys([*cfg.twin.attribution, *(s.attribution for s in cfg.sources if s.attribution)])
    return TilingOptions(
        max_features=rules.max_features_per_tile,
        max_vertices=rules.max_vertices_per_tile,
        levels_of_detail=rules.levels_of_detail,
        compression=rules.compression,
        workers=rules.workers,
        attribution=tuple(credits),
    )
