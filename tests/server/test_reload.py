"""A rebuilt twin is served without a restart: no failed request under load, the old store's file let go."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port, serving
from tests.pipeline.small_twin import TWIN, build_small, small_paths
from twin3d.errors import NotFoundError
from twin3d.server.app import create_app
from twin3d.server.state import open_twins
from twin3d.settings import ServerSettings

BUILDING = "DENW34AL00026uV0"


def _open_copies(store: Path) -> list[str]:
    """This process's open files that are ``store``, and that are replaced copies of it (``(deleted)``)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith(str(store)):
            found.append(target)
    return found


def _get(conn: http.client.HTTPConnection, url: str) -> tuple[int, bytes]:
    conn.request("GET", url)
    response = conn.getresponse()
    return response.status, response.read()


class Load:
    """Clients that, over and over, read the catalogue, then the tilesets, a glb and a building of the twin."""

    def __init__(self, port: int, clients: int = 2) -> None:
        self.port = port
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.requests = 0
        self.builds: set[str] = set()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            try:
                self._session(conn)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                self.failures.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _session(self, conn: http.client.HTTPConnection) -> None:
        status, body = _get(conn, "/api/twins")
        self._check("/api/twins", status)
        (twin,) = json.loads(body)
        self.builds.add(twin["build_id"])
        base = twin["tileset"].rsplit("/", 1)[0]
        status, body = _get(conn, twin["tileset"])
        self._check(twin["tileset"], status)
        partition = json.loads(body)["root"]["children"][0]["content"]["uri"]
        status, body = _get(conn, f"{base}/{partition}")
        self._check(partition, status)
        glb = f"{base}/{partition.rsplit('/', 1)[0]}/{json.loads(body)['root']['content']['uri']}"
        for url in (glb, f"/tiles/{TWIN}/tileset.json", f"/api/twins/{TWIN}/buildings/{BUILDING}"):
            status, _ = _get(conn, url)
            self._check(url, status)

    def _check(self, url: str, status: int) -> None:
        self.requests += 1
        if status != 200:
            self.failures.append(f"{url}: {status}")

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self.finish()


def test_a_rebuild_under_load_is_served_without_a_failed_request(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    first = build_small(paths)
    store = paths.store_file(TWIN).resolve()
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port), Load(port) as load:
        time.sleep(1.5)
        assert _open_copies(store) == [str(store)]  # the server holds the store open
        second = build_small(paths)
        deadline = time.monotonic() + 10
        while second not in load.builds:
            assert time.monotonic() < deadline, "the rebuilt twin was not served within 10 s"
            time.sleep(0.1)
        served_at = time.monotonic()
        time.sleep(1.5)  # clients of the new build keep reading
        load.finish()
        conn = http.client.HTTPConnection("127.0.0.1", port)
        assert json.loads(_get(conn, "/api/twins")[1])[0]["build_id"] == second
        assert _get(conn, f"/tiles/{TWIN}/{first}/tileset.json")[0] == 200  # mid-session clients of the old one
        while _open_copies(store) != [str(store)]:  # the replaced file is let go once its last request ends
            assert time.monotonic() < served_at + 10, _open_copies(store)
            time.sleep(0.1)
    assert load.failures == []
    assert load.requests > 50
    assert {first, second} <= load.builds


def test_a_request_holding_the_replaced_store_keeps_it_until_it_ends(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    build_small(paths)
    store = paths.store_file(TWIN).resolve()
    twins = open_twins(paths.store_dir, paths.tiles_dir)
    try:
        old = twins.acquire(TWIN)
        second = build_small(paths)
        assert twins.refresh() == [TWIN]
        new = twins.lookup(TWIN)
        assert (new.build_id, new.tiles_dir.name) == (second, second)
        # The request that holds the old store still reads it; the replaced file stays open for it.
        assert old.cursor().execute("SELECT count(*) FROM buildings").fetchone() == (3,)
        assert f"{store} (deleted)" in _open_copies(store)
        old.release()
        assert old.closed
        assert _open_copies(store) == [str(store)]
        assert twins.refresh() == []

        paths.store_file(TWIN).unlink()
        assert twins.refresh() == [TWIN]
        with pytest.raises(NotFoundError):
            twins.lookup(TWIN)
        assert _open_copies(store) == []
    finally:
        twins.close()
