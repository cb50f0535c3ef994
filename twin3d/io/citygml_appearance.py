"""Textures and materials of a CityGML file: twin3d draws LoD2 untextured, so they are only counted.

Part of :mod:`twin3d.io.citygml`. A texture (``app:ParameterizedTexture``, ``app:GeoreferencedTexture``) or a
material (``app:X3DMaterial``) names the surfaces it is laid on by ``app:target`` (CityGML 1.0/2.0: the ``uri``
attribute or the text; 3.0: ``xlink:href``). The count is of distinct targets per file: a surface textured in
three themes counts once. A target is a surface in the CityGML sense, a polygon or a surface collection.
"""

from __future__ import annotations

from typing import Any

from twin3d.io.citygml_tags import APPEARANCE_NS, TARGET_TAGS, XLINK_HREF

_APPEARANCE_TAGS = frozenset(f"{{{ns}}}Appearance" for ns in APPEARANCE_NS)


def add_targets(surface_data: Any, targets: set[str], *, free: bool = True) -> None:
    """Add the surfaces a texture or material element is laid on to ``targets``, then free the element.

    Its contents (texture coordinates, colours) are dropped, and so are the texture and material elements before
    it in the same appearance, so that a file-wide appearance does not stay in memory while the file streams
    (``free``; a tree read whole goes at once).
    """
    for target in surface_data.iter(*TARGET_TAGS):
        value = target.get("uri") or target.get(XLINK_HREF) or (target.text or "").strip()
        if value:
            targets.add(value[1:] if value.startswith("#") else value)
    if not free:
        return
    surface_data.clear(keep_tail=True)
    member = surface_data.getparent()  # app:surfaceDataMember
    appearance = member.getparent() if member is not None else None
    if appearance is not None and appearance.tag in _APPEARANCE_TAGS:
        while member.getprevious() is not None:
            del appearance[0]
