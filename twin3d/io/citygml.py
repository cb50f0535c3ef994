"""CityGML 1.0, 2.0 and 3.0 buildings as flat arrays of 3D polygons, read as a stream.

The file is parsed with ``lxml.etree.iterparse``: each ``bldg:Building`` is turned into polygons when its end tag
arrives and is then dropped from the tree, so memory stays flat however large the file is. Buildings come out in
:class:`~twin3d.io.surfaces.Buildings3D` chunks.

What is read:

* one record per top-level ``bldg:Building``; the polygons of its ``bldg:BuildingPart`` children (at any depth)
  belong to that record, as in the CityJSON reader;
* per building and part, LoD2 geometry when it has any, else LoD1 (``lod`` holds the LoD used, the lowest one
  where parts differ); LoD0, LoD3 and LoD4 geometry is not read. Building installations count with the LoD of
  their own geometry (``lod2Geometry``); a building without LoD1/LoD2 geometry is kept without polygons;
* attributes: the building's own, else those of its parts (measured height and storeys: the largest of the parts;
  CityGML 3.0 ``con:height`` stands in for ``bldg:measuredHeight``);
* boundary surfaces (``bldg:boundedBy`` in 1.0/2.0, ``core:boundary`` in 3.0) give each polygon its
  :class:`~twin3d.io.surfaces.SurfaceKind`; polygons of ``lodNSolid`` / ``lodNMultiSurface`` without one are
  ``SOLID``;
* ``xlink:href`` references to geometry are never followed as geometry, so each ``gml:Polygon`` element counts
  once. A reference from a boundary surface to a polygon of the solid only lends that polygon its kind. Where a
  building or part holds real polygons in its boundary surfaces, unlabelled polygons of the same LoD that no
  boundary surface references are taken for copies and left out;
* x, y are reprojected to the target CRS; z stays in the file's height system (the tiler adds the geoid).
  Coordinates are read easting first, except in geographic CRSs whose axis order is latitude first
  (``urn:ogc:def:crs:EPSG::4326``, as GML prescribes); each ``srsName`` met is honoured, polygon by polygon.

Speed: most files write every ring the same way (``gml:exterior`` / ``gml:LinearRing`` / ``gml:posList`` of x y z)
and name the CRS once for the file. The rings of such a building are read in one go: all its numbers are parsed by
one numpy call and the rings are checked on the parsed values; without an ``srsName`` in the building no CRS is
looked up per polygon. A building with anything else (``gml:pos``, ``gml:coordinates``, a ring that may be broken)
is read polygon by polygon, ring by ring, which gives the same result, or the same error, in the common case too.

Example:
    >>> from pyproj import CRS
    >>> for chunk in iter_citygml_buildings(Path("LoD2_32_328_5730_1_NW.gml"), CRS.from_epsg(25832)):
    ...     print(len(chunk), chunk.polygon_count)  # doctest: +SKIP
    91 872
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, transform_points
from twin3d.io.surfaces import ATTRIBUTE_SCHEMA, Buildings3D, SkipLog, SurfaceKind, concat

_CITYGML = "http://www.opengis.net/citygml/"
_GML_NS = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
_BUILDING_NS = tuple(f"{_CITYGML}building/{version}" for version in ("1.0", "2.0", "3.0"))
_CON_NS = f"{_CITYGML}construction/3.0"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_GML_ID = tuple(f"{{{ns}}}id" for ns in _GML_NS)


def _gml(*names: str) -> tuple[str, ...]:
    return tuple(f"{{{ns}}}{name}" for ns in _GML_NS for name in names)


def _bldg(*names: str) -> tuple[str, ...]:
    return tuple(f"{{{ns}}}{name}" for ns in _BUILDING_NS for name in names)


_BUILDING_TAGS = _bldg("Building")
_PART_TAGS = _bldg("BuildingPart")
_POLYGON_TAGS = _gml("Polygon", "PolygonPatch", "Triangle")
_EXTERIOR_TAGS = frozenset(_gml("exterior", "outerBoundaryIs"))
_INTERIOR_TAGS = frozenset(_gml("interior", "innerBoundaryIs"))
_LINEAR_RING_TAGS = frozenset(_gml("LinearRing"))
_POSLIST_TAGS = _gml("posList")
_POSLIST_TAG_SET = frozenset(_POSLIST_TAGS)
# Where boundary surfaces reference polygons held elsewhere (lxml's iter is slow with many tags: keep it short).
_HREF_HOLDER_TAGS = _gml("surfaceMember", "baseSurface")
_POS_TAGS = _gml("pos")
_COORDINATES_TAGS = _gml("coordinates")
_BOUNDED_BY_TAGS = _gml("boundedBy")
_ENVELOPE_TAGS = _gml("Envelope")
_NAME_TAGS = _gml("name")
_FUNCTION_TAGS = _bldg("function")
_ROOF_TYPE_TAGS = _bldg("roofType")
_MEASURED_HEIGHT_TAGS = _bldg("measuredHeight")
_STOREYS_TAGS = _bldg("storeysAboveGround")
_CON_HEIGHT = f"{{{_CON_NS}}}height"
_CON_HEIGHT_OBJECT = f"{{{_CON_NS}}}Height"
# Attribute column of each attribute element (a direct child of a Building or BuildingPart).
_ATTRIBUTE_TAGS = {
    tag: column
    for column, tags in (
        ("function", _FUNCTION_TAGS),
        ("name", _NAME_TAGS),
        ("measured_height", _MEASURED_HEIGHT_TAGS),
        ("roof_type", _ROOF_TYPE_TAGS),
        ("storeys", _STOREYS_TAGS),
    )
    for tag in tags
}
# The same by local name: lxml matches a few "{*}name" patterns faster than many qualified tags.
_ATTRIBUTE_NAMES = tuple(sorted({"{*}" + tag.partition("}")[2] for tag in _ATTRIBUTE_TAGS}))
# Whether any element of a building, the building included, has an srsName (most files name the CRS only once).
_HAS_SRS_NAME = etree.XPath("boolean(.//@srsName)")

_SURFACE_KINDS = {
    "GroundSurface": SurfaceKind.GROUND,
    "WallSurface": SurfaceKind.WALL,
    "RoofSurface": SurfaceKind.ROOF,
    "ClosureSurface": SurfaceKind.CLOSURE,
    "OuterFloorSurface": SurfaceKind.OUTER_FLOOR,
    "OuterCeilingSurface": SurfaceKind.OUTER_CEILING,
}
# lod1Solid, lod2MultiSurface, lod2Geometry (installations), ... in the building module (1.0/2.0) or core (3.0).
_LOD_PROPERTY = re.compile(r"lod([0-4])(?:Solid|MultiSurface|Geometry)")
_READ_LODS = (2, 1)  # in order of preference

_SKIP_HINT = "repair the building in the source, or run with --skip-invalid to leave broken buildings out"

# What an ancestor of a polygon is to the reader.
_NONE, _MEMBER, _SURFACE, _LOD, _ORIENTABLE = range(5)


@cache
def _role(tag: str) -> tuple[int, int]:
    """(role, value) of an element tag: value is the SurfaceKind of a boundary surface or the LoD of a property."""
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns in _GML_NS:
        return (_ORIENTABLE, 0) if local == "OrientableSurface" else (_NONE, 0)
    if not ns.startswith(_CITYGML):
        return (_NONE, 0)
    if ns in _BUILDING_NS and local in ("Building", "BuildingPart"):
        return (_MEMBER, 0)
    if local in _SURFACE_KINDS:
        return (_SURFACE, int(_SURFACE_KINDS[local]))
    match = _LOD_PROPERTY.fullmatch(local)
    if match:
        return (_LOD, int(match.group(1)))
    return (_NONE, 0)


class _Invalid(Exception):
    """A building cannot be read; the message says why (turned into an InputError that names the building)."""


@dataclass(slots=True)
class _Face:
    """One polygon element of a building, classified before its coordinates are parsed."""

    element: Any
    member: Any
    lod: int
    kind: int | None
    flip: bool
    referenced: bool = False  # its kind comes from a boundary surface's xlink, not from where it stands


@dataclass(slots=True)
class _Record:
    """One building ready for a chunk: its open rings' corners, ring sizes, rings, kind and CRS index per polygon."""

    attributes: dict[str, Any]
    vertices: np.ndarray | None = None  # (v, 3), the rings one after the other; None without polygons
    ring_sizes: list[int] = field(default_factory=list)
    ring_counts: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    srs: list[int] = field(default_factory=list)


