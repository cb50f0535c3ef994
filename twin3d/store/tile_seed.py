"""Vector tiles of a whole collection at once, for the zoom levels a viewer asks for most (a loaded layer's).

Cutting tile by tile costs a query per tile, and on two cores sixteen clients asking for tiles nobody asked for
before wait their turn. Here one query per zoom level assigns every feature to the tiles its extent meets
(``generate_series`` over the tile columns and rows of its bounding box), maps it into each tile's coordinates and
groups by tile: 100,000 footprints give their 1,900 tiles of zoom 12-16 in about two seconds. The tiles are the
same as :func:`twin3d.store.features.mvt` cuts on demand: the same properties, the same affine map (Mercator's y
linear in latitude inside a tile, as there from zoom 12) and the same clipping at the tile buffer.

A large collection is seeded in ranges of tile columns, one task each on an executor (:mod:`twin3d.executor`):
each task's query reads only the features near its columns and cuts only its own tiles, so the tiles are the same
whichever executor cut them and however the columns were split.

Example:
    >>> for z, x, y, data in seed_tiles(con, collection, range(12, 17)):  # doctest: +SKIP
    ...     write(folder / f"{z}/{x}/{y}.pbf", data)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from twin3d.executor import Executor
from twin3d.store.connection import connect
from twin3d.store.features import (
    EARTH_RADIUS,
    HALF_WORLD,
    LINEAR_FROM_ZOOM,
    MAX_TILE_FEATURES,
    MVT_BUFFER,
    MVT_EXTENT,
    Collection,
    Cursor,
    column_types,
    mvt_entries,
    tile_file,
)


def _row_of(latitude: str) -> str:
    """SQL of the (fractional) tile row at ``__n`` tiles per side that holds a latitude (degrees)."""
    rad = f"radians(greatest(-85.0511, least(85.0511, {latitude})))"
    return f"(1 - ln(tan({rad}) + 1 / cos({rad})) / pi()) / 2 * __n"


def _latitude_of(row: str) -> str:
    """SQL of the latitude (degrees) of a tile row's top edge, at ``__n`` tiles per side."""
    return f"degrees(atan(sinh(pi() * (1 - 2 * ({row}) / __n))))"


# Column ranges per worker when seeding on an executor: several each, so that a range dense with features does not
# leave the other workers idle.
RANGES_PER_WORKER = 4


