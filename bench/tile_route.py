"""Server CPU per request of the ``/tiles/{twin}/...`` route, measured on a real uvicorn process.

Usage:
    python bench/tile_route.py                                  # this tree only
    git archive HEAD | tar -x -C /tmp/old && python bench/tile_route.py --baseline-src /tmp/old

Lauf is built once into a temporary folder. Each server runs in its own process (one uvicorn worker); one
keep-alive client asks for the root tileset, a partition tileset and glb tiles of one build, ``--requests`` times
in all (more until the server has used 0.5 s of CPU: /proc counts in 10 ms ticks), and the server's CPU time
(user + system, from ``/proc/<pid>/stat``) is divided by the requests. Both servers get the same URLs
(``/tiles/lauf/<build_id>/...``), so a baseline tree that predates build folders serves them as plain sub-paths of
the twin's tiles folder.

One JSON line per figure (name, value, unit): ``tile_route_cpu_us`` (200 answers) and ``tile_route_304_cpu_us``
(revalidation with ``If-None-Match``), each with the baseline tree's figure and the ratio when one is given.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

REPO = Path(__file__).resolve().parent.parent
SERVER = """
import sys, uvicorn
sys.path.insert(0, sys.argv[1])
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
paths = PathSettings(store_dir=sys.argv[2], tiles_dir=sys.argv[3], pipelines_dir=sys.argv[4])
uvicorn.run(create_app(ServerSettings(), paths), host="127.0.0.1", port=int(sys.argv[5]), log_level="warning")
"""


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit, **extra}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MIN_CPU_S = 0.5  # server CPU each figure spans at least: 50 clock ticks


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tile_urls(paths: PathSettings) -> list[str]:
    build = current_tiles(paths, "lauf")
    assert build is not None
    prefix = f"/tiles/lauf/{build.name}"
    glbs = sorted(build.rglob("*.glb"))[:6]
    partition = next(build.rglob("p/*/tileset.json"))
    return [f"{prefix}/tileset.json", f"{prefix}/{partition.relative_to(build).as_posix()}"] + [
        f"{prefix}/{g.relative_to(build).as_posix()}" for g in glbs
    ]


def measure(src: Path, paths: PathSettings, urls: list[str], requests: int) -> dict[str, float]:
    port = free_port()
    args = [str(src), str(paths.store_dir), str(paths.tiles_dir), str(paths.pipelines_dir), str(port)]
    proc = subprocess.Popen([sys.executable, "-c", SERVER, *args], cwd=src)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn.request("GET", urls[0])
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        first = conn.getresponse()
        assert first.status == 200, (first.status, first.read())
        first.read()
        etags = {}
        for url in urls:  # warm up: imports, caches, page cache
            for _ in range(20):
                conn.request("GET", url)
                response = conn.getresponse()
                response.read()
                etags[url] = response.getheader("ETag") or ""
        out = {}
        for label, with_etag in (("200", False), ("304", True)):
            started, done = cpu_seconds(proc.pid), 0
            # At least `requests`, and on until the server has used MIN_CPU_S: /proc counts CPU in clock ticks
            # (10 ms), so 40 requests of 0.2 ms could read as none at all.
            while done < requests or cpu_seconds(proc.pid) - started < MIN_CPU_S:
                url = urls[done % len(urls)]
                conn.request("GET", url, headers={"If-None-Match": etags[url]} if with_etag else {})
                response = conn.getresponse()
                response.read()
                assert response.status == int(label), (url, response.status)
                done += 1
            out[label] = (cpu_seconds(proc.pid) - started) / done * 1e6
            out[f"{label}_requests"] = done
        conn.close()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000, help="requests per figure")
    parser.add_argument("--baseline-src", type=Path, help="a source tree (with twin3d/) measured in the same run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="twin3d-bench-tiles-") as tmp:
        root = Path(tmp)
        paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=root / "var", tiles_dir=root / "tiles")
        build_twin(load_pipeline(paths.pipeline_file("lauf")), paths)
        urls = tile_urls(paths)
        now = measure(REPO, paths, urls, args.requests)
        base = measure(args.baseline_src.resolve(), paths, urls, args.requests) if args.baseline_src else None
    for label, name in (("200", "tile_route_cpu_us"), ("304", "tile_route_304_cpu_us")):
        extra: dict[str, object] = {
            "requests": int(now[f"{label}_requests"]),
            "urls": len(urls),
            "measure": "server CPU per request",
        }
        if base is not None:
            extra |= {"baseline_us": round(base[label], 2), "baseline_over_this": round(base[label] / now[label], 2)}
        emit(name, now[label], "us", **extra)


if __name__ == "__main__":
    main()
