"""ALKIS, the German cadastre: parcels, buildings and actual land use from NAS XML, streamed.

NAS (Normbasierte Austauschschnittstelle) is the GML exchange format of the AAA model (GeoInfoDok 5.1 to 7.1). A
file may hold any object types, in a WFS ``FeatureCollection``, a NAS ``AX_Bestandsdatenauszug`` or an
``AX_Fortfuehrungsauftrag``; the objects wanted are recognised by their local name, whatever the namespace version.

Only the object types and the elements listed here are read. ALKIS files also carry owners and land-register
entries (``AX_Person``, ``AX_Buchungsblatt``, ``istGebucht``): those are never read, so they cannot reach a store.

The attribute names are the lower-case names of the PostNAS schema (GDAL's NAS driver), which the open-data
exports of the Länder (GeoPackage, Shapefile) use too, so one field mapping fits both. Curved boundaries (``Arc``,
``Circle``) are linearised to 1 cm.

Example:
    >>> table = read_nas(Path("flurstueck.gml"), CRS.from_epsg(25832), "parcels")  # doctest: +SKIP
    >>> table.attributes.column_names[:3]  # doctest: +SKIP
    ['gml_id', 'objektart', 'flurstueckskennzeichen']
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, reproject
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable
from twin3d.io.xml_stream import local_name, stream_elements

CadastreKind = Literal["parcels", "buildings", "land_use"]

GML_ID = ("{http://www.opengis.net/gml/3.2}id", "{http://www.opengis.net/gml}id")
ARC_TOLERANCE_M = 0.01
SKIP_HISTORIC = "historic version of the object (its lifetime has ended)"
SKIP_NO_GEOMETRY = "object without a readable surface geometry"

# The classes of the actual land use (tatsächliche Nutzung), ALKIS Objektartenbereich 41000: German and English
# names and the group (Objektartengruppe). Source: GeoInfoDok 7.1, ALKIS-Objektartenkatalog (AdV).
LAND_USE_CLASSES: dict[str, tuple[str, str, str]] = {
    "ax_wohnbauflaeche": ("Wohnbaufläche", "Residential area", "Siedlung"),
    "ax_industrieundgewerbeflaeche": ("Industrie- und Gewerbefläche", "Industrial and commercial area", "Siedlung"),
    "ax_halde": ("Halde", "Spoil heap", "Siedlung"),
    "ax_bergbaubetrieb": ("Bergbaubetrieb", "Mining site", "Siedlung"),
    "ax_tagebaugrubesteinbruch": ("Tagebau, Grube, Steinbruch", "Open pit, quarry", "Siedlung"),
    "ax_flaechegemischternutzung": ("Fläche gemischter Nutzung", "Mixed-use area", "Siedlung"),
    "ax_flaechebesondererfunktionalerpraegung": (
        "Fläche besonderer funktionaler Prägung",
        "Area of special function (public use)",
        "Siedlung",
    ),
    "ax_sportfreizeitunderholungsflaeche": ("Sport-, Freizeit- und Erholungsfläche", "Sport and leisure", "Siedlung"),
    "ax_friedhof": ("Friedhof", "Cemetery", "Siedlung"),
    "ax_strassenverkehr": ("Straßenverkehr", "Road traffic", "Verkehr"),
    "ax_weg": ("Weg", "Path", "Verkehr"),
    "ax_platz": ("Platz", "Square", "Verkehr"),
    "ax_bahnverkehr": ("Bahnverkehr", "Railway", "Verkehr"),
    "ax_flugverkehr": ("Flugverkehr", "Air traffic", "Verkehr"),
    "ax_schiffsverkehr": ("Schiffsverkehr", "Shipping", "Verkehr"),
    "ax_landwirtschaft": ("Landwirtschaft", "Agriculture", "Vegetation"),
    "ax_wald": ("Wald", "Forest", "Vegetation"),
    "ax_gehoelz": ("Gehölz", "Woody vegetation", "Vegetation"),
    "ax_heide": ("Heide", "Heath", "Vegetation"),
    "ax_moor": ("Moor", "Bog", "Vegetation"),
    "ax_sumpf": ("Sumpf", "Marsh", "Vegetation"),
    "ax_unlandvegetationsloseflaeche": ("Unland, vegetationslose Fläche", "Barren land", "Vegetation"),
    "ax_fliessgewaesser": ("Fließgewässer", "Watercourse", "Gewässer"),
    "ax_hafenbecken": ("Hafenbecken", "Harbour basin", "Gewässer"),
    "ax_stehendesgewaesser": ("Stehendes Gewässer", "Standing water", "Gewässer"),
    "ax_meer": ("Meer", "Sea", "Gewässer"),
}
SEALED_LAND_USE = frozenset(
    {"ax_wohnbauflaeche", "ax_industrieundgewerbeflaeche", "ax_flaechegemischternutzung",
     "ax_flaechebesondererfunktionalerpraegung"}
)  # fmt: skip
"""Land uses a Bebauungsplan's building density applies to (built-up land, not roads, fields or water)."""

