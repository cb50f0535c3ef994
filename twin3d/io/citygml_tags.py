"""Names the CityGML reader looks for (1.0, 2.0 and 3.0), and small helpers every part of it shares.

Part of :mod:`twin3d.io.citygml`; see there for what is read.
"""

from __future__ import annotations

from typing import Any

CITYGML = "http://www.opengis.net/citygml/"
GML_NS = ("http://www.opengis.net/gml", "http://www.opengis.net/gml/3.2")
BUILDING_NS = tuple(f"{CITYGML}building/{version}" for version in ("1.0", "2.0", "3.0"))
APPEARANCE_NS = tuple(f"{CITYGML}appearance/{version}" for version in ("1.0", "2.0", "3.0"))
CON_NS = f"{CITYGML}construction/3.0"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
GML_ID = tuple(f"{{{ns}}}id" for ns in GML_NS)


def gml(*names: str) -> tuple[str, ...]:
    """Qualified tags of GML 3.1 and 3.2 elements."""
    return tuple(f"{{{ns}}}{name}" for ns in GML_NS for name in names)


def bldg(*names: str) -> tuple[str, ...]:
    """Qualified tags of elements of the building module of CityGML 1.0, 2.0 and 3.0."""
    return tuple(f"{{{ns}}}{name}" for ns in BUILDING_NS for name in names)


BUILDING_TAGS = bldg("Building")
PART_TAGS = bldg("BuildingPart")
POLYGON_TAGS = gml("Polygon", "PolygonPatch", "Triangle")
# What carries a texture or a material, and the element naming the surface it is laid on.
SURFACE_DATA_TAGS = tuple(
    f"{{{ns}}}{name}"
    for ns in APPEARANCE_NS
    for name in ("ParameterizedTexture", "GeoreferencedTexture", "X3DMaterial")
)
TARGET_TAGS = tuple(f"{{{ns}}}target" for ns in APPEARANCE_NS)
_BOUNDED_BY_TAGS = gml("boundedBy")
_ENVELOPE_TAGS = gml("Envelope")


class Invalid(Exception):
    """A building cannot be read; the message says why (turned into an InputError that names the building)."""


def gml_id(element: Any) -> str | None:
    """The element's gml:id (GML 3.1 or 3.2), None without one."""
    for attr in GML_ID:
        value = element.get(attr)
        if value:
            return str(value)
    return None


def envelope_srs(element: Any) -> str | None:
    """The srsName of an element's own gml:boundedBy/gml:Envelope."""
    for bounded_by in element.iterchildren(*_BOUNDED_BY_TAGS):
        for envelope in bounded_by.iterchildren(*_ENVELOPE_TAGS):
            if envelope.get("srsName"):
                return str(envelope.get("srsName"))
    return None
