"""The live store's group commit: many threads share commits, every caller returns after its own commit, a broken
unit fails alone, and batched rows get ids that are never reused."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from twin3d.errors import InputError
from twin3d.store.live import Cursor, LiveStore, Row

TYPES = {"participant": "VARCHAR", "ip_hash": "VARCHAR", "created_at": "TIMESTAMP"}
NOW = datetime(2025, 5, 1, 12, 0)


def row(name: str) -> Row:
    return Row("participants", TYPES, {"participant": name, "ip_hash": "x", "created_at": NOW})


def test_concurrent_writes_all_land_and_share_commits(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "t.live.duckdb")
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for j in range(25):
                if j % 2:
                    store.insert(row(f"{i}-{j}"))
                else:
                    store.write(
                        lambda cur, i=i, j=j: cur.execute(
                            "INSERT INTO participants VALUES (?, 'x', now()::TIMESTAMP)", [f"{i}-{j}"]
                        )
                    )
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
    reopened = LiveStore(tmp_path / "t.live.duckdb")
    assert reopened.read("SELECT count(DISTINCT participant) AS n FROM participants") == [{"n": 16 * 25}]


def test_a_broken_unit_fails_alone(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "t.live.duckdb")
    store.write(lambda cur: cur.execute("INSERT INTO participants VALUES ('dup', 'x', now()::TIMESTAMP)"))
    gate = threading.Barrier(8)
    outcomes: dict[int, str] = {}

    def worker(i: int) -> None:
        gate.wait()
        name = "dup" if i == 3 else f"ok{i}"
        try:
            store.insert(row(name))
            outcomes[i] = "ok"
        except duckdb.ConstraintException:
            outcomes[i] = "duplicate"

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes[3] == "duplicate"
    assert [outcomes[i] for i in range(8) if i != 3] == ["ok"] * 7
    assert store.read("SELECT count(*) AS n FROM participants") == [{"n": 8}]


def test_errors_of_the_caller_reach_the_caller_and_write_nothing(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "t.live.duckdb")

    def refuse(cur: Cursor) -> None:
        if cur.execute("SELECT count(*) FROM participants").fetchone() == (0,):
            raise InputError("nobody here")

    with pytest.raises(InputError, match="nobody"):
        store.write(refuse)
    assert store.write(lambda cur: 42) == 42


def test_ids_continue_after_the_largest_stored(tmp_path: Path) -> None:
    store = LiveStore(tmp_path / "t.live.duckdb")
    store.write(
        lambda cur: cur.execute(
            "INSERT INTO places (place_id, kind, category, title, text, lon, lat, h3_10, status, participant, ip_hash, "
            "created_at, updated_at) VALUES (41, 'happy', 'green', 't', 'x', 0, 0, 0, 'visible', 'p', 'i', "
            "now()::TIMESTAMP, now()::TIMESTAMP)"
        )
    )
    assert [store.next_id("places", "place_id") for _ in range(3)] == [42, 43, 44]
