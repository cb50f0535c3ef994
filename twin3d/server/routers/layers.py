"""``/api/twins/{twin}/layers``: the catalogue of loaded layers, their raster tiles and 3D tilesets, and uploads.

A layer above the caller's role (:func:`twin3d.server.access.request_role`) is answered exactly like one that does
not exist: 404, never 403, so a council layer's id does not leak to the public. Vector layers are drawn from the
vector tiles of the features router (collection ``layer_<id>``); this router gives their URL only.

Uploads (admins, see :data:`twin3d.server.access.MATRIX`) are limited in size while the body streams in (413),
copied into a private temporary folder under a cleaned file name, and loaded all or nothing by
:func:`twin3d.layers.load.load_layer`; a file that cannot be loaded is a 422 naming the file and record, and leaves
the catalogue as it was.

Layers from web services (:mod:`twin3d.layers.services`) are registered by admins (``POST .../layers/services``,
a 422 naming the field when the service, layer, style or format does not fit). A WMS/WMTS layer's tiles and legend
come through this router, asked for and cached by the server, so the page stays on the twin's origin: 204 outside
the layer's bounds, 502 with a plain sentence when the service fails or answers no image.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path as FsPath
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from twin3d.errors import InputError, NotFoundError, Twin3dError
from twin3d.layers.catalogue import get_layer, layer_file, list_layers, remove_layer
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.field_summary import summarise_fields
from twin3d.layers.formats import MIB
from twin3d.layers.load import load_layer
from twin3d.layers.model import LAYER_ID_PATTERN, LayerEntry, LayerStyle, ServiceKind, Visibility, visible_to
from twin3d.layers.raster_tiles import empty_tile, native_zoom, render_tile
from twin3d.layers.report import LoadReport
from twin3d.layers.service_http import ServiceError, shown_url
from twin3d.layers.service_tiles import Tile, TileCache, service_legend, service_tile
from twin3d.layers.services import ServiceRequest, refresh_service, register_service
from twin3d.pipeline.config import load_pipeline
from twin3d.server.access import request_role
from twin3d.server.conditional import content_etag, not_modified
from twin3d.server.deps import Twin
from twin3d.server.state import TwinHandle
from twin3d.settings import LayerSettings, PathSettings, ServiceSettings

LayerId = Annotated[str, Path(pattern=LAYER_ID_PATTERN)]
# Plain names and folders only (no "..", no leading "/"), ending in the suffixes 3D Tiles clients pick parsers by.
TILESET_PATH = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*\.(?:json|glb|pnts|b3dm)$"
TILESET_MEDIA = {
    ".json": "application/json",
    ".glb": "model/gltf-binary",
    ".pnts": "application/octet-stream",
    ".b3dm": "application/octet-stream",
}
PNG = "image/png"
RASTER_KINDS = ("raster", "terrain")
THREED_KINDS = ("tiles3d", "pointcloud")
FORM_SLACK = MIB  # room for the form fields and multipart headers beside the file
UPSTREAM_FAILED = {
    "error": "the map service of this layer did not answer with an image",
    "hint": "try again later; if it persists, tell the administration",
}
log = logging.getLogger("twin3d.server")


class ServiceOut(BaseModel):
    """Where a layer read from a web service comes from (never the URL's credentials or query)."""

    kind: ServiceKind
    host: str = Field(description="host and path of the service")
    layer: str
    fetched_at: str


class LayerOut(BaseModel):
    """A catalogue entry as clients see it (:func:`describe`); optional keys only where they apply."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    description: str
    kind: str
    format: str
    geometry_type: str | None
    origin: str
    source: str
    licence: str
    attribution: str
    extent: list[float]
    feature_count: int
    visibility: Visibility
    style: dict[str, Any]
    legend: list[dict[str, Any]]
    fields: dict[str, str]
    updated_at: str
    url: str
    collection: str | None = None
    mvt: str | None = None
    tiles: str | None = None
    maxzoom: int | None = None
    tileset: str | None = None
    service: ServiceOut | None = None
    legend_image: str | None = Field(default=None, description="the service's legend, through this server")


class CategoryOut(BaseModel):
    """One value of a categorical field and how many features have it."""

    value: str
    count: int


class FieldSummaryOut(BaseModel):
    """What one attribute holds over the whole layer (:func:`twin3d.layers.field_summary.summarise_fields`)."""

    kind: Literal["numeric", "categorical"]
    count: int = Field(description="features with a value")
    distinct: int = Field(description="distinct values")
    min: float | None = None
    max: float | None = None
    breaks: list[float] | None = Field(default=None, description="numeric: quantile class breaks (5 classes)")
    class_counts: list[int] | None = Field(default=None, description="numeric: features per class")
    categories: list[CategoryOut] | None = Field(default=None, description="categorical: the most frequent values")
    other_count: int | None = Field(default=None, description="categorical: features with a value not listed")


class LayerSummaryOut(BaseModel):
    """A vector layer's attributes summarised, for styling and filtering by one of them."""

    id: str
    feature_count: int
    fields: dict[str, FieldSummaryOut]


class LoadedLayerOut(LayerOut):
    """A layer just loaded or registered: its entry, the load's counts and notes, and the one-line report."""

    stats: dict[str, Any]
    notes: list[str]
    report: str


class ServiceLayerIn(BaseModel):
    """A layer from a web service to register (see :class:`twin3d.layers.services.ServiceRequest`)."""

    model_config = ConfigDict(extra="forbid")

    kind: ServiceKind
    url: str = Field(min_length=10, max_length=2000, description="the service's http(s) URL")
    layer: str = Field(min_length=1, max_length=200, description="layer, feature type or collection")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    id: str | None = Field(default=None, pattern=LAYER_ID_PATTERN)
    visibility: Visibility = "public"
    style: str = Field(default="", max_length=200)
    format: str | None = Field(default=None, max_length=100)
    time: str | None = Field(default=None, max_length=100)
    version: Literal["1.3.0", "1.1.1"] | None = None
    description: str = Field(default="", max_length=2000)
    licence: str = Field(default="", max_length=200)
    attribution: str = Field(default="", max_length=500)
    opacity: float | None = Field(default=None, ge=0, le=1, description="map layers: how opaque they start")
    replace: bool = False


def mvt_collection(layer_id: str) -> str:
    """The id of a vector layer's collection in the features router (OGC API Features and vector tiles)."""
    return "layer_" + layer_id.replace("-", "_")


def describe(entry: LayerEntry) -> dict[str, Any]:
    """A catalogue entry as the viewer and GIS clients see it: metadata, style, legend and the URLs to draw it.

    Leaves out what only the server needs (file names, hashes, the stored CRS's internals).
    """
    base = f"/api/twins/{entry.twin}/layers/{entry.id}"
    out: dict[str, Any] = {
        "id": entry.id,
        "title": entry.title,
        "description": entry.description,
        "kind": entry.kind,
        "format": entry.format,
        "geometry_type": entry.geometry_type,
        "origin": entry.origin,
        "source": entry.source,
        "licence": entry.licence,
        "attribution": entry.attribution,
        "extent": list(entry.extent),
        "feature_count": entry.feature_count,
        "visibility": entry.visibility,
        "style": entry.style.model_dump(mode="json"),
        "legend": [item.model_dump(mode="json") for item in entry.legend],
        "fields": entry.fields,
        "updated_at": entry.updated_at.isoformat(),
        "url": base,
    }
    if entry.kind == "vector":
        collection = mvt_collection(entry.id)
        out["collection"] = collection
        out["mvt"] = f"/api/twins/{entry.twin}/mvt/{collection}/{{z}}/{{x}}/{{y}}.pbf"
    elif entry.kind in RASTER_KINDS:
        out["tiles"] = f"{base}/tiles/{{z}}/{{x}}/{{y}}.png"
        if entry.raster is not None and entry.crs == "EPSG:3857":
            out["maxzoom"] = native_zoom(entry.raster.resolution[0])
    elif entry.kind in THREED_KINDS and "tileset" in entry.files:
        out["tileset"] = f"{base}/tileset/{PurePosixPath(entry.files['tileset']).name}"
    source = entry.service
    if source is not None:
        fetched = source.fetched_at.isoformat()
        out["service"] = {
            "kind": source.kind,
            "host": shown_url(source.url),
            "layer": source.layer,
            "fetched_at": fetched,
        }
        if entry.kind == "service":
            out["tiles"] = f"{base}/tiles/{{z}}/{{x}}/{{y}}.png"
            if source.tile_matrices:
                out["maxzoom"] = max(source.tile_matrices)
        if source.legend_url:
            out["legend_image"] = f"{base}/legend"
    return out


def visible_layer(paths: PathSettings, twin: str, layer_id: str, role: str) -> LayerEntry:
    """The entry of a layer ``role`` may see; NotFoundError, worded alike, for an unknown and a hidden one."""
    try:
        entry = get_layer(paths, twin, layer_id)
    except NotFoundError:
        entry = None
    if entry is None or not visible_to(entry.visibility, role):
        raise NotFoundError(f"twin {twin!r} has no layer {layer_id!r}", hint=f"GET /api/twins/{twin}/layers lists them")
    return entry


def twin_info_of(paths: PathSettings, handle: TwinHandle) -> TwinInfo:
    """The twin as the loader needs it, from its pipeline definition and the metadata of the open store.

    The loader's own :func:`~twin3d.layers.context.twin_info` would open the store a second time, which DuckDB
    refuses inside a process that holds it open already.
    """
    cfg = load_pipeline(paths.pipeline_file(handle.name))
    bbox = handle.meta.get("bbox_wgs84")
    return TwinInfo(
        handle.name,
        cfg.twin_crs(),
        float(handle.meta.get("geoid_undulation", cfg.twin.geoid_undulation)),
        (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])) if bbox and len(bbox) == 4 else None,
        cfg.base_dir,
    )


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name, cleaned: no folders, only safe characters, its suffixes kept."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip("._")[-120:]
    if not name or "." not in name:
        raise InputError(
            f"the uploaded file needs a name with its suffix, got {filename!r}",
            record="file",
            hint="upload e.g. baeume.geojson, plan.gpkg, laerm.tif or gebaeude.zip",
        )
    return name


