"""All of Lauf's buildings as one GeoDataFrame: the Python client against plain GeoJSON paging, in one run.

Usage:
    python bench/client.py                  # builds Lauf into a temporary folder, median of 5 runs
    python bench/client.py --repeat 1       # one run each (the test of the bench scripts)
    python bench/client.py --store-dir var --tiles-dir tiles   # an already built Lauf

A real server (uvicorn, one worker, its own process as in production) serves Lauf; this process is the notebook.
Every figure is the time until a GeoDataFrame of all 6,492 buildings indexed by id in the twin's CRS (EPSG:25832)
is in hand, imports done beforehand:

- ``client_buildings_seconds``: ``twin3d.client`` ``twin.buildings()``: Arrow IPC pages of 10,000
  (``items?f=arrow``, WKB geometry), ``GeoDataFrame.from_arrow``, ``to_crs``. Target: <= 2 s.
- ``geojson_paging_<n>_seconds``: what a notebook does without the client: httpx2 GETs of GeoJSON pages of ``n``
  features (100: the OGC API default page; 1,000; 10,000: the server's largest) following the ``next`` links, then
  ``geopandas.GeoDataFrame.from_features`` on the collected features, ``to_crs`` and ``set_index("id")``.
- ``oapif_gdal_seconds``: ``geopandas.read_file("OAPIF:...")`` (pyogrio, GDAL's OGC API Features driver, pages of
  1,000), if GDAL has the driver.

Each figure is the median of ``--repeat`` runs (the first among them); the first run alone (cold: the server reads
its store and fills its page cache, which later runs are served from) is ``first_s``. The client's line has the
100-feature GeoJSON paging as its baseline and the ratio baseline / value; each other line has the client as its
baseline and the ratio value / client. Every way must give the same 6,492 ids in EPSG:25832, or the script fails.
One JSON line per figure: name, value, unit, baseline, ratio, rows.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx2
import pyogrio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import twin3d.client as t3  # noqa: E402
from twin3d.client.twin import PAGE_SIZE  # noqa: E402
from twin3d.settings import PathSettings  # noqa: E402

TWIN = "lauf"
TARGET_S = 2.0
SERVER = """
import sys, uvicorn
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
paths = PathSettings(store_dir=sys.argv[1], tiles_dir=sys.argv[2], pipelines_dir=sys.argv[3])
uvicorn.run(create_app(ServerSettings(), paths), host="127.0.0.1", port=int(sys.argv[4]), log_level="warning")
"""


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def started_server(paths: PathSettings) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn serving ``paths`` in a process of its own; returns it and its URL once it answers."""
    port = free_port()
    args = [str(paths.store_dir), str(paths.tiles_dir), str(paths.pipelines_dir), str(port)]
    proc = subprocess.Popen([sys.executable, "-c", SERVER, *args], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx2.get(f"{url}/api/twins/{TWIN}", timeout=10).status_code == 200:
                return proc, url
        except httpx2.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not come up at {url}")
        time.sleep(0.2)


def lauf_paths(args: argparse.Namespace, work: Path) -> PathSettings:
    """The given store if it holds Lauf, else Lauf built into ``work``."""
    if args.store_dir is not None and (args.store_dir / f"{TWIN}.duckdb").is_file():
        return PathSettings(pipelines_dir=REPO / "pipelines", store_dir=args.store_dir, tiles_dir=args.tiles_dir)
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415

    paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=work / "var", tiles_dir=work / "tiles")
    print(f"building {TWIN} into {work}", file=sys.stderr)
    build_twin(load_pipeline(paths.pipeline_file(TWIN)), paths)
    return paths


# ------------------------------------------------------------------------------------------------------------------
# The ways to a GeoDataFrame of all buildings