# The elements read per object type (local names), as column names (lower case, as in PostNAS).
_FIELDS: dict[CadastreKind, tuple[str, ...]] = {
    "parcels": (
        "flurstueckskennzeichen", "amtlicheflaeche", "land", "gemarkungsnummer", "flurnummer", "zaehler", "nenner",
        "zeitpunktderentstehung",
    ),
    "buildings": (
        "gebaeudefunktion", "weiteregebaeudefunktion", "name", "anzahlderoberirdischengeschosse",
        "anzahlderunterirdischengeschosse", "dachform", "hochhaus", "objekthoehe", "bauweise", "zustand",
        "lagezurerdoberflaeche",
    ),
    "land_use": ("funktion", "name", "vegetationsmerkmal", "zustand", "art", "nutzung"),
}  # fmt: skip
_TYPES: dict[CadastreKind, frozenset[str]] = {
    "parcels": frozenset({"ax_flurstueck"}),
    "buildings": frozenset({"ax_gebaeude"}),
    "land_use": frozenset(LAND_USE_CLASSES),
}
_ALL_TYPES = frozenset().union(*_TYPES.values())


def postnas_text(values: pa.Array) -> pa.Array:
    """Text as a person reads it from PostNAS array literals: ``{Kirche}`` -> ``Kirche``, ``{"Herz Jesu",Kapelle}`` ->
    ``Herz Jesu, Kapelle`` (the Länder's exports derived from PostNAS keep ALKIS's repeatable names as such literals);
    other text is unchanged."""
    inner = pc.replace_substring_regex(values, r"^\{(.*)\}$", r"\1")
    arrays = pc.match_substring_regex(values, r"^\{.*\}$")
    plain = pc.replace_substring(pc.replace_substring_regex(inner, r'"?,"?', ", "), '"', "")
    return pc.if_else(pc.fill_null(arrays, False), plain, values)


def _arc_points(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, *, full: bool = False) -> np.ndarray:
    """Points along the circular arc through ``p0``, ``p1``, ``p2`` (a whole circle if ``full``), 1 cm off at most."""
    ax, ay = p0
    bx, by = p1
    cx, cy = p2
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    if abs(d) < 1e-12:  # collinear: a straight segment
        return np.array([p0, p2])
    ux = ((ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)) / d
    uy = ((ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)) / d
    r = math.hypot(ax - ux, ay - uy)
    a0, a2 = math.atan2(ay - uy, ax - ux), math.atan2(cy - uy, cx - ux)
    ccw = d > 0  # the three points turn counter-clockwise: the arc runs that way through the middle one
    if full:
        sweep = 2 * math.pi if ccw else -2 * math.pi
    else:
        sweep = (a2 - a0) % (2 * math.pi) if ccw else -((a0 - a2) % (2 * math.pi))
    step = 2 * math.acos(max(-1.0, 1 - ARC_TOLERANCE_M / r)) if r > ARC_TOLERANCE_M else math.pi / 2
    n = min(720, max(2, math.ceil(abs(sweep) / max(step, 1e-6)) + 1))
    angles = a0 + np.linspace(0.0, sweep, n)
    points = np.column_stack([ux + r * np.cos(angles), uy + r * np.sin(angles)])
    points[-1] = p0 if full else p2  # end exactly where the next segment starts
    return points