def _as_upload_error(exc: Twin3dError, folder: FsPath, name: str) -> Twin3dError:
    """The loader's error, naming the uploaded file (never the server's temporary folder); 422 unless not found."""
    shown = str(exc.file or name).replace(f"{folder}/", "")
    message = exc.message.replace(f"{folder}/", "")
    cls = type(exc) if isinstance(exc, InputError) else InputError
    return cls(f"{shown}: {message}", file=shown, record=exc.record, hint=exc.hint)


def load_upload(
    paths: PathSettings, limits: LayerSettings, twin: TwinHandle, file: UploadFile, options: LoadOptions
) -> tuple[LayerEntry, LoadReport]:
    """Copy an uploaded file into a private temporary folder under its cleaned name and load it; the folder
    goes after."""
    name = upload_name(file.filename)
    info = twin_info_of(paths, twin)
    with tempfile.TemporaryDirectory(prefix="twin3d-upload-") as tmp:
        folder = FsPath(tmp)
        source = folder / name
        with source.open("wb") as out:
            shutil.copyfileobj(file.file, out, MIB)
        try:
            return load_layer(paths, twin.name, source, options, limits, info=info)
        except Twin3dError as exc:
            raise _as_upload_error(exc, folder, name) from exc


def _upstream_failed(entry: LayerEntry, exc: ServiceError) -> JSONResponse:
    """A plain 502 for the caller (no URL, host, path or upstream text); what happened goes to the log."""
    log.warning("layer %s/%s: %s", entry.twin, entry.id, exc.one_line())
    return JSONResponse(UPSTREAM_FAILED, status_code=502, headers={"Cache-Control": "no-store"})


