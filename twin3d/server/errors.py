"""The one table that maps twin3d errors to HTTP status codes, and what of an error goes to the client.

An error's ``file`` is for the CLI and the server log, never for HTTP: a client learns no path on the server. A
server fault (5xx) is answered with a fixed sentence per kind, because its message may carry what a library said
(DuckDB names the locked file, the interpreter and the PID holding the lock); the whole error goes to the log.
Messages of refusals (4xx) are written by twin3d for the caller and are sent with any absolute path cut to its
file name and any process id left out, in case one came in with a library's words.
"""

from __future__ import annotations

import logging
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from twin3d.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InputError,
    MailError,
    NotFoundError,
    RateLimitError,
    StoreError,
    Twin3dError,
)

STATUS_OF: list[tuple[type[Twin3dError], int]] = [
    (NotFoundError, 404),
    (InputError, 422),
    (AuthError, 401),
    (ForbiddenError, 403),
    (ConflictError, 409),
    (GoneError, 410),
    (RateLimitError, 429),
    (StoreError, 503),
    (MailError, 503),
    (ConfigError, 500),
    (Twin3dError, 500),
]


SERVER_FAULTS: list[tuple[type[Twin3dError], str, str]] = [
    (StoreError, "the twin's data store cannot be read right now", "try again in a minute"),
    (MailError, "the confirmation e-mail could not be sent right now", "try again in a few minutes"),
    (ConfigError, "the server is not set up correctly for this request", "please tell the administration"),
    (Twin3dError, "the server could not answer this request", "please tell the administration"),
]
"""What a client reads of a server fault: (class, error, hint), the first matching class; details go to the log."""

log = logging.getLogger("twin3d.server")
# A path of two or more parts: absolute (POSIX, Windows drive, home) or not; see _server_path for which are cut.
_PATH = re.compile(r"(?:[A-Za-z]:|~)?(?:[\\/][^\s\\/\"'<>|:;,(){}]+){2,}[\\/]?")
_PID = re.compile(r"\s*\(?\bPID\s*[:#=]?\s*\d+\)?", re.IGNORECASE)


@cache
def _top_folders() -> frozenset[str]:
    try:
        return frozenset(entry.name for entry in Path("/").iterdir())
    except OSError:  # pragma: no cover
        return frozenset()


def _server_path(path: str) -> bool:
    """Whether ``path`` names a file of this machine rather than a URL path: a Windows or home path, or one whose
    first folder exists at the file system's root (``/srv/...``; ``/api/...`` does not)."""
    if path[0] != "/":
        return True
    return path.split("/")[1] in _top_folders()


def public_text(text: str) -> str:
    """``text`` as a client may read it: paths of the server's files cut to their last part, process ids left out.

    Example:
        >>> public_text('cannot open "/tmp/twin3d/lauf.duckdb" (PID 4711)')
        'cannot open "lauf.duckdb"'
    """

    def cut(found: re.Match[str]) -> str:
        path = found.group(0)
        return re.split(r"[\\/]", path.rstrip("\\/"))[-1] if _server_path(path) else path

    return _PID.sub("", _PATH.sub(cut, text))


def status_for(exc: Twin3dError) -> int:
    """The HTTP status for an error: the first matching class in :data:`STATUS_OF`."""
    return next(code for cls, code in STATUS_OF if isinstance(exc, cls))


def error_response(exc: Twin3dError) -> JSONResponse:
    """The JSON answer ``{"error", "hint"[, "record"][, "reason"][, "message"]}`` for an error, with the headers its
    status needs.

    ``error`` and ``hint`` are English, for developers and logs; ``message`` (``{"de": ..., "en": ...}``) is what a
    citizen reads, in the page's language, where the refusal is one a citizen can meet (rate limits, workshop codes);
    ``reason`` is a stable key of such a refusal.
    """
    status = status_for(exc)
    body: dict[str, object]
    if status >= 500:
        if isinstance(exc, StoreError):  # a known state (a twin that cannot be read): one line, not a traceback
            log.warning("answered %d: %s", status, exc.one_line())
        else:
            log.error("answered %d: %s", status, exc.one_line(), exc_info=exc)
        error, hint = next((error, hint) for cls, error, hint in SERVER_FAULTS if isinstance(exc, cls))
        body = {"error": error, "hint": hint}
    else:
        body = {"error": public_text(exc.message), "hint": public_text(exc.hint) if exc.hint else exc.hint}
        if exc.record is not None:
            body["record"] = public_text(exc.record) if isinstance(exc.record, str) else exc.record
    if exc.reason is not None:
        body["reason"] = exc.reason
    if exc.localized is not None:
        body["message"] = exc.localized
    headers = {}
    if isinstance(exc, RateLimitError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    elif isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float as text: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`Twin3dError` with :func:`error_response`, and invalid requests with FastAPI's 422."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Twin3dError)
        return error_response(exc)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own answer, except that it echoes the input: a NaN sent for a number would make it a 500.
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)

    app.add_exception_handler(Twin3dError, handle)
    app.add_exception_handler(RequestValidationError, invalid)
