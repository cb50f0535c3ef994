"""``/tiles/{twin}/...``: the tileset and its content files, with ETags; no path leaves the twin's folder."""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from twin3d.errors import NotFoundError
from twin3d.server.deps import Twin

# Only plain names and folders, ending in the suffixes deck.gl and CesiumJS pick their parser by.
TILE_PATH = r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.(?:json|glb)$"
MEDIA_TYPES = {".json": "application/json", ".glb": "model/gltf-binary"}


def _resolve(root: FsPath, relative: str) -> FsPath:
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise NotFoundError("no such tile", hint="tile URLs come from the tileset.json of the twin")
    return target


def router(cache_seconds: int) -> APIRouter:
    """Routes for tiles; ``cache_seconds`` is the ``max-age`` (0: always revalidate by ETag)."""
    r = APIRouter(prefix="/tiles", tags=["tiles"])
    cache_control = f"public, max-age={cache_seconds}, must-revalidate"

    @r.get("/{twin}/{tile_path:path}", summary="A tileset.json or a .glb tile", response_class=FileResponse)
    def tile(
        twin: Twin, request: Request, tile_path: Annotated[str, Path(pattern=TILE_PATH, max_length=256)]
    ) -> Response:
        file = _resolve(twin.tiles_dir, tile_path)
        stat = file.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        headers = {"ETag": etag, "Cache-Control": cache_control}
        if etag in re.split(r"\s*,\s*", request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return FileResponse(file, media_type=MEDIA_TYPES[file.suffix], headers=headers)

    return r
