"""Workshop codes: a room of tablets behind one router takes part without the per-address limits.

An administrator issues a code for one twin with a quota of participants and an expiry (``twin3d workshops add`` or
``POST /api/twins/{twin}/workshops``). A participant who enters it gets an own participant token without the
per-address limit on new participants, until the quota is used up or the code expires; the participant's writes
are then limited per token and per workshop, not per address (see :mod:`twin3d.participation.service`).

The codes are kept in one JSON file beside the stores (``var/workshops.json``), like the users, so that the CLI can
issue one while a server runs (DuckDB lets only one process open a store); only the SHA-256 of a code is kept, and
the code is shown once. Which participant joined which workshop is kept in the twin's live store
(``participants.workshop``), where the quota is counted in the same transaction that adds the participant.

Codes are 12 letters and digits from an alphabet without look-alikes (about 59 bits), written ``ABCD-EFGH-JKLM``;
case, spaces and dashes do not matter when they are entered. Wrong codes are rate-limited per address.

File layout (``var/workshops.json``)::

    {"workshops": [{"workshop_id": "ws_1a2b3c4d", "twin": "lauf", "label": "Bürgerwerkstatt Altstadt",
                    "quota": 40, "expires_at": "2025-05-01T18:00:00Z", "created_at": "...", "created_by": "admin",
                    "code_sha256": "..."}]}
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from twin3d.errors import ConfigError, InputError, NotFoundError
from twin3d.jsonfile import Watched, locked, write_atomic

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12
MAX_LABEL = 80
MAX_HOURS = 24 * 90
ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Workshop:
    """One workshop code as it is kept: never the code, only its hash."""

    workshop_id: str
    twin: str
    label: str
    quota: int
    expires_at: str
    created_at: str
    created_by: str
    code_sha256: str

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the code's time is over."""
        return (now or datetime.now(UTC)) >= parse_time(self.expires_at)

    def public(self) -> dict[str, Any]:
        """What may be shown to its participants and to administrators: everything but the hash."""
        found = asdict(self)
        del found["code_sha256"]
        return found


def parse_time(text: str) -> datetime:
    """An ISO time (``Z`` or an offset) as an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def normalise(code: str) -> str:
    """A code as entered -> its canonical form: upper case, without spaces and dashes."""
    return re.sub(r"[\s\-_]", "", code).upper()


def code_hash(code: str) -> str:
    """What is stored of a code: SHA-256 of its canonical form."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def new_code() -> str:
    """A fresh random code, ``ABCD-EFGH-JKLM``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _parse(path: Path | None) -> list[Workshop]:
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if text.strip() else {"workshops": []}
        return [Workshop(**{k: entry[k] for k in Workshop.__dataclass_fields__}) for entry in raw["workshops"]]
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the workshops file is damaged: {exc}", file=path, hint="fix or remove it") from exc


def read_workshops(path: Path, twin: str | None = None) -> list[Workshop]:
    """The workshops in the file (of ``twin`` only, if given), oldest first; none if there is no file."""
    found = _parse(path if path.is_file() else None)
    return [w for w in found if twin is None or w.twin == twin]


def add_workshop(
    path: Path,
    twin: str,
    label: str,
    quota: int,
    *,
    hours: float | None = None,
    expires_at: datetime | None = None,
    created_by: str = "admin",
    max_quota: int = 500,
) -> tuple[Workshop, str]:
    """Issue a workshop code.

    Args:
        path: the workshops file.
        twin: the twin the code is for.
        label: a name participants recognise (shown to them).
        quota: the most participants who may join with the code.
        hours: how long the code is valid from now; or give ``expires_at``.
        expires_at: when the code stops working (UTC if naive).
        created_by: who issued it (a user name).
        max_quota: the largest quota allowed.

    Returns:
        The stored workshop and its code, which is not kept anywhere: show it once.

    Raises:
        InputError: a value is out of range, or the expiry is in the past or too far ahead.
    """
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL:
        raise InputError("the label must have 1 to 80 characters", record="label")
    if not 1 <= quota <= max_quota:
        raise InputError(f"the quota must be between 1 and {max_quota}", record="quota")
    now = datetime.now(UTC).replace(microsecond=0)
    if (hours is None) == (expires_at is None):
        raise InputError("give either hours or expires_at", record="hours")
    until = now + timedelta(hours=hours) if hours is not None else expires_at
    assert until is not None
    until = (until if until.tzinfo else until.replace(tzinfo=UTC)).astimezone(UTC)
    if until <= now or until > now + timedelta(hours=MAX_HOURS):
        raise InputError(f"the code must expire within {MAX_HOURS // 24} days from now", record="expires_at")
    code = new_code()
    workshop = Workshop(
        workshop_id="ws_" + secrets.token_hex(4),
        twin=twin,
        label=label,
        quota=quota,
        expires_at=until.strftime(ISO),
        created_at=now.strftime(ISO),
        created_by=created_by,
        code_sha256=code_hash(code),
    )
    with locked(path):
        workshops = read_workshops(path)
        write_atomic(path, {"workshops": [asdict(w) for w in [*workshops, workshop]]})
    return workshop, code


def remove_workshop(path: Path, twin: str, workshop_id: str) -> Workshop:
    """Withdraw a code: nobody joins with it any more, and its participants are limited like everyone else.

    Raises:
        NotFoundError: the twin has no such workshop.
    """
    with locked(path):
        workshops = read_workshops(path)
        found = next((w for w in workshops if w.workshop_id == workshop_id and w.twin == twin), None)
        if found is None:
            raise NotFoundError(f"no workshop {workshop_id!r} in the twin {twin!r}", hint="list the workshops")
        write_atomic(path, {"workshops": [asdict(w) for w in workshops if w is not found]})
    return found


class WorkshopRegistry:
    """The workshops file as the server sees it: looked up by code hash or id, reloaded when the file changes.

    Args:
        path: the workshops file; it need not exist.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._watched = Watched(path, _index)

    def by_code(self, twin: str, code: str) -> Workshop | None:
        """The workshop of ``twin`` with this code (expired ones too), or None."""
        found = self._watched.get()[0].get(code_hash(code))
        return found if found is not None and found.twin == twin else None

    def by_id(self, workshop_id: str) -> Workshop | None:
        """A workshop by its id, or None (removed, or never issued)."""
        return self._watched.get()[1].get(workshop_id)


def _index(path: Path | None) -> tuple[dict[str, Workshop], dict[str, Workshop]]:
    workshops = _parse(path)
    return {w.code_sha256: w for w in workshops}, {w.workshop_id: w for w in workshops}
