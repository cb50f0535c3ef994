"""Serving under load: nginx alone, nginx in front of 2 workers (production), and the embedded server, in one run.

Usage:
    python bench/serve.py                    # lauf from TWIN3D_STORE_DIR/TILES_DIR (var/, tiles/), 10 s per figure
    python bench/serve.py --seconds 3        # shorter

The same files are loaded from three set-ups, one after the other (never two at once on the shared cores), with
`wrk` (Debian's; a bounded Python load generator stands in when it is missing):

- ``nginx``: nginx alone serving the tiles folder (the static config of /work/shared/SERVICES.md): the ceiling.
- ``production``: nginx from ``twin3d deploy nginx`` in front of ``twin3d serve --workers 2``; the build's tiles
  come from nginx, everything else from the workers.
- ``embedded``: ``twin3d serve`` alone (1 worker), as ``twin3d demo`` runs.

Figures: req/s for the build's ``tileset.json`` and a glb of about 150 KB at 64 connections (baseline: nginx alone
in the same run; target: production >= 50 % of it), and a mixed API read load at 32 connections rotating over the
twin catalogue, a building at a point, population H3 aggregates, places in a view, an OGC API items page and vector
tiles: p50/p99 latency, errors and the server's CPU time per request (``api_mixed_cpu_ms``: steadier than latency
when other work shares the cores), on production (target p99 <= 300 ms, 0 errors) with the embedded server as the
baseline. Then each API route alone, unloaded (p50 of 20), to tell which route is slow.

A store built before build ids (tiles not in ``<twin>/<build_id>/``) cannot have its tiles served by nginx: then the
twin is built into a temporary folder first (a few seconds). One JSON line per figure: name, value, unit, baseline.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twin3d.deploy.processes import nginx_running, started, twin3d_command  # noqa: E402
from twin3d.pipeline.staging import finished_builds  # noqa: E402
from twin3d.settings import PathSettings  # noqa: E402

GLB_BYTES = 150_000
TILE_CONNECTIONS = 64
API_CONNECTIONS = 32
MIXED_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, **extra}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------------------------------
# Load generators: wrk, or a bounded Python stand-in


def wrk(base: str, paths: list[str], connections: int, seconds: float, work: Path) -> dict[str, float]:
    """Requests/s, p50/p99 latency (ms) and errors of ``connections`` keep-alive clients rotating over ``paths``."""
    script = work / "rotate.lua"
    listed = ", ".join(json.dumps(p) for p in paths)
    rotate = f"local paths = {{{listed}}}\nlocal i = 0\n"
    rotate += "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n"
    script.write_text(rotate + MIXED_DONE)
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script)]
    result = subprocess.run([*command, base], capture_output=True, text=True, check=True, timeout=seconds + 60)
    found = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    return {
        "rps": found["requests"] / (found["duration_us"] / 1e6),
        "p50_ms": found["p50_us"] / 1000,
        "p99_ms": found["p99_us"] / 1000,
        "errors": found["errors"],
    }


def python_load(base: str, paths: list[str], connections: int, seconds: float, _work: Path) -> dict[str, float]:
    """The same figures from threads with one keep-alive connection each (far slower than wrk: a floor only)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(offset: int) -> None:
        con = http.client.HTTPConnection(host, int(port), timeout=10)
        mine, bad, i = [], 0, offset
        while time.monotonic() < end:
            t0 = time.perf_counter()
            try:
                con.request("GET", paths[i % len(paths)])
                response = con.getresponse()
                response.read()
                bad += response.status >= 400
            except (OSError, http.client.HTTPException):
                bad += 1
                con.close()
                con = http.client.HTTPConnection(host, int(port), timeout=10)
            mine.append(time.perf_counter() - t0)
            i += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    started_at = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ordered = sorted(latencies) or [math.nan]
    return {
        "rps": len(latencies) / (time.monotonic() - started_at),
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "errors": errors[0],
    }


# ------------------------------------------------------------------------------------------------------------------
# The set-ups