def _first_text(element: Any, tags: tuple[str, ...]) -> str | None:
    child = next(element.iterchildren(*tags), None)
    if child is None or child.text is None:
        return None
    text = str(child.text).strip()
    return text or None


def _number(text: str | None, what: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise _Invalid(f"{what} {text!r} is not a number") from None


def _gml_id(element: Any) -> str | None:
    for attr in _GML_ID:
        value = element.get(attr)
        if value:
            return str(value)
    return None


def _envelope_srs(element: Any) -> str | None:
    """The srsName of an element's own gml:boundedBy/gml:Envelope."""
    for bounded_by in element.iterchildren(*_BOUNDED_BY_TAGS):
        for envelope in bounded_by.iterchildren(*_ENVELOPE_TAGS):
            if envelope.get("srsName"):
                return str(envelope.get("srsName"))
    return None


def _height_3_0(element: Any) -> str | None:
    """The value of a CityGML 3.0 ``con:height``: measured roof-top height first."""
    best: tuple[int, str] | None = None
    for prop in element.iterchildren(_CON_HEIGHT):
        for height in prop.iterchildren(_CON_HEIGHT_OBJECT):
            value = _first_text(height, (f"{{{_CON_NS}}}value",))
            if value is None:
                continue
            score = (_first_text(height, (f"{{{_CON_NS}}}status",)) == "measured") + (
                _first_text(height, (f"{{{_CON_NS}}}highReference",)) in (None, "highestRoofEdge")
            )
            if best is None or score > best[0]:
                best = (score, value)
    return best[1] if best else None


def _own_attributes(element: Any) -> dict[str, str | None]:
    """The stripped text (None when empty) of the first child element per attribute column, in one pass."""
    found: dict[str, str | None] = {}
    for child in element.iterchildren(*_ATTRIBUTE_NAMES):
        column = _ATTRIBUTE_TAGS.get(child.tag)
        if column is not None and column not in found:
            found[column] = None if child.text is None else (str(child.text).strip() or None)
    return found


def _attributes(building: Any, parts: list[Any], building_id: str) -> dict[str, Any]:
    """The ATTRIBUTE_SCHEMA row: the building's own values, else taken from its parts.

    Where only the parts carry them (NRW writes heights per part), function, name and roof type come from the
    first part that has one; measured height and storeys are the largest over the parts.
    """
    own = _own_attributes(building)
    of_parts = [_own_attributes(part) for part in parts]

    def text(column: str) -> str | None:
        for values in (own, *of_parts):
            value = values.get(column)
            if value is not None:
                return value
        return None

    def largest(column: str, what: str, *, height: bool = False) -> float | None:
        value = own.get(column) or (_height_3_0(building) if height else None)
        if value is not None:
            return _number(value, what)
        values = [
            _number(v.get(column) or (_height_3_0(p) if height else None), what)
            for p, v in zip(parts, of_parts, strict=True)
        ]
        present = [v for v in values if v is not None]
        return max(present) if present else None

    return {
        "id": building_id,
        "function": text("function"),
        "name": text("name"),
        "measured_height": largest("measured_height", "measuredHeight", height=True),
        "roof_type": text("roof_type"),
        "storeys": largest("storeys", "storeysAboveGround"),
        "lod": None,
    }


def _coordinates(ring: Any, dimension: str | None) -> np.ndarray:
    """The corners of a gml:LinearRing as an (n, 3) array, closing duplicate included as written."""
    poslist = next(ring.iterchildren(*_POSLIST_TAGS), None)
    if poslist is not None:
        text = str(poslist.text or "")
        dimension = poslist.get("srsDimension") or dimension
    else:
        positions = list(ring.iterchildren(*_POS_TAGS))
        if positions:
            text = " ".join(str(p.text or "") for p in positions)
            dimension = positions[0].get("srsDimension") or dimension
        else:
            coordinates = next(ring.iterchildren(*_COORDINATES_TAGS), None)
            if coordinates is None:
                raise _Invalid("a gml:LinearRing has no gml:posList, gml:pos or gml:coordinates")
            text, dimension = _coordinates_text(coordinates)
    try:
        dim = int(dimension or 3)
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        raise _Invalid("a ring holds text that is not a number (gml:posList or srsDimension)") from None
    if dim != 3:
        raise _Invalid(f"a ring has srsDimension {dim}; 3D buildings need x y z per corner")
    if len(values) % dim:
        raise _Invalid(f"a gml:posList holds {len(values)} numbers, not a multiple of srsDimension {dim}")
    return values.reshape(-1, dim)


def _coordinates_text(element: Any) -> tuple[str, str]:
    """Turn a GML 2 style ``gml:coordinates`` into whitespace-separated numbers and their dimension."""
    raw = str(element.text or "").strip()
    cs, ts, decimal = element.get("cs", ","), element.get("ts", " "), element.get("decimal", ".")
    tuples = raw.split() if ts.isspace() else raw.split(ts)
    dimension = str(tuples[0].count(cs) + 1) if tuples and tuples[0] else "3"
    text = " ".join(tuples).replace(cs, " ")
    if decimal != ".":
        text = text.replace(decimal, ".")
    return text, dimension


def _has_three_distinct(points: np.ndarray) -> bool:
    """Whether a ring has at least three distinct corners (cheaper than np.unique for the common case)."""
    if len(points) < 3:
        return False
    a, b, c = points[:3].tolist()
    if a != b and c not in (a, b):
        return True
    differs = (points != points[0]).any(axis=1)
    if not differs.any():
        return False
    second = points[int(differs.argmax())]
    return bool((differs & (points != second).any(axis=1)).any())


def _polygon_rings(face: _Face) -> list[np.ndarray]:
    """Open rings of a polygon, exterior first (any GML ring encoding; raises _Invalid with the reason)."""
    dimension = _inherited(face.element, "srsDimension")
    exterior: list[Any] = []
    interior: list[Any] = []
    for boundary in face.element.iterchildren():
        if boundary.tag in _EXTERIOR_TAGS:
            exterior.append(boundary)
        elif boundary.tag in _INTERIOR_TAGS:
            interior.append(boundary)
    if len(exterior) != 1:
        raise _Invalid(f"a polygon has {len(exterior)} exterior rings instead of one")
    rings = []
    for boundary in exterior + interior:
        ring = next(boundary.iterchildren(etree.Element), None)
        if ring is None or ring.tag not in _LINEAR_RING_TAGS:
            found = "a reference" if boundary.get(_XLINK_HREF) else "no gml:LinearRing"
            raise _Invalid(f"a polygon ring is {found}; only gml:LinearRing rings are read")
        points = _coordinates(ring, dimension)
        if len(points) > 1 and (points[0] == points[-1]).all():
            points = points[:-1]
        if not _has_three_distinct(points):
            distinct = len(np.unique(points, axis=0))
            raise _Invalid(f"a polygon ring has {distinct} distinct points; a ring needs at least 3")
        rings.append(points[::-1] if face.flip else points)
    return rings


def _referenced_kinds(building: Any) -> dict[str, int]:
    """Kinds lent by xlink: ``{gml:id: SurfaceKind}`` for geometry a boundary surface references."""
    kinds: dict[str, int] = {}
    for element in building.iter(*_HREF_HOLDER_TAGS):
        href = element.get(_XLINK_HREF)
        if not href or not href.startswith("#"):
            continue
        for ancestor in element.iterancestors():
            role, value = _role(ancestor.tag)
            if role == _SURFACE:
                kinds.setdefault(href[1:], value)
                break
            if role == _MEMBER:
                break
    return kinds


def _lend_kinds(faces: list[_Face], building: Any) -> None:
    """Give unlabelled faces the kind of a boundary surface that references them (or a collection holding them)."""
    unlabelled = [f for f in faces if f.kind is None]
    referenced = _referenced_kinds(building) if unlabelled else {}
    if not referenced:
        return
    for face in unlabelled:
        element = face.element
        while element is not None and _role(element.tag)[0] != _LOD:
            kind = referenced.get(_gml_id(element) or "")
            if kind is not None:
                face.kind, face.referenced = kind, True
                break
            element = element.getparent()


def _plain_ring(boundary: Any, face: _Face) -> list[str] | None:
    """The number strings of a ``gml:LinearRing`` / ``gml:posList`` ring of x y z triples, at least three; else None."""
    try:
        ring = boundary[0]
        poslist = ring[0]
    except IndexError:
        return None
    if ring.tag not in _LINEAR_RING_TAGS or poslist.tag not in _POSLIST_TAG_SET:
        return None
    dimension = poslist.get("srsDimension") or _inherited(face.element, "srsDimension")
    text = poslist.text
    if (dimension and dimension != "3") or not text:
        return None
    tokens: list[str] = text.split()
    return tokens if len(tokens) >= 9 and not len(tokens) % 3 else None


def _plain_tokens(face: _Face, tokens: list[str], counts: list[int], closed: list[bool]) -> int | None:
    """The number strings of a polygon in the common encoding, for :func:`_plain_geometry`.

    For a polygon whose rings are ``gml:exterior`` (then ``gml:interior``) elements read by :func:`_plain_ring`,
    this appends each ring's numbers to ``tokens`` (less a closing corner written exactly as the first), their count
    to ``counts`` and whether a closing corner was left out to ``closed``, and returns the number of rings. For any
    other polygon: None.
    """
    rings = 0
    element = face.element
    for boundary in (element[0],) if len(element) == 1 else element:  # the usual: just the exterior
        tag = boundary.tag
        if tag in _EXTERIOR_TAGS:
            in_order = rings == 0
        elif tag in _INTERIOR_TAGS:
            in_order = rings > 0
        else:
            continue
        ring_tokens = _plain_ring(boundary, face) if in_order else None
        if ring_tokens is None:
            return None
        closing = ring_tokens[:3] == ring_tokens[-3:]
        if closing:
            del ring_tokens[-3:]
        closed.append(closing)
        tokens += ring_tokens
        counts.append(len(ring_tokens))
        rings += 1
    return rings or None


def _plain_geometry(faces: list[_Face], record: _Record) -> bool:
    """The fast path of :func:`_polygon_rings` for all faces of a building at once; False if it does not apply.

    It applies where every polygon is read by :func:`_plain_tokens`, all numbers parse and are finite, and every
    ring passes :func:`_plain_sizes`. Elsewhere (another encoding, or a ring :func:`_polygon_rings` might reject)
    the caller reads the building polygon by polygon, which gives the same rings or the error. All numbers of the
    building are parsed by one numpy call (``float`` for each string, as for each ring before), so the coordinates
    are the same to the bit.
    """
    tokens: list[str] = []
    counts: list[int] = []
    closed: list[bool] = []
    ring_counts: list[int] = []
    for face in faces:
        rings = _plain_tokens(face, tokens, counts, closed)
        if rings is None:
            return False
        ring_counts.append(rings)
    if not tokens:
        return True
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        return False
    # A closing corner written like the first equals it unless it is NaN; NaN or infinity anywhere: ring by ring.
    sizes = _plain_sizes(values.tolist(), counts, closed) if math.isfinite(values.sum()) else None
    if sizes is None:
        return False
    vertices = values.reshape(-1, 3)
    if any(face.flip for face in faces):  # rings of reversed gml:OrientableSurfaces run the other way
        flips = [face.flip for face, rings in zip(faces, ring_counts, strict=True) for _ in range(rings)]
        for end, size, flip in zip(np.cumsum(sizes).tolist(), sizes, flips, strict=True):
            if flip:
                vertices[end - size : end] = vertices[end - size : end][::-1].copy()
    record.vertices, record.ring_sizes, record.ring_counts = vertices, sizes, ring_counts
    return True


def _plain_sizes(values: list[float], counts: list[int], closed: list[bool]) -> list[int] | None:
    """Corners per ring, if every ring has at least three, the first three distinct, and no unnoticed closing one.

    ``values`` holds the rings' numbers one after the other, ``counts`` how many each, ``closed`` whether a closing
    corner was left out already. None for a ring that may be broken, or that repeats its first corner at the end in
    other digits (1.0 for 1): the caller then reads the building polygon by polygon.
    """
    sizes: list[int] = []
    start = 0
    for count, ring_closed in zip(counts, closed, strict=True):
        end = start + count
        first, second, third = values[start : start + 3], values[start + 3 : start + 6], values[start + 6 : start + 9]
        if count < 9 or first == second or third in (first, second):
            return None
        if not ring_closed and first == values[end - 3 : end]:
            return None
        sizes.append(count // 3)
        start = end
    return sizes


def _inherited(polygon: Any, attribute: str) -> str | None:
    """``srsName`` or ``srsDimension`` of a polygon: its own, else the nearest one of an ancestor below its member."""
    value = polygon.get(attribute)
    for ancestor in polygon.iterancestors():
        if value is not None or _role(ancestor.tag)[0] == _MEMBER:
            break
        value = ancestor.get(attribute)
    return None if value is None else str(value)


def _classify(polygon: Any) -> _Face | None:
    """Walk up from a polygon to its Building or BuildingPart: LoD, surface kind and orientation."""
    lod = -1
    kind: int | None = None
    flip = False
    for ancestor in polygon.iterancestors():
        role, value = _role(ancestor.tag)
        if role == _NONE:
            continue
        if role == _MEMBER:
            return _Face(polygon, ancestor, lod, kind, flip) if lod >= 0 else None
        if role == _LOD:
            if lod < 0:
                lod = value
        elif role == _SURFACE:
            if kind is None and lod >= 0:
                kind = value
        elif ancestor.get("orientation") == "-":  # _ORIENTABLE
            flip = not flip
    return None


def _select(faces: list[_Face]) -> tuple[list[_Face], float | None]:
    """Per building or part: LoD2 faces if any, else LoD1; copies of labelled faces left out."""
    first = faces[0].member if faces else None
    if all(face.member is first for face in faces):  # the usual: no parts
        by_member = [faces] if faces else []
    else:
        members: dict[Any, list[_Face]] = {}
        for face in faces:
            members.setdefault(face.member, []).append(face)
        by_member = list(members.values())
    chosen: list[_Face] = []
    lods: list[int] = []
    for member_faces in by_member:
        for lod in _READ_LODS:
            at_lod = [f for f in member_faces if f.lod == lod]
            if not at_lod:
                continue
            if any(f.kind is not None and not f.referenced for f in at_lod):
                chosen += [f for f in at_lod if f.kind is not None]
            else:
                chosen += at_lod
            lods.append(lod)
            break
    return chosen, (float(min(lods)) if lods else None)


def _latitude_first(crs: CRS) -> bool:
    """Whether coordinates in ``crs`` are written latitude first (GML follows the CRS's axis order).

    Only geographic CRSs are turned around: German projected data (UTM, and Gauss-Krüger, whose EPSG axis order is
    northing first) is written easting first in practice.
    """
    axes = crs.axis_info
    return bool(crs.is_geographic and axes and axes[0].direction.lower() == "north")


class _Chunk:
    """Buildings collected for the next Buildings3D."""

    def __init__(self) -> None:
        self.vertices: list[np.ndarray] = []  # one block per building with polygons
        self.ring_sizes: list[int] = []
        self.ring_counts: list[int] = []
        self.kinds: list[int] = []
        self.srs: list[int] = []
        self.polygon_counts: list[int] = []
        self.rows: dict[str, list[Any]] = {f.name: [] for f in ATTRIBUTE_SCHEMA}

    def __len__(self) -> int:
        return len(self.polygon_counts)

    def add(self, record: _Record) -> None:
        if record.vertices is not None:
            self.vertices.append(record.vertices)
        self.ring_sizes += record.ring_sizes
        self.ring_counts += record.ring_counts
        self.kinds += record.kinds
        self.srs += record.srs
        self.polygon_counts.append(len(record.kinds))
        for name, values in self.rows.items():
            values.append(record.attributes[name])

    def build(self, path: Path, source_crs: CRS, crs_list: list[CRS], target_crs: CRS) -> Buildings3D:
        ring_sizes = np.asarray(self.ring_sizes, dtype=np.int64)
        vertices = np.concatenate(self.vertices) if self.vertices else np.zeros((0, 3))
        polygon_srs = np.asarray(self.srs, dtype=np.int64)
        used = np.unique(polygon_srs)
        vertex_srs = np.repeat(np.repeat(polygon_srs, self.ring_counts), ring_sizes) if len(used) > 1 else None
        for index in used:
            crs = crs_list[int(index)]
            rows = slice(None) if vertex_srs is None else vertex_srs == index
            x, y = vertices[rows, 0], vertices[rows, 1]
            if _latitude_first(crs):
                x, y = y, x
            vertices[rows, 0], vertices[rows, 1] = transform_points(x, y, crs, target_crs)

        def offsets(counts: list[int] | np.ndarray) -> np.ndarray:
            out = np.zeros(len(counts) + 1, dtype=np.int64)
            np.cumsum(counts, out=out[1:])
            return out

        return Buildings3D(
            path=path,
            source_crs=source_crs,
            vertices=vertices,
            ring_offsets=offsets(ring_sizes),
            polygon_rings=offsets(self.ring_counts),
            polygon_kind=np.asarray(self.kinds, dtype=np.uint8),
            building_polygons=offsets(self.polygon_counts),
            attributes=pa.table(self.rows, schema=ATTRIBUTE_SCHEMA),
        )


class _Reader:
    """State of one pass over a file: CRSs met so far, the file's own srsName, the last building read."""

    def __init__(
        self, path: Path, target_crs: CRS, declared_crs: str | None, skip_invalid: bool, skipped: SkipLog | None
    ) -> None:
        self.path = Path(path)
        self.target_crs = target_crs
        self.skip_invalid = skip_invalid
        self.skipped = skipped if skipped is not None else SkipLog()
        self.crs_list: list[CRS] = []
        self.srs_index: dict[str, int] = {}
        self.declared = declared_crs is not None
        if declared_crs is not None:
            self.crs_list.append(parse_crs(declared_crs, file=self.path))
        self.file_srs: str | None = None
        self.last_id: str | None = None
        self.count = 0

    def check_file(self) -> None:
        if not self.path.is_file():
            raise InputError("file not found", file=self.path, hint="check the path in the pipeline definition")
        if self.path.stat().st_size == 0:
            raise InputError("file is empty (0 bytes)", file=self.path, hint="download or export the file again")

    def source_crs(self) -> CRS:
        if self.crs_list:
            return self.crs_list[0]
        if self.file_srs is not None:
            return parse_crs(self.file_srs, file=self.path)
        return self.target_crs

    def srs(self, name: str | None) -> int:
        """Index into ``crs_list`` of the CRS called ``name`` (the file's when None)."""
        if self.declared:
            return 0
        name = name or self.file_srs
        if name is None:
            raise CRSError(
                "no srsName on the geometry, its building or the file's gml:Envelope",
                file=self.path,
                hint='declare the CRS with crs = "EPSG:...." for this source in the pipeline definition',
            )
        index = self.srs_index.get(name)
        if index is None:
            self.crs_list.append(parse_crs(name, file=self.path))
            index = self.srs_index[name] = len(self.crs_list) - 1
        return index

    def building(self, element: Any, building_id: str) -> _Record:
        parts = list(element.iter(*_PART_TAGS))
        record = _Record(_attributes(element, parts, building_id))
        faces = [f for p in element.iter(*_POLYGON_TAGS) if (f := _classify(p)) is not None]
        _lend_kinds(faces, element)
        chosen, record.attributes["lod"] = _select(faces)
        record.kinds = [f.kind if f.kind is not None else int(SurfaceKind.SOLID) for f in chosen]
        # Without any srsName in the building (the usual case: the file names its CRS once) every polygon is in the
        # file's CRS, and nothing needs to be looked up per polygon.
        named = bool(chosen) and not self.declared and bool(_HAS_SRS_NAME(element))
        envelope_srs: dict[Any, str | None] = {}

        def member_srs(member: Any) -> str | None:
            if member not in envelope_srs:
                envelope_srs[member] = _envelope_srs(member)
            return envelope_srs[member]

        def srs(face: _Face) -> int:
            if not named:
                return self.srs(None)
            srs_name = _inherited(face.element, "srsName")
            if srs_name is None:
                srs_name = member_srs(face.member) or member_srs(element)
            return self.srs(srs_name)

        if _plain_geometry(chosen, record):
            if named:
                record.srs = [srs(face) for face in chosen]
            elif chosen:
                record.srs = [self.srs(None)] * len(chosen)
            return record
        # Element by element, in the original order: the first broken ring or unknown CRS is the one reported.
        rings: list[np.ndarray] = []
        for face in chosen:
            polygon = _polygon_rings(face)
            rings += polygon
            record.ring_counts.append(len(polygon))
            record.srs.append(srs(face))
        record.ring_sizes = [len(ring) for ring in rings]
        record.vertices = np.concatenate(rings) if rings else None
        return record

    def chunks(self, chunk_size: int) -> Iterator[Buildings3D]:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        self.check_file()
        chunk = _Chunk()
        # remove_blank_text: no text nodes for the indentation between elements (faster; every text read is
        # stripped, so nothing read changes).
        events = etree.iterparse(
            str(self.path),
            events=("end",),
            tag=_BUILDING_TAGS,
            resolve_entities=False,
            no_network=True,
            remove_blank_text=True,
        )
        try:
            for _event, element in events:
                if self.count == 0:
                    root = element.getroottree().getroot()
                    self.file_srs = _envelope_srs(root) or root.get("srsName")
                building_id = _gml_id(element) or f"{self.path.name}#{self.count}"
                self.count += 1
                try:
                    chunk.add(self.building(element, building_id))
                except _Invalid as exc:
                    if not self.skip_invalid:
                        raise InputError(str(exc), file=self.path, record=building_id, hint=_SKIP_HINT) from None
                    self.skipped.add(self.path, building_id, str(exc))
                self.last_id = building_id
                _release(element)
                if len(chunk) >= chunk_size:
                    yield chunk.build(self.path, self.source_crs(), self.crs_list, self.target_crs)
                    chunk = _Chunk()
        except etree.XMLSyntaxError as exc:
            last = f"the last complete building is {self.last_id}" if self.last_id else "no building is complete"
            raise InputError(
                f"broken XML at line {exc.lineno} ({last}): {exc.msg}",
                file=self.path,
                hint="the file is truncated or not well-formed; download or export it again",
            ) from exc
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc}", file=self.path) from exc
        if self.count == 0:
            root = events.root
            self.file_srs = _envelope_srs(root) or root.get("srsName")
            if not str(root.tag).startswith("{" + _CITYGML):
                raise InputError(
                    f"not a CityGML file: no bldg:Building and the root element is {root.tag}",
                    file=self.path,
                    hint="give the LoD1/LoD2 CityGML file of the area",
                )
        if len(chunk):
            yield chunk.build(self.path, self.source_crs(), self.crs_list, self.target_crs)

    def empty(self) -> Buildings3D:
        return _Chunk().build(self.path, self.source_crs(), self.crs_list, self.target_crs)


def _release(element: Any) -> None:
    """Free a processed building and everything before it, so the tree does not grow with the file."""
    element.clear(keep_tail=True)
    node = element
    while (parent := node.getparent()) is not None:
        while node.getprevious() is not None:
            del parent[0]
        node = parent


def iter_citygml_buildings(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Iterator[Buildings3D]:
    """Stream the buildings of a CityGML 1.0, 2.0 or 3.0 file as chunks of 3D polygons.

    Args:
        path: the ``.gml`` / ``.xml`` file.
        target_crs: the twin's projected CRS; x and y are reprojected to it, z is kept as written.
        declared_crs: a CRS that overrides every ``srsName`` in the file (for files without one or a wrong one).
        chunk_size: the most buildings per chunk.
        skip_invalid: leave out buildings with broken geometry or attributes instead of raising.
        skipped: where left-out buildings are recorded (file, building id, reason).

    Yields:
        :class:`Buildings3D` chunks of at most ``chunk_size`` buildings, in file order.

    Raises:
        InputError: the file is missing, empty, not well-formed XML (truncated), not CityGML, or (unless
            ``skip_invalid``) a building has a ring with fewer than 3 distinct points, coordinates that do not
            fit ``srsDimension``, or a non-numeric height.
        CRSError: an ``srsName`` is unknown, or missing everywhere and no ``declared_crs`` was given.
    """
    reader = _Reader(path, target_crs, declared_crs, skip_invalid, skipped)
    yield from reader.chunks(chunk_size)


def read_citygml_buildings(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Buildings3D:
    """Read all buildings of a CityGML file into one :class:`Buildings3D` (see :func:`iter_citygml_buildings`).

    Returns:
        All buildings in file order; an empty :class:`Buildings3D` when the file has none.

    Raises:
        InputError: as :func:`iter_citygml_buildings`.
        CRSError: as :func:`iter_citygml_buildings`.
    """
    reader = _Reader(path, target_crs, declared_crs, skip_invalid, skipped)
    chunks = list(reader.chunks(chunk_size))
    return concat(chunks) if chunks else reader.empty()
