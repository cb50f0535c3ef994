"""Every acknowledged place, vote and comment survives a SIGKILL of the server (two worker processes) in the middle
of a write load of 32 clients, on both live-store backends."""

from __future__ import annotations

import http.client
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.services.server import call as served_call
from tests.services.server import serving_workers
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("live_settings")]  # both live-store backends

API = "/api/twins/lauf"
CLIENTS = 32
WORKERS = 2
LOAD_SECONDS = 2.5
UNLIMITED = {
    f"TWIN3D_PARTICIPATION_{name}": "1000000"
    for name in (
        "POSTS_PER_MINUTE",
        "POSTS_BURST",
        "PARTICIPANT_POSTS_PER_MINUTE",
        "PARTICIPANT_POSTS_BURST",
        "VOTES_PER_MINUTE",
        "VOTES_BURST",
        "PARTICIPANTS_PER_HOUR",
        "PARTICIPANTS_BURST",
        "VOTES_PER_PLACE_PER_ADDRESS",
    )
}


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """A request that must succeed (``RuntimeError`` otherwise: the server is gone or refused)."""
    status, payload = served_call(port, method, path, body, headers, timeout=10)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {str(payload)[:200]}")
    return payload


def test_acknowledged_writes_survive_sigkill(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    places: list[int] = []
    votes: dict[int, set[str]] = {}
    comments: dict[int, set[int]] = {}
    acknowledged = threading.Lock()
    stop = threading.Event()

    with serving_workers(store_dir, demo_paths, workers=WORKERS, env=UNLIMITED, log=tmp_path / "first.log") as served:
        port = served.port
        tokens = [call(port, "POST", f"{API}/participants")["token"] for _ in range(CLIENTS)]
        first = call(port, "POST", f"{API}/places", place(0), {"X-Participant-Token": tokens[0]})
        places.append(first["place_id"])

        def client(i: int) -> None:
            me = {"X-Participant-Token": tokens[i]}
            rng = random.Random(i)
            while not stop.is_set():
                try:
                    step = rng.random()
                    with acknowledged:
                        target = rng.choice(places)
                    if step < 0.5:
                        posted = call(port, "POST", f"{API}/places", place(i), me)
                        with acknowledged:
                            places.append(posted["place_id"])
                    elif step < 0.75:
                        call(port, "POST", f"{API}/places/{target}/votes", {"value": 1}, me)
                        with acknowledged:
                            votes.setdefault(target, set()).add(tokens[i])
                    else:
                        said = call(port, "POST", f"{API}/places/{target}/comments", {"text": f"Kommentar {i}"}, me)
                        with acknowledged:
                            comments.setdefault(target, set()).add(said["comment_id"])
                except (OSError, RuntimeError, http.client.HTTPException):
                    return  # the server is gone: what was acknowledged before counts

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        os.killpg(served.pid, signal.SIGKILL)  # every process, in the middle of the load: no shutdown, no checkpoint
        stop.set()
        for t in threads:
            t.join(timeout=30)

    print(
        f"acknowledged before the kill: {len(places)} places, {sum(map(len, votes.values()))} votes, "
        f"{sum(map(len, comments.values()))} comments"
    )
    assert len(places) > 50, "too little load to mean anything"
    assert votes
    assert comments
    log = tmp_path / "restarted.log"
    with serving_workers(store_dir, demo_paths, workers=WORKERS, env=UNLIMITED, log=log) as restarted:
        port = restarted.port
        check_everything_is_there(port, places, votes, comments)
        # The store goes on: new writes after the restart get new ids.
        again = call(port, "POST", f"{API}/places", place(1), {"X-Participant-Token": tokens[1]})
        assert again["place_id"] > max(places)


def check_everything_is_there(
    port: int, places: list[int], votes: dict[int, set[str]], comments: dict[int, set[int]]
) -> None:
    stored: set[int] = set()
    while True:
        page = call(port, "GET", f"{API}/places?sort=old&limit=500&offset={len(stored)}&cluster=false")
        stored |= {p["place_id"] for p in page["places"]}
        if not page["places"]:
            break
    assert set(places) <= stored
    for place_id, voters in votes.items():
        # Votes still in flight at the kill may have landed too, never fewer than were acknowledged.
        assert call(port, "GET", f"{API}/places/{place_id}")["votes"]["up"] >= len(voters)
    for place_id, said in comments.items():
        listed = call(port, "GET", f"{API}/places/{place_id}/comments")
        assert said <= {c["comment_id"] for c in listed}


def place(i: int) -> dict[str, Any]:
    return {
        "kind": "happy" if i % 2 else "improvable",
        "category": "green",
        "title": f"Ort {i}",
        "text": "Hier ist es schön.",
        "location": {"lon": 11.278 + 0.0001 * i, "lat": 49.51},
    }