def static_nginx_conf(run: Path, port: int, tiles: Path) -> Path:
    """SERVICES.md's nginx: nothing but the tiles folder, as fast as nginx serves files."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temps = " ".join(f"{k}_temp_path {run}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = run / "static.conf"
    conf.write_text(
        f"{user}worker_processes 2; daemon off; pid {run}/static.pid; error_log {run}/static-error.log warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; sendfile on; tcp_nopush on; {temps}\n"
        "  types { application/json json; model/gltf-binary glb; }\n"
        f"  server {{ listen 127.0.0.1:{port}; location /tiles/ {{ alias {tiles}/; etag on; }} }}\n}}\n"
    )
    return conf


@contextmanager
def nginx_alone(work: Path, tiles: Path) -> Iterator[str]:
    run = work / "static"
    run.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with nginx_running(static_nginx_conf(run, port, tiles), run, f"{url}/tiles/"):
        yield url


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children (the server's workers), from /proc."""
    total, pids = 0.0, [pid]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            pids.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def embedded(work: Path, env: dict[str, str], workers: int = 1) -> Iterator[tuple[str, int]]:
    """``twin3d serve``; yields its URL and the PID whose process tree is the server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [*twin3d_command(), "serve", "--port", str(port), "--workers", str(workers)]
    with started(serve, f"{url}/api/twins", env=env, log=work / f"serve-{port}.log") as process:
        yield url, process.pid


@contextmanager
def production(work: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """nginx from ``twin3d deploy nginx`` before 2 workers; yields nginx's URL and the workers' PID."""
    run = work / "production"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with embedded(work, {**env, "TWIN3D_TRUSTED_PROXIES": "127.0.0.1"}, workers=2) as (app, pid):
        deploy = ["deploy", "nginx", "--standalone", str(run), "--listen", f"127.0.0.1:{port}"]
        upstream = ["--upstream", app.removeprefix("http://"), "-o", str(run / "nginx.conf")]
        subprocess.run([*twin3d_command(), *deploy, *upstream], env={**os.environ, **env}, check=True)
        with nginx_running(run / "nginx.conf", run, f"{url}/api/twins"):
            yield url, pid


def mixed_load(
    load: Any, url: str, pid: int, routes: dict[str, str], *, seconds: float, work: Path
) -> dict[str, float]:
    """The mixed API load, with the server's CPU time per request (steadier than latency on a shared machine)."""
    cpu = tree_cpu_seconds(pid)
    figures = load(url, list(routes.values()), API_CONNECTIONS, seconds, work)
    requests = figures["rps"] * seconds
    return {**figures, "cpu_ms": 1000 * (tree_cpu_seconds(pid) - cpu) / max(requests, 1)}


# ------------------------------------------------------------------------------------------------------------------
# What is requested


def get_json(base: str, path: str) -> Any:
    host, port = base.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    con.request("GET", path)
    response = con.getresponse()
    body = response.read()
    con.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
    return json.loads(body)


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def api_routes(base: str, twin: str) -> dict[str, str]:
    """One valid URL per API route of the mix, found through the API itself."""
    meta = get_json(base, f"/api/twins/{twin}")
    west, south, east, north = meta["home_bbox"]
    lon, lat = (west + east) / 2, (south + north) / 2
    items = f"/api/twins/{twin}/features/collections/buildings/items?limit=100"
    near = get_json(base, f"{items}&bbox={lon - 0.003},{lat - 0.002},{lon + 0.003},{lat + 0.002}")
    ring = near["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring  # a MultiPolygon's first polygon
    px, py = sum(p[0] for p in ring[:-1]) / (len(ring) - 1), sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    x, y = tile_xy(lon, lat, 15)
    return {
        "twins": "/api/twins",
        "building_at": f"/api/twins/{twin}/buildings/at?lon={px:.6f}&lat={py:.6f}",
        "population_h3": f"/api/twins/{twin}/population/h3?resolution=9",
        "places": f"/api/twins/{twin}/places?bbox={west},{south},{east},{north}&zoom=14",
        "ogc_items": f"{items}&offset=200",
        "mvt": f"/api/twins/{twin}/mvt/buildings/15/{x}/{y}.pbf",
        "mvt_east": f"/api/twins/{twin}/mvt/buildings/15/{x + 1}/{y}.pbf",
    }


def route_latency(base: str, path: str, n: int = 20) -> float:
    host, port = base.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=30)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        con.request("GET", path)
        response = con.getresponse()
        response.read()
        times.append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
    con.close()
    return 1000 * statistics.median(times)


