"""OGC API - Features (Part 1: Core, GeoJSON) and Mapbox Vector Tiles of every collection a twin offers.

``/api/twins/{twin}/features`` is the landing page a GIS client is given (QGIS: "WFS / OGC API - Features";
GDAL: ``OAPIF:<url>``). Items are GeoJSON in CRS84, paged by ``limit``/``offset`` with ``next``/``prev`` links,
filtered by ``bbox`` and by ``<property>=<value>``; with ``f=arrow`` the same page is an Arrow IPC stream with WKB
geometry (what ``twin3d.client`` reads: a GeoDataFrame without parsing JSON). The same collections are served as
vector tiles under ``/api/twins/{twin}/mvt/{collection}/{z}/{x}/{y}.pbf`` (with a TileJSON at
``.../{collection}/tilejson.json``);
a tile holds at most ``TWIN3D_VECTOR_TILE_MAX_FEATURES`` features, the largest, and says so in ``X-Tile-Thinned``.
A collection above the caller's role is answered as if it did not exist.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import duckdb
import numpy as np
import pyarrow as pa
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import QueryParams

from twin3d.errors import ConfigError, InputError, NotFoundError
from twin3d.layers.catalogue import layer_file, layers_root, list_layers
from twin3d.layers.tiles import vector_collection
from twin3d.participation.export import PROPOSAL_FIELDS, PUBLIC_FIELDS, public_rows
from twin3d.participation.store import PROPOSALS
from twin3d.server.access import at_least, request_role
from twin3d.server.arrow_ipc import ARROW_STREAM, ipc_bytes
from twin3d.server.cache import ByteCache
from twin3d.server.conditional import content_etag, not_modified
from twin3d.server.deps import Twin
from twin3d.server.state import TwinHandle
from twin3d.settings import PathSettings
from twin3d.simulation.facility_types import FACILITY_TYPES, facilities_from_store, load_facility_types
from twin3d.store import features
from twin3d.store.features import MAX_TILE_FEATURES, Collection, Cursor, ItemsQuery, VectorTile
from twin3d.store.live import LiveStores

GEOJSON = "application/geo+json"
MVT = "application/vnd.mapbox-vector-tile"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
MAX_LIMIT = 10_000
THINNED_HEADER = "X-Tile-Thinned"
log = logging.getLogger("twin3d.server")
# Query parameters of the items request that are not property filters.
RESERVED = {"bbox", "limit", "offset", "f", "bbox-crs", "crs", "datetime"}
CollectionId = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,80}$")]
Providers = list[Callable[[TwinHandle], list[Collection]]]


def role_of(request: Request) -> str:
    """The caller's role as the access layer set it."""
    return request_role(request)


