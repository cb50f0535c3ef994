"""The live store on both backends: many threads and two processes share it, every caller returns after its own
commit, a broken unit fails alone, ids are never reused, and a store of an earlier version comes along."""

from __future__ import annotations

import multiprocessing
import stat
import threading
from pathlib import Path

import duckdb
import pytest

from twin3d.errors import InputError, StoreError
from twin3d.settings import LiveSettings
from twin3d.store.live import Cursor, LiveStore, live_store_file, open_live_store, utc_now

NOW = utc_now()


def add(name: str) -> object:
    def work(cur: Cursor) -> None:
        cur.execute("INSERT INTO participants (participant, ip_hash, created_at) VALUES (?, 'x', ?)", [name, NOW])

    return work


def test_concurrent_writes_all_land(tmp_path: Path, live_settings: LiveSettings) -> None:
    store = open_live_store(tmp_path, "t", live_settings)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(25):
                store.write(add(f"{i}-{j}"))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.read("SELECT count(*) AS n FROM participants") == [{"n": 16 * 25}]
    store.close()
    reopened = open_live_store(tmp_path, "t", live_settings)
    assert reopened.read("SELECT count(DISTINCT participant) AS n FROM participants") == [{"n": 16 * 25}]
    reopened.close()


def _write_from_another_process(store_dir: str, url: str | None, prefix: str, n: int) -> None:
    store = open_live_store(Path(store_dir), "t", LiveSettings(database_url=url))
    for i in range(n):
        # Check, then write: correct only because writers are serialised across processes.
        def work(cur: Cursor, i: int = i) -> None:
            row = cur.execute("SELECT count(*) FROM participants").fetchone()
            assert row is not None
            cur.execute(
                "INSERT INTO participants (participant, ip_hash, created_at) VALUES (?, ?, ?)",
                [f"{prefix}{i}", str(row[0]), NOW],
            )

        store.write(work)
    store.close()


def test_two_processes_write_one_store(tmp_path: Path, live_settings: LiveSettings) -> None:
    open_live_store(tmp_path, "t", live_settings).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_write_from_another_process, args=(str(tmp_path), live_settings.database_url, p, 60))
        for p in ("a", "b")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    store = open_live_store(tmp_path, "t", live_settings)
    rows = store.read("SELECT ip_hash FROM participants ORDER BY created_at")
    # Every unit saw all commits before its own: the counts it read are 0..119, each once.
    assert sorted(int(r["ip_hash"]) for r in rows) == list(range(120))
    store.close()


def test_a_broken_unit_fails_alone(tmp_path: Path, live_settings: LiveSettings) -> None:
    store = open_live_store(tmp_path, "t", live_settings)
    store.write(add("dup"))  # type: ignore[arg-type]
    gate = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def worker(i: int) -> None:
        gate.wait()
        try:
            store.write(add("dup" if i == 3 else f"ok{i}"))  # type: ignore[arg-type]
            outcomes[i] = "ok"
        except StoreError:  # the database's refusal, as a 503 (its text goes to the log)
            outcomes[i] = "duplicate"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes[3] == "duplicate"
    assert [outcomes[i] for i in range(8) if i != 3] == ["ok"] * 7
    assert store.read("SELECT count(*) AS n FROM participants") == [{"n": 8}]
    store.close()


def test_errors_of_the_caller_reach_the_caller_and_write_nothing(tmp_path: Path, live_settings: LiveSettings) -> None:
    store = open_live_store(tmp_path, "t", live_settings)

    def refuse(cur: Cursor) -> None:
        if cur.execute("SELECT count(*) FROM participants").fetchone() == (0,):
            raise InputError("nobody here")

    with pytest.raises(InputError, match="nobody"):
        store.write(refuse)
    assert store.write(lambda cur: 42) == 42
    store.close()


def _place(cur: Cursor, place_id: int | None = None) -> int:
    columns = "kind, category, title, text, lon, lat, h3_10, status, participant, ip_hash, created_at, updated_at"
    values: list[object] = ["happy", "green", "t", "x", 0.0, 0.0, 0, "visible", "p", "i", NOW, NOW]
    if place_id is not None:
        columns, values = f"place_id, {columns}", [place_id, *values]
    marks = ", ".join("?" * len(values))
    row = cur.execute(f"INSERT INTO places ({columns}) VALUES ({marks}) RETURNING place_id", values).fetchone()
    assert row is not None
    return int(row[0])


def test_ids_are_never_reused(tmp_path: Path, live_settings: LiveSettings) -> None:
    store = open_live_store(tmp_path, "t", live_settings)
    assert [store.write(_place) for _ in range(3)] == [1, 2, 3]
    store.write(lambda cur: cur.execute("DELETE FROM places WHERE place_id = 3"))
    store.close()
    store = open_live_store(tmp_path, "t", live_settings)
    assert [store.write(_place) for _ in range(2)] == [4, 5]
    store.close()


def test_the_embedded_store_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    store = open_live_store(tmp_path, "lauf", LiveSettings())
    store.write(add("someone"))  # type: ignore[arg-type]
    path = live_store_file(tmp_path, "lauf")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{path}-wal").stat().st_mode) == 0o600
    assert store.read("PRAGMA journal_mode") == [{"journal_mode": "wal"}]
    store.close()


