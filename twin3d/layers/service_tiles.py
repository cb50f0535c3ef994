"""Tiles and legends of map layers from web services (WMS, WMTS), asked for when the viewer shows them and kept
in a bounded disk cache under the layer's folder, so the page only ever talks to the twin's own server.

A tile is asked for as the Web Mercator box of XYZ tile ``z/x/y`` at 256 x 256 pixels (WMS ``GetMap``) or as the
tile of the matching Web Mercator tile matrix (WMTS KVP ``GetTile``). Anything but an image (an XML exception, an
HTML error page) is a :class:`~twin3d.layers.service_http.ServiceError`; the server answers it with a plain 502.

Example:
    >>> tile = service_tile(paths, entry, 15, 17_407, 11_260, settings=ServiceSettings(), cache=cache)  # doctest: +SKIP
    >>> tile.media_type  # doctest: +SKIP
    'image/png'
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from twin3d.layers.catalogue import layer_dir
from twin3d.layers.model import ENTRY_FILE, LayerEntry, ServiceSource
from twin3d.layers.raster_tiles import TILE_SIZE, tile_bounds
from twin3d.layers.service_http import KIB, ServiceError, Upstream, fetch, image_type, service_url
from twin3d.settings import PathSettings, ServiceSettings

CACHE_DIR = "cache"
LEGEND_KEY = "legend"
MAP_KINDS = ("wms", "wmts")


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two boxes ``(west, south, east, north)`` share an area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass(frozen=True)
class Tile:
    """An image from a service: its bytes, media type and an ETag of its content."""

    body: bytes
    media_type: str
    etag: str


def _tile(body: bytes, media_type: str) -> Tile:
    return Tile(body, media_type, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class TileCache:
    """Tiles and legends of map layers as files under each layer's folder (``cache/<z>/<x>/<y>.tile``).

    A file older than ``TWIN3D_SERVICE_CACHE_MAX_AGE_S`` is asked for again (and served stale only if the service
    then fails). Every time a tenth of ``TWIN3D_SERVICE_CACHE_MB`` has been written to a layer's cache, it is
    trimmed, oldest files first, to 80 % of that bound. The cache lives and goes with the layer's folder: a refresh
    or removal of the layer starts it afresh.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.max_bytes = int(settings.cache_mb * KIB * KIB)
        self.max_age = settings.cache_max_age_s
        self._written: dict[Path, int] = {}
        self._lock = threading.Lock()

    def get(self, folder: Path, key: str, *, stale: bool = False) -> Tile | None:
        """The cached image of ``key``, if there is one young enough (any age with ``stale``)."""
        path = folder / f"{key}.tile"
        try:
            if not stale and time.time() - path.stat().st_mtime > self.max_age:
                return None
            body = path.read_bytes()
        except OSError:
            return None
        media = image_type(body)
        return _tile(body, media) if media is not None else None

    def put(self, folder: Path, key: str, body: bytes, media_type: str) -> Tile:
        """Keep an image (written under a temporary name and renamed: readers never see half a file)."""
        tile = _tile(body, media_type)
        if self.max_bytes <= 0 or self.max_age <= 0 or not (folder.parent / ENTRY_FILE).is_file():
            return tile  # caching off, or the layer went meanwhile: its folder must not come back
        path = folder / f"{key}.tile"
        try:
            folder.mkdir(exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            spare = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
            spare.write_bytes(body)
            spare.replace(path)
        except OSError:
            return tile
        with self._lock:
            written = self._written.get(folder, 0) + len(body)
            due = written > self.max_bytes // 10
            self._written[folder] = 0 if due else written
        if due:
            self.trim(folder)
        return tile

    def trim(self, folder: Path) -> int:
        """Remove the oldest files until the cache holds at most 80 % of its bound; the bytes it holds then."""
        files = []
        for path in folder.rglob("*.tile"):
            try:
                stat = path.stat()
            except OSError:
                continue
            files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        if total <= self.max_bytes:
            return total
        for _, size, path in sorted(files):
            if total <= 0.8 * self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size
        return total


def tile_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The lon/lat box ``(west, south, east, north)`` of XYZ tile ``z/x/y``."""
    n = 2.0**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def _tile_params(source: ServiceSource, z: int, x: int, y: int) -> dict[str, str]:
    if source.kind == "wmts":
        params = {
            "SERVICE": "WMTS", "REQUEST": "GetTile", "VERSION": source.version or "1.0.0", "LAYER": source.layer,
            "STYLE": source.style or "default", "FORMAT": source.format, "TILEMATRIXSET": source.tile_matrix_set or "",
            "TILEMATRIX": source.tile_matrices[z], "TILEROW": str(y), "TILECOL": str(x),
        }  # fmt: skip
    else:
        left, bottom, right, top = tile_bounds(z, x, y)
        v13 = (source.version or "1.3.0").startswith("1.3")
        params = {
            "SERVICE": "WMS", "VERSION": source.version or "1.3.0", "REQUEST": "GetMap", "LAYERS": source.layer,
            "STYLES": source.style, "CRS" if v13 else "SRS": source.crs or "EPSG:3857",
            "BBOX": f"{left:.4f},{bottom:.4f},{right:.4f},{top:.4f}", "WIDTH": str(TILE_SIZE),
            "HEIGHT": str(TILE_SIZE), "FORMAT": source.format, "TRANSPARENT": "TRUE",
        }  # fmt: skip
    if source.time:
        params["TIME"] = source.time
    return params


def _image(upstream: Upstream, params: dict[str, str] | None, settings: ServiceSettings, url: str | None) -> Tile:
    """An image from the service; ServiceError for anything that is not one (an XML exception, an HTML page)."""
    answer = fetch(upstream, params, settings, max_bytes=int(settings.max_tile_kb * KIB), url=url, accept="image/*")
    media = image_type(answer.body)
    if media is None:
        raise ServiceError(
            f"the service at {upstream.host} answered {answer.media_type or 'something'} instead of an image",
            record="url",
        )
    return _tile(answer.body, media)


def _cached(
    paths: PathSettings, entry: LayerEntry, key: str, ask: dict[str, str] | None, *, settings: ServiceSettings,
    cache: TileCache, url: str | None = None,
) -> Tile:  # fmt: skip
    folder = layer_dir(paths, entry.twin, entry.id) / CACHE_DIR
    fresh = cache.get(folder, key)
    if fresh is not None:
        return fresh
    assert entry.service is not None
    try:
        tile = _image(service_url(entry.service.url, settings), ask, settings, url)
    except ServiceError:
        stale = cache.get(folder, key, stale=True)
        if stale is not None:
            return stale
        raise
    return cache.put(folder, key, tile.body, tile.media_type)


def service_tile(
    paths: PathSettings, entry: LayerEntry, z: int, x: int, y: int, *, settings: ServiceSettings, cache: TileCache
) -> Tile | None:
    """Tile ``z/x/y`` of a map layer: from the cache, else from the service (then cached); None where the tile
    lies outside the layer's bounds or zooms.

    Raises:
        ServiceError: the service failed or answered no image, and no earlier copy is cached.
    """
    source = entry.service
    if source is None or source.kind not in MAP_KINDS:
        raise ServiceError(f"layer {entry.id!r} is not a map service layer", record="layer")
    if not overlaps(tile_lonlat(z, x, y), entry.extent):
        return None
    if source.kind == "wmts" and z not in source.tile_matrices:
        return None
    return _cached(paths, entry, f"{z}/{x}/{y}", _tile_params(source, z, x, y), settings=settings, cache=cache)


def service_legend(
    paths: PathSettings, entry: LayerEntry, *, settings: ServiceSettings, cache: TileCache
) -> Tile | None:
    """The legend image of a map layer (cached like its tiles); None if the service names none.

    Raises:
        ServiceError: the service failed or answered no image, and no earlier copy is cached.
    """
    if entry.service is None or not entry.service.legend_url:
        return None
    return _cached(paths, entry, LEGEND_KEY, None, settings=settings, cache=cache, url=entry.service.legend_url)
