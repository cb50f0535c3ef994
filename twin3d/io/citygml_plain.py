"""The fast path of the CityGML reader: buildings in the common encoding, read a batch at a time.

Part of :mod:`twin3d.io.citygml`. Nearly every LoD2 file of the German surveying authorities (and most others)
writes a building the same way: boundary surfaces (``bldg:boundedBy/bldg:WallSurface/bldg:lod2MultiSurface/
gml:MultiSurface/gml:surfaceMember/gml:Polygon``, or the CityGML 3.0 equivalent), rings as ``gml:LinearRing/
gml:posList`` of x y z, and the building's parts one level down. For such a building :func:`walk` goes straight
down those paths and collects the ring texts, without classifying each polygon from below as the general reader
does; the numbers of a whole batch of buildings are then parsed by one Arrow call (correctly rounded, like
``float``), and the rings are checked with numpy.

A building takes this path only where it gives exactly what :mod:`twin3d.io.citygml_geometry` would: every polygon
of the building lies on those paths (counted), every ring is written in the plain form, and every ring passes the
checks of the general reader's own fast path (at least three corners, the first three distinct, no closing corner
in other digits, finite numbers). Any other building is read by the general reader, which gives the same result or
the error with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twin3d.io.citygml_tags import BUILDING_NS, CITYGML, GML_NS, PART_TAGS, POLYGON_TAGS, envelope_srs, gml

_CORE_3 = f"{CITYGML}3.0"
_CON_3 = f"{CITYGML}construction/3.0"
_KIND_CODES = {
    "GroundSurface": 1,
    "WallSurface": 2,
    "RoofSurface": 3,
    "ClosureSurface": 4,
    "OuterFloorSurface": 5,
    "OuterCeilingSurface": 6,
}
_EXTERIOR_TAGS = frozenset(gml("exterior", "outerBoundaryIs"))
_INTERIOR_TAGS = frozenset(gml("interior", "innerBoundaryIs"))
_RING_TAGS = frozenset(gml("LinearRing"))
_POSLIST_TAGS = frozenset(gml("posList"))
_PART_TAG_SET = frozenset(PART_TAGS)


@dataclass(frozen=True)
class _Profile:
    """The element names of the common encoding in one CityGML version."""

    boundary: str  # the property holding a boundary surface
    kinds: dict[str, int]  # boundary surface tag -> SurfaceKind
    lod2: str  # the LoD2 multi-surface property of a boundary surface
    part_holder: str  # the property holding a BuildingPart
    part: str
    multi_surface: str
    surface_member: str
    polygon: str


@cache
def profile(building_tag: str) -> _Profile | None:
    """The common encoding for a building element's tag (None: not a CityGML building)."""
    ns = building_tag[1:].partition("}")[0]
    if ns not in BUILDING_NS:
        return None
    if ns.endswith("3.0"):
        gml_ns, core = GML_NS[1], _CORE_3
        kinds = {
            f"{{{core if name == 'ClosureSurface' else _CON_3}}}{name}": code for name, code in _KIND_CODES.items()
        }
        boundary, lod2, holder = f"{{{core}}}boundary", f"{{{core}}}lod2MultiSurface", f"{{{ns}}}buildingPart"
    else:
        gml_ns = GML_NS[0]
        kinds = {f"{{{ns}}}{name}": code for name, code in _KIND_CODES.items()}
        boundary, lod2, holder = f"{{{ns}}}boundedBy", f"{{{ns}}}lod2MultiSurface", f"{{{ns}}}consistsOfBuildingPart"
    return _Profile(
        boundary=boundary,
        kinds=kinds,
        lod2=lod2,
        part_holder=holder,
        part=f"{{{ns}}}BuildingPart",
        multi_surface=f"{{{gml_ns}}}MultiSurface",
        surface_member=f"{{{gml_ns}}}surfaceMember",
        polygon=f"{{{gml_ns}}}Polygon",
    )


