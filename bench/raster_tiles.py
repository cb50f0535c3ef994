"""PNG tiles of a raster layer: render time and HTTP latency of ``/api/twins/{twin}/layers/{id}/tiles/z/x/y.png``.

Usage:
    python bench/raster_tiles.py                 # a 4,000 x 4,000 px raster (0.5 m) over Lauf, 300 tiles
    python bench/raster_tiles.py --pixels 1000 --tiles 60

The raster is made here: a smooth float32 field (a noise map, say) in EPSG:25832 over Lauf's centre with a round
hole of no-data, loaded as an overlay layer (a Web Mercator COG with overviews). The tiles are a seeded sample of
every tile over the raster from its native zoom down three levels, each asked for once.

One JSON line per figure (name, value, unit):
- ``raster_tile_render_p50_ms`` / ``_p95_ms``: :func:`twin3d.layers.raster_tiles.render_tile` alone.
- ``raster_tile_http_p50_ms`` / ``_p95_ms``: GET from a real uvicorn server, one keep-alive client, no ETag sent.
- ``raster_tile_304_p50_ms``: the same with ``If-None-Match`` (no rendering).
Baseline in the same run: the same tiles rendered from the source GeoTIFF warped on the fly (a WarpedVRT per
tile), which is what serving costs without the tile-aligned COG the loader writes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import uvicorn
from pyproj import Transformer
from rasterio.transform import from_origin

from twin3d.auth.users import add_user
from twin3d.layers.catalogue import layer_file
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.layers.raster_tiles import native_zoom, render_tile
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

REPO = Path(__file__).resolve().parent.parent
LAUF_CENTRE = (11.2775, 49.5098)


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def make_raster(path: Path, pixels: int, resolution: float) -> Path:
    """A smooth field of ``pixels`` x ``pixels`` centred on Lauf, with a round no-data hole in the middle."""
    cx, cy = Transformer.from_crs(4326, 25832, always_xy=True).transform(*LAUF_CENTRE)
    half = pixels * resolution / 2
    axis = np.linspace(0, 6 * math.pi, pixels, dtype=np.float32)
    field = 50 + 20 * np.sin(axis)[None, :] + 15 * np.cos(1.7 * axis)[:, None]
    rows, cols = np.ogrid[:pixels, :pixels]
    field[(rows - pixels / 2) ** 2 + (cols - pixels / 2) ** 2 < (pixels / 10) ** 2] = -9999
    profile = {"driver": "GTiff", "width": pixels, "height": pixels, "count": 1, "dtype": "float32", "nodata": -9999}
    transform = from_origin(cx - half, cy + half, resolution, resolution)
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=transform, tiled=True) as ds:
        ds.write(field, 1)
    return path


def tiles_over(extent: tuple[float, float, float, float], zooms: range) -> list[tuple[int, int, int]]:
    """Every XYZ tile that meets the lon/lat ``extent`` at each zoom."""
    west, south, east, north = extent

    def tile(lon: float, lat: float, z: int) -> tuple[int, int]:
        n = 2**z
        return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    out = []
    for z in zooms:
        (x0, y0), (x1, y1) = tile(west, north, z), tile(east, south, z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)) * 1000, float(np.percentile(samples, 95)) * 1000


def http_times(port: int, urls: list[str], headers: dict[str, str], etags: dict[str, str] | None) -> list[float]:
    """Seconds per GET, one keep-alive connection; with ``etags``, each sent as If-None-Match."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for url in urls:
        sent = dict(headers)
        if etags is not None:
            sent["If-None-Match"] = etags[url]
        start = time.perf_counter()
        conn.request("GET", url, headers=sent)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status == (304 if etags is not None else 200), (url, response.status)
    conn.close()
    return times


@contextmanager
def serving(paths: PathSettings) -> Iterator[int]:
    """The app on a real uvicorn server on a free local port, in a thread; yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ServerSettings(port=port), paths), port=port, log_level="warning", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pixels", type=int, default=4000, help="raster width and height")
    parser.add_argument("--resolution", type=float, default=0.5, help="metres per pixel")
    parser.add_argument("--tiles", type=int, default=300, help="tiles asked for (a seeded sample)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="twin3d-bench-raster-") as tmp:
        root = Path(tmp)
        paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=root / "var", tiles_dir=root / "tiles")
        build_twin(load_pipeline(paths.pipeline_file("lauf")), paths)
        source = make_raster(root / "feld.tif", args.pixels, args.resolution)
        started = time.perf_counter()
        options = LoadOptions(title="Feld", layer_id="feld")
        entry, _ = load_layer(paths, "lauf", source, options, info=twin_info(paths, "lauf"))
        emit("raster_load_seconds", time.perf_counter() - started, "s", pixels=args.pixels**2)
        assert entry.raster is not None
        top = native_zoom(entry.raster.resolution[0])
        every = tiles_over(entry.extent, range(top - 3, top + 1))
        sample = random.Random(7).sample(every, min(args.tiles, len(every)))
        cog = layer_file(paths, entry, "raster")

        render = []
        for z, x, y in sample:
            start = time.perf_counter()
            render_tile(cog, entry, z, x, y)
            render.append(time.perf_counter() - start)
        p50, p95 = percentiles(render)
        emit("raster_tile_render_p50_ms", p50, "ms", tiles=len(sample), zooms=f"{top - 3}-{top}")
        emit("raster_tile_render_p95_ms", p95, "ms", tiles=len(sample))
        warped = []
        for z, x, y in sample:
            start = time.perf_counter()
            render_tile(source, entry, z, x, y)
            warped.append(time.perf_counter() - start)
        b50, b95 = percentiles(warped)
        emit("raster_tile_baseline_warped_p50_ms", b50, "ms", tiles=len(sample))
        emit("raster_tile_baseline_warped_p95_ms", b95, "ms", tiles=len(sample))

        _, token = add_user(paths.users_file, "bench", "admin")
        headers = {"Authorization": f"Bearer {token}"}
        urls = [f"/api/twins/lauf/layers/feld/tiles/{z}/{x}/{y}.png" for z, x, y in sample]
        with serving(paths) as port:
            cold = http_times(port, urls, headers, None)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            etags = {}
            for url in urls:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                etags[url] = response.getheader("ETag") or ""
            conn.close()
            revalidated = http_times(port, urls, headers, etags)
        h50, h95 = percentiles(cold)
        emit("raster_tile_http_p50_ms", h50, "ms", tiles=len(urls), baseline_warped_p50_ms=round(b50, 3))
        emit("raster_tile_http_p95_ms", h95, "ms", tiles=len(urls), baseline_warped_p95_ms=round(b95, 3))
        emit("raster_tile_304_p50_ms", percentiles(revalidated)[0], "ms", tiles=len(urls))


if __name__ == "__main__":
    main()
