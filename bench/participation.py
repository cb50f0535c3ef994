"""Citizens' places and proposals under load: listing and clustering map views over 10,000 places and 30,000
proposals with 1,000,000 votes, concurrent posting and concurrent voting.

Usage:
    python bench/participation.py              # builds lauf into a temporary folder first (about 5 s)
    python bench/participation.py --store var  # use the built var/lauf.duckdb (never written to)

The live store is seeded in a temporary folder with ``--places`` places (default 10,000) on Lauf's real building
footprints (half pinned on a building with its roof height), 2,000 participants, about 3 votes and 0.3 comments per
place; and ``--proposals`` proposals (default 30,000; Decidim Barcelona has 27,000) on the same footprints with
``--votes`` votes (default 1,000,000) from 200,000 participants, few proposals drawing most votes as on real
platforms, a tenth of them simulated with the residents who gain. Then the real server
(``python -m twin3d.cli serve``) is started on a free port, and every request below goes over HTTP with keep-alive
(``--workers N`` worker processes; ``--database-url`` puts the live store in PostgreSQL instead of the embedded
SQLite):

- listing: GET .../places for three views, each timed ``--repeat`` times (p50, p95): the whole town at zoom 13
  (more than 400 pins: H3 clusters), a quarter at zoom 17 (pins) and the town filtered to one kind and category.
  Target: p95 <= 100 ms. Baseline in the same run: GET .../places/config, the cheapest request (HTTP floor).
  The same for GET .../proposals: the town (clusters), a quarter (pins), and the list beside the map sorted by votes
  and by residents who gain (50 rows).
- posting: ``--clients`` threads (default 32), each with its own participant token, post places for
  ``--seconds`` seconds. Target: >= 200 posts/s with 0 errors. Baseline in the same run: one client alone.
  The server's CPU time per post (all its processes) is reported too: on a machine shared with other work it is the
  steadier figure (1000 / that is about its rate on one free core).
  All clients come from 127.0.0.1, so the per-address rate limits are raised for this run through
  ``TWIN3D_PARTICIPATION_*`` environment variables; everything else (token check, validation, building check,
  group commit to the write-ahead log before each answer) is as in production.
- voting: ``--clients`` threads vote on random proposals (the popular ones more often) for ``--seconds`` seconds.
  Target: >= 200 votes/s with 0 errors. Baseline in the same run: one client alone.

One JSON line per figure (name, value, unit).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
TARGET_POSTS = 200.0
TARGET_VOTES = 200.0
TOPICS = ["housing", "mobility", "green", "social", "culture", "safety", "other"]
RAISED_LIMITS = {
    "TWIN3D_PARTICIPATION_VOTES_PER_MINUTE": "1000000",
    "TWIN3D_PARTICIPATION_VOTES_BURST": "100000",
    "TWIN3D_PARTICIPATION_VOTES_PER_PLACE_PER_ADDRESS": "1000000",
    "TWIN3D_PARTICIPATION_POSTS_PER_MINUTE": "1000000",
    "TWIN3D_PARTICIPATION_POSTS_BURST": "1000000",
    "TWIN3D_PARTICIPATION_PARTICIPANTS_PER_HOUR": "1000000",
    "TWIN3D_PARTICIPATION_PARTICIPANTS_BURST": "100000",
    "TWIN3D_PARTICIPATION_PARTICIPANT_POSTS_PER_MINUTE": "1000000",
    "TWIN3D_PARTICIPATION_PARTICIPANT_POSTS_BURST": "100000",
}


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proposal_tables(
    rng: np.random.Generator, buildings: list[tuple[Any, ...]], first_id: int, n: int, n_votes: int
) -> tuple[pa.Table, pa.Table]:
    """``n`` proposals from ``first_id`` on random real footprints, and ``n_votes`` votes on them: a proposal's share
    of the votes falls off with its rank (a power law), as on real platforms where few ideas draw most votes."""
    from h3ronpy.vector import coordinates_to_cells  # noqa: PLC0415

    pick = rng.integers(0, len(buildings), n)
    lon = np.array([b[2] for b in buildings])[pick] + rng.normal(0, 0.00005, n)
    lat = np.array([b[3] for b in buildings])[pick] + rng.normal(0, 0.00005, n)
    stage = rng.choice(["under_review", "simulated", "adopted", "rejected"], n, p=[0.8, 0.1, 0.05, 0.05])
    simulated = stage != "under_review"
    participants = np.array([f"{i:064x}" for i in range(200_000)], dtype=object)
    created = np.datetime64("2025-03-01T12:00:00") + rng.integers(0, 86_400 * 90, n).astype("timedelta64[s]")
    proposals = pa.table(
        {
            "place_id": np.arange(first_id, first_id + n),
            "category": rng.choice(TOPICS, n),
            "title": [f"Vorschlag {i}" for i in range(n)],
            "lon": lon,
            "lat": lat,
            "h3_10": np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64),
            "stage": stage,
            "gainers": pa.array(rng.integers(0, 5000, n), pa.int64(), mask=~simulated),
            "status": rng.choice(["visible", "answered", "hidden", "new"], n, p=[0.9, 0.04, 0.03, 0.03]),
            "participant": rng.choice(participants[:5000], n),
            "created_at": created,
        }
    )
    rank = np.minimum((n * rng.random(n_votes) ** 2).astype(np.int64), n - 1)
    votes = pa.table(
        {
            "place_id": first_id + rng.permutation(n)[rank],
            "participant": rng.choice(participants, n_votes),
            "value": rng.choice(np.array([1, 1, 1, -1], dtype=np.int8), n_votes),
        }
    )
    return proposals, votes


def seed(
    store_file: Path,
    live_dir: Path,
    n: int,
    database_url: str | None = None,
    *,
    n_proposals: int = 0,
    n_votes: int = 0,
) -> dict[str, Any]:
    """Write ``n`` places with votes and comments, and ``n_proposals`` proposals with ``n_votes`` votes, into a
    fresh live store; returns what the views need."""
    import duckdb  # noqa: PLC0415
    from h3ronpy.vector import coordinates_to_cells  # noqa: PLC0415

    from twin3d.settings import LiveSettings  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415
    from twin3d.store.live import open_live_store  # noqa: PLC0415
    from twin3d.store.live.legacy import VOTE_COUNTS  # noqa: PLC0415

    con = connect(store_file, read_only=True)
    buildings = con.execute(
        "SELECT building_id, height, ST_X(ST_Centroid(geom_wgs84)), ST_Y(ST_Centroid(geom_wgs84)) FROM buildings"
    ).fetchall()
    bbox = json.loads(con.execute("SELECT value FROM twin_meta WHERE key = 'twin'").fetchone()[0])["home_bbox_wgs84"]
    con.close()
    rng = np.random.default_rng(7)
    pick = rng.integers(0, len(buildings), n)
    ids = np.array([b[0] for b in buildings], dtype=object)[pick]
    roof = np.array([b[1] for b in buildings])[pick]
    lon = np.array([b[2] for b in buildings])[pick] + rng.normal(0, 0.00005, n)
    lat = np.array([b[3] for b in buildings])[pick] + rng.normal(0, 0.00005, n)
    on_building = rng.random(n) < 0.5
    participants = np.array([f"{i:064x}" for i in range(2000)], dtype=object)
    now = np.datetime64("2025-05-01T12:00:00") + rng.integers(0, 86_400 * 30, n).astype("timedelta64[s]")
    places = pa.table(
        {
            "place_id": np.arange(1, n + 1),
            "kind": rng.choice(["happy", "improvable"], n),
            "category": rng.choice(["housing", "mobility", "green", "social", "culture", "safety", "other"], n),
            "title": [f"Ort {i}" for i in range(n)],
            "text": ["Hier ist es schön, aber die Bänke fehlen."] * n,
            "lon": lon,
            "lat": lat,
            "building_id": pa.array(np.where(on_building, ids, None), pa.string()),
            "height": pa.array(np.where(on_building, roof, np.nan), pa.float64(), mask=~on_building),
            "h3_10": np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64),
            "age_band": pa.array(rng.choice(["18_29", "30_44", "45_64", "65_79", None], n), pa.string()),
            "household": pa.array(rng.choice(["alone", "couple", "family_young_children", None], n), pa.string()),
            "status": rng.choice(["visible", "answered", "hidden", "new"], n, p=[0.88, 0.05, 0.04, 0.03]),
            "participant": rng.choice(participants, n),
            "ip_hash": ["0" * 32] * n,
            "created_at": now,
        }
    )
    n_place_votes = 3 * n
    votes = pa.table(
        {
            "place_id": rng.integers(1, n + 1, n_place_votes),
            "participant": rng.choice(participants, n_place_votes),
            "value": rng.choice(np.array([1, 1, 1, -1], dtype=np.int8), n_place_votes),
        }
    )
    n_comments = n // 3
    comments = pa.table(
        {"place_id": rng.integers(1, n + 1, n_comments), "participant": rng.choice(participants, n_comments)}
    )
    proposals, proposal_votes = proposal_tables(rng, buildings, n + 1, n_proposals, n_votes)
    # The rows are made by DuckDB from the Arrow tables, then copied into the live store (SQLite or PostgreSQL).
    con = duckdb.connect()
    con.register("seed_places", places)
    con.register("seed_votes", pa.concat_tables([votes, proposal_votes]))
    con.register("seed_comments", comments)
    con.register("seed_proposals", proposals)
    rows = {
        "participants (participant, ip_hash, created_at)": con.execute(
            "SELECT DISTINCT participant, '0', TIMESTAMP '2025-05-01' FROM seed_places"
        ).fetchall(),
        "places (place_id, kind, category, title, text, lon, lat, building_id, height, h3_10, age_band, household, "
        "status, participant, ip_hash, created_at, updated_at)": con.execute(
            "SELECT place_id, kind, category, title, text, lon, lat, building_id, height, h3_10::BIGINT, age_band, "
            "household, status, participant, ip_hash, created_at, created_at FROM seed_places"
        ).fetchall(),
        "places (place_id, kind, category, title, text, lon, lat, h3_10, stage, gainers, status, participant, "
        "ip_hash, created_at, updated_at)": con.execute(
            "SELECT place_id, 'idea', category, title, 'Auf dem Parkplatz fehlt eine Kita.', lon, lat, h3_10::BIGINT, "
            "stage, gainers, status, participant, '0', created_at, created_at FROM seed_proposals"
        ).fetchall(),
        "votes (place_id, participant, value, ip_hash, created_at)": con.execute(
            "SELECT DISTINCT ON (place_id, participant) place_id, participant, value, '0', TIMESTAMP '2025-05-02' "
            "FROM seed_votes"
        ).fetchall(),
        "comments (place_id, text, status, participant, ip_hash, created_at)": con.execute(
            "SELECT place_id, 'Stimmt!', 'visible', participant, '0', TIMESTAMP '2025-05-02' FROM seed_comments"
        ).fetchall(),
    }
    con.close()
    store = open_live_store(live_dir, "lauf", LiveSettings(database_url=database_url))

    def work(cur: Any) -> None:
        for target, values in rows.items():
            if values:
                marks = ", ".join("?" * len(values[0]))
                cur.executemany(f"INSERT INTO {target} VALUES ({marks})", values)
        cur.execute(VOTE_COUNTS)  # votes are counted on their row, as the server does when it takes one
        if cur.dialect.name == "postgres":  # identities go on after the seeded ids
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('places', 'place_id'), (SELECT max(place_id) FROM places))"
            )

    store.write(work)
    public = store.read("SELECT count(*) AS n FROM places WHERE status IN ('visible', 'answered') AND kind <> 'idea'")[
        0
    ]["n"]
    open_ids = store.read(
        "SELECT place_id FROM places WHERE kind = 'idea' AND status IN ('visible', 'answered') ORDER BY place_id"
    )
    votes_cast = store.read("SELECT count(*) AS n FROM votes")[0]["n"]
    store.close()
    centre = (float(np.median(lon)), float(np.median(lat)))
    return {
        "bbox": bbox,
        "centre": centre,
        "buildings": buildings,
        "public": int(public),
        "proposals": np.array([r["place_id"] for r in open_ids], dtype=np.int64),
        "votes": int(votes_cast),
    }


class Server:
    """``python -m twin3d.cli serve --workers N`` on a free port, as a process group."""

    def __init__(self, store_dir: Path, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        full_env = {
            **os.environ,
            **env,
            "TWIN3D_STORE_DIR": str(store_dir),
            "TWIN3D_PIPELINES_DIR": str(REPO / "pipelines"),
            "TWIN3D_TILES_DIR": str(store_dir.parent / "tiles"),
        }
        cmd = [sys.executable, "-m", "twin3d.cli", "serve", "--port", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = self.request("GET", "/api/twins")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            return send(conn, method, path, body, headers)
        finally:
            conn.close()

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def send(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    return response.status, response.read()


def time_view(server: Server, path: str, repeat: int) -> tuple[list[float], dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    send(conn, "GET", path)  # warm: the first query of a view also plans it and opens the thread's cursor
    times, body = [], b""
    for _ in range(repeat):
        started = time.perf_counter()
        status, body = send(conn, "GET", path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, body[:200]
    conn.close()
    return times, json.loads(body)


def cpu_seconds(group: int) -> float | None:
    """User plus system CPU time of every process of a process group (the server and its workers; Linux ``/proc``);
    None elsewhere."""
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # field 5 of stat: the process group
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found = True
    return total if found else None


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


Request = tuple[str, dict[str, Any]]


def hammer(server: Server, clients: int, seconds: float, request_of: Any, ok_status: int) -> dict[str, Any]:
    """``clients`` threads, each with its own participant token, POSTing ``request_of(client, rng)`` (a path and
    a body) for ``seconds``; counts the answers with ``ok_status`` and the errors."""
    tokens = [json.loads(server.request("POST", "/api/twins/lauf/participants")[1])["token"] for _ in range(clients)]
    ok = [0] * clients
    errors: list[str] = []
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        rng = np.random.default_rng(i)
        start.wait()
        while time.perf_counter() < stop_at[0]:
            path, body = request_of(i, rng)
            try:
                status, reply = send(conn, "POST", path, body, {"X-Participant-Token": tokens[i]})
            except (OSError, http.client.HTTPException) as exc:
                errors.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                continue
            if status == ok_status:
                ok[i] += 1
            else:
                errors.append(f"{status} {reply[:120]!r}")
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"done": sum(ok), "errors": len(errors), "seconds": elapsed, "first_errors": errors[:3]}


def place_request(info: dict[str, Any]) -> Any:
    """A new place on a random real building (half pinned to the building)."""
    buildings = info["buildings"]

    def request(i: int, rng: np.random.Generator) -> Request:
        bid, height, lon, lat = buildings[int(rng.integers(len(buildings)))]
        location: dict[str, Any] = {"lon": lon, "lat": lat}
        if rng.random() < 0.5:
            location |= {"building_id": bid, "height": round(float(height), 1)}
        body = {
            "kind": "improvable",
            "category": "mobility",
            "title": f"Radweg {i}",
            "text": "Hier fehlt ein sicherer Radweg zur Schule.",
            "location": location,
            "self_description": {"age_band": "30_44", "household": "family_school_children"},
        }
        return "/api/twins/lauf/places", body

    return request


def vote_request(info: dict[str, Any]) -> Any:
    """A vote on a public proposal, the popular ones (low ranks) more often; mostly for, sometimes against."""
    ids = info["proposals"]

    def request(_: int, rng: np.random.Generator) -> Request:
        proposal = int(ids[min(int(len(ids) * rng.random() ** 2), len(ids) - 1)])
        return f"/api/twins/lauf/proposals/{proposal}/votes", {"value": 1 if rng.random() < 0.8 else -1}

    return request


def time_views(
    server: Server, path: str, views: dict[str, str], repeat: int, *, prefix: str, size: dict[str, int]
) -> None:
    """Time each view of ``path`` ``repeat`` times and emit its p50 and p95."""
    key = path.rsplit("/", 1)[1]
    for name, query in views.items():
        times, body = time_view(server, f"{path}?{query}", repeat)
        shown = len(body.get("clusters") or body.get(key) or [])
        tag = {**size, "mode": body["mode"], "in_view": body["total"], "items": shown}
        emit(f"{prefix}_{name}_p50_ms", statistics.median(times), "ms", **tag)
        emit(f"{prefix}_{name}_p95_ms", p95(times), "ms", **tag, target=TARGET_MS, met=p95(times) <= TARGET_MS)


def rate_figure(name: str, result: dict[str, Any], unit: str, target: float, **extra: object) -> None:
    rate = result["done"] / result["seconds"]
    emit(
        name,
        rate,
        unit,
        done=result["done"],
        errors=result["errors"],
        first_errors=result["first_errors"],
        target=target,
        met=rate >= target and result["errors"] == 0,
        **extra,
    )


def bench(store_dir: Path, args: argparse.Namespace) -> None:
    n_places, repeat, clients, seconds = args.places, args.repeat, args.clients, args.seconds
    workers, database_url = args.workers, args.database_url
    with tempfile.TemporaryDirectory(prefix="twin3d-bench-participation-") as tmp:
        var = Path(tmp) / "var"
        var.mkdir()
        (var / "lauf.duckdb").symlink_to((store_dir / "lauf.duckdb").resolve())
        started = time.perf_counter()
        info = seed(var / "lauf.duckdb", var, n_places, database_url, n_proposals=args.proposals, n_votes=args.votes)
        backend = "postgres" if database_url else "sqlite"
        emit(
            "seed_seconds",
            time.perf_counter() - started,
            "s",
            places=n_places,
            proposals=args.proposals,
            votes=info["votes"],
            backend=backend,
        )
        env = {**RAISED_LIMITS, "TWIN3D_LIVE_DATABASE_URL": database_url or ""}
        server = Server(var, env, workers)
        try:
            west, south, east, north = info["bbox"]
            lon, lat = info["centre"]
            town = f"bbox={west},{south},{east},{north}"
            quarter = f"bbox={lon - 0.004},{lat - 0.0025},{lon + 0.004},{lat + 0.0025}&zoom=16&limit=400"
            floor, _ = time_view(server, "/api/twins/lauf/places/config", repeat)
            emit("http_floor_p50_ms", statistics.median(floor), "ms", note="baseline: GET .../places/config")
            places = {
                "town": f"{town}&zoom=13",
                "quarter": quarter,
                "filtered": f"{town}&zoom=14&kind=improvable&category=green",
            }
            time_views(server, "/api/twins/lauf/places", places, repeat, prefix="list", size={"places": n_places})
            if args.proposals:
                proposals = {
                    "town": f"{town}&zoom=13",
                    "quarter": quarter,
                    "top": f"{town}&cluster=false&sort=top&limit=50",
                    "gainers": f"{town}&cluster=false&sort=gainers&limit=50",
                }
                size = {"proposals": args.proposals, "votes": info["votes"]}
                time_views(server, "/api/twins/lauf/proposals", proposals, repeat, prefix="proposals", size=size)

            single = hammer(server, 1, min(seconds, 3.0), place_request(info), 201)
            emit("post_one_client_per_s", single["done"] / single["seconds"], "posts/s", errors=single["errors"])
            cpu_before = cpu_seconds(server.proc.pid)
            load = hammer(server, clients, seconds, place_request(info), 201)
            cpu_after = cpu_seconds(server.proc.pid)
            note = "per-address rate limits raised for this run (all clients share 127.0.0.1)"
            rate_figure(
                "post_places_per_s",
                load,
                "posts/s",
                TARGET_POSTS,
                clients=clients,
                workers=workers,
                backend=backend,
                note=note,
            )
            if cpu_before is not None and cpu_after is not None and load["done"]:
                cpu_ms = (cpu_after - cpu_before) * 1000 / load["done"]
                # The server is one process and mostly holds the GIL: its CPU per post bounds its rate, and unlike
                # the rate it hardly depends on what else runs on the machine.
                emit("post_server_cpu_ms", cpu_ms, "ms/post", capacity_per_core=round(1000 / cpu_ms, 1))
            _, listing = server.request("GET", "/api/twins/lauf/places?limit=1")
            expected = info["public"] + single["done"] + load["done"]
            emit("acknowledged_missing", expected - json.loads(listing)["total"], "places")

            if len(info["proposals"]):
                one = hammer(server, 1, min(seconds, 3.0), vote_request(info), 200)
                emit("vote_one_client_per_s", one["done"] / one["seconds"], "votes/s", errors=one["errors"])
                votes = hammer(server, clients, seconds, vote_request(info), 200)
                rate_figure(
                    "vote_proposals_per_s",
                    votes,
                    "votes/s",
                    TARGET_VOTES,
                    clients=clients,
                    workers=workers,
                    backend=backend,
                    note=note,
                )
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="folder with a built lauf.duckdb")
    parser.add_argument("--places", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=30_000)
    parser.add_argument("--votes", type=int, default=1_000_000, help="votes on the proposals (before duplicates go)")
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per view")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the clients post")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--database-url", help="a PostgreSQL database for the live store (default: SQLite)")
    args = parser.parse_args()
    if args.store is not None:
        bench(args.store, args)
        return
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="twin3d-bench-participation-build-") as tmp:
        paths = PathSettings(store_dir=Path(tmp) / "var", tiles_dir=Path(tmp) / "tiles")
        build_twin(load_pipeline(REPO / "pipelines" / "lauf.toml"), paths)
        bench(paths.store_dir, args)


if __name__ == "__main__":
    main()