def with_client(url: str) -> tuple[gpd.GeoDataFrame, int]:
    with t3.connect(url) as client:
        frame = client.twin(TWIN).buildings()
    return frame, -(-len(frame) // PAGE_SIZE)


def geojson_paging(url: str, page: int, crs: Any) -> tuple[gpd.GeoDataFrame, int]:
    """GeoJSON pages of ``page`` features, following the ``next`` links, parsed by ``GeoDataFrame.from_features``."""
    features: list[dict[str, Any]] = []
    pages = 0
    with httpx2.Client(timeout=120) as http:
        next_url: str | None = f"{url}/api/twins/{TWIN}/features/collections/buildings/items?limit={page}"
        while next_url is not None:
            answer = http.get(next_url)
            answer.raise_for_status()
            body = answer.json()
            features += body["features"]
            pages += 1
            next_url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    ids = [feature["id"] for feature in features]  # from_features keeps properties only
    frame = gpd.GeoDataFrame.from_features(features, crs="EPSG:4326").to_crs(crs)
    return frame.set_axis(ids).rename_axis("id"), pages


def with_gdal(url: str, crs: Any) -> tuple[gpd.GeoDataFrame, int]:
    """GDAL's OGC API Features driver through pyogrio, pages of 1,000."""
    frame = gpd.read_file(
        f"OAPIF:{url}/api/twins/{TWIN}/features", layer="buildings", engine="pyogrio", PAGE_SIZE="1000"
    )
    return frame.to_crs(crs).set_index("id"), -(-len(frame) // 1000)


def timed(way: Callable[[], tuple[gpd.GeoDataFrame, int]], repeat: int) -> dict[str, Any]:
    """The first (cold) and the median of ``repeat`` runs (the first among them), with the last frame."""
    seconds = []
    frame, pages = None, 0
    for _ in range(repeat):
        started = time.perf_counter()
        frame, pages = way()
        seconds.append(time.perf_counter() - started)
    assert frame is not None
    return {"first": seconds[0], "median": statistics.median(seconds), "frame": frame, "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (the median is reported)")
    parser.add_argument("--store-dir", type=Path, help="an already built store with lauf.duckdb")
    parser.add_argument("--tiles-dir", type=Path, default=REPO / "tiles", help="its tiles (with --store-dir)")
    parser.add_argument("--no-gdal", action="store_true", help="leave out GDAL's OAPIF driver")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twin3d-bench-client-") as tmp:
        paths = lauf_paths(args, Path(tmp))
        proc, url = started_server(paths)
        try:
            crs = t3.connect(url).twin(TWIN).crs
            ways: dict[str, Callable[[], tuple[gpd.GeoDataFrame, int]]] = {
                "client_buildings_seconds": lambda: with_client(url),
                "geojson_paging_100_seconds": lambda: geojson_paging(url, 100, crs),
                "geojson_paging_1000_seconds": lambda: geojson_paging(url, 1000, crs),
                "geojson_paging_10000_seconds": lambda: geojson_paging(url, 10_000, crs),
            }
            if not args.no_gdal and "OAPIF" in pyogrio.list_drivers():
                ways["oapif_gdal_seconds"] = lambda: with_gdal(url, crs)
            results = {name: timed(way, args.repeat) for name, way in ways.items()}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    report(results, crs, args.repeat)


PARSE = {
    "client_buildings_seconds": "Arrow IPC pages (items?f=arrow), GeoDataFrame.from_arrow",
    "geojson_paging_100_seconds": "GeoJSON pages, GeoDataFrame.from_features",
    "geojson_paging_1000_seconds": "GeoJSON pages, GeoDataFrame.from_features",
    "geojson_paging_10000_seconds": "GeoJSON pages, GeoDataFrame.from_features",
    "oapif_gdal_seconds": "geopandas.read_file('OAPIF:...') (pyogrio, GDAL)",
}


def report(results: dict[str, dict[str, Any]], crs: Any, repeat: int) -> None:
    client = results["client_buildings_seconds"]
    ids = sorted(client["frame"].index)
    for name, got in results.items():
        frame = got["frame"]
        if sorted(frame.index.astype(str)) != ids or not frame.crs.equals(crs):
            raise SystemExit(f"{name}: not the client's {len(ids)} buildings in {crs}")
    baseline = results["geojson_paging_100_seconds"]["median"]
    emit(
        "client_buildings_seconds",
        client["median"],
        "s",
        baseline=round(baseline, 3),
        baseline_name="geojson_paging_100_seconds",
        ratio=round(baseline / client["median"], 1),
        rows=len(client["frame"]),
        pages=client["pages"],
        first_s=round(client["first"], 3),
        target_s=TARGET_S,
        runs=repeat,
        way=PARSE["client_buildings_seconds"],
    )
    for name, got in results.items():
        if name == "client_buildings_seconds":
            continue
        emit(
            name,
            got["median"],
            "s",
            baseline=round(client["median"], 3),
            baseline_name="client_buildings_seconds",
            ratio=round(got["median"] / client["median"], 1),
            rows=len(got["frame"]),
            pages=got["pages"],
            first_s=round(got["first"], 3),
            runs=repeat,
            way=PARSE[name],
        )


if __name__ == "__main__":
    main()
