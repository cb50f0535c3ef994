"""The one table that maps twin3d errors to HTTP status codes."""

from __future__ import annotations

import math
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
    (ConfigError, 500),
    (Twin3dError, 500),
]


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
    body: dict[str, object] = {"error": exc.message, "hint": exc.hint}
    if exc.record is not None:
        body["record"] = exc.record
    if exc.reason is not None:
        body["reason"] = exc.reason
    if exc.localized is not None:
        body["message"] = exc.localized
    headers = {}
    if isinstance(exc, RateLimitError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    elif isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


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
