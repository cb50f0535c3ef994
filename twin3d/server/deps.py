"""Shared request dependencies: resolve and validate the twin named in the path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request

from twin3d.server.state import TwinHandle, Twins


async def get_twin(
    request: Request, twin: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
) -> AsyncIterator[TwinHandle]:
    """The served twin named ``twin``: 404 if there is none, 503 if its store cannot be served.

    The request holds the handle until its response has been sent (a streamed body included), so a reload never
    closes a store under a request. Async: a dict lookup needs no worker thread.
    """
    twins: Twins = request.app.state.twins
    handle = twins.acquire(twin)
    try:
        yield handle
    finally:
        handle.release()


Twin = Annotated[TwinHandle, Depends(get_twin)]