@dataclass(slots=True)
class Walked:
    """A building's polygons in the common encoding, in the order the general reader gives them.

    Attributes:
        kinds: SurfaceKind per polygon.
        ring_counts: rings per polygon (the exterior first).
        texts: the ``gml:posList`` text of each ring.
        srs_names: per polygon the srsName the general reader would look up (None: the file's CRS).
        parts: the building's BuildingParts the walk went through.
    """

    kinds: list[int]
    ring_counts: list[int]
    texts: list[str]
    srs_names: list[str | None]
    parts: list[Any] = field(default_factory=list)  # the BuildingParts one level down


def _inherited_dimension(chain: tuple[Any, ...]) -> str | None:
    """The srsDimension a polygon inherits as in the general reader: the nearest on its chain (the polygon first)."""
    for element in chain:
        value = element.get("srsDimension")
        if value is not None:
            return str(value)
    return None


def _srs_name(elements: tuple[Any, ...]) -> str | None:
    """The nearest srsName on a chain of elements, None without one (an empty one counts: it means the file's)."""
    for element in elements:
        name = element.get("srsName")
        if name is not None:
            return str(name)
    return None


def _plain_rings(polygon: Any, member: Any, outer: tuple[Any, ...], texts: list[str]) -> int:
    """Append the ring texts of a polygon (exterior, then interiors) and return their number; 0 if not plain.

    A polygon is plain where its rings are a ``gml:exterior`` (then ``gml:interior``s), each a ``gml:LinearRing``
    holding a ``gml:posList`` first, with text and an srsDimension of 3: the posList's own, else inherited from the
    polygon or an ancestor below its Building or BuildingPart (``member``: its surface member, ``outer``: the
    ancestors above that), as in the general reader's own fast path.
    """
    rings = 0
    for ring_property in (polygon[0],) if len(polygon) == 1 else polygon:
        tag = ring_property.tag
        if tag in _EXTERIOR_TAGS:
            if rings:
                return 0
        elif tag in _INTERIOR_TAGS:
            if not rings:
                return 0
        else:
            continue
        ring = ring_property[0] if len(ring_property) else None
        poslist = ring[0] if ring is not None and ring.tag in _RING_TAGS and len(ring) else None
        if poslist is None or poslist.tag not in _POSLIST_TAGS:
            return 0
        dimension = poslist.get("srsDimension") or _inherited_dimension((polygon, member, *outer))
        text = poslist.text
        if (dimension and dimension != "3") or not text:
            return 0
        texts.append(text)
        rings += 1
    return rings


def _collect(boundaries: Any, plan: _Profile, into: Walked, envelope: str | None) -> bool:
    """Add the polygons of boundary-surface properties to ``into``; False where one is not in the plain form.

    Nested loops down the fixed path, no call but one per polygon: lxml's element access is the cost here (about
    0.1 us a step), and a building has a dozen polygons or more.
    """
    texts, kinds, counts, names = into.texts, into.kinds, into.ring_counts, into.srs_names
    kind_of, lod2_tag, multi_tag = plan.kinds.get, plan.lod2, plan.multi_surface
    member_tag, polygon_tag = plan.surface_member, plan.polygon
    for boundary in boundaries:
        for surface in (boundary[0],) if len(boundary) == 1 else boundary:
            kind = kind_of(surface.tag)
            if kind is None:
                continue
            for lod2 in (surface[0],) if len(surface) == 1 else surface:
                if lod2.tag != lod2_tag:
                    continue
                for multi in (lod2[0],) if len(lod2) == 1 else lod2:
                    if multi.tag != multi_tag:
                        continue
                    outer = (multi, lod2, surface, boundary)
                    # Where no polygon or surface member names a CRS: the one named above, else the envelope's.
                    above = _srs_name(outer)
                    fallback = envelope if above is None else above
                    for member in (multi[0],) if len(multi) == 1 else multi:
                        if member.tag != member_tag:
                            continue
                        for polygon in (member[0],) if len(member) == 1 else member:
                            if polygon.tag != polygon_tag:
                                continue
                            rings = _plain_rings(polygon, member, outer, texts)
                            if not rings:
                                return False
                            kinds.append(kind)
                            counts.append(rings)
                            name = _srs_name((polygon, member))
                            names.append(fallback if name is None else name)
    return True


