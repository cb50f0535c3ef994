"""Workshop codes in their file, and the live store of an older twin3d gaining the workshop table."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from twin3d.errors import InputError
from twin3d.participation import store as sql
from twin3d.participation.workshops import WorkshopRegistry, add_workshop, read_workshops, remove_workshop
from twin3d.settings import LiveSettings
from twin3d.store.live import open_live_store


def test_only_a_hash_is_kept_and_codes_are_entered_loosely(tmp_path: Path) -> None:
    path = tmp_path / "workshops.json"
    registry = WorkshopRegistry(path)
    assert registry.by_code("lauf", "ABCD-EFGH-JKLM") is None  # no file yet
    workshop, code = add_workshop(path, "lauf", "Schule am Berg", 30, hours=2)
    assert code not in path.read_text(encoding="utf-8")
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only
    found = registry.by_code("lauf", f"  {code.lower().replace('-', ' ')} ")
    assert found == workshop
    assert registry.by_code("rostock", code) is None
    assert registry.by_id(workshop.workshop_id) == workshop
    remove_workshop(path, "lauf", workshop.workshop_id)
    assert registry.by_code("lauf", code) is None  # noticed without a restart
    assert read_workshops(path) == []
    with pytest.raises(InputError, match="quota"):
        add_workshop(path, "lauf", "x", 0, hours=1)
    with pytest.raises(InputError, match="label"):
        add_workshop(path, "lauf", " ", 3, hours=1)
    assert json.loads(path.read_text(encoding="utf-8")) == {"workshops": []}


def test_an_older_live_store_gains_the_workshop_table_and_keeps_its_participants(
    tmp_path: Path, live_settings: LiveSettings
) -> None:
    path = tmp_path / "lauf.live.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE participants (participant VARCHAR PRIMARY KEY, ip_hash VARCHAR, created_at TIMESTAMP)")
    con.execute("INSERT INTO participants VALUES ('old', 'ip', now()::TIMESTAMP)")
    con.close()
    store = open_live_store(tmp_path, "lauf", live_settings)
    try:
        assert sql.participant_workshop(store, "old") == (True, None)
        assert sql.add_participant(store, "new1", "ip", workshop="ws_00000001", quota=1)
        assert not sql.add_participant(store, "new2", "ip", workshop="ws_00000001", quota=1)  # the quota is full
        assert sql.participant_workshop(store, "new1") == (True, "ws_00000001")
        assert sql.participant_workshop(store, "new2") == (False, None)
        assert sql.workshop_counts(store) == {"ws_00000001": 1}
    finally:
        store.close()
