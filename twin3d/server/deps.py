"""Shared request dependencies: resolve and validate the twin named in the path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from twin3d.errors import NotFoundError
from twin3d.server.state import TwinHandle


async def get_twin(request: Request, twin: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]) -> TwinHandle:
    """The served twin named ``twin``; 404 if there is none (async: a dict lookup needs no worker thread)."""
    twins: dict[str, TwinHandle] = request.app.state.twins
    handle = twins.get(twin)
    if handle is None:
        raise NotFoundError(f"no twin named {twin!r}", hint=f"served twins: {', '.join(sorted(twins)) or 'none'}")
    return handle


Twin = Annotated[TwinHandle, Depends(get_twin)]