class FeatureCatalog:
    """The collections of each twin (its own tables plus what the providers add), and caches of the answers of its
    build store: vector tiles and item pages (never those of live collections, which change while serving).

    Args:
        providers: what adds collections to a twin's own (loaded layers, citizens' places).
        cache_bytes: the most bytes each of the two caches holds.
        max_tile_features: the most features one vector tile holds (:func:`twin3d.store.features.vector_tile`).
        facility_types: the scenario type of each facility of a store (:func:`facility_types_of`), read once per
            build; None: the facilities have no ``facility_type``.
    """

    def __init__(
        self,
        providers: Providers | None = None,
        cache_bytes: int = 64 * 2**20,
        max_tile_features: int = MAX_TILE_FEATURES,
        facility_types: Callable[[Cursor], pa.Table | None] | None = None,
    ) -> None:
        self.providers = providers or []
        self.max_tile_features = max_tile_features
        self.facility_types = facility_types
        self._own: dict[tuple[Any, ...], list[Collection]] = {}  # by build (TwinHandle.build_key)
        self._types: dict[tuple[Any, ...], dict[str, str]] = {}
        self._tiles: ByteCache[VectorTile] = ByteCache(max_bytes=cache_bytes)
        self._pages: ByteCache[tuple[str | bytes, int, int]] = ByteCache(max_bytes=cache_bytes)
        self._lock = threading.Lock()

    def collections(self, twin: TwinHandle, role: str) -> dict[str, Collection]:
        """The collections ``role`` may see, by id."""
        with self._lock:
            own = self._own.get(twin.build_key)
            if own is None:
                self._own = {k: v for k, v in self._own.items() if k[0] != twin.name}  # an older build's
                cur = twin.cursor()
                typed = self.facility_types(cur) if self.facility_types and twin.counts.get("facilities") else None
                own = self._own[twin.build_key] = features.twin_collections(cur, twin.meta, twin.counts, typed)
        extra = [c for provide in self.providers for c in provide(twin)]
        return {c.id: c for c in [*own, *extra] if at_least(role, c.visibility)}

    def get(self, twin: TwinHandle, role: str, collection_id: str) -> Collection:
        """One visible collection; NotFoundError otherwise (also for one the role may not see)."""
        found = self.collections(twin, role).get(collection_id)
        if found is None:
            raise NotFoundError(f"no collection {collection_id!r}", hint="GET .../features/collections lists them")
        return found

    def page(self, twin: TwinHandle, collection: Collection, query: ItemsQuery) -> tuple[str, int, int]:
        """A page of items as GeoJSON features, how many it holds and how many match; a build's pages are kept
        (they never change), live collections' never."""
        found = self._page(twin, collection, query, "json")
        assert isinstance(found[0], str)
        return found[0], found[1], found[2]

    def arrow_page(self, twin: TwinHandle, collection: Collection, query: ItemsQuery) -> tuple[bytes, int, int]:
        """The same page as an Arrow IPC stream (:func:`twin3d.store.features.items_arrow`), kept alike."""
        found = self._page(twin, collection, query, "arrow")
        assert isinstance(found[0], bytes)
        return found[0], found[1], found[2]

    def _page(
        self, twin: TwinHandle, collection: Collection, query: ItemsQuery, fmt: str
    ) -> tuple[str | bytes, int, int]:
        key = (*twin.build_key, collection, query, fmt)
        found = None if collection.live else self._pages.get(key)
        if found is None:
            body: str | bytes
            if fmt == "arrow":
                table = features.items_arrow(twin.cursor(), collection, query)
                body, returned = ipc_bytes(table), table.num_rows
            else:
                body, returned = features.items(twin.cursor(), collection, query)
            found = (body, returned, features.count(twin.cursor(), collection, query))
            if not collection.live:
                self._pages.put(key, found, len(body))
        return found

    def ready_tile(self, twin: TwinHandle, collection: Collection, z: int, x: int, y: int) -> VectorTile | None:
        """A tile that needs no query: cut when its layer was loaded, or in the cache; None otherwise."""
        if collection.seeded is not None and collection.seeded[1] <= z <= collection.seeded[2]:
            # Cut when the layer was loaded: a tile without a file holds no feature.
            path = features.tile_file(FilePath(collection.seeded[0]), z, x, y)
            data = path.read_bytes() if path.is_file() else b""
            return VectorTile(data, 0, 0)  # counts unknown; seeded tiles are not thinned
        if collection.live:
            return None
        return self._tiles.get((*twin.build_key, collection, z, x, y))

    def tile(self, twin: TwinHandle, collection: Collection, z: int, x: int, y: int) -> VectorTile:
        """A vector tile, from the cache when the same store served it before (live collections: never)."""
        ready = self.ready_tile(twin, collection, z, x, y)
        if ready is not None:
            return ready
        cap = self.max_tile_features
        if collection.live:
            return features.vector_tile(twin.cursor(), collection, z, x, y, max_features=cap)
        cur = twin.cursor()
        types = self._types.get((*twin.build_key, collection))
        if types is None:
            types = self._types[(*twin.build_key, collection)] = features.column_types(cur, collection)
        tile = features.vector_tile(cur, collection, z, x, y, max_features=cap, types=types)
        self._tiles.put((*twin.build_key, collection, z, x, y), tile, len(tile.data))
        return tile