def _image_response(request: Request, tile: Tile, cache_control: str) -> Response:
    headers = {"ETag": tile.etag, "Cache-Control": cache_control}
    return not_modified(request, headers) or Response(tile.body, media_type=tile.media_type, headers=headers)


def _summary_route(r: APIRouter, paths: PathSettings) -> None:
    """The route summarising a vector layer's attributes (the viewer's "Stil & Filter")."""
    summaries: dict[tuple[str, str, str], dict[str, Any]] = {}  # by twin, layer and version: a layer never changes

    @r.get(
        "/{layer_id}/summary",
        summary="A vector layer's attributes over all its features: ranges and quantile classes, or categories",
        response_model=LayerSummaryOut,
        response_model_exclude_none=True,
    )
    def summary(twin: Twin, request: Request, layer_id: LayerId) -> dict[str, Any]:
        entry = visible_layer(paths, twin.name, layer_id, request_role(request))
        if entry.kind != "vector" or "features" not in entry.files:
            raise NotFoundError(f"layer {layer_id!r} ({entry.kind}) has no attributes to summarise")
        key = (twin.name, entry.id, f"{entry.updated_at.isoformat()} {entry.source_sha256}")
        found = summaries.get(key)
        if found is None:
            fields = summarise_fields(twin.cursor(), layer_file(paths, entry, "features"), entry.fields)
            found = {"id": entry.id, "feature_count": entry.feature_count, "fields": fields}
            if len(summaries) >= 64:
                summaries.pop(next(iter(summaries)))
            summaries[key] = found
        return found