def _positions(element: Any) -> np.ndarray:
    """The 2D points of a ``posList`` or of ``pos`` children."""
    dim = 2
    pos_list = next((c for c in element if local_name(c.tag) == "posList"), None)
    if pos_list is not None:
        dim = int(pos_list.get("srsDimension") or element.get("srsDimension") or 2)
        values = np.array((pos_list.text or "").split(), dtype=np.float64)
    else:
        values = np.array([v for c in element if local_name(c.tag) == "pos" for v in (c.text or "").split()[:2]], float)
    if len(values) % dim:
        raise ValueError("coordinate list of odd length")
    return values.reshape(-1, dim)[:, :2]


def _segment_points(segment: Any) -> np.ndarray:
    name = local_name(segment.tag)
    points = _positions(segment)
    if name in {"LineStringSegment", "LineString"}:
        return points
    if name in {"Arc", "ArcString"}:
        parts = [_arc_points(points[i], points[i + 1], points[i + 2]) for i in range(0, len(points) - 2, 2)]
        return np.concatenate([p[:-1] for p in parts[:-1]] + [parts[-1]]) if parts else points
    if name == "Circle":
        return _arc_points(points[0], points[1], points[2], full=True)
    raise ValueError(f"curve segment {name} is not supported")


def _ring(ring: Any) -> np.ndarray:
    """A ring's points: a ``LinearRing``, or a ``Ring`` of curve members made of segments (linearised)."""
    if local_name(ring.tag) == "LinearRing":
        return _positions(ring)
    parts: list[np.ndarray] = []
    for segment in ring.iter():
        if local_name(segment.tag) in {"LineStringSegment", "Arc", "ArcString", "Circle"}:
            points = _segment_points(segment)
            parts.append(points if not parts else points[1:])
        elif local_name(segment.tag) == "LineString" and local_name(segment.getparent().tag) == "curveMember":
            points = _positions(segment)
            parts.append(points if not parts else points[1:])
    if not parts:
        raise ValueError("ring without coordinates")
    return np.concatenate(parts)


def _polygons(position: Any) -> list[shapely.Polygon]:
    """The polygons under a ``position`` element: Polygon, Surface patches, MultiSurface members."""
    polygons = []
    for element in position.iter():
        if local_name(element.tag) not in {"Polygon", "PolygonPatch"}:
            continue
        shell, holes = None, []
        for boundary in element:
            which = local_name(boundary.tag)
            if which not in {"exterior", "interior"} or not len(boundary):
                continue
            ring = _ring(boundary[0])
            if which == "exterior":
                shell = ring
            else:
                holes.append(ring)
        if shell is None:
            raise ValueError("polygon without an exterior ring")
        polygons.append(shapely.Polygon(shell, holes))
    return polygons


def _srs_name(element: Any) -> str | None:
    for node in element.iter():
        if srs := node.get("srsName"):
            return str(srs)
    return None


def _fields(feature: Any, wanted: tuple[str, ...]) -> dict[str, str]:
    """The wanted elements' texts (first occurrence, at any depth outside the geometry), by lower-case name."""
    found: dict[str, str] = {}
    names = set(wanted)
    for node in feature.iter():
        name = local_name(node.tag).lower()
        if name in names and name not in found and node.text and node.text.strip():
            found[name] = node.text.strip()
    return found


def _historic(feature: Any) -> bool:
    return any(local_name(node.tag) == "endet" for node in feature.iter())