def _legacy_store(path: Path) -> None:
    """A live store as twin3d kept it before this version: DuckDB, server-counted ids, spec as JSON."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE participants (participant VARCHAR PRIMARY KEY, ip_hash VARCHAR, created_at TIMESTAMP)")
    con.execute("INSERT INTO participants VALUES ('old', 'ip', TIMESTAMP '2025-05-01 12:00:00')")
    con.execute(
        "CREATE TABLE places (place_id BIGINT PRIMARY KEY, kind VARCHAR, category VARCHAR, title VARCHAR, "
        "text VARCHAR, lon DOUBLE, lat DOUBLE, building_id VARCHAR, height DOUBLE, h3_10 UBIGINT, age_band VARCHAR, "
        "household VARCHAR, status VARCHAR, answer VARCHAR, answered_at TIMESTAMP, participant VARCHAR, "
        "ip_hash VARCHAR, created_at TIMESTAMP, updated_at TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO places VALUES (7, 'happy', 'green', 'Alt', 'Text', 11.28, 49.51, NULL, NULL, "
        "622236750694711295, NULL, NULL, 'visible', NULL, NULL, 'old', 'ip', TIMESTAMP '2025-05-01 12:00:00', "
        "TIMESTAMP '2025-05-01 12:00:00')"
    )
    con.execute(
        "CREATE TABLE scenarios (scenario_id VARCHAR PRIMARY KEY, name VARCHAR, version INTEGER, "
        "description VARCHAR, spec JSON, measures INTEGER, created_at TIMESTAMP)"
    )
    con.execute(
        "INSERT INTO scenarios VALUES ('s1', 'Entwurf', 1, '', '{\"visibility\": \"council\", \"measures\": []}', 0, "
        "TIMESTAMP '2025-05-02 08:00:00')"
    )
    con.close()


def test_a_store_of_an_earlier_version_comes_along_once(tmp_path: Path, live_settings: LiveSettings) -> None:
    _legacy_store(tmp_path / "lauf.live.duckdb")
    store = open_live_store(tmp_path, "lauf", live_settings)
    assert store.read("SELECT participant FROM participants") == [{"participant": "old"}]
    assert store.read("SELECT place_id, h3_10, title FROM places") == [
        {"place_id": 7, "h3_10": 622236750694711295, "title": "Alt"}
    ]
    assert store.scenarios()[0] | {"created_at": None} == {
        "scenario_id": "s1", "name": "Entwurf", "version": 1, "description": "", "measures": 0,
        "created_at": None, "visibility": "council", "listed": 1,
    }  # fmt: skip
    assert store.scenarios()[0]["created_at"] == "2025-05-02T08:00:00Z"
    assert store.write(_place) == 8  # ids go on after the imported ones
    store.close()
    again = open_live_store(tmp_path, "lauf", live_settings)  # opened again: nothing is copied twice
    assert again.read("SELECT count(*) AS n FROM places") == [{"n": 2}]
    again.close()
    assert stat.S_IMODE((tmp_path / "lauf.live.duckdb").stat().st_mode) == 0o600
    assert (tmp_path / "lauf.live.duckdb").exists()  # kept, never deleted


def test_a_store_is_typed_the_same_on_both_backends(tmp_path: Path, live_settings: LiveSettings) -> None:
    store: LiveStore = open_live_store(tmp_path, "t", live_settings)
    store.write(_place)
    table = store.read_arrow("SELECT place_id, lon, title FROM places")
    assert table.column_names == ["place_id", "lon", "title"]
    assert table.to_pylist() == [{"place_id": 1, "lon": 0.0, "title": "t"}]
    store.close()


def test_a_store_of_version_1_gains_vote_counts_and_unlists_the_publics_scenarios(
    tmp_path: Path, live_settings: LiveSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twin3d.store.live import schema  # noqa: PLC0415

    every = schema.migrations
    monkeypatch.setattr(schema, "migrations", lambda dialect: [m for m in every(dialect) if m[0] == 1])
    old = open_live_store(tmp_path, "t", live_settings)

    def version_1(cur: Cursor) -> None:
        cur.execute(
            "INSERT INTO places (kind, category, title, text, lon, lat, h3_10, status, participant, ip_hash, "
            "created_at, updated_at) VALUES ('happy', 'green', 'Park', 'x', 11, 49, 1, 'visible', 'p', 'ip', ?, ?)",
            [NOW, NOW],
        )
        for voter, value in (("a", 1), ("b", 1), ("c", -1)):
            cur.execute("INSERT INTO votes VALUES (1, ?, ?, 'ip', ?)", [voter, value, NOW])
        for scenario_id, visibility in (("s-public", "public"), ("s-council", "council")):
            cur.execute(
                "INSERT INTO scenarios VALUES (?, 'Plan', 1, '', '{}', 0, ?, ?)", [scenario_id, visibility, NOW]
            )

    old.write(version_1)
    old.close()
    monkeypatch.setattr(schema, "migrations", every)
    store = open_live_store(tmp_path, "t", live_settings)
    try:
        assert store.read("SELECT votes_up, votes_down, stage FROM places") == [
            {"votes_up": 2, "votes_down": 1, "stage": None}
        ]
        assert {s["scenario_id"]: s["listed"] for s in store.scenarios()} == {"s-public": 0, "s-council": 1}
        assert [s["scenario_id"] for s in store.scenarios(listed_only=True)] == ["s-council"]
    finally:
        store.close()
