"""The capabilities documents of OGC web services (WMS 1.3.0 and 1.1.1, WMTS 1.0.0, WFS 2.0 and 1.1), read into
the few facts a layer needs: its name, title, abstract and attribution, the CRSs it is offered in, its lon/lat
bounds, its styles with their legend URLs, the formats, and (WMTS) the tile matrices of Web Mercator zooms.

Element names are matched without their namespaces (servers differ in prefixes and versions); what WMS inherits
from a parent layer (CRSs, bounds, styles, attribution) is inherited here too. The document is parsed without
entities, DTDs or network access.

Example:
    >>> caps = parse_capabilities("wms", body, "example.org/wms")  # doctest: +SKIP
    >>> caps.layers["laerm_lden"].crs >= {"EPSG:3857"}  # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from twin3d.io.xml_stream import local_name
from twin3d.layers.raster_tiles import TILE_SIZE, WEB_MERCATOR_HALF
from twin3d.layers.service_http import ServiceError

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
WEB_MERCATOR_CODES = ("EPSG:3857", "EPSG:900913", "EPSG:102100", "EPSG:102113")
"""Codes servers use for Web Mercator, the first preferred."""
SCALE_ZOOM0 = 559_082_264.0287178
"""Scale denominator of zoom 0 of the Web Mercator grid with 256 px tiles (OGC's 0.28 mm pixel)."""
_CORNER_TOLERANCE_M = 10.0
_LISTED = 12  # names listed in a hint
_GEOGRAPHIC_BOX = ("westBoundLongitude", "southBoundLatitude", "eastBoundLongitude", "northBoundLatitude")


@dataclass(frozen=True)
class ServiceLayer:
    """One layer (WMS, WMTS) or feature type (WFS) as its capabilities describe it."""

    name: str
    title: str = ""
    abstract: str = ""
    attribution: str = ""
    crs: frozenset[str] = frozenset()
    bbox: tuple[float, float, float, float] | None = None
    styles: dict[str, str | None] = field(default_factory=dict)
    default_style: str = ""
    formats: tuple[str, ...] = ()
    matrix_sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What a service offers.

    Attributes:
        kind: ``wms``, ``wmts`` or ``wfs``.
        version: the version the service answered with.
        layers: by name (WFS: the qualified name, e.g. ``ms:zellen``).
        formats: WMS GetMap formats; WFS GetFeature output formats (a feature type may list its own).
        matrix_sets: WMTS: tile matrix set id -> Web Mercator zoom -> tile matrix id (only sets on that grid).
        kvp: WMTS: whether GetTile is offered as key-value-pair requests.
    """

    kind: str
    version: str
    layers: dict[str, ServiceLayer]
    formats: tuple[str, ...] = ()
    matrix_sets: dict[str, dict[int, str]] = field(default_factory=dict)
    kvp: bool = True

    def find(self, name: str) -> ServiceLayer | None:
        """The layer ``name``; a WFS feature type also by its name without the namespace prefix."""
        if name in self.layers:
            return self.layers[name]
        plain = [layer for key, layer in self.layers.items() if key.rsplit(":", 1)[-1] == name]
        return plain[0] if len(plain) == 1 else None

    def listed(self) -> str:
        """The first layer names, for a hint."""
        names = sorted(self.layers)
        more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
        return ", ".join(names[:_LISTED]) + more if names else "(none)"


def _children(element: Any, name: str) -> list[Any]:
    return [c for c in element if local_name(c.tag) == name]


def _child(element: Any, name: str) -> Any | None:
    return next((c for c in element if local_name(c.tag) == name), None)


def _text(element: Any, name: str) -> str:
    found = _child(element, name)
    return (found.text or "").strip() if found is not None else ""


def _path(element: Any, *names: str) -> Any | None:
    for name in names:
        if element is None:
            return None
        element = _child(element, name)
    return element


def epsg_code(text: str) -> str | None:
    """``EPSG:3857`` for any spelling of an EPSG CRS (``urn:ogc:def:crs:EPSG::3857``,
    ``http://www.opengis.net/def/crs/EPSG/0/3857``, ``EPSG:3857``); None for another authority."""
    match = re.search(r"EPSG(?::[\d.]*:|/\d+/|:)(\d+)\s*$", text.strip(), re.IGNORECASE)
    return f"EPSG:{match.group(1)}" if match else None


def web_mercator_code(codes: frozenset[str]) -> str | None:
    """The code under which a layer is offered in Web Mercator, or None."""
    return next((code for code in WEB_MERCATOR_CODES if code in codes), None)


def _parse(body: bytes, kind: str, shown: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ServiceError(
            f"the service at {shown} did not answer with a {kind.upper()} capabilities document (not XML: {exc.msg})",
            record="url",
            hint=f"check that the URL is the {kind.upper()} endpoint of the service",
        ) from None
    if root is None:
        raise ServiceError(f"the service at {shown} answered an empty document", record="url")
    name = local_name(root.tag)
    if name in ("ServiceExceptionReport", "ExceptionReport"):
        raise ServiceError(f"the service at {shown} refused: {exception_text(root)}", record="url")
    return root


def exception_text(root: Any) -> str:
    """The code and first line of an OGC exception report, at most 200 characters."""
    for element in root.iter():
        if local_name(element.tag) in ("ServiceException", "Exception"):
            code = element.get("code") or element.get("exceptionCode") or ""
            text = " ".join("".join(element.itertext()).split())
            return (f"{code}: {text}" if code else text or "an exception without text")[:200]
    return "an exception report"


def raise_for_exception(body: bytes, shown: str) -> None:
    """Raise if ``body`` is an OGC exception report (which services send with status 200 where data was asked)."""
    head = body[:4096]
    if head.lstrip()[:1] == b"<" and b"Exception" in head:
        _parse(body, "ogc", shown)


def _lonlat_box(west: str, south: str, east: str, north: str) -> tuple[float, float, float, float] | None:
    try:
        box = (float(west), float(south), float(east), float(north))
    except ValueError:
        return None
    w, s, e, n = max(box[0], -180.0), max(box[1], -90.0), min(box[2], 180.0), min(box[3], 90.0)
    return (w, s, e, n) if w <= e and s <= n and all(map(math.isfinite, box)) else None


def _ows_box(element: Any) -> tuple[float, float, float, float] | None:
    """``ows:WGS84BoundingBox`` (lower and upper corner as ``lon lat``)."""
    box = _child(element, "WGS84BoundingBox")
    if box is None:
        return None
    lower, upper = _text(box, "LowerCorner").split(), _text(box, "UpperCorner").split()
    return _lonlat_box(lower[0], lower[1], upper[0], upper[1]) if len(lower) == len(upper) == 2 else None


def _wms_box(element: Any, version: str) -> tuple[float, float, float, float] | None:
    if version.startswith("1.3"):
        box = _child(element, "EX_GeographicBoundingBox")
        if box is None:
            return None
        return _lonlat_box(*(_text(box, n) for n in _GEOGRAPHIC_BOX))
    box = _child(element, "LatLonBoundingBox")
    if box is None:
        return None
    return _lonlat_box(*(box.get(n, "") for n in ("minx", "miny", "maxx", "maxy")))


def _legend(style: Any) -> str | None:
    resource = _path(style, "LegendURL", "OnlineResource")
    href = resource.get(XLINK_HREF) if resource is not None else None
    if href is None:  # WMTS: the href sits on LegendURL itself
        legend = _child(style, "LegendURL")
        href = legend.get(XLINK_HREF) if legend is not None else None
    return href.strip() if href else None


def _wms_layers(element: Any, version: str, parent: ServiceLayer, out: dict[str, ServiceLayer]) -> None:
    tag = "CRS" if version.startswith("1.3") else "SRS"
    codes = {code.upper() for t in _children(element, tag) for code in (t.text or "").split()}
    styles = dict(parent.styles)
    for style in _children(element, "Style"):
        name = _text(style, "Name")
        if name:
            styles[name] = _legend(style)
    credit = _child(element, "Attribution")
    attribution = _text(credit, "Title") if credit is not None else ""
    layer = ServiceLayer(
        name=_text(element, "Name"),
        title=_text(element, "Title"),
        abstract=_text(element, "Abstract"),
        attribution=attribution or parent.attribution,
        crs=parent.crs | frozenset(codes),
        bbox=_wms_box(element, version) or parent.bbox,
        styles=styles,
        default_style=next(iter(styles), ""),
    )
    if layer.name:
        out[layer.name] = layer
    for child in _children(element, "Layer"):
        _wms_layers(child, version, layer, out)


def _wms(root: Any) -> Capabilities:
    version = root.get("version", "1.3.0")
    capability = _child(root, "Capability")
    if capability is None:
        raise ServiceError("the WMS capabilities have no Capability section", record="url")
    get_map = _path(capability, "Request", "GetMap")
    formats = tuple((f.text or "").strip() for f in _children(get_map, "Format")) if get_map is not None else ()
    layers: dict[str, ServiceLayer] = {}
    for top in _children(capability, "Layer"):
        _wms_layers(top, version, ServiceLayer(name=""), layers)
    return Capabilities("wms", version, layers, formats)


def _matrices(tile_set: Any) -> dict[int, str]:
    """Web Mercator zoom -> tile matrix id, for the 256 px matrices of a set on the Web Mercator grid."""
    code = epsg_code(_text(tile_set, "SupportedCRS"))
    if code not in WEB_MERCATOR_CODES:
        return {}
    out: dict[int, str] = {}
    for matrix in _children(tile_set, "TileMatrix"):
        try:
            scale = float(_text(matrix, "ScaleDenominator"))
            left, top = (float(v) for v in _text(matrix, "TopLeftCorner").split()[:2])
            width, height = int(_text(matrix, "TileWidth")), int(_text(matrix, "TileHeight"))
        except ValueError:
            continue
        if width != TILE_SIZE or height != TILE_SIZE or scale <= 0:
            continue
        zoom = round(math.log2(SCALE_ZOOM0 / scale))
        on_grid = abs(SCALE_ZOOM0 / 2**zoom - scale) <= 0.01 * scale
        corner = (
            abs(left + WEB_MERCATOR_HALF) < _CORNER_TOLERANCE_M and abs(top - WEB_MERCATOR_HALF) < _CORNER_TOLERANCE_M
        )
        if on_grid and corner and 0 <= zoom <= 24:
            out.setdefault(zoom, _text(matrix, "Identifier"))
    return out


def _wmts_kvp(root: Any) -> bool:
    """Whether GetTile is offered as KVP: said so by its GetEncoding constraint, or no constraint at all."""
    operations = _child(root, "OperationsMetadata")
    if operations is None:
        return False  # only ResourceURL templates (REST)
    for operation in _children(operations, "Operation"):
        if operation.get("name") != "GetTile":
            continue
        values = [
            (v.text or "").strip().upper()
            for c in operation.iter()
            if local_name(c.tag) == "Constraint" and c.get("name") == "GetEncoding"
            for v in c.iter()
            if local_name(v.tag) == "Value"
        ]
        return not values or "KVP" in values
    return False


def _wmts(root: Any) -> Capabilities:
    contents = _child(root, "Contents")
    if contents is None:
        raise ServiceError("the WMTS capabilities have no Contents section", record="url")
    layers: dict[str, ServiceLayer] = {}
    for element in _children(contents, "Layer"):
        styles: dict[str, str | None] = {}
        default = ""
        for style in _children(element, "Style"):
            name = _text(style, "Identifier")
            styles[name] = _legend(style)
            if style.get("isDefault", "").lower() == "true" or not default:
                default = name
        links = tuple(_text(link, "TileMatrixSet") for link in _children(element, "TileMatrixSetLink"))
        name = _text(element, "Identifier")
        layers[name] = ServiceLayer(
            name=name,
            title=_text(element, "Title"),
            abstract=_text(element, "Abstract"),
            bbox=_ows_box(element),
            styles=styles,
            default_style=default,
            formats=tuple((f.text or "").strip() for f in _children(element, "Format")),
            matrix_sets=links,
        )
    sets = {_text(s, "Identifier"): _matrices(s) for s in _children(contents, "TileMatrixSet")}
    return Capabilities("wmts", root.get("version", "1.0.0"), layers, (), sets, _wmts_kvp(root))


def _wfs(root: Any) -> Capabilities:
    formats: list[str] = []
    operations = _child(root, "OperationsMetadata")
    for operation in _children(operations, "Operation") if operations is not None else []:
        if operation.get("name") != "GetFeature":
            continue
        for parameter in _children(operation, "Parameter"):
            if parameter.get("name", "").lower() == "outputformat":
                formats += [(v.text or "").strip() for v in parameter.iter() if local_name(v.tag) == "Value"]
    layers: dict[str, ServiceLayer] = {}
    type_list = _child(root, "FeatureTypeList")
    for element in _children(type_list, "FeatureType") if type_list is not None else []:
        named = [
            (c.text or "") for c in element if local_name(c.tag) in ("DefaultCRS", "DefaultSRS", "OtherCRS", "OtherSRS")
        ]
        codes = frozenset(code for code in map(epsg_code, named) if code)
        default = epsg_code(_text(element, "DefaultCRS") or _text(element, "DefaultSRS"))
        own = _child(element, "OutputFormats")
        name = _text(element, "Name")
        layers[name] = ServiceLayer(
            name=name,
            title=_text(element, "Title"),
            abstract=_text(element, "Abstract"),
            crs=codes,
            bbox=_ows_box(element),
            default_style=default or "",  # WFS: the feature type's default CRS
            formats=tuple((f.text or "").strip() for f in own) if own is not None else (),
        )
    return Capabilities("wfs", root.get("version", "2.0.0"), layers, tuple(formats))


_ROOTS = {
    "wms": ("WMS_Capabilities", "WMT_MS_Capabilities"),
    "wmts": ("Capabilities",),
    "wfs": ("WFS_Capabilities",),
}


def parse_capabilities(kind: str, body: bytes, shown: str) -> Capabilities:
    """Read a ``wms``, ``wmts`` or ``wfs`` capabilities document.

    Args:
        kind: the service type the administrator named.
        body: the document.
        shown: the service as messages name it (host and path).

    Raises:
        ServiceError: not XML, an exception report, or another document than the capabilities of ``kind``.
    """
    root = _parse(body, kind, shown)
    if local_name(root.tag) not in _ROOTS[kind]:
        raise ServiceError(
            f"the service at {shown} answered a {local_name(root.tag)!r} document, not {kind.upper()} capabilities",
            record="url",
            hint=f"check that the URL is the service's {kind.upper()} endpoint, or choose the service type it has",
        )
    return {"wms": _wms, "wmts": _wmts, "wfs": _wfs}[kind](root)