def walk(building: Any, plan: _Profile) -> Walked | None:
    """The polygons of a building and its parts in the common encoding; None where the building is written otherwise.

    Polygons elsewhere (LoD1 solids, other LoDs, nested parts, installations) are not seen: the caller compares the
    count with :func:`polygon_count`. The general reader groups polygons by Building or BuildingPart in the order
    their first polygons come; a building with polygons of its own and in parts (rare) is left to it.
    """
    envelope = envelope_srs(building)
    walked = Walked([], [], [], [])
    if not _collect(building.iterchildren(plan.boundary), plan, walked, envelope):
        return None
    own = len(walked.kinds)
    for holder in building.iterchildren(plan.part_holder):
        for part in holder.iterchildren(plan.part):
            walked.parts.append(part)
            boundaries = part.iterchildren(plan.boundary)
            if not _collect(boundaries, plan, walked, envelope_srs(part) or envelope):
                return None
    return None if own and len(walked.kinds) > own else walked


def polygon_count(element: Any) -> int:
    """How many polygon elements (of any kind the general reader reads) an element holds."""
    return sum(1 for _ in element.iter(*POLYGON_TAGS))


def tally(element: Any) -> tuple[int, int]:
    """How many polygon elements and how many BuildingParts an element holds, in one pass."""
    polygons = parts = 0
    for found in element.iter(*POLYGON_TAGS, *PART_TAGS):
        if found.tag in _PART_TAG_SET:
            parts += 1
        else:
            polygons += 1
    return polygons, parts


@dataclass(slots=True)
class Rings:
    """The rings of a batch, parsed: corners of the open rings one after the other, and which ring is fine.

    Attributes:
        vertices: (v, 3) corners, the closing corner (written as the first) left out.
        sizes: corners per ring.
        ok: whether the ring passes the general reader's checks (else its building is read by the general reader).
    """

    vertices: np.ndarray
    sizes: np.ndarray
    ok: np.ndarray
    starts: np.ndarray  # (r + 1,) index of each ring's first corner in ``vertices``


def parse_rings(texts: list[str]) -> Rings | None:
    """Parse the ring texts of a batch in one go; None where a number does not parse (then building by building).

    Numbers are parsed by Arrow (fast_float: correctly rounded, so the same doubles as ``float``); tokens are split
    on ASCII whitespace, and any other whitespace leaves a token Arrow cannot parse. A closing corner is recognised,
    as in the general reader, by the same digits as the first corner.
    """
    tokens = pc.ascii_split_whitespace(pa.array(texts, pa.string()))
    counts = pc.list_value_length(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(tokens)
    try:
        values = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    # Only rings of x y z triples with at least three corners are looked at further; the rest are not ok.
    whole = np.flatnonzero((counts >= 9) & (counts % 3 == 0))
    first_at, end_at = starts[whole], starts[whole] + counts[whole]
    head = first_at[:, None] + np.arange(3)
    tail = end_at[:, None] - 3 + np.arange(3)
    same_digits = pc.equal(flat.take(pa.array(head.ravel())), flat.take(pa.array(tail.ravel())))
    closing = same_digits.to_numpy(zero_copy_only=False).reshape(-1, 3).all(axis=1)
    corners = values[first_at[:, None] + np.arange(9)]
    first, second, third = corners[:, 0:3], corners[:, 3:6], corners[:, 6:9]
    last = values[tail]
    bad = np.concatenate([[0], np.cumsum(~np.isfinite(values))])
    sizes_whole = counts[whole] // 3 - closing
    good = (
        (sizes_whole >= 3)
        & ~(first == second).all(axis=1)
        & ~(third == first).all(axis=1)
        & ~(third == second).all(axis=1)
        & (closing | ~(first == last).all(axis=1))  # a closing corner in other digits (1.0 for 1): not plain
        & (bad[end_at] == bad[first_at])
    )
    ok = np.zeros(len(counts), dtype=bool)
    ok[whole[good]] = True
    sizes = np.zeros(len(counts), dtype=np.int64)
    sizes[ok] = sizes_whole[good]
    # Keep the corners of the rings that are ok, without the closing one.
    keep = np.repeat(ok, counts)
    if closing.any():
        keep[tail[closing & good].ravel()] = False
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return Rings(values[keep].reshape(-1, 3), sizes, ok, offsets)
