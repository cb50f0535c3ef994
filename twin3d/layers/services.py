"""Layers from web services: WMS and WMTS map layers shown through the twin's own origin, and WFS and OGC API
Features layers imported as vector layers.

A map layer (kind ``service``) keeps no data of its own. Registering it reads the service's capabilities once,
checks that the layer exists and is offered in Web Mercator (WMS: ``EPSG:3857``; WMTS: a tile matrix set on the
Web Mercator grid with 256 px tiles, asked for by KVP ``GetTile``) and keeps its title, abstract, attribution,
bounds and legend URL in the catalogue. Its tiles are asked for when the viewer shows them (:func:`service_tile`),
for the tile's Web Mercator box at 256 x 256 pixels, and kept in a bounded disk cache under the layer's folder
(:class:`TileCache`); the viewer only ever talks to the twin's server.

A feature layer is fetched (WFS 2.0 ``GetFeature`` as GeoJSON where the service offers it in the twin's CRS, else
GML read by GDAL; OGC API Features ``/collections/{id}/items`` page by page along the ``next`` links), limited to
the twin's surroundings, written to a file and loaded by :func:`twin3d.layers.load.load_layer` exactly as an
uploaded file is. The entry keeps the service URL and the fetch time; :func:`refresh_service` fetches it again.

Only the registered URL is ever asked (:mod:`twin3d.layers.service_http`).

Example:
    >>> request = ServiceRequest("wms", "https://example.org/wms", "laerm_lden")  # doctest: +SKIP
    >>> entry, report = register_service(paths, info, request, LoadOptions(title="Lärm"))  # doctest: +SKIP
    >>> entry.kind, entry.service.crs  # doctest: +SKIP
    ('service', 'EPSG:3857')
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import quote

from pyproj import CRS, Transformer

from twin3d.errors import Twin3dError
from twin3d.layers.catalogue import StagedLayer, check_layer_id, get_layer, slugify, write_entry
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.load import load_layer
from twin3d.layers.model import LayerEntry, LayerStyle, ServiceKind, ServiceSource
from twin3d.layers.report import LoadReport
from twin3d.layers.service_caps import (
    Capabilities,
    ServiceLayer,
    epsg_code,
    parse_capabilities,
    raise_for_exception,
    web_mercator_code,
)
from twin3d.layers.service_http import ServiceError, Upstream, fetch, same_host_url, service_url
from twin3d.layers.service_tiles import overlaps
from twin3d.settings import LayerSettings, PathSettings, ServiceSettings

FEATURE_KINDS = ("wfs", "oapif")
MARGIN_KM = 1.0
"""Features are asked for in the built twin's extent plus this margin (the twin's region before it is built)."""
_TEXT = re.compile(r"^[\w .:/,+;=@-]*$")  # style, format and time values sent to the service
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class ServiceRequest:
    """What an administrator registers.

    Attributes:
        kind: ``wms``, ``wmts``, ``wfs`` or ``oapif``.
        url: the service's URL (WMS/WMTS/WFS endpoint, or the OGC API landing page).
        layer: layer name (WMS), layer identifier (WMTS), feature type (WFS) or collection id (OGC API).
        style: the style (default: the layer's default).
        format: image format (default ``image/png``), or the WFS output format (default: GeoJSON, else GML).
        time: a WMS/WMTS ``TIME`` value, if the layer has a time dimension.
        version: WMS ``1.3.0`` (default) or ``1.1.1``; a server that only knows 1.1.1 answers with it anyway.
    """

    kind: ServiceKind
    url: str
    layer: str
    style: str = ""
    format: str | None = None
    time: str | None = None
    version: str | None = None

    @classmethod
    def of(cls, source: ServiceSource) -> ServiceRequest:
        """The request that registered a layer, to ask again."""
        return cls(source.kind, source.url, source.layer, source.style, source.format or None, source.time,
                   source.version)  # fmt: skip


def _check_text(value: str | None, name: str) -> None:
    if value is not None and (len(value) > 200 or not _TEXT.match(value)):
        raise ServiceError(
            f"the {name} {value[:40]!r} has characters a service parameter does not take",
            record=name,
            hint="use the value exactly as the service's capabilities list it",
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _search_box(twin: TwinInfo, limits: LayerSettings) -> tuple[float, float, float, float]:
    """The lon/lat box features are asked for in: the built twin plus :data:`MARGIN_KM`, else its region."""
    if twin.bbox_wgs84 is None:
        return twin.region(limits.max_distance_km)
    return twin.region(MARGIN_KM)


def _check_near(bbox: tuple[float, float, float, float], twin: TwinInfo, limits: LayerSettings, name: str) -> None:
    region = twin.region(limits.max_distance_km)
    if not overlaps(bbox, region):
        w, s, e, n = bbox
        raise ServiceError(
            f"the layer {name!r} lies outside {twin.describe_region(limits.max_distance_km)}: "
            f"lon {w:.3f}..{e:.3f}, lat {s:.3f}..{n:.3f}",
            record="layer",
            hint="choose a layer that covers the twin",
        )


def _capabilities(upstream: Upstream, kind: str, settings: ServiceSettings, version: str) -> tuple[Capabilities, bytes]:
    params = {"SERVICE": kind.upper(), "REQUEST": "GetCapabilities", "VERSION": version}
    body = fetch(upstream, params, settings, accept="application/xml, text/xml").body
    return parse_capabilities(kind, body, upstream.shown), body


def _find(caps: Capabilities, name: str, shown: str) -> ServiceLayer:
    layer = caps.find(name)
    if layer is None:
        raise ServiceError(
            f"the {caps.kind.upper()} at {shown} has no layer {name!r}",
            record="layer",
            hint=f"it offers: {caps.listed()}",
        )
    return layer


def _pick_format(wanted: str | None, offered: tuple[str, ...], kind: str) -> str:
    images = [f for f in offered if f.lower().startswith("image/")]
    if wanted:
        if offered and wanted not in offered:
            raise ServiceError(
                f"the {kind.upper()} layer is not offered as {wanted!r}",
                record="format",
                hint=f"it offers: {', '.join(images or offered) or '(none)'}",
            )
        return wanted
    for preferred in ("image/png", "image/png8", "image/png; mode=8bit", "image/jpeg"):
        if preferred in offered or not offered:
            return preferred
    if images:
        return images[0]
    raise ServiceError(f"the {kind.upper()} layer is offered in no image format", record="format")


def _legend_url(upstream: Upstream, href: str | None) -> str | None:
    """A legend on the service's own host; one elsewhere is left out (the server asks no other host)."""
    if not href:
        return None
    try:
        return same_host_url(upstream, href)
    except ServiceError:
        return None


def _map_source(
    request: ServiceRequest, upstream: Upstream, settings: ServiceSettings
) -> tuple[ServiceSource, ServiceLayer, bytes]:
    """Read the capabilities and check the layer: the source to keep, the layer as described, the document."""
    kind, shown = request.kind, upstream.shown
    caps, body = _capabilities(upstream, kind, settings, "1.0.0" if kind == "wmts" else request.version or "1.3.0")
    layer = _find(caps, request.layer, shown)
    if request.style and request.style not in layer.styles:
        raise ServiceError(
            f"the layer {layer.name!r} has no style {request.style!r}",
            record="style",
            hint=f"its styles: {', '.join(layer.styles) or '(only the default: leave the style empty)'}",
        )
    style = request.style or layer.default_style
    legend = _legend_url(upstream, layer.styles.get(style))
    if kind == "wms":
        code = web_mercator_code(layer.crs)
        if code is None:
            raise ServiceError(
                f"the WMS layer {layer.name!r} is not offered in Web Mercator (EPSG:3857); it has "
                f"{', '.join(sorted(layer.crs)) or 'no CRS'}",
                record="layer",
                hint="ask the service's operator for EPSG:3857, or choose another layer or service",
            )
        source = ServiceSource(
            kind="wms", url=request.url, layer=layer.name, version=caps.version, style=request.style,
            format=_pick_format(request.format, caps.formats, kind), time=request.time, crs=code,
            legend_url=legend, fetched_at=_now(),
        )  # fmt: skip
        return source, layer, body
    if not caps.kvp:
        raise ServiceError(
            "the WMTS offers its tiles only as REST URL templates, which twin3d does not read",
            record="url",
            hint="register the same layer from the service's WMS, if it has one",
        )
    usable = [(s, caps.matrix_sets.get(s, {})) for s in layer.matrix_sets if caps.matrix_sets.get(s)]
    if not usable:
        raise ServiceError(
            f"the WMTS layer {layer.name!r} has no tile matrix set on the Web Mercator grid (EPSG:3857, "
            f"GoogleMapsCompatible, 256 px); it has {', '.join(layer.matrix_sets) or 'none'}",
            record="layer",
            hint="choose a layer offered in GoogleMapsCompatible, or register the service's WMS",
        )
    matrix_set, matrices = max(usable, key=lambda pair: len(pair[1]))
    source = ServiceSource(
        kind="wmts", url=request.url, layer=layer.name, version=caps.version, style=style,
        format=_pick_format(request.format, layer.formats, kind), time=request.time, crs="EPSG:3857",
        tile_matrix_set=matrix_set, tile_matrices=matrices, legend_url=legend, fetched_at=_now(),
    )  # fmt: skip
    return source, layer, body


def register_service(
    paths: PathSettings,
    twin: TwinInfo,
    request: ServiceRequest,
    options: LoadOptions,
    *,
    settings: ServiceSettings | None = None,
    limits: LayerSettings | None = None,
) -> tuple[LayerEntry, LoadReport]:
    """Add a layer from a web service to the twin's catalogue (all or nothing, like a file).

    Args:
        paths: where the twin's layers live.
        twin: the twin (its CRS, and its extent, which the layer must reach).
        request: the service, the layer and how to ask for it.
        options: title, id, visibility, licence, attribution, style; ``replace`` to swap out a layer.
        settings: time, size and host limits of requests to services.
        limits: the loader's limits (features, distance from the twin).

    Returns:
        The catalogue entry and a load report (a map layer reads 0 records).

    Raises:
        ServiceError: the URL is not allowed, the service cannot be reached or refuses, the layer is unknown or
            not offered in Web Mercator, a style or format is not offered (the error's ``record`` names the
            field: ``url``, ``layer``, ``style``, ``format``).
        InputError: fetched features that cannot be loaded (as for a file).
        ConfigError: the id is taken (without ``replace``).
    """
    settings, limits = settings or ServiceSettings(), limits or LayerSettings()
    started = perf_counter()
    for value, name in ((request.style, "style"), (request.format, "format"), (request.time, "time")):
        _check_text(value, name)
    if not request.layer.strip() or len(request.layer) > 200:
        raise ServiceError("the layer name is empty or too long", record="layer", hint="give the layer's name")
    upstream = service_url(request.url, settings)
    if request.kind in FEATURE_KINDS:
        return _import_features(paths, twin, request, upstream, options, settings=settings, limits=limits)
    source, layer, body = _map_source(request, upstream, settings)
    bbox = layer.bbox or (-180.0, -85.0511, 180.0, 85.0511)
    _check_near(bbox, twin, limits, layer.name)
    title = options.title or layer.title or layer.name
    layer_id = check_layer_id(options.layer_id or slugify(title))
    entry = LayerEntry(
        id=layer_id,
        twin=twin.name,
        title=title,
        description=options.description or layer.abstract[:2000],
        kind="service",
        format=request.kind,
        source=upstream.shown,
        source_sha256=hashlib.sha256(body).hexdigest(),
        origin="service",
        licence=options.licence,
        attribution=options.attribution or layer.attribution,
        source_crs=source.crs or "EPSG:3857",
        crs="EPSG:3857",
        feature_count=0,
        extent=bbox,
        updated_at=_now(),
        visibility=options.visibility,
        style=options.style or LayerStyle(opacity=0.8),
        legend=list(options.legend or ()),
        service=source,
    )
    with StagedLayer(paths, twin.name, layer_id, replace=options.replace) as staged:
        write_entry(staged.path, entry)
    report = LoadReport(twin.name, layer_id, kind="service", source=f"{request.kind} {upstream.shown}")
    report.seconds = perf_counter() - started
    report.notes.append(f"tiles from {request.kind.upper()} layer {layer.name!r}, asked for when shown")
    if layer.styles.get(request.style or layer.default_style) and source.legend_url is None:
        report.notes.append("the legend lies on another host and is left out")
    return entry, report


def refresh_service(
    paths: PathSettings,
    twin: TwinInfo,
    layer_id: str,
    *,
    settings: ServiceSettings | None = None,
    limits: LayerSettings | None = None,
) -> tuple[LayerEntry, LoadReport]:
    """Ask a service layer's service again: a map layer re-reads the capabilities (its cached tiles go), a feature
    layer is imported anew. Title, visibility, style and the other options stay as they are.

    Raises:
        NotFoundError: no such layer.
        ServiceError: the layer was not read from a service, or the service fails as in :func:`register_service`.
    """
    entry = get_layer(paths, twin.name, layer_id)
    if entry.service is None:
        raise ServiceError(
            f"layer {layer_id!r} was loaded from a file, not read from a service",
            record="layer",
            hint="load the file again with --replace",
        )
    options = LoadOptions(
        title=entry.title, layer_id=entry.id, description=entry.description, visibility=entry.visibility,
        licence=entry.licence, attribution=entry.attribution, style=entry.style, legend=tuple(entry.legend),
        replace=True, origin="service",
    )  # fmt: skip
    return register_service(paths, twin, ServiceRequest.of(entry.service), options, settings=settings, limits=limits)


# --- features (WFS, OGC API Features) ---------------------------------------------------------------------------


def _axis_box(box: tuple[float, float, float, float], crs: CRS) -> str:
    """A box in ``crs`` in that CRS's own axis order (north first for lat/lon and some Gauss-Krüger CRSs)."""
    west, south, east, north = box
    first = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    values = (south, west, north, east) if first in ("north", "south") else box
    return ",".join(f"{v:.8g}" for v in values)


def _wfs_query(
    caps: Capabilities, layer: ServiceLayer, request: ServiceRequest, twin: TwinInfo, box: tuple[float, ...]
) -> tuple[dict[str, str], str, str]:
    """The GetFeature parameters (without the count), the srsName asked for and the output format."""
    twin_code = twin.crs.to_authority()
    twin_epsg = f"EPSG:{twin_code[1]}" if twin_code and twin_code[0] == "EPSG" else None
    offered = layer.formats or caps.formats
    json_format = next((f for f in offered if "json" in f.lower()), None)
    if twin_epsg is not None and twin_epsg in layer.crs:
        srs, crs = f"urn:ogc:def:crs:{twin_epsg.replace(':', '::')}", twin.crs
        fmt = request.format or json_format or ""
    else:  # lon/lat in GML, whose srsName tells GDAL the axis order
        srs, crs = "urn:ogc:def:crs:EPSG::4326", CRS.from_epsg(4326)
        fmt = request.format or next((f for f in offered if "gml" in f.lower() and "3.2" in f), "")
    if request.format and offered and request.format not in offered:
        raise ServiceError(
            f"the feature type is not offered as {request.format!r}", record="format", hint=f"it offers: {offered}"
        )
    to_crs = Transformer.from_crs(4326, crs, always_xy=True)
    w, s, e, n = box if crs.is_geographic else to_crs.transform_bounds(box[0], box[1], box[2], box[3])
    v2 = caps.version.startswith("2")
    params = {
        "SERVICE": "WFS",
        "VERSION": caps.version if v2 or caps.version.startswith("1.1") else "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES" if v2 else "TYPENAME": layer.name,
        "SRSNAME": srs,
        "BBOX": f"{_axis_box((w, s, e, n), crs)},{srs}",
    }
    if fmt:
        params["OUTPUTFORMAT"] = fmt
    return params, srs, fmt


def _gml_to_gpkg(gml: Path, out: Path) -> Path:
    """GML as a GeoPackage the loader reads: GDAL's GML reader, told not to fetch the schema it names."""
    import pyogrio  # noqa: PLC0415  (GDAL only for feature layers)

    try:
        meta, table = pyogrio.read_arrow(gml, DOWNLOAD_SCHEMA="NO", EXPOSE_GML_ID="NO")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ServiceError(f"the service's GML cannot be read: {str(exc)[:200]}", record="url") from None
    geometry = meta.get("geometry_name") or "wkb_geometry"
    pyogrio.write_arrow(
        table, out, layer="features", driver="GPKG", geometry_name=geometry,
        geometry_type=meta.get("geometry_type") or "Unknown", crs=meta.get("crs"),
    )  # fmt: skip
    return out


def _check_count(count: int, settings: ServiceSettings, shown: str) -> None:
    if count > settings.max_features:
        raise ServiceError(
            f"the service at {shown} has more than {settings.max_features:,} features in the twin's area",
            record="layer",
            hint="choose a narrower layer, or raise TWIN3D_SERVICE_MAX_FEATURES",
        )


def _fetch_wfs(
    request: ServiceRequest, upstream: Upstream, twin: TwinInfo, folder: Path, *, settings: ServiceSettings,
    box: tuple[float, float, float, float],
) -> tuple[Path, str | None, ServiceSource, ServiceLayer]:  # fmt: skip
    caps, _ = _capabilities(upstream, "wfs", settings, request.version or "2.0.0")
    layer = _find(caps, request.layer, upstream.shown)
    params, srs, fmt = _wfs_query(caps, layer, request, twin, box)
    params["COUNT" if caps.version.startswith("2") else "MAXFEATURES"] = str(settings.max_features + 1)
    body = fetch(upstream, params, settings).body
    source = ServiceSource(
        kind="wfs", url=request.url, layer=layer.name, version=params["VERSION"], format=fmt, crs=srs,
        fetched_at=_now(),
    )  # fmt: skip
    name = slugify(layer.name.rsplit(":", 1)[-1])
    if body.lstrip()[:1] == b"{":
        path = folder / f"{name}.geojson"
        path.write_bytes(body)
        _check_count(len(json.loads(body).get("features") or []), settings, upstream.shown)
        return path, epsg_code(srs), source, layer
    raise_for_exception(body, upstream.shown)  # a refusal arrives as an XML exception report with status 200
    gml = folder / f"{name}.gml"
    gml.write_bytes(body)
    return _gml_to_gpkg(gml, folder / f"{name}.gpkg"), None, source, layer


def _json(upstream: Upstream, settings: ServiceSettings, url: str, what: str) -> dict[str, Any]:
    answer = fetch(upstream, None, settings, url=url, accept=f"{GEOJSON}, application/json")
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ServiceError(
            f"the OGC API at {upstream.shown} did not answer {what} as JSON",
            record="url",
            hint="give the API's landing page (the URL before /collections)",
        )
    return data


def _fetch_oapif(
    request: ServiceRequest,
    upstream: Upstream,
    folder: Path,
    *,
    settings: ServiceSettings,
    box: tuple[float, float, float, float],
) -> tuple[Path, str | None, ServiceSource, ServiceLayer]:
    base = upstream.base.rstrip("/")
    params = "&".join(f"{quote(k)}={quote(v)}" for k, v in upstream.query)
    own = f"&{params}" if params else ""
    collection_url = f"{base}/collections/{quote(request.layer, safe='')}"
    try:
        collection = _json(upstream, settings, f"{collection_url}?f=json{own}", "the collection")
    except ServiceError as exc:
        if exc.status != 404:
            raise
        listing = _json(upstream, settings, f"{base}/collections?f=json{own}", "its collections")
        ids = [str(c.get("id")) for c in listing.get("collections", []) if isinstance(c, dict)]
        raise ServiceError(
            f"the OGC API at {upstream.shown} has no collection {request.layer!r}",
            record="layer",
            hint=f"it offers: {', '.join(ids[:12]) or '(none)'}",
        ) from None
    bbox = ",".join(f"{v:.7f}" for v in box)
    url: str | None = f"{collection_url}/items?f=json&limit={settings.page_size}&bbox={bbox}{own}"
    features: list[Any] = []
    while url is not None:
        page = _json(upstream, settings, url, "a page of features")
        features += page.get("features") or []
        _check_count(len(features), settings, upstream.shown)
        links = [link for link in page.get("links") or [] if isinstance(link, dict) and link.get("rel") == "next"]
        url = str(links[0]["href"]) if links and page.get("features") else None
    path = folder / f"{slugify(request.layer)}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    source = ServiceSource(kind="oapif", url=request.url, layer=request.layer, format=GEOJSON, fetched_at=_now())
    layer = ServiceLayer(
        name=request.layer, title=str(collection.get("title") or ""),
        abstract=str(collection.get("description") or ""),
    )  # fmt: skip
    return path, "OGC:CRS84", source, layer


def _import_features(
    paths: PathSettings,
    twin: TwinInfo,
    request: ServiceRequest,
    upstream: Upstream,
    options: LoadOptions,
    *,
    settings: ServiceSettings,
    limits: LayerSettings,
) -> tuple[LayerEntry, LoadReport]:
    box = _search_box(twin, limits)
    with tempfile.TemporaryDirectory(prefix="twin3d-service-") as tmp:
        folder = Path(tmp)
        if request.kind == "wfs":
            path, crs, source, layer = _fetch_wfs(request, upstream, twin, folder, settings=settings, box=box)
        else:
            path, crs, source, layer = _fetch_oapif(request, upstream, folder, settings=settings, box=box)
        title = options.title or layer.title or layer.name
        loaded = replace(
            options, title=title, layer_id=options.layer_id or slugify(title), crs=options.crs or crs,
            description=options.description or layer.abstract[:2000], origin="service",
        )  # fmt: skip
        try:
            return load_layer(paths, twin.name, path, loaded, limits, info=twin, service=source)
        except Twin3dError as exc:  # name the service, never the server's temporary folder
            exc.file = f"{request.kind} {upstream.shown} ({layer.name})"
            exc.message = exc.message.replace(f"{folder}/", "")
            raise
