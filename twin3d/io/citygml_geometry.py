"""The general CityGML building reader: any geometry encoding, one building at a time.

Part of :mod:`twin3d.io.citygml`. Each polygon element of a building is classified by walking up to its Building
or BuildingPart (LoD, boundary surface kind, orientation), LoD2 is preferred over LoD1 per building or part, and
the rings are read. Most buildings take the batch fast path of :mod:`twin3d.io.citygml_batch`; this module reads
the others, and gives the reason where a building is broken.

Speed: most files write every ring the same way (``gml:exterior`` / ``gml:LinearRing`` / ``gml:posList`` of x y z).
The rings of such a building are read in one go: all its numbers are parsed by one numpy call and the rings are
checked on the parsed values. A building with anything else (``gml:pos``, ``gml:coordinates``, a ring that may be
broken) is read polygon by polygon, ring by ring, which gives the same result, or the same error, in the common
case too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from twin3d.io.citygml_attributes import building_attributes
from twin3d.io.citygml_tags import (
    BUILDING_NS,
    CITYGML,
    GML_NS,
    PART_TAGS,
    POLYGON_TAGS,
    XLINK_HREF,
    Invalid,
    envelope_srs,
    gml,
    gml_id,
)
from twin3d.io.surfaces import SURFACE_KIND_BY_NAME, SurfaceKind

_EXTERIOR_TAGS = frozenset(gml("exterior", "outerBoundaryIs"))
_INTERIOR_TAGS = frozenset(gml("interior", "innerBoundaryIs"))
_LINEAR_RING_TAGS = frozenset(gml("LinearRing"))
_POSLIST_TAGS = gml("posList")
_POSLIST_TAG_SET = frozenset(_POSLIST_TAGS)
# Where boundary surfaces reference polygons held elsewhere (lxml's iter is slow with many tags: keep it short).
_HREF_HOLDER_TAGS = gml("surfaceMember", "baseSurface")
_POS_TAGS = gml("pos")
_COORDINATES_TAGS = gml("coordinates")
# Whether any element of a building, the building included, has an srsName (most files name the CRS only once).
_HAS_SRS_NAME = etree.XPath("boolean(.//@srsName)")

# lod1Solid, lod2MultiSurface, lod2Geometry (installations), ... in the building module (1.0/2.0) or core (3.0).
_LOD_PROPERTY = re.compile(r"lod([0-4])(?:Solid|MultiSurface|Geometry)")
_READ_LODS = (2, 1)  # in order of preference

# What an ancestor of a polygon is to the reader.
_NONE, _MEMBER, _SURFACE, _LOD, _ORIENTABLE = range(5)


@cache
def _role(tag: str) -> tuple[int, int]:
    """(role, value) of an element tag: value is the SurfaceKind of a boundary surface or the LoD of a property."""
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns in GML_NS:
        return (_ORIENTABLE, 0) if local == "OrientableSurface" else (_NONE, 0)
    if not ns.startswith(CITYGML):
        return (_NONE, 0)
    if ns in BUILDING_NS and local in ("Building", "BuildingPart"):
        return (_MEMBER, 0)
    if local in SURFACE_KIND_BY_NAME:
        return (_SURFACE, int(SURFACE_KIND_BY_NAME[local]))
    match = _LOD_PROPERTY.fullmatch(local)
    if match:
        return (_LOD, int(match.group(1)))
    return (_NONE, 0)


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
class Record:
    """One building ready for a chunk: its open rings' corners, ring sizes, rings, kind and CRS index per polygon."""

    attributes: dict[str, Any]
    vertices: np.ndarray | None = None  # (v, 3), the rings one after the other; None without polygons
    ring_sizes: list[int] = field(default_factory=list)
    ring_counts: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    srs: list[int] = field(default_factory=list)


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
                raise Invalid("a gml:LinearRing has no gml:posList, gml:pos or gml:coordinates")
            text, dimension = _coordinates_text(coordinates)
    try:
        dim = int(dimension or 3)
        values = np.array(text.split(), dtype=np.float64)
    except ValueError:
        raise Invalid("a ring holds text that is not a number (gml:posList or srsDimension)") from None
    if dim != 3:
        raise Invalid(f"a ring has srsDimension {dim}; 3D buildings need x y z per corner")
    if len(values) % dim:
        raise Invalid(f"a gml:posList holds {len(values)} numbers, not a multiple of srsDimension {dim}")
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