def _service_routes(
    r: APIRouter,
    paths: PathSettings,
    limits: LayerSettings,
    *,
    services: ServiceSettings,
    tile_cache: TileCache,
    cache_control: Callable[[LayerEntry], str],
) -> None:
    """The routes of layers from web services: a map layer's legend, registering a layer, refreshing one (a map
    layer's tiles come through the raster tile route)."""

    @r.get(
        "/{layer_id}/legend",
        summary="The legend image of a layer from a map service, through this server",
        response_class=Response,
        responses={200: {"content": {PNG: {}}}, 502: {"description": "the service failed"}},
    )
    def legend(twin: Twin, request: Request, layer_id: LayerId) -> Response:
        entry = visible_layer(paths, twin.name, layer_id, request_role(request))
        try:
            image = service_legend(paths, entry, settings=services, cache=tile_cache)
        except ServiceError as exc:
            return _upstream_failed(entry, exc)
        if image is None:
            raise NotFoundError(f"layer {layer_id!r} has no legend image", hint="its legend is in the catalogue entry")
        return _image_response(request, image, cache_control(entry))

    def loaded(entry: LayerEntry, report: LoadReport, response: Response) -> LoadedLayerOut:
        body = {**describe(entry), "stats": entry.stats.model_dump(mode="json"), "notes": report.notes}
        response.headers["Location"] = body["url"]
        return LoadedLayerOut.model_validate({**body, "report": report.one_line()})

    @r.post(
        "/services",
        status_code=201,
        summary="Add a layer from a web service (admins): WMS/WMTS as map tiles, WFS/OGC API Features imported",
        response_model=LoadedLayerOut,
        response_model_exclude_unset=True,
    )
    def add_service(twin: Twin, body: ServiceLayerIn, response: Response) -> LoadedLayerOut:
        request = ServiceRequest(body.kind, body.url, body.layer, body.style, body.format, body.time, body.version)
        style = LayerStyle(opacity=body.opacity) if body.opacity is not None else None
        options = LoadOptions(
            title=body.title, layer_id=body.id, description=body.description, visibility=body.visibility,
            licence=body.licence, attribution=body.attribution, style=style, replace=body.replace, origin="service",
        )  # fmt: skip
        info = twin_info_of(paths, twin)
        entry, report = register_service(paths, info, request, options, settings=services, limits=limits)
        return loaded(entry, report, response)

    @r.post(
        "/{layer_id}/refresh",
        summary="Ask a service layer's service again (admins): new capabilities, or the features imported anew",
        response_model=LoadedLayerOut,
        response_model_exclude_unset=True,
    )
    def refresh(twin: Twin, layer_id: LayerId, response: Response) -> LoadedLayerOut:
        info = twin_info_of(paths, twin)
        entry, report = refresh_service(paths, info, layer_id, settings=services, limits=limits)
        return loaded(entry, report, response)