def facility_types_of(pipelines_dir: FilePath) -> Callable[[Cursor], pa.Table | None]:
    """The scenario type of each listed facility of a store (``facility_id``, ``facility_type``), as the
    simulation maps them (``pipelines_dir/facility_types.toml``); facilities of no type have none. A table that
    cannot be read leaves the facilities without the column (and says so in the log), as the search does."""

    def typed(cur: Cursor) -> pa.Table | None:
        try:
            config = load_facility_types(pipelines_dir / "facility_types.toml")
            found, _ = facilities_from_store(cur, config)
        except (ConfigError, duckdb.Error) as exc:  # no table, or a store older than the columns it reads
            log.warning("facilities: no facility_type column: %s", exc)
            return None
        ids = np.asarray(found.ids, dtype=str)
        listed = ~np.char.startswith(ids, "building:")  # buildings serving as facilities are no feature here
        names = np.asarray(FACILITY_TYPES, dtype=object)[found.type[listed]]
        return pa.table({"facility_id": pa.array(ids[listed]), "facility_type": pa.array(names, pa.string())})

    return typed


def layer_collections(paths: PathSettings) -> Callable[[TwinHandle], list[Collection]]:
    """A provider of the twin's loaded vector layers (``twin3d layers add``) as collections ``layer_<id>``.

    The catalogue is read again only when the twin's layers folder changed: adding, replacing or removing a layer
    renames a folder in it, which changes its modification time.
    """
    cache: dict[str, tuple[int, list[Collection]]] = {}

    def read(twin: str) -> list[Collection]:
        out = []
        for entry in list_layers(paths, twin):
            if entry.kind != "vector" or "features" not in entry.files:
                continue
            seeded = layer_file(paths, entry, "tiles") if "tiles" in entry.files else None
            out.append(
                vector_collection(
                    entry.id,
                    layer_file(paths, entry, "features"),
                    entry.fields,
                    title=entry.title,
                    description=entry.description or f"{entry.title} ({entry.source}, {entry.feature_count} features)",
                    visibility=entry.visibility,
                    attribution=entry.attribution,
                    licence=entry.licence,
                    version=f"{entry.updated_at.isoformat()} {entry.source_sha256}",
                    seeded=seeded,
                )
            )
        return out

    def provide(twin: TwinHandle) -> list[Collection]:
        folder = layers_root(paths, twin.name)
        try:
            stamp = folder.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        known = cache.get(twin.name)
        if known is None or known[0] != stamp:
            known = cache[twin.name] = (stamp, read(twin.name))
        return known[1]

    return provide


def places_collection(live: LiveStores) -> Callable[[TwinHandle], list[Collection]]:
    """A provider of the citizens' places and proposals as the collections ``places`` and ``proposals``: public
    fields of visible and answered rows only (never participant or address hashes, self-descriptions or internal
    remarks); a proposal's geometry is its area where it has one."""

    def provide(twin: TwinHandle) -> list[Collection]:
        def register(cur: Cursor) -> None:
            cur.register("places_public", public_rows(live.get(twin.name, create=False)))

        def register_proposals(cur: Cursor) -> None:
            cur.register("proposals_public", public_rows(live.get(twin.name, create=False), family=PROPOSALS))

        fields = tuple(name for name in PUBLIC_FIELDS if name not in ("lon", "lat"))
        return [
            Collection(
                id="places",
                title="Places of citizens",
                description="Places citizens marked as happy or improvable, with the official answer where given.",
                relation="places_public",
                id_column="place_id",
                geometry="ST_Point(lon, lat)",
                properties=fields,
                register=register,
                live=True,
            ),
            Collection(
                id="proposals",
                title="Proposals of citizens",
                description="Citizens' proposals with their stage, votes, the residents who gain in their simulation "
                "and the official answer where given.",
                relation="proposals_public",
                id_column="proposal_id",
                geometry="coalesce(ST_GeomFromGeoJSON(area), ST_Point(lon, lat))",
                properties=tuple(name for name in PROPOSAL_FIELDS if name not in ("lon", "lat", "area")),
                register=register_proposals,
                live=True,
            ),
        ]

    return provide


