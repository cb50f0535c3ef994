"""The one exception tree of twin3d.

Library code raises these; only the CLI prints them and exits, and the server maps them to HTTP status codes
in one table (:mod:`twin3d.server.errors`). Every error keeps the context a user needs to act on it: the file,
the record, and a hint that says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


class Twin3dError(Exception):
    """Base class for every error twin3d raises on purpose.

    Args:
        message: what went wrong, in one sentence.
        file: the input or output file concerned, if any.
        record: the record inside the file (feature index, id, row number), if any.
        hint: how to fix it.
        localized: the message for a citizen in each language of the viewer (``{"de": ..., "en": ...}``), for
            refusals a citizen can meet (:mod:`twin3d.participation.refusals`); the server sends it as ``message``.
        reason: a short stable key of the refusal (``workshop_full``), for clients that act on it.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        record: str | int | None = None,
        hint: str | None = None,
        localized: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.record = record
        self.hint = hint
        self.localized = dict(localized) if localized is not None else None
        self.reason = reason

    def one_line(self) -> str:
        """The error as one line: ``file: record: message (hint)``."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.record is not None:
            parts.append(f"record {self.record}")
        parts.append(self.message)
        text = ": ".join(parts)
        if self.hint:
            text += f" (fix: {self.hint})"
        return text

    def __str__(self) -> str:
        return self.one_line()


class ConfigError(Twin3dError):
    """A pipeline definition or a setting is missing or wrong."""

    exit_code = 2


class InputError(Twin3dError):
    """An input file cannot be read or its content is unusable."""

    exit_code = 3


class CRSError(InputError):
    """The coordinate reference system of an input is unknown or does not fit the twin."""


class StoreError(Twin3dError):
    """The DuckDB store is missing, locked, or not in the expected schema."""

    exit_code = 4


class NotFoundError(Twin3dError):
    """A twin, building, district or tile asked for does not exist."""

    exit_code = 5


class AuthError(Twin3dError):
    """A bearer token or participant token is missing where needed, unknown, or malformed."""

    exit_code = 6


class ForbiddenError(Twin3dError):
    """The caller is known but its role may not do this."""

    exit_code = 6


class ConflictError(Twin3dError):
    """The request is valid but the state does not allow it now (a workshop whose quota is used up)."""

    exit_code = 8


class GoneError(Twin3dError):
    """What was asked for existed but is over (an expired workshop code)."""

    exit_code = 8


class MailError(Twin3dError):
    """A mail could not be sent (the SMTP server is unreachable or refused it); the message never names the address."""

    exit_code = 4


class RateLimitError(Twin3dError):
    """Too many requests from one address or participant; ``retry_after`` says when to try again.

    Args:
        message: what was limited.
        retry_after: seconds until the next request can succeed.
        hint: how to go on.
        localized: the message per language (see :class:`Twin3dError`).
        reason: a short stable key of the refusal.
    """

    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        hint: str | None = None,
        localized: Mapping[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, localized=localized, reason=reason)
        self.retry_after = retry_after