def served_twin(store_dir: Path, tiles_dir: Path, twin: str, work: Path) -> tuple[PathSettings, str]:
    """Paths whose twin has a build folder (built into ``work`` if the given one predates build ids)."""
    paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=store_dir, tiles_dir=tiles_dir)
    builds = finished_builds(paths.tileset_dir(twin))
    if (paths.store_file(twin)).is_file() and builds:
        return paths, builds[-1]
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415

    print(f"{twin}: no build folder in {tiles_dir}; building it into {work}", file=sys.stderr)
    paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=work / "var", tiles_dir=work / "tiles")
    build_twin(load_pipeline(paths.pipeline_file(twin)), paths)
    return paths, finished_builds(paths.tileset_dir(twin))[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = PathSettings()
    parser.add_argument("--twin", default="lauf")
    parser.add_argument("--store-dir", type=Path, default=default.store_dir)
    parser.add_argument("--tiles-dir", type=Path, default=default.tiles_dir)
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run")
    args = parser.parse_args()
    load = wrk if shutil.which("wrk") else python_load
    generator = "wrk" if load is wrk else "python"
    with tempfile.TemporaryDirectory(prefix="twin3d-serve-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # noqa: PTH101  (nginx's workers read the tiles a build may put here)
        paths, build = served_twin(args.store_dir.resolve(), args.tiles_dir.resolve(), args.twin, work)
        build_dir = paths.tileset_dir(args.twin) / build
        glb = min(build_dir.rglob("*.glb"), key=lambda p: abs(p.stat().st_size - GLB_BYTES))
        files = {"tileset": "tileset.json", "glb": glb.relative_to(build_dir).as_posix()}
        urls = {k: f"/tiles/{args.twin}/{build}/{v}" for k, v in files.items()}
        sizes = {k: (build_dir / v).stat().st_size for k, v in files.items()}
        env = {
            "TWIN3D_STORE_DIR": str(paths.store_dir),
            "TWIN3D_TILES_DIR": str(paths.tiles_dir),
            "TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir),
        }
        common = {"connections": TILE_CONNECTIONS, "seconds": args.seconds, "generator": generator}
        tiles: dict[str, dict[str, dict[str, float]]] = {}
        with nginx_alone(work, paths.tiles_dir) as url:
            tiles["nginx"] = {k: load(url, [u], TILE_CONNECTIONS, args.seconds, work) for k, u in urls.items()}
        with production(work, env) as (url, pid):
            tiles["production"] = {k: load(url, [u], TILE_CONNECTIONS, args.seconds, work) for k, u in urls.items()}
            routes = api_routes(url, args.twin)
            mixed = mixed_load(load, url, pid, routes, seconds=args.seconds, work=work)
            alone = {name: route_latency(url, path) for name, path in routes.items()}
        with embedded(work, env) as (url, pid):
            tiles["embedded"] = {k: load(url, [u], TILE_CONNECTIONS, args.seconds, work) for k, u in urls.items()}
            mixed_embedded = mixed_load(load, url, pid, routes, seconds=args.seconds, work=work)

    for kind, file in files.items():
        ceiling = tiles["nginx"][kind]["rps"]
        emit(f"tiles_{kind}_nginx_alone_rps", ceiling, "req/s", file=file, bytes=sizes[kind], **common)
        for setup in ("production", "embedded"):
            measured = tiles[setup][kind]
            emit(f"tiles_{kind}_{setup}_rps", measured["rps"], "req/s", baseline=round(ceiling, 1), **common)
            emit(
                f"tiles_{kind}_{setup}_vs_nginx_alone",
                measured["rps"] / ceiling,
                "ratio",
                baseline=1.0,
                target=0.5 if setup == "production" else None,
                errors=measured["errors"],
            )
    mix = {"connections": API_CONNECTIONS, "seconds": args.seconds, "routes": sorted(routes), "generator": generator}
    figures = (("p50_ms", "ms"), ("p99_ms", "ms"), ("rps", "req/s"), ("errors", "count"), ("cpu_ms", "ms"))
    for figure, unit in figures:
        emit(
            f"api_mixed_{figure}",
            mixed[figure],
            unit,
            baseline=round(mixed_embedded[figure], 3),
            baseline_setup="embedded, 1 worker",
            setup="production, 2 workers",
            target={"p99_ms": 300, "errors": 0}.get(figure),
            **mix,
        )
    for name, ms in alone.items():
        emit(f"api_route_{name}_p50_ms", ms, "ms", path=routes[name], load="unloaded, one connection, 20 requests")


if __name__ == "__main__":
    main()