def _base(request: Request, twin: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/twins/{twin}/features"


def _collection_doc(base: str, c: Collection, bbox: list[float] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/collections/{c.id}"},
            {"rel": "items", "type": GEOJSON, "title": c.title, "href": f"{base}/collections/{c.id}/items"},
            {
                "rel": "items",
                "type": ARROW_STREAM,
                "title": f"{c.title} (Arrow, WKB geometry)",
                "href": f"{base}/collections/{c.id}/items?f=arrow",
            },
        ],
    }
    if bbox:
        doc["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    if c.attribution or c.licence:
        doc["attribution"] = c.attribution
        doc["license"] = c.licence or None
    return doc


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError("bbox: four numbers expected", record="bbox", hint="bbox=west,south,east,north") from None
    if len(values) != 4:
        raise InputError("bbox: four numbers expected", record="bbox", hint="bbox=west,south,east,north")
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InputError("bbox: outside CRS84 or south above north", record="bbox", hint="degrees, lon then lat")
    return west, south, east, north


def router(catalog: FeatureCatalog) -> APIRouter:
    """OGC API - Features and vector tile routes."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["ogc api features"])

    @r.get("/features", summary="OGC API - Features landing page")
    def landing(twin: Twin, request: Request) -> dict[str, Any]:
        base = _base(request, twin.name)
        return {
            "title": f"{twin.meta.get('title', twin.name)} (twin3d)",
            "description": twin.meta.get("description", ""),
            "links": [
                {"rel": "self", "type": "application/json", "href": base},
                {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0",
                 "href": f"{str(request.base_url).rstrip('/')}/openapi.json"},
                {"rel": "conformance", "type": "application/json", "href": f"{base}/conformance"},
                {"rel": "data", "type": "application/json", "href": f"{base}/collections"},
            ],
        }  # fmt: skip

    @r.get("/features/conformance", summary="The conformance classes this server implements")
    def conformance(twin: Twin) -> dict[str, Any]:
        del twin
        return {"conformsTo": CONFORMANCE}

    @r.get("/features/collections", summary="The twin's feature collections")
    def collections(twin: Twin, request: Request) -> dict[str, Any]:
        base = _base(request, twin.name)
        visible = catalog.collections(twin, role_of(request)).values()
        docs = [_collection_doc(base, c, features.extent(twin.cursor(), c)) for c in visible]
        return {
            "links": [{"rel": "self", "type": "application/json", "href": f"{base}/collections"}],
            "collections": docs,
        }

    @r.get("/features/collections/{collection_id}", summary="One collection")
    def collection(twin: Twin, request: Request, collection_id: CollectionId) -> dict[str, Any]:
        c = catalog.get(twin, role_of(request), collection_id)
        return _collection_doc(_base(request, twin.name), c, features.extent(twin.cursor(), c))

    @r.get(
        "/features/collections/{collection_id}/items",
        summary="Features of a collection, paged (GeoJSON, or an Arrow stream with f=arrow)",
        responses={200: {"content": {GEOJSON: {}, ARROW_STREAM: {}}}},
    )
    def items(
        *,
        twin: Twin,
        request: Request,
        collection_id: CollectionId,
        bbox: Annotated[str | None, Query(max_length=200, description="west,south,east,north in CRS84")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        f: Annotated[
            Literal["json", "arrow"],
            Query(
                description="json: GeoJSON; arrow: an Arrow IPC stream, geometry as WKB in lon/lat (GeoArrow), "
                "the counts in OGC-NumberMatched/-Returned and the next page in a Link header"
            ),
        ] = "json",
    ) -> Response:
        c = catalog.get(twin, role_of(request), collection_id)
        filters = []
        for name, value in request.query_params.items():
            if name in RESERVED:
                continue
            if name not in c.properties:
                raise InputError(
                    f"{name}: not a property of {c.id}", record=name, hint=f"properties: {', '.join(c.properties)}"
                )
            filters.append((name, value[:200]))
        query = ItemsQuery(_parse_bbox(bbox), tuple(filters), limit, offset)
        here = f"{_base(request, twin.name)}/collections/{c.id}/items"
        params = [(k, v) for k, v in request.query_params.items() if k not in ("offset", "limit")]

        def link(rel: str, at: int, media_type: str = GEOJSON) -> dict[str, str]:
            # Encoded: a filter value may hold "&", "#" or spaces (a category such as "amenity=kindergarten").
            query_text = str(QueryParams([*params, ("limit", str(limit)), ("offset", str(at))]))
            return {"rel": rel, "type": media_type, "href": f"{here}?{query_text}"}

        if f == "arrow":
            data, returned, matched = catalog.arrow_page(twin, c, query)
            headers = {"OGC-NumberMatched": str(matched), "OGC-NumberReturned": str(returned)}
            if offset + returned < matched:
                headers["Link"] = f'<{link("next", offset + limit, ARROW_STREAM)["href"]}>; rel="next"'
            return Response(data, media_type=ARROW_STREAM, headers=headers)
        text, returned, matched = catalog.page(twin, c, query)
        links = [link("self", offset)]
        if offset + returned < matched:
            links.append(link("next", offset + limit))
        if offset > 0:
            links.append(link("prev", max(0, offset - limit)))
        head = {
            "type": "FeatureCollection",
            "numberMatched": matched,
            "numberReturned": returned,
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": links,
        }
        body = json.dumps(head, ensure_ascii=False)[:-1] + f', "features": {text}}}'
        return Response(body, media_type=GEOJSON)

    @r.get("/features/collections/{collection_id}/items/{feature_id:path}", summary="One feature (GeoJSON)")
    def one(
        twin: Twin, request: Request, collection_id: CollectionId, feature_id: Annotated[str, Path(max_length=200)]
    ) -> Response:
        c = catalog.get(twin, role_of(request), collection_id)
        text = features.item(twin.cursor(), c, feature_id)
        if text is None:
            raise NotFoundError(f"no feature {feature_id!r} in {c.id}")
        return Response(text, media_type=GEOJSON)

    return r


def vector_tiles_router(catalog: FeatureCatalog) -> APIRouter:
    """Mapbox Vector Tiles (and their TileJSON) of the same collections."""
    r = APIRouter(prefix="/api/twins/{twin}", tags=["vector tiles"])

    @r.get("/mvt/{collection_id}/tilejson.json", summary="TileJSON of a collection's vector tiles")
    def tilejson(twin: Twin, request: Request, collection_id: CollectionId) -> JSONResponse:
        c = catalog.get(twin, role_of(request), collection_id)
        root = f"{str(request.base_url).rstrip('/')}/api/twins/{twin.name}/mvt/{c.id}"
        bounds = features.extent(twin.cursor(), c) or [-180.0, -85.0, 180.0, 85.0]
        return JSONResponse({
            "tilejson": "3.0.0", "name": c.title, "description": c.description, "attribution": c.attribution,
            "tiles": [f"{root}/{{z}}/{{x}}/{{y}}.pbf"], "minzoom": 0, "maxzoom": 22, "bounds": bounds,
            "vector_layers": [{"id": c.id, "fields": dict.fromkeys(c.properties, "")}],
        })  # fmt: skip

    @r.get("/mvt/{collection_id}/{z}/{x}/{y}.pbf", summary="A Mapbox Vector Tile of a collection")
    async def tile(
        *,
        twin: Twin,
        request: Request,
        collection_id: CollectionId,
        z: Annotated[int, Path(ge=0, le=24)],
        x: Annotated[int, Path(ge=0)],
        y: Annotated[int, Path(ge=0)],
    ) -> Response:
        if x >= 2**z or y >= 2**z:
            raise InputError(f"no tile {z}/{x}/{y}", record="x/y", hint=f"x and y lie in 0..{2**z - 1} at zoom {z}")
        c = catalog.get(twin, role_of(request), collection_id)
        # A file or a cached tile is served on the event loop; cutting one in DuckDB goes to a worker thread.
        found = catalog.ready_tile(twin, c, z, x, y)
        if found is None:
            found = await run_in_threadpool(catalog.tile, twin, c, z, x, y)
        data = found.data
        headers = {"ETag": content_etag(data), "Cache-Control": "no-cache"}
        if found.thinned:
            # Said in the answer, so a client can tell a thinned tile from a sparse one: zoom in for the rest.
            headers[THINNED_HEADER] = f"{found.kept} of {found.meeting} features, the largest; zoom in for all"
        return not_modified(request, headers) or Response(data, media_type=MVT, headers=headers)

    return r