def read_nas(
    path: Path,
    target_crs: CRS,
    kind: CadastreKind,
    *,
    declared_crs: str | None = None,
    skipped: SkipLog | None = None,
) -> FeatureTable:
    """Read the parcels, the buildings or the actual land use of a NAS XML file, streaming.

    Args:
        path: a NAS file (``.xml``/``.gml``), e.g. a WFS answer of a Land's ALKIS service or a NAS export.
        target_crs: the twin's projected CRS.
        kind: which objects: ``parcels`` (AX_Flurstueck), ``buildings`` (AX_Gebaeude), ``land_use`` (the 26
            classes of :data:`LAND_USE_CLASSES`).
        declared_crs: the CRS to assume where the file names none.
        skipped: collects the objects left out (historic versions, no geometry) with the reason.

    Returns:
        One row per object: ``gml_id``, ``objektart`` (lower case) and the fields of :data:`_FIELDS`.

    Raises:
        InputError: the file is missing or not well-formed XML, or holds none of the objects asked for.
        CRSError: the file names no CRS and none is declared.
    """
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    wanted = _TYPES[kind]
    objects = _Objects(_FIELDS[kind], path, skipped)
    seen_any = False
    for element, _ in stream_elements(path):
        name = local_name(element.tag).lower()
        if name in _ALL_TYPES:
            seen_any = True
            if name in wanted:
                objects.add(element, name)
            element.clear(keep_tail=False)
    if not seen_any:
        raise InputError(
            f"no ALKIS objects in the file (looked for {', '.join(sorted(wanted))[:120]})",
            file=path,
            hint='is this a NAS file (AAA schema)? Shapefile/GeoPackage exports use format = "vector"',
        )
    # No object of the kind: nothing to place, so no CRS is needed.
    source_crs = _source_crs(objects.srs_names, declared_crs, path) if objects.geometries else target_crs
    geoms = np.empty(len(objects.geometries), dtype=object)
    geoms[:] = objects.geometries
    return FeatureTable(
        path,
        source_crs,
        reproject(geoms, source_crs, target_crs),
        pa.table({k: pa.array(v, pa.string()) for k, v in objects.rows.items()}),
    )


class _Objects:
    """The objects of one kind read so far: attribute columns, geometries, the CRS names met."""

    def __init__(self, fields: tuple[str, ...], path: Path, skipped: SkipLog | None) -> None:
        self.fields, self.path, self.skipped = fields, path, skipped
        self.rows: dict[str, list[str | None]] = {name: [] for name in ("gml_id", "objektart", *fields)}
        self.geometries: list[shapely.Geometry] = []
        self.srs_names: set[str] = set()

    def _skip(self, object_id: str, reason: str) -> None:
        if self.skipped is not None:
            self.skipped.add(self.path, object_id, reason)

    def add(self, element: Any, name: str) -> None:
        """Read one object (``name`` its lower-case type), or report why it is left out."""
        object_id = next((str(element.get(a)) for a in GML_ID if element.get(a)), f"{name}#{len(self.geometries)}")
        if _historic(element):
            self._skip(object_id, SKIP_HISTORIC)
            return
        position = next((c for c in element if local_name(c.tag) == "position"), None)
        reason = SKIP_NO_GEOMETRY
        try:
            polygons = _polygons(position) if position is not None else []
        except ValueError as exc:
            polygons, reason = [], f"{SKIP_NO_GEOMETRY}: {exc}"
        if not polygons:
            self._skip(object_id, reason)
            return
        if (srs := _srs_name(position)) is not None:
            self.srs_names.add(srs)
        self.geometries.append(polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons))
        values = _fields(element, self.fields)
        self.rows["gml_id"].append(object_id)
        self.rows["objektart"].append(name)
        for field in self.fields:
            self.rows[field].append(values.get(field))


def _source_crs(srs_names: set[str], declared: str | None, path: Path) -> CRS:
    if declared is not None:
        return parse_crs(declared, file=path)
    if not srs_names:
        raise CRSError("the file names no CRS", file=path, hint='declare it: crs = "EPSG:25832" on the source')
    crss = {parse_crs(s, file=path) for s in srs_names}
    if len(crss) > 1:
        raise CRSError(
            f"the file mixes CRSs ({', '.join(sorted(srs_names))})",
            file=path,
            hint="split the file by CRS, or declare the one to assume",
        )
    return crss.pop()