def polygon_rings(face: _Face) -> list[np.ndarray]:
    """Open rings of a polygon, exterior first (any GML ring encoding; raises Invalid with the reason)."""
    dimension = _inherited(face.element, "srsDimension")
    exterior: list[Any] = []
    interior: list[Any] = []
    for boundary in face.element.iterchildren():
        if boundary.tag in _EXTERIOR_TAGS:
            exterior.append(boundary)
        elif boundary.tag in _INTERIOR_TAGS:
            interior.append(boundary)
    if len(exterior) != 1:
        raise Invalid(f"a polygon has {len(exterior)} exterior rings instead of one")
    rings = []
    for boundary in exterior + interior:
        ring = next(boundary.iterchildren(etree.Element), None)
        if ring is None or ring.tag not in _LINEAR_RING_TAGS:
            found = "a reference" if boundary.get(XLINK_HREF) else "no gml:LinearRing"
            raise Invalid(f"a polygon ring is {found}; only gml:LinearRing rings are read")
        points = _coordinates(ring, dimension)
        if len(points) > 1 and (points[0] == points[-1]).all():
            points = points[:-1]
        if not _has_three_distinct(points):
            distinct = len(np.unique(points, axis=0))
            raise Invalid(f"a polygon ring has {distinct} distinct points; a ring needs at least 3")
        rings.append(points[::-1] if face.flip else points)
    return rings


def _referenced_kinds(building: Any) -> dict[str, int]:
    """Kinds lent by xlink: ``{gml:id: SurfaceKind}`` for geometry a boundary surface references."""
    kinds: dict[str, int] = {}
    for element in building.iter(*_HREF_HOLDER_TAGS):
        href = element.get(XLINK_HREF)
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
            kind = referenced.get(gml_id(element) or "")
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


def _plain_geometry(faces: list[_Face], record: Record) -> bool:
    """The fast path of :func:`polygon_rings` for all faces of a building at once; False if it does not apply.

    It applies where every polygon is read by :func:`_plain_tokens`, all numbers parse and are finite, and every
    ring passes :func:`_plain_sizes`. Elsewhere (another encoding, or a ring :func:`polygon_rings` might reject)
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


def read_building(element: Any, building_id: str, srs: Callable[[str | None], int], declared: bool) -> Record:
    """One building (its parts merged in), whatever its geometry encoding.

    Args:
        element: the ``bldg:Building`` element, complete.
        building_id: its id for the attribute row.
        srs: the index of the CRS of an srsName (None: the file's), raising CRSError for an unknown one.
        declared: whether the source's CRS is declared, so that no srsName counts.

    Raises:
        Invalid: a broken ring or a non-numeric attribute (the first one in file order).
        CRSError: from ``srs``.
    """
    parts = list(element.iter(*PART_TAGS))
    record = Record(building_attributes(element, parts, building_id))
    faces = [f for p in element.iter(*POLYGON_TAGS) if (f := _classify(p)) is not None]
    _lend_kinds(faces, element)
    chosen, record.attributes["lod"] = _select(faces)
    record.kinds = [f.kind if f.kind is not None else int(SurfaceKind.SOLID) for f in chosen]
    # Without any srsName in the building (the usual case: the file names its CRS once) every polygon is in the
    # file's CRS, and nothing needs to be looked up per polygon.
    named = bool(chosen) and not declared and bool(_HAS_SRS_NAME(element))
    member_srs: dict[Any, str | None] = {}

    def envelope(member: Any) -> str | None:
        if member not in member_srs:
            member_srs[member] = envelope_srs(member)
        return member_srs[member]

    def face_srs(face: _Face) -> int:
        if not named:
            return srs(None)
        srs_name = _inherited(face.element, "srsName")
        if srs_name is None:
            srs_name = envelope(face.member) or envelope(element)
        return srs(srs_name)

    if _plain_geometry(chosen, record):
        if named:
            record.srs = [face_srs(face) for face in chosen]
        elif chosen:
            record.srs = [srs(None)] * len(chosen)
        return record
    # Element by element, in the original order: the first broken ring or unknown CRS is the one reported.
    rings: list[np.ndarray] = []
    for face in chosen:
        polygon = polygon_rings(face)
        rings += polygon
        record.ring_counts.append(len(polygon))
        record.srs.append(face_srs(face))
    record.ring_sizes = [len(ring) for ring in rings]
    record.vertices = np.concatenate(rings) if rings else None
    return record
