"""The one table that maps twin3d errors to HTTP status codes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from twin3d.errors import ConfigError, InputError, NotFoundError, StoreError, Twin3dError

STATUS_OF: list[tuple[type[Twin3dError], int]] = [
    (NotFoundError, 404),
    (InputError, 422),
    (StoreError, 503),
    (ConfigError, 500),
    (Twin3dError, 500),
]


def status_for(exc: Twin3dError) -> int:
    """The HTTP status for an error: the first matching class in :data:`STATUS_OF`."""
    return next(code for cls, code in STATUS_OF if isinstance(exc, cls))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`Twin3dError` as JSON ``{"error", "hint"}`` with its status code."""

    async def handle(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Twin3dError)
        body = {"error": exc.message, "hint": exc.hint}
        return JSONResponse(body, status_code=status_for(exc))

    app.add_exception_handler(Twin3dError, handle)