def router(
    paths: PathSettings, limits: LayerSettings, cache_seconds: int, services: ServiceSettings | None = None
) -> APIRouter:
    """Routes of the layer catalogue.

    Args:
        paths: where the layers are (``paths.layers_dir``) and the pipeline definitions.
        limits: size limits of uploads and loads.
        cache_seconds: ``max-age`` of tiles and tileset files (0: always revalidate by ETag).
        services: limits of requests to web services; default from ``TWIN3D_SERVICE_*``.
    """
    r = APIRouter(prefix="/api/twins/{twin}/layers", tags=["layers"])
    services = services or ServiceSettings()
    tile_cache = TileCache(services)  # per app: counts what it wrote, to trim each layer's cache in time

    def cache_control(entry: LayerEntry) -> str:
        # Tiles of a restricted layer must not sit in a shared cache, where a public caller could get them.
        scope = "public" if entry.visibility == "public" else "private"
        return f"{scope}, max-age={cache_seconds}, must-revalidate"

    @r.get("", summary="The twin's layers the caller may see, with style, legend and URLs to draw them")
    def catalogue(twin: Twin, request: Request) -> JSONResponse:
        entries = list_layers(paths, twin.name, role=request_role(request))
        headers = {"Cache-Control": "private, no-cache", "Vary": "Authorization"}
        return JSONResponse([describe(e) for e in entries], headers=headers)

    @r.get("/{layer_id}", summary="One layer")
    def one(twin: Twin, request: Request, layer_id: LayerId) -> JSONResponse:
        entry = visible_layer(paths, twin.name, layer_id, request_role(request))
        return JSONResponse(describe(entry), headers={"Cache-Control": "private, no-cache", "Vary": "Authorization"})

    @r.get(
        "/{layer_id}/tiles/{z}/{x}/{y}.png",
        summary="A PNG map tile (XYZ, Web Mercator) of a raster layer; transparent outside its data",
        response_class=Response,
        responses={200: {"content": {PNG: {}}}},
    )
    def raster_tile(
        *,
        twin: Twin,
        request: Request,
        layer_id: LayerId,
        z: Annotated[int, Path(ge=0, le=24)],
        x: Annotated[int, Path(ge=0)],
        y: Annotated[int, Path(ge=0)],
    ) -> Response:
        if x >= 2**z or y >= 2**z:
            raise InputError(f"no tile {z}/{x}/{y}", record="x/y", hint=f"x and y lie in 0..{2**z - 1} at zoom {z}")
        entry = visible_layer(paths, twin.name, layer_id, request_role(request))
        if entry.kind == "service":
            try:
                tile = service_tile(paths, entry, z, x, y, settings=services, cache=tile_cache)
            except ServiceError as exc:
                return _upstream_failed(entry, exc)
            if tile is None:
                return Response(status_code=204, headers={"Cache-Control": cache_control(entry)})
            return _image_response(request, tile, cache_control(entry))
        if entry.kind not in RASTER_KINDS:
            raise NotFoundError(f"layer {layer_id!r} is a {entry.kind} layer, not a raster")
        file = layer_file(paths, entry, "raster")
        stat = file.stat()
        look = (entry.style.model_dump_json(), json.dumps([i.model_dump(mode="json") for i in entry.legend]))
        etag = content_etag(
            repr((stat.st_size, stat.st_mtime_ns, entry.updated_at.isoformat(), look, z, x, y)).encode()
        )
        headers = {"ETag": etag, "Cache-Control": cache_control(entry)}
        # Rendered only when the client does not hold the tile already.
        return not_modified(request, headers) or Response(
            render_tile(file, entry, z, x, y) or empty_tile(), media_type=PNG, headers=headers
        )

    @r.get(
        "/{layer_id}/tileset/{tile_path:path}",
        summary="A file of a 3D layer's tileset (tileset.json, .glb, .pnts)",
        response_class=FileResponse,
    )
    def tileset_file(
        twin: Twin,
        request: Request,
        layer_id: LayerId,
        tile_path: Annotated[str, Path(pattern=TILESET_PATH, max_length=256)],
    ) -> Response:
        entry = visible_layer(paths, twin.name, layer_id, request_role(request))
        if entry.kind not in THREED_KINDS:
            raise NotFoundError(f"layer {layer_id!r} is a {entry.kind} layer, it has no tileset")
        root = layer_file(paths, entry, "tileset").parent.resolve()
        target = (root / tile_path).resolve()  # follows links: one that points out of the folder is refused
        if not target.is_relative_to(root) or not target.is_file():
            raise NotFoundError("no such tileset file", hint="tile URLs come from the layer's tileset.json")
        stat = target.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        headers = {"ETag": etag, "Cache-Control": cache_control(entry)}
        media_type = TILESET_MEDIA[target.suffix]
        return not_modified(request, headers) or FileResponse(target, media_type=media_type, headers=headers)

    @r.post(
        "",
        status_code=201,
        summary="Upload a file as a new layer (admins): GeoJSON, GeoPackage, zipped Shapefile, CSV, GeoTIFF, ...",
        max_body_size=int(limits.max_file_mb * MIB) + FORM_SLACK,
    )
    def upload(
        *,
        twin: Twin,
        file: Annotated[UploadFile, File(description="the data file, or a zip of it")],
        title: Annotated[str, Form(min_length=1, max_length=200)],
        visibility: Annotated[Literal["public", "council", "admin"], Form()] = "public",
        layer_id: Annotated[str | None, Form(alias="id", pattern=LAYER_ID_PATTERN)] = None,
        description: Annotated[str, Form(max_length=2000)] = "",
        licence: Annotated[str, Form(max_length=200)] = "",
        attribution: Annotated[str, Form(max_length=500)] = "",
        crs: Annotated[str | None, Form(max_length=100)] = None,
        encoding: Annotated[str | None, Form(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")] = None,
        source_layer: Annotated[str | None, Form(max_length=200)] = None,
        role: Annotated[Literal["overlay", "terrain"], Form()] = "overlay",
        replace: Annotated[bool, Form()] = False,
    ) -> JSONResponse:
        options = LoadOptions(
            title=title,
            layer_id=layer_id,
            description=description,
            visibility=visibility,
            licence=licence,
            attribution=attribution,
            crs=crs or None,
            encoding=encoding or None,
            source_layer=source_layer or None,
            role=role,
            replace=replace,
            origin="upload",
        )
        entry, report = load_upload(paths, limits, twin, file, options)
        body = {**describe(entry), "stats": entry.stats.model_dump(mode="json"), "notes": report.notes}
        body["report"] = report.one_line()
        return JSONResponse(body, status_code=201, headers={"Location": describe(entry)["url"]})

    _summary_route(r, paths)
    _service_routes(r, paths, limits, services=services, tile_cache=tile_cache, cache_control=cache_control)

    @r.delete("/{layer_id}", status_code=204, summary="Remove a layer and its files (admins)")
    def delete(twin: Twin, layer_id: LayerId) -> Response:
        remove_layer(paths, twin.name, layer_id)
        return Response(status_code=204)

    return r
