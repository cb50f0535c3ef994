"""``/tiles/{twin}/...``: the tilesets and content files of a twin's builds, with nginx's ETags.

- ``/tiles/<twin>/<build_id>/<path>``: a file of that build. A build folder never changes once it is in place, so
  the answer may be kept for a year (``immutable``); the viewer gets these URLs from ``/api/twins``.
- ``/tiles/<twin>/<path>``: the file of the build being served (old bookmarks and clients), revalidated by ETag.
- A basemap vector tile (``basemap/<z>/<x>/<y>.pbf``) that the build left out because it holds no feature is answered
  204 No Content within the basemap's zooms and bounds (an empty tile to MapLibre; see :func:`basemap_gap`).

Tilesets reference their content by relative URIs, so a whole tileset loads through either. A twin built before
build ids has only the second kind. Paths are plain names and folders (no dot segments), and the first lookup of a
file checks that it resolves inside its build folder; later requests for it touch neither the disk nor ``resolve``.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import FileResponse

from twin3d.errors import NotFoundError
from twin3d.pipeline.staging import BUILD_ID
from twin3d.server.conditional import nginx_etag, not_modified
from twin3d.server.state import TwinHandle, Twins

# Only plain names and folders, ending in the suffixes deck.gl and CesiumJS pick their parser by (and the basemap's
# vector tiles: twin3d.pipeline.basemap).
TILE_PATH = r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.(?:json|glb|pbf)$"
TWIN_PATH = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MEDIA_TYPES = {".json": "application/json", ".glb": "model/gltf-binary", ".pbf": "application/vnd.mapbox-vector-tile"}
# The end of a vector tile's path: ``<z>/<x>/<y>.pbf``.
XYZ_TILE = re.compile(r"(?P<z>[0-9]{1,2})/(?P<x>[0-9]{1,7})/(?P<y>[0-9]{1,7})\.pbf$")
IMMUTABLE = "public, max-age=31536000, immutable"
READ_FROM_ANYWHERE = {"Access-Control-Allow-Origin": "*"}
"""CORS of the twin's tiles: a page of another origin may read them (a notebook's pydeck map, a file, a GIS web
client). They are public to every role, and the server never takes cookies (bearer tokens only), so a foreign page
learns nothing a plain HTTP client could not read; no credentials are allowed, so no preflight is ever needed."""
SMALL_FILE = 512 * 1024  # answered from one read; larger files stream
MAX_KNOWN = 20_000  # looked-up files kept per process (a few MB)


@dataclass(frozen=True, slots=True)
class TileFile:
    """A tile file as looked up once: where it is, its ETag and its type."""

    path: str
    stat: os.stat_result
    etag: str
    media_type: str


def _tile_row(lat: float, n: int) -> int:
    rad = math.radians(max(-85.0511, min(85.0511, lat)))
    return min(n - 1, max(0, math.floor((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)))


def _tile_column(lon: float, n: int) -> int:
    return min(n - 1, max(0, math.floor((lon + 180.0) / 360.0 * n)))


def basemap_gap(handle: TwinHandle, tile_path: str) -> tuple[bool, bool]:
    """Whether a tile URL that names no file is a tile of the served build's basemap where the map has no feature,
    and whether the URL is versioned.

    A build writes only the basemap tiles that hold a feature (``twin3d.pipeline.basemap``), so a request for one of
    the others within the basemap's zoom levels and bounds is answered 204 No Content. MapLibre GL JS 5 draws that as
    an empty tile: its fetch resolves with an empty buffer, which parses as a tile without layers. (It would take a
    404 as an empty tile too, since its vector source passes over a 404, but the browser logs every 4xx answer as a
    console error.) Any other missing file stays a 404, as does a basemap tile of a build other than the one served.
    """
    build, _, rest = tile_path.partition("/")
    versioned = bool(rest) and BUILD_ID.match(build) is not None
    if not versioned:
        rest = tile_path
    elif build != handle.build_id:
        return False, versioned
    meta = handle.meta.get("basemap")
    found = XYZ_TILE.search(rest)
    if found is None or not isinstance(meta, dict):
        return False, versioned
    z, x, y = int(found["z"]), int(found["x"]), int(found["y"])
    # The basemap's own template says where its tiles are (relative to the build folder, like the tileset).
    template = str(meta.get("tiles", ""))
    named = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    if rest != named or not meta["minzoom"] <= z <= meta["maxzoom"]:
        return False, versioned
    west, south, east, north = (float(v) for v in meta["bounds"])
    n = 2**z
    inside = _tile_column(west, n) <= x <= _tile_column(east, n) and _tile_row(north, n) <= y <= _tile_row(south, n)
    return inside, versioned


def _look_up(root: FsPath, relative: str) -> TileFile:
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise NotFoundError("no such tile", hint="tile URLs come from the tileset.json of the twin")
    st = target.stat()
    return TileFile(str(target), st, nginx_etag(st), MEDIA_TYPES[target.suffix])


class TileFiles:
    """Files of build folders, looked up once each: a build folder never changes (a pruned one is forgotten when
    a read finds its file gone)."""

    def __init__(self, max_known: int = MAX_KNOWN) -> None:
        self.max_known = max_known
        self._known: dict[tuple[str, str, str], TileFile] = {}

    def find(self, twins: Twins, handle: TwinHandle, tile_path: str) -> tuple[TileFile, bool]:
        """The file a tile URL names and whether it is a versioned URL (an immutable answer)."""
        build, _, rest = tile_path.partition("/")
        versioned = bool(rest) and BUILD_ID.match(build) is not None
        if not versioned:
            build, rest = handle.build_id or "", tile_path
        key = (handle.name, build, rest)
        found = self._known.get(key)
        if found is not None:
            return found, versioned
        if not build:  # a twin built before build ids: its folder is replaced as a whole, so look each time
            return _look_up(handle.tiles_dir, rest), versioned
        found = _look_up(twins.tiles_root / handle.name / build, rest)
        if len(self._known) >= self.max_known:
            self._known.pop(next(iter(self._known)))
        self._known[key] = found
        return found, versioned

    def forget(self, found: TileFile) -> None:
        """Drop every entry of a file that has gone (its build folder was pruned)."""
        for key in [k for k, v in self._known.items() if v.path == found.path]:
            del self._known[key]


def router(cache_seconds: int) -> APIRouter:
    """Routes for tiles; ``cache_seconds`` is the ``max-age`` of unversioned URLs (0: always revalidate by ETag)."""
    r = APIRouter(prefix="/tiles", tags=["tiles"])
    revalidate = f"public, max-age={cache_seconds}, must-revalidate"
    files = TileFiles()

    # Async and without the store handle: a known file is answered without a worker thread or a disk lookup.
    @r.get(
        "/{twin}/{tile_path:path}",
        summary="A tileset.json, a .glb tile or a basemap vector tile (.pbf; 204 where the map has no feature)",
        response_class=FileResponse,
    )
    async def tile(
        request: Request,
        twin: Annotated[str, Path(pattern=TWIN_PATH)],
        tile_path: Annotated[str, Path(pattern=TILE_PATH, max_length=256)],
    ) -> Response:
        twins: Twins = request.app.state.twins
        handle = twins.lookup(twin)
        try:
            found, versioned = files.find(twins, handle, tile_path)
        except NotFoundError:
            gap, versioned = basemap_gap(handle, tile_path)
            if not gap:
                raise
            cache = {"Cache-Control": IMMUTABLE if versioned else revalidate}
            return Response(status_code=204, headers=cache | READ_FROM_ANYWHERE)
        headers = {"ETag": found.etag, "Cache-Control": IMMUTABLE if versioned else revalidate, **READ_FROM_ANYWHERE}
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        try:
            if found.stat.st_size > SMALL_FILE:
                st = os.stat(found.path)  # noqa: PTH116  (FileResponse would fail mid-answer on a pruned file)
                return FileResponse(found.path, stat_result=st, media_type=found.media_type, headers=headers)
            with open(found.path, "rb") as fh:  # noqa: PTH123  (a str path: no Path object per request)
                content = fh.read()
        except FileNotFoundError:
            files.forget(found)
            raise NotFoundError("no such tile", hint="its build has been replaced; load the tileset again") from None
        return Response(content, media_type=found.media_type, headers=headers)

    return r