def seed_sql(
    collection: Collection, zooms: Sequence[int], types: dict[str, str], max_features: int, *, by_columns: bool = False
) -> str:
    """One query: (z, x, y, tile bytes) of every tile of ``zooms`` that holds a feature of ``collection``; the
    source is read once for all zoom levels. A tile holds at most ``max_features``, the largest by their extent (as
    a tile cut on demand: :func:`twin3d.store.features.vector_tile`).

    With ``by_columns`` only the tiles in a range of tile columns of the lowest zoom (and the columns under them at
    the others) are cut, from the features near it: parameters :func:`column_range_parameters` after the
    collection's own (see :func:`seed_tiles`)."""
    if min(zooms) < LINEAR_FROM_ZOOM:
        raise ValueError(f"tiles are seeded from zoom {LINEAR_FROM_ZOOM}, not {min(zooms)}")
    if not collection.bbox_column:
        raise ValueError(f"collection {collection.id} has no bbox column to seed by")
    b = collection.bbox_column
    # The buffer around a tile, as a share of a tile, so that features at an edge reach both tiles.
    pad = MVT_BUFFER / MVT_EXTENT
    size = f"({2 * HALF_WORLD} / __n)"
    scale = f"({MVT_EXTENT} / {size})"
    box = f"ST_MakeEnvelope({-MVT_BUFFER}, {-MVT_BUFFER}, {MVT_EXTENT + MVT_BUFFER}, {MVT_EXTENT + MVT_BUFFER})"
    fid = f"CAST(hash({collection.id_column}) % 2147483647 AS INTEGER)"
    x_range = (
        f"CAST(floor(({b}.xmin + 180) / 360 * __n - {pad}) AS BIGINT), "
        f"CAST(floor(({b}.xmax + 180) / 360 * __n + {pad}) AS BIGINT)"
    )
    y_range = (
        f"CAST(floor({_row_of(f'{b}.ymax')} - {pad}) AS BIGINT), CAST(floor({_row_of(f'{b}.ymin')} + {pad}) AS BIGINT)"
    )
    # As features._to_tile: the tangent of Mercator's y at the middle latitude of the tile's edges.
    middle = f"radians(({_latitude_of('__y')} + {_latitude_of('__y + 1')}) / 2)"
    per_degree_x = EARTH_RADIUS * 3.141592653589793 / 180
    a = f"{per_degree_x} * {scale}"
    d = f"-({per_degree_x} / cos(__mid)) * {scale}"
    xoff = f"-(-{HALF_WORLD} + __x * {size}) * {scale}"
    yoff = (
        f"(({HALF_WORLD} - __y * {size}) - {EARTH_RADIUS} * ln(tan(pi() / 4 + __mid / 2)) "
        f"+ {per_degree_x} / cos(__mid) * degrees(__mid)) * {scale}"
    )
    clipped = f"CASE WHEN ST_Within(__local, {box}) THEN __local ELSE ST_Intersection(__local, {box}) END"
    # Only the columns a tile carries: the others (the projected geometry above all) are never read.
    columns = ", ".join(dict.fromkeys([collection.id_column, *collection.properties]))
    levels = ", ".join(str(int(z)) for z in zooms)
    # The order features are kept and encoded in: a tile's bytes do not depend on how DuckDB's threads (or the
    # executor's tasks) shared the work.
    largest_first = f"({b}.xmax - {b}.xmin) * ({b}.ymax - {b}.ymin) DESC, __fid, __id"
    near, in_range = "", ""
    if by_columns:
        # The range's west and east edges (degrees, padded by a buffer of the lowest zoom's tiles, the widest), and
        # its first and last column at the lowest zoom: column x there covers x * 2^(z - lowest) ... at zoom z.
        near = f" AND {b}.xmax >= ? AND {b}.xmin <= ?"
        shift = f"pow(2, __z - {int(min(zooms))})"
        in_range = f" AND __x >= ? * {shift} AND __x < (? + 1) * {shift}"
    return f"""
        WITH source AS (
            SELECT {columns}, {b}, {fid} AS __fid, CAST({collection.id_column} AS VARCHAR) AS __id,
                   {collection.geometry} AS __g
            FROM {collection.relation} WHERE {collection.where[0]}{near}
        ),
        zoomed AS (
            SELECT *, __z, CAST(pow(2, __z) AS DOUBLE) AS __n
            FROM source, (SELECT unnest([{levels}]) AS __z)
        ),
        by_x AS (SELECT *, unnest(generate_series({x_range})) AS __x FROM zoomed),
        by_tile AS (
            SELECT *, unnest(generate_series({y_range})) AS __y FROM by_x WHERE __x BETWEEN 0 AND __n - 1{in_range}
        ),
        placed AS (
            SELECT *, {middle} AS __mid FROM by_tile WHERE __y BETWEEN 0 AND __n - 1
            QUALIFY row_number() OVER (PARTITION BY __z, __x, __y ORDER BY {largest_first}) <= {int(max_features)}
        ),
        local AS (
            SELECT *, CAST(ST_Affine(__g, {a}, 0, 0, {d}, {xoff}, {yoff}) AS GEOMETRY) AS __local FROM placed
        ),
        cut AS (SELECT *, {clipped} AS __cut FROM local)
        SELECT __z, __x, __y, ST_AsMVT({{'geometry': __cut, {", ".join(mvt_entries(collection, types))}}},
                                       ?, {MVT_EXTENT}, 'geometry', '__fid' ORDER BY {largest_first})
        FROM cut WHERE NOT ST_IsEmpty(__cut)
        GROUP BY __z, __x, __y
    """


def column_range_parameters(lowest_zoom: int, first: int, last: int) -> list[float]:
    """The parameters of :func:`seed_sql` ``by_columns`` for tile columns ``first`` ... ``last`` of ``lowest_zoom``."""
    n = 2**lowest_zoom
    pad = MVT_BUFFER / MVT_EXTENT * 360.0 / n
    return [first / n * 360.0 - 180.0 - pad, (last + 1) / n * 360.0 - 180.0 + pad, first, last]


