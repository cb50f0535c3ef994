"""The attribute row of a CityGML building: its own values, else those of its parts.

Part of :mod:`twin3d.io.citygml`.
"""

from __future__ import annotations

from typing import Any

from twin3d.io.citygml_tags import CON_NS, Invalid, bldg, gml

_CON_HEIGHT = f"{{{CON_NS}}}height"
_CON_HEIGHT_OBJECT = f"{{{CON_NS}}}Height"
# Attribute column of each attribute element (a direct child of a Building or BuildingPart).
_ATTRIBUTE_TAGS = {
    tag: column
    for column, tags in (
        ("function", bldg("function")),
        ("name", gml("name")),
        ("measured_height", bldg("measuredHeight")),
        ("roof_type", bldg("roofType")),
        ("storeys", bldg("storeysAboveGround")),
    )
    for tag in tags
}
# The same by local name: lxml matches a few "{*}name" patterns faster than many qualified tags.
_ATTRIBUTE_NAMES = tuple(sorted({"{*}" + tag.partition("}")[2] for tag in _ATTRIBUTE_TAGS}))


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
        raise Invalid(f"{what} {text!r} is not a number") from None


def _height_3_0(element: Any) -> str | None:
    """The value of a CityGML 3.0 ``con:height``: measured roof-top height first."""
    best: tuple[int, str] | None = None
    for prop in element.iterchildren(_CON_HEIGHT):
        for height in prop.iterchildren(_CON_HEIGHT_OBJECT):
            value = _first_text(height, (f"{{{CON_NS}}}value",))
            if value is None:
                continue
            score = (_first_text(height, (f"{{{CON_NS}}}status",)) == "measured") + (
                _first_text(height, (f"{{{CON_NS}}}highReference",)) in (None, "highestRoofEdge")
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


def building_attributes(building: Any, parts: list[Any], building_id: str) -> dict[str, Any]:
    """The ATTRIBUTE_SCHEMA row (``lod`` left None): the building's own values, else taken from its parts.

    Where only the parts carry them (NRW writes heights per part), function, name and roof type come from the
    first part that has one; measured height and storeys are the largest over the parts.

    Raises:
        Invalid: a measured height or storey count is not a number.
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
