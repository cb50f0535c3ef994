"""Users and bearer tokens: only hashes are stored, the file is replaced whole, and servers see changes at once."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin3d.auth.users import UserRegistry, add_user, hash_token, read_users, remove_user
from twin3d.cli import main
from twin3d.errors import InputError, NotFoundError


def test_tokens_are_shown_once_and_stored_hashed(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    user, token = add_user(path, "rat-mueller", "council", ["lauf"])
    assert token.startswith("t3d_")
    assert len(token) > 40
    text = path.read_text()
    assert token not in text
    assert hash_token(token) in text
    assert json.loads(text)["users"][0] == {
        "name": "rat-mueller",
        "role": "council",
        "token_sha256": hash_token(token),
        "created_at": user.created_at,
        "twins": ["lauf"],
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".users-")] == []  # no temporary file left


def test_names_are_unique_and_roles_known(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "a", "admin")
    with pytest.raises(InputError, match="exists"):
        add_user(path, "a", "public")
    with pytest.raises(InputError, match="unknown role"):
        add_user(path, "b", "mayor")
    with pytest.raises(InputError, match="invalid user name"):
        add_user(path, "../etc", "admin")
    with pytest.raises(NotFoundError):
        remove_user(path, "nobody")


def test_the_registry_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    registry = UserRegistry(path)
    assert registry.lookup("t3d_anything") is None  # no file: nobody
    _, token = add_user(path, "admin1", "admin")
    found = registry.lookup(token)
    assert found is not None
    assert (found.name, found.role, found.twins) == ("admin1", "admin", None)
    remove_user(path, "admin1")
    assert registry.lookup(token) is None


def test_the_cli_adds_lists_and_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN3D_STORE_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "verwaltung", "--role", "admin", "--twin", "lauf"])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[-1]
    assert UserRegistry(tmp_path / "users.json").lookup(token) is not None
    listed = runner.invoke(main, ["users", "list"])
    assert "verwaltung" in listed.stdout
    assert "admin" in listed.stdout
    assert token not in listed.stdout
    assert runner.invoke(main, ["users", "add", "x", "--role", "mayor"]).exit_code == 2  # click refuses the choice
    assert runner.invoke(main, ["users", "remove", "verwaltung"]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "verwaltung"]).exit_code == NotFoundError.exit_code
    assert read_users(tmp_path / "users.json") == []