def seed_tiles(
    cur: Cursor,
    collection: Collection,
    zooms: Iterable[int],
    max_features: int = MAX_TILE_FEATURES,
    columns: tuple[int, int] | None = None,
) -> Iterator[tuple[int, int, int, bytes]]:
    """(z, x, y, tile) of every non-empty tile of ``collection`` at ``zooms``, each with at most ``max_features``;
    only those under tile columns ``columns`` (first, last) of the lowest zoom, if given."""
    levels = sorted(set(zooms))
    if not levels:
        return
    sql = seed_sql(collection, levels, column_types(cur, collection), max_features, by_columns=columns is not None)
    ranged = column_range_parameters(levels[0], *columns) if columns is not None else []
    result = cur.execute(sql, [*collection.where[1], *ranged, collection.id])
    while rows := result.fetchmany(256):
        for z, x, y, data in rows:
            yield int(z), int(x), int(y), bytes(data)


@dataclass(frozen=True)
class _SeedJob:
    """What every column-range task shares (sent to each worker once)."""

    collection: Collection
    zooms: tuple[int, ...]
    folder: Path


def _write_tiles(tiles: Iterable[tuple[int, int, int, bytes]], folder: Path) -> int:
    written = 0
    for z, x, y, data in tiles:
        path = tile_file(folder, z, x, y)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written += 1
    return written


def _seed_range(job: _SeedJob, columns: tuple[int, int]) -> int:
    """One task: the tiles under a range of columns, cut by the worker's own DuckDB connection."""
    con = connect()
    try:
        con.execute("SET threads = 1")  # a worker per core (as twin3d.executor's BLAS threads)
        return _write_tiles(seed_tiles(con.cursor(), job.collection, job.zooms, columns=columns), job.folder)
    finally:
        con.close()


def column_ranges(cur: Cursor, collection: Collection, lowest_zoom: int, count: int) -> list[tuple[int, int]]:
    """The tile columns of ``lowest_zoom`` the collection's features reach, cut into at most ``count`` ranges."""
    b = collection.bbox_column
    if not b:
        raise ValueError(f"collection {collection.id} has no bbox column to seed by")
    west, east = cur.execute(
        f"SELECT min({b}.xmin), max({b}.xmax) FROM {collection.relation} WHERE {collection.where[0]}",
        list(collection.where[1]),
    ).fetchone() or (None, None)
    if west is None or east is None:
        return []
    n, pad = 2**lowest_zoom, MVT_BUFFER / MVT_EXTENT
    first = max(0, math.floor((west + 180.0) / 360.0 * n - pad))
    last = min(n - 1, math.floor((east + 180.0) / 360.0 * n + pad))
    step = max(1, math.ceil((last - first + 1) / max(1, count)))
    return [(x, min(x + step - 1, last)) for x in range(first, last + 1, step)]


def write_seeded(
    cur: Cursor,
    collection: Collection,
    folder: Path,
    zooms: Iterable[int],
    executor: Executor | None = None,
    *,
    ranges: bool | None = None,
) -> int:
    """Write the tiles of ``zooms`` as ``folder/<z>/<x>/<y>.pbf``; the number of tiles written.

    With ``ranges`` the tiles are cut in ranges of columns on ``executor``, one task each (the relation must be
    readable from every worker: a table or Parquet file on shared storage, not an Arrow table registered on
    ``cur``). By default only where the executor's workers run on several machines: on one, DuckDB's own threads
    cut the tiles faster in one query (bench/layers.py, 300,000 footprints: ranges on 2 workers 1.15x slower).
    """
    levels = tuple(sorted(set(zooms)))
    if ranges is None:
        ranges = executor is not None and executor.hosts > 1 and collection.register is None
    if executor is None or not ranges or not levels:
        return _write_tiles(seed_tiles(cur, collection, levels), folder)
    columns = column_ranges(cur, collection, levels[0], executor.workers * RANGES_PER_WORKER)
    job = _SeedJob(collection, levels, folder)
    return sum(executor.map(_seed_range, job, columns))
