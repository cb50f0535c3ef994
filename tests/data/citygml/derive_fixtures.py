"""Derive the CityGML 2.0 and 3.0 test fixtures from the real CityGML 1.0 NRW extract (see SOURCE.md).

Run from the repository root: ``python tests/data/citygml/derive_fixtures.py``. Coordinates, ids and attribute
values are copied unchanged; only namespaces and, for 3.0, the element structure are rewritten.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "nrw_lod2_3_buildings_citygml1.gml"

CORE1 = "http://www.opengis.net/citygml/1.0"
BLDG1 = "http://www.opengis.net/citygml/building/1.0"
GEN1 = "http://www.opengis.net/citygml/generics/1.0"
GML = "http://www.opengis.net/gml"
CORE3 = "http://www.opengis.net/citygml/3.0"
BLDG3 = "http://www.opengis.net/citygml/building/3.0"
CON3 = "http://www.opengis.net/citygml/construction/3.0"
GEN3 = "http://www.opengis.net/citygml/generics/3.0"
GML32 = "http://www.opengis.net/gml/3.2"
XAL = "urn:oasis:names:tc:ciq:xsdschema:xAL:2.0"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SCHEMAS_2 = (
    "http://www.opengis.net/citygml/2.0 http://schemas.opengis.net/citygml/2.0/cityGMLBase.xsd "
    "http://www.opengis.net/citygml/building/2.0 http://schemas.opengis.net/citygml/building/2.0/building.xsd "
    "http://www.opengis.net/citygml/generics/2.0 http://schemas.opengis.net/citygml/generics/2.0/generics.xsd"
)
SCHEMAS_3 = (
    "http://www.opengis.net/citygml/3.0 https://schemas.opengis.net/citygml/3.0/core.xsd "
    "http://www.opengis.net/citygml/building/3.0 https://schemas.opengis.net/citygml/building/3.0/building.xsd "
    "http://www.opengis.net/citygml/construction/3.0 "
    "https://schemas.opengis.net/citygml/construction/3.0/construction.xsd "
    "http://www.opengis.net/citygml/generics/3.0 https://schemas.opengis.net/citygml/generics/3.0/generics.xsd"
)


def citygml2(text: str) -> str:
    """CityGML 2.0: the same document with the 2.0 namespaces (the building module did not change)."""
    start = text.index('xsi:schemaLocation="') + len('xsi:schemaLocation="')
    text = text[:start] + SCHEMAS_2 + text[text.index('"', start) :]
    for module in ("", "building/", "generics/", "cityobjectgroup/", "appearance/"):
        text = text.replace(
            f"http://www.opengis.net/citygml/{module}1.0", f"http://www.opengis.net/citygml/{module}2.0"
        )
    return text


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


_BLDG_RENAMED = {
    "boundedBy": _q(CORE3, "boundary"),
    "consistsOfBuildingPart": _q(BLDG3, "buildingPart"),
    "lod2TerrainIntersection": _q(CORE3, "lod2TerrainIntersectionCurve"),
    "ClosureSurface": _q(CORE3, "ClosureSurface"),
}


def _restructured(old: etree._Element, parent: etree._Element) -> bool:
    """Append the 3.0 form of the elements whose structure changed; False for the others."""
    ns, local = etree.QName(old).namespace, etree.QName(old).localname
    if ns == GEN1 and local == "stringAttribute":
        attr = etree.SubElement(etree.SubElement(parent, _q(CORE3, "genericAttribute")), _q(GEN3, "StringAttribute"))
        etree.SubElement(attr, _q(GEN3, "name")).text = old.get("name")
        etree.SubElement(attr, _q(GEN3, "value")).text = old.findtext(_q(GEN1, "value"))
    elif ns == CORE1 and local == "externalReference":
        ref = etree.SubElement(etree.SubElement(parent, _q(CORE3, "externalReference")), _q(CORE3, "ExternalReference"))
        etree.SubElement(ref, _q(CORE3, "targetResource")).text = old.findtext(
            f"{{{CORE1}}}externalObject/{{{CORE1}}}name"
        )
        etree.SubElement(ref, _q(CORE3, "informationSystem")).text = old.findtext(_q(CORE1, "informationSystem"))
    elif ns == BLDG1 and local == "measuredHeight":
        height = etree.SubElement(etree.SubElement(parent, _q(CON3, "height")), _q(CON3, "Height"))
        etree.SubElement(height, _q(CON3, "highReference")).text = "highestRoofEdge"
        etree.SubElement(height, _q(CON3, "lowReference")).text = "lowestGroundPoint"
        etree.SubElement(height, _q(CON3, "status")).text = "measured"
        etree.SubElement(height, _q(CON3, "value"), uom="m").text = old.text
    else:
        return False
    return True


def _renamed(old: etree._Element, parent: etree._Element) -> str:
    """The 3.0 tag of an element whose structure stays."""
    ns, local = etree.QName(old).namespace, etree.QName(old).localname
    if ns == GML:
        in_solid = local == "CompositeSurface" and etree.QName(parent).localname == "exterior"
        return _q(GML32, "Shell" if in_solid else local)
    if ns == CORE1:
        return _q(CORE3, local)
    if ns != BLDG1:
        return str(old.tag)
    if local in _BLDG_RENAMED:
        return _BLDG_RENAMED[local]
    if local.startswith("lod"):
        return _q(CORE3, local)
    return _q(CON3 if local.endswith("Surface") else BLDG3, local)


def _convert(old: etree._Element, parent: etree._Element) -> None:
    """Append the CityGML 3.0 form of ``old`` to ``parent``."""
    if _restructured(old, parent):
        return
    new = etree.SubElement(parent, _renamed(old, parent))
    for name, value in old.attrib.items():
        new.set(_q(GML32, "id") if name == _q(GML, "id") else name, value)
    new.text = old.text
    for child in old:
        if isinstance(child.tag, str):
            _convert(child, new)


def citygml3(text: str) -> bytes:
    """CityGML 3.0: GML 3.2, core:boundary + con:*Surface, core:lodN*, con:height, bldg:buildingPart."""
    old_root = etree.fromstring(text.encode())
    nsmap = {"core": CORE3, "bldg": BLDG3, "con": CON3, "gen": GEN3, "gml": GML32, "xAL": XAL, "xlink": XLINK}
    root = etree.Element(_q(CORE3, "CityModel"), nsmap={**nsmap, "xsi": XSI})
    root.set(_q(XSI, "schemaLocation"), SCHEMAS_3)
    for child in old_root:
        if isinstance(child.tag, str):
            _convert(child, root)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def main() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    (HERE / "nrw_lod2_3_buildings_citygml2.gml").write_text(citygml2(text), encoding="utf-8")
    (HERE / "nrw_lod2_3_buildings_citygml3.gml").write_bytes(citygml3(text) + b"\n")


if __name__ == "__main__":
    main()
