"""Loading a 100,000-feature GeoPackage as a layer (target: <= 10 s end to end).

Usage:
    python bench/layers.py                      # 100,000 features, best of 3
    python bench/layers.py --features 20000 --repeat 1

The GeoPackage is made from the real Lauf building footprints (6,492 OSM polygons, geodata/lauf/osm/) in the
twin's CRS (EPSG:25832, as a municipal GIS exports it): copies shifted by whole multiples of the town's extent on a
grid until the count is reached, each copy with its own ids. Everything is written to a temporary folder.

One JSON line per figure (name, value, unit). ``layers_load_seconds`` is ``twin3d.layers.load.load_layer`` end to
end: format detection, reading, checks and repairs, reprojection to CRS84, Hilbert sort, GeoParquet, catalogue
entry, atomic swap (best of ``--repeat``). Baseline in the same run: a plain read of the same file with pyogrio and
a write of its rows to Parquet, the I/O floor any loader pays.

``layers_mvt_p95_ms``: the loaded layer's vector tiles at zoom 14-16 over its whole extent, from a real uvicorn
server to 16 concurrent clients (keep-alive connections), every tile asked for once; zoom 12-16 are cut when the
layer is loaded (part of ``layers_load_seconds``). Baseline in the same run: the same data loaded without that
(``TWIN3D_LAYER_SEED_MAX_FEATURES=0``), its tiles cut by DuckDB per request, to 16 clients and to one; and those
tiles asked for again, from the server's tile cache. Uses var/lauf.duckdb if built, else builds Lauf first.

``layers_seed_seconds_<executor>``: the same tiles cut again by ranges of tile columns on a fork pool and a Dask
LocalCluster (``twin3d layers add --executor``), each against one query in this process (``..._local``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from pyproj import Transformer

from twin3d.executor import ExecutorSpec, open_executor
from twin3d.layers.catalogue import layer_file
from twin3d.layers.context import LoadOptions
from twin3d.layers.load import load_layer
from twin3d.layers.model import LayerEntry
from twin3d.layers.tiles import SEED_ZOOMS, vector_collection
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import LayerSettings, PathSettings
from twin3d.store.connection import connect
from twin3d.store.tile_seed import write_seeded

REPO = Path(__file__).resolve().parent.parent
LAUF_BUILDINGS = REPO / "geodata" / "lauf" / "osm" / "lauf_buildings.geojson"
TARGET_SECONDS = 10.0


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def make_geopackage(path: Path, features: int) -> int:
    """Write ``features`` footprints (the Lauf buildings, copied on a grid) to a GeoPackage in EPSG:25832."""
    meta, table = pyogrio.read_arrow(LAUF_BUILDINGS)
    geom_name = meta["geometry_name"] or "wkb_geometry"
    tr = Transformer.from_crs(4326, 25832, always_xy=True)
    geoms = shapely.transform(
        shapely.from_wkb(table.column(geom_name).to_numpy(zero_copy_only=False)),
        lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])),
    )
    attributes = table.drop_columns([geom_name])
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    copies = math.ceil(features / len(geoms))
    side = math.ceil(math.sqrt(copies))
    parts, tables = [], []
    for k in range(copies):
        dx, dy = (k % side) * (x1 - x0), (k // side) * (y1 - y0)
        parts.append(shapely.transform(geoms, lambda xy, dx=dx, dy=dy: np.add(xy, [dx, dy])))
        ids = pa.array([f"{v}#{k}" for v in attributes.column("osm_id").to_pylist()])
        tables.append(attributes.set_column(attributes.schema.get_field_index("osm_id"), "osm_id", ids))
    out = pa.concat_tables(tables).slice(0, features)
    wkb = shapely.to_wkb(np.concatenate(parts)[:features])
    pyogrio.write_arrow(
        out.append_column("geometry", pa.array(wkb, pa.binary())),
        path,
        geometry_name="geometry",
        geometry_type="Unknown",
        crs="EPSG:25832",
        layer="buildings",
    )
    return len(out)


def baseline_seconds(gpkg: Path, out: Path) -> float:
    """A plain pyogrio read of the file and a Parquet write of its rows, no checks."""
    started = time.perf_counter()
    _, table = pyogrio.read_arrow(gpkg)
    pq.write_table(table, out, compression="zstd")
    return time.perf_counter() - started


def _tiles_over(extent: tuple[float, float, float, float], zooms: tuple[int, ...]) -> list[tuple[int, int, int]]:
    west, south, east, north = extent
    out = []
    for z in zooms:
        n = 2**z

        def col(lon: float, n: int = n) -> int:
            return int((lon + 180) / 360 * n)

        def row(lat: float, n: int = n) -> int:
            return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

        out += [(z, x, y) for x in range(col(west), col(east) + 1) for y in range(row(north), row(south) + 1)]
    return out


def _fetch_all(port: int, urls: list[str], clients: int) -> tuple[list[float], int, int]:
    """GET every URL once, from ``clients`` threads with a keep-alive connection each: latencies (ms), errors, bytes."""
    queue = list(reversed(urls))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0, 0]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                url = queue.pop()
            started = time.perf_counter()
            conn.request("GET", url)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
                errors[1] += len(body)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], errors[1]


def mvt_p95(paths: PathSettings, extent: tuple[float, float, float, float], clients: int = 16) -> dict[str, Any]:
    """p95 milliseconds of the loaded layer's vector tiles at zoom 14-16 over its extent, served by uvicorn to
    ``clients`` concurrent clients, every tile asked for once (the tiles cut when the layer was loaded). Baseline
    in the same run: the same tiles of the same data loaded without seeding (``layer_gebaeude_on_demand``), cut
    by DuckDB per request, for the same clients and, separately, for one client."""
    import uvicorn  # noqa: PLC0415

    from twin3d.server.app import create_app  # noqa: PLC0415
    from twin3d.settings import ServerSettings  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ServerSettings(), paths), port=port, log_level="warning", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        tiles = _tiles_over(extent, (14, 15, 16))
        urls = [f"/api/twins/lauf/mvt/layer_gebaeude/{z}/{x}/{y}.pbf" for z, x, y in tiles]
        fresh = [u.replace("layer_gebaeude/", "layer_gebaeude_on_demand/") for u in urls]
        half = len(urls) // 2
        cold, cold_errors, size = _fetch_all(port, urls, clients)  # seeded, 16 clients: the figure
        demand, demand_errors, _ = _fetch_all(port, fresh[:half], clients)  # cut per request, 16 clients
        serial, serial_errors, _ = _fetch_all(port, fresh[half:], 1)  # cut per request, one client
        warm, warm_errors, _ = _fetch_all(port, fresh[:half], clients)  # the same again: from the tile cache
    finally:
        server.should_exit = True
        thread.join()
    p95 = lambda values: float(np.percentile(values, 95))  # noqa: E731
    return {
        "value": round(p95(cold), 1),
        "clients": clients,
        "tiles": len(urls),
        "zooms": [14, 15, 16],
        "p50_ms": round(float(np.median(cold)), 1),
        "mean_tile_bytes": round(size / max(1, len(cold))),
        "errors": cold_errors + warm_errors + serial_errors + demand_errors,
        "baseline_on_demand_p95_ms": round(p95(demand), 1),
        "baseline_on_demand_p50_ms": round(float(np.median(demand)), 1),
        "baseline_on_demand_one_client_p95_ms": round(p95(serial), 1),
        "on_demand_cached_p95_ms": round(p95(warm), 1),
    }


def seed_on_executors(paths: PathSettings, entry: LayerEntry, executors: list[str], out: Path) -> None:
    """The layer's zoom 12-16 tiles cut again by ranges of tile columns on each executor (what a cluster of several
    machines does), vs one query in this process (what one machine does)."""
    collection = vector_collection(entry.id, layer_file(paths, entry, "features"), entry.fields)
    con = connect()
    try:
        started = time.perf_counter()
        tiles = write_seeded(con.cursor(), collection, out / "local", SEED_ZOOMS)
        local = time.perf_counter() - started
        emit("layers_seed_seconds_local", local, "s", tiles=tiles, what="one DuckDB query, zoom 12-16")
        for text in executors:
            kind, _, workers = text.partition(":")
            with open_executor(ExecutorSpec(kind, int(workers or 1))) as runner:  # type: ignore[arg-type]
                started = time.perf_counter()
                write_seeded(con.cursor(), collection, out / text.replace(":", "-"), SEED_ZOOMS, runner, ranges=True)
                seconds = time.perf_counter() - started
            emit(
                f"layers_seed_seconds_{kind}_{workers}_ranges",
                seconds,
                "s",
                tiles=tiles,
                baseline_local_s=round(local, 3),
                what="ranges of tile columns, one task each (on one machine DuckDB's threads do as well)",
            )
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients for the vector tiles")
    parser.add_argument(
        "--seed-executors", default="processes:2,dask:2", help="executors to cut the layer's tiles on, vs local"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="twin3d-bench-layers-") as tmp:
        root = Path(tmp)
        gpkg = root / "gebaeude.gpkg"
        count = make_geopackage(gpkg, args.features)
        paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=root / "var", tiles_dir=root / "tiles")
        times, report = [], None
        for i in range(args.repeat):
            options = LoadOptions(layer_id="gebaeude", title="Gebäude", replace=i > 0)
            started = time.perf_counter()
            entry, report = load_layer(paths, "lauf", gpkg, options)
            times.append(time.perf_counter() - started)
        base = min(baseline_seconds(gpkg, root / f"baseline{i}.parquet") for i in range(args.repeat))
        best = min(times)
        assert report is not None
        emit(
            "layers_load_seconds",
            best,
            "s",
            features=count,
            features_out=report.records_out,
            repaired=report.repaired,
            dropped=report.dropped_total,
            file_mb=round(gpkg.stat().st_size / 1e6, 1),
            target=TARGET_SECONDS,
            runs=[round(t, 3) for t in times],
            baseline_read_write_seconds=round(base, 4),
        )
        emit("layers_load_features_per_s", count / best, "features/s", features=count)
        emit("layers_baseline_read_write_seconds", base, "s", features=count, what="pyogrio read + Parquet write")
        emit("layers_load_vs_baseline", best / base, "x", features=count)
        seed_on_executors(paths, entry, [e for e in args.seed_executors.split(",") if e], root / "seeded")
        store, tiles = REPO / "var" / "lauf.duckdb", REPO / "tiles" / "lauf"
        paths.store_dir.mkdir(parents=True, exist_ok=True)
        if store.is_file() and tiles.is_dir():  # the server checks that a twin's tiles are there too
            paths.store_file("lauf").symlink_to(store)
            paths.tiles_dir.mkdir(parents=True, exist_ok=True)
            (paths.tiles_dir / "lauf").symlink_to(tiles)
        else:
            build_twin(load_pipeline(REPO / "pipelines" / "lauf.toml"), paths)
        # The same data without tiles cut on loading: the baseline the vector tile figures are compared with.
        unseeded = LayerSettings(seed_max_features=0)
        load_layer(paths, "lauf", gpkg, LoadOptions(layer_id="gebaeude-on-demand", title="Gebäude"), unseeded)
        mvt = mvt_p95(paths, entry.extent, clients=args.clients)
        emit("layers_mvt_p95_ms", float(mvt.pop("value")), "ms", target=50.0, **mvt)


if __name__ == "__main__":
    main()
