"""Secret files: made once by whichever worker comes first, the same key for all, readable by the owner only."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from twin3d.auth.users import UserRegistry, add_user
from twin3d.errors import ConfigError
from twin3d.participation.ratelimit import load_or_create_secret
from twin3d.pipeline.population_step import privacy_key
from twin3d.secretfile import read_or_create_secret, read_secret

WORKERS = 6
ROUNDS = 20


def _worker(path: str, start: Barrier, out: multiprocessing.Queue[bytes]) -> None:
    start.wait()
    out.put(read_or_create_secret(Path(path)))


def test_workers_starting_together_get_one_key_readable_by_the_owner_only(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        path = tmp_path / "var" / f"lauf{round_}.participation-key"
        start, out = context.Barrier(WORKERS), context.Queue()
        workers = [context.Process(target=_worker, args=(str(path), start, out)) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        keys = {out.get(timeout=30) for _ in workers}
        for worker in workers:
            worker.join(timeout=30)
            assert worker.exitcode == 0
        assert len(keys) == 1, f"round {round_}: workers got {len(keys)} different keys"
        assert keys == {path.read_bytes()}
        assert len(path.read_bytes()) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == sorted(
            f"lauf{i}.participation-key" for i in range(round_ + 1)
        )


def test_every_secret_of_a_twin_goes_through_the_one_helper(tmp_path: Path) -> None:
    privacy, participation = tmp_path / "lauf.privacy-key", tmp_path / "lauf.participation-key"
    assert privacy_key(privacy) == privacy_key(privacy) == read_secret(privacy)
    assert load_or_create_secret(participation) == read_secret(participation)
    for path in (privacy, participation):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_left_readable_by_others_is_made_private_when_read(tmp_path: Path) -> None:
    path = tmp_path / "lauf.privacy-key"
    path.write_bytes(b"k" * 32)
    path.chmod(0o644)
    assert read_or_create_secret(path) == b"k" * 32  # the old key is kept: the published noise depends on it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_key_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "lauf.privacy-key"
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="too short"):
        read_or_create_secret(path)
    assert read_secret(tmp_path / "none.privacy-key") is None


def test_the_users_file_is_made_private_when_the_server_reads_it(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    _, token = add_user(users, "verwaltung", "admin")
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    users.chmod(0o644)
    found = UserRegistry(users).lookup(token)
    assert found is not None
    assert found.name == "verwaltung"
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
