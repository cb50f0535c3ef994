"""A vector layer as a feature collection (OGC API Features, vector tiles), and its tiles cut when it is loaded.

The collection is defined here once, for the loader that seeds the tiles and for the server that serves them,
so that a seeded tile and one cut on demand carry the same layer name and the same properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from twin3d.executor import Executor
from twin3d.store.connection import connect
from twin3d.store.features import Collection, Visibility, sql_string
from twin3d.store.tile_seed import write_seeded

SEED_ZOOMS = range(12, 17)
"""Zoom levels cut when a layer is loaded (a town's quarters to its buildings); the others are cut on demand."""
SEED_DIR = "mvt"


def collection_id(layer_id: str) -> str:
    """The collection id of a layer: ``layer_<id>`` with dashes as underscores."""
    return "layer_" + layer_id.replace("-", "_")


def vector_collection(
    layer_id: str,
    parquet: Path,
    fields: Iterable[str],
    *,
    title: str = "",
    description: str = "",
    visibility: Visibility = "public",
    attribution: str = "",
    licence: str = "",
    version: str = "",
    seeded: Path | None = None,
) -> Collection:
    """The collection of a loaded vector layer stored as ``parquet`` (columns ``fid``, ``geom_wgs84``, ``bbox``)."""
    names = [name for name in fields if name not in ("fid", "bbox")]
    return Collection(
        id=collection_id(layer_id),
        title=title or layer_id,
        description=description,
        relation=f"read_parquet({sql_string(str(parquet))})",
        id_column="fid",
        properties=("fid", *names),
        visibility=visibility,
        attribution=attribution,
        licence=licence,
        version=version,
        bbox_column="bbox",
        seeded=(str(seeded), SEED_ZOOMS.start, SEED_ZOOMS.stop - 1) if seeded is not None else None,
    )


def seed_layer_tiles(
    layer_id: str, parquet: Path, fields: Iterable[str], folder: Path, executor: Executor | None = None
) -> int:
    """Cut the tiles of :data:`SEED_ZOOMS` into ``folder`` (``<z>/<x>/<y>.pbf``, by ranges of tiles on
    ``executor`` if given); the number of tiles."""
    con = connect()
    try:
        return write_seeded(con.cursor(), vector_collection(layer_id, parquet, fields), folder, SEED_ZOOMS, executor)
    finally:
        con.close()
