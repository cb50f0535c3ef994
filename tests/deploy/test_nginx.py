"""Production set-up: Debian's nginx from `twin3d deploy nginx` in front of `twin3d serve --workers 2`.

nginx serves a build's tiles and the viewer itself, with the app's ETags; everything else reaches the workers, which
see each client's address through X-Forwarded-For; a real Chromium renders the twin through nginx.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import watched_page
from tests.browser.test_viewer import _pixels, _screen_box, _wait_for_tiles
from tests.conftest import free_port, private_paths
from twin3d.deploy.processes import nginx_running, started, twin3d_command
from twin3d.pipeline.report import BuildReport
from twin3d.pipeline.staging import finished_builds
from twin3d.settings import PathSettings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx", path="/usr/sbin:/usr/bin") is None, reason="needs Debian's nginx"),
]
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass
class Stack:
    """nginx and the workers behind it, and what a test needs to know about them."""

    nginx: str
    app: str
    access_log: Path
    build_id: str
    build_dir: Path

    def served(self, path: str) -> list[str]:
        """The upstream of each logged request for ``path`` (``-``: nginx answered it itself).

        nginx logs a request after its response has gone out: wait a moment for the line.
        """
        deadline = time.monotonic() + 5
        while True:
            lines = self.access_log.read_text().splitlines()
            found = [line.rsplit("upstream=", 1)[1] for line in lines if f" {path} HTTP/" in line]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def fetch(
    url: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request; error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("deploy")
    paths = private_paths(root, demo_paths, ("lauf",))
    builds = finished_builds(paths.tileset_dir("lauf"))
    assert builds, "a build writes its tiles to <tiles_dir>/<twin>/<build_id>/"
    app_port, nginx_port = free_port(), free_port()
    app, nginx = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{nginx_port}"
    env = {
        "TWIN3D_STORE_DIR": str(paths.store_dir),
        "TWIN3D_TILES_DIR": str(paths.tiles_dir),
        "TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir),
        "TWIN3D_TRUSTED_PROXIES": "127.0.0.1",
        # One wrong workshop code per address: the second from the same address is refused (429).
        "TWIN3D_PARTICIPATION_WORKSHOP_CODE_ATTEMPTS_BURST": "1",
    }
    run = root / "nginx"
    conf = run / "nginx.conf"
    deploy = ["deploy", "nginx", "--standalone", str(run), "--access-log", "-o", str(conf)]
    addresses = ["--listen", f"127.0.0.1:{nginx_port}", "--upstream", f"127.0.0.1:{app_port}"]
    subprocess.run([*twin3d_command(), *deploy, *addresses], env={**os.environ, **env}, check=True)
    serve = [*twin3d_command(), "serve", "--workers", "2", "--port", str(app_port)]
    with (
        started(serve, f"{app}/api/twins", env=env, log=root / "serve.log"),
        nginx_running(conf, run, f"{nginx}/api/twins"),
    ):
        yield Stack(nginx, app, run / "access.log", builds[-1], paths.tileset_dir("lauf") / builds[-1])


def test_a_builds_tiles_come_from_nginx_with_the_apps_etag(stack: Stack) -> None:
    glb = min(stack.build_dir.rglob("*.glb"), key=lambda p: p.stat().st_size)
    for file, media_type in ((stack.build_dir / "tileset.json", "application/json"), (glb, "model/gltf-binary")):
        path = f"/tiles/lauf/{stack.build_id}/{file.relative_to(stack.build_dir).as_posix()}"
        status, headers, body = fetch(stack.nginx + path)
        assert status == 200
        assert body == file.read_bytes()
        assert headers["content-type"] == media_type
        assert headers["cache-control"] == IMMUTABLE
        assert headers["x-content-type-options"] == "nosniff"
        assert stack.served(path) == ["-"], "nginx answered it without asking the app"

        # The app gives the same file the same ETag: a client that cached it from one revalidates with the other.
        app_status, app_headers, app_body = fetch(stack.app + path)
        assert (app_status, app_body) == (200, body)
        assert app_headers["etag"] == headers["etag"]
        # Both let a page of another origin (a notebook's map, a file) read the public tiles.
        assert headers["access-control-allow-origin"] == app_headers["access-control-allow-origin"] == "*"
        for base in (stack.nginx, stack.app):
            assert fetch(base + path, {"If-None-Match": headers["etag"]})[0] == 304
        # nginx gzips a large tileset; its ETag turns weak and still revalidates.
        _, gzip_headers, _ = fetch(stack.nginx + path, {"Accept-Encoding": "gzip"})
        if gzip_headers.get("content-encoding") == "gzip":
            assert gzip_headers["etag"] == "W/" + headers["etag"]
            assert fetch(stack.app + path, {"If-None-Match": gzip_headers["etag"]})[0] == 304


def test_basemap_tiles_come_from_nginx_and_a_tile_left_out_is_empty(stack: Stack) -> None:
    tile = min(stack.build_dir.glob("basemap/*/*/*.pbf"), key=lambda p: p.stat().st_size)
    path = f"/tiles/lauf/{stack.build_id}/{tile.relative_to(stack.build_dir).as_posix()}"
    status, headers, body = fetch(stack.nginx + path)
    assert (status, body) == (200, tile.read_bytes())
    assert headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert headers["cache-control"] == IMMUTABLE
    assert stack.served(path) == ["-"]
    assert fetch(stack.app + path)[1]["etag"] == headers["etag"]
    # A tile the build left out (no feature there) is an empty 204, which MapLibre draws as an empty tile: a 404 would
    # be a console error in the browser.
    gap = f"/tiles/lauf/{stack.build_id}/basemap/14/0/0.pbf"
    status, gap_headers, body = fetch(stack.nginx + gap)
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == gap_headers["access-control-allow-origin"] == "*"


def test_the_viewers_files_come_from_nginx_with_the_apps_headers(stack: Stack) -> None:
    status, headers, body = fetch(stack.nginx + "/")
    app_status, app_headers, app_body = fetch(stack.app + "/")
    assert (status, app_status) == (200, 200)
    assert body == app_body
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy", "cache-control", "etag"):
        assert headers[name] == app_headers[name], name  # the ETag too: a client revalidates with either
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert stack.served("/") == ["-"]
    assert fetch(stack.nginx + "/js/main.js")[0] == 200
    assert fetch(stack.nginx + "/node_modules/.package-lock.json")[0] == 404


def test_api_requests_reach_the_app_which_sees_the_forwarded_client(stack: Stack) -> None:
    status, _, body = fetch(stack.nginx + "/api/twins/lauf/features")
    assert status == 200
    # Host and scheme reach the app: its OGC API links point at nginx, not at the workers.
    assert all(link["href"].startswith(stack.nginx + "/") for link in json.loads(body)["links"])
    assert stack.served("/api/twins/lauf/features") == [stack.app.removeprefix("http://")]

    def wrong_code(client: str) -> int:
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client}
        url = stack.nginx + "/api/twins/lauf/participants"
        return fetch(url, headers, json.dumps({"workshop_code": "no-such-code"}).encode())[0]

    # One wrong code per address: of three from one client, a second one is refused (even were each worker to
    # count for itself, two of the three would meet the same worker).
    assert 429 in [wrong_code("203.0.113.7") for _ in range(3)]
    # Another client behind the same proxy is another address to the app: its first wrong code is only wrong.
    assert wrong_code("198.51.100.23") == 422


@pytest.mark.browser
def test_the_viewer_renders_the_twin_through_nginx(
    stack: Stack, browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lauf = next(t for t in json.loads(fetch(stack.nginx + "/api/twins")[2]) if t["name"] == "lauf")
    with watched_page(browser, stack.nginx, tmp_path, request) as (page, watch):
        page.goto(f"{stack.nginx}/#twin=lauf")
        _wait_for_tiles(page)
        assert page.evaluate("window.__twin3d.tileErrors") == 0
        assert page.evaluate("window.__twin3d.tilesLoaded") >= 10
        x0, y0, x1, y1 = _screen_box(page, lauf["home_bbox"], lauf["origin"]["height"])
        with_buildings = _pixels(page)[y0:y1, x0:x1]
        page.get_by_label("3D-Gebäude").uncheck()
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        without = _pixels(page)[y0:y1, x0:x1]
        changed = (np.abs(with_buildings - without).sum(axis=2) > 30).mean()
        assert changed > 0.02, f"only {changed:.1%} of the town's pixels show buildings"
        watch.assert_clean()
    # The buildings came from the build's folder, served by nginx without the app.
    glbs = [line for line in stack.access_log.read_text().splitlines() if ".glb HTTP/" in line]
    assert len(glbs) >= 10
    assert all(f"/tiles/lauf/{stack.build_id}/" in line and line.endswith("upstream=-") for line in glbs), glbs[:3]
