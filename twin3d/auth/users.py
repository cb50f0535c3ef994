"""Users of the triple twin: a name, a role (public, council, admin) and a bearer token, kept in one JSON file.

Only the SHA-256 of each token is stored; the token itself is shown once, when the user is added. The file is
replaced atomically (temporary file, then ``os.replace``), so a running server never reads half of it, and the
server reloads it when it changes, so ``twin3d users add`` takes effect without a restart.

File layout (``var/users.json``)::

    {"users": [{"name": "rat-mueller", "role": "council", "token_sha256": "...",
                "created_at": "2025-05-01T10:00:00Z", "twins": ["lauf"]}]}

``twins`` is optional: without it the user has its role in every twin.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from twin3d.errors import ConfigError, InputError, NotFoundError
from twin3d.jsonfile import Watched, locked, write_atomic

Role = Literal["public", "council", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}
"""admin > council > public: a higher role may do what a lower one may."""


def at_least(role: str, needed: str) -> bool:
    """Whether ``role`` is ``needed`` or above it (admin > council > public): the one comparison of roles, for
    routes and for what a role may see (layers, collections, scenarios). An unknown role ranks below the public.

    Example:
        >>> at_least("council", "public"), at_least("public", "council"), at_least("guest", "public")
        (True, False, False)
    """
    return RANK.get(role, -1) >= RANK[needed]


TOKEN_PREFIX = "t3d_"
USER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


@dataclass(frozen=True)
class User:
    """One user: never holds the token, only its hash."""

    name: str
    role: Role
    token_sha256: str
    created_at: str
    twins: tuple[str, ...] | None = None

    def may_use(self, twin: str) -> bool:
        """Whether this user's role applies in ``twin``."""
        return self.twins is None or twin in self.twins


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _parse(path: Path, text: str) -> list[User]:
    try:
        raw = json.loads(text) if text.strip() else {"users": []}
        users = []
        for entry in raw["users"]:
            if entry["role"] not in ROLES:
                raise ValueError(f"unknown role {entry['role']!r}")
            twins = entry.get("twins")
            users.append(
                User(
                    name=str(entry["name"]),
                    role=entry["role"],
                    token_sha256=str(entry["token_sha256"]),
                    created_at=str(entry.get("created_at", "")),
                    twins=tuple(twins) if twins is not None else None,
                )
            )
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the users file is damaged: {exc}", file=path, hint="fix or remove it") from exc
    return users


def read_users(path: Path) -> list[User]:
    """Every user in the file; none if there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return _parse(path, text)


def _write(path: Path, users: list[User]) -> None:
    """Replace the file atomically, readable only by its owner (it holds token hashes)."""
    entries: list[dict[str, Any]] = []
    for user in users:
        entry = asdict(user)
        if user.twins is None:
            del entry["twins"]
        else:
            entry["twins"] = list(user.twins)
        entries.append(entry)
    write_atomic(path, {"users": entries})


def add_user(path: Path, name: str, role: str, twins: list[str] | None = None) -> tuple[User, str]:
    """Add a user with a new random bearer token.

    Args:
        path: the users file.
        name: a unique name (letters, digits, ``_.@-``).
        role: public, council or admin.
        twins: the twins the role applies to; None: all.

    Returns:
        The stored user and its token, which is not kept anywhere: show it once.

    Raises:
        InputError: the name is taken or malformed, or the role is unknown.
    """
    if not re.match(USER_NAME, name):
        raise InputError(f"invalid user name {name!r}", record="name", hint="letters, digits and _.@- (max. 64)")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", record="role", hint=f"one of {', '.join(ROLES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with locked(path):
        users = read_users(path)
        if any(u.name == name for u in users):
            raise InputError(f"a user named {name!r} exists", record="name", hint="remove it first, or pick a name")
        user = User(
            name=name,
            role=role,
            token_sha256=hash_token(token),
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            twins=tuple(twins) if twins else None,
        )
        _write(path, [*users, user])
    return user, token


def remove_user(path: Path, name: str) -> User:
    """Remove a user (its token stops working as soon as a server notices the change).

    Raises:
        NotFoundError: there is no such user.
    """
    with locked(path):
        users = read_users(path)
        found = next((u for u in users if u.name == name), None)
        if found is None:
            raise NotFoundError(f"no user named {name!r}", file=path, hint="twin3d users list shows them")
        _write(path, [u for u in users if u.name != name])
    return found


class UserRegistry:
    """The users file as the server sees it: looked up by token hash, reloaded when the file changes.

    Args:
        path: the users file; it need not exist.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._watched = Watched(path, lambda found: {u.token_sha256: u for u in (read_users(found) if found else [])})

    def lookup(self, token: str) -> User | None:
        """The user holding ``token``, or None."""
        return self._watched.get().get(hash_token(token))
