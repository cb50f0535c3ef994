"""Streaming over large XML files (NAS, GML): every element once, the document's members dropped once read; names
without namespaces."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lxml import etree

from twin3d.errors import InputError


def local_name(tag: object) -> str:
    """An element's name without its namespace (``{http://www.opengis.net/gml/3.2}Polygon`` -> ``Polygon``); empty
    for comments and processing instructions, whose tag is no string."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def stream_elements(path: Path, on_start: Callable[[Any], None] | None = None) -> Iterator[tuple[Any, Any]]:
    """``(element, root)`` as each element of ``path`` ends, in document order.

    An element is complete when it is yielded; once a child of the root (a feature member) has been yielded it is
    cleared and dropped with the members before it, so memory stays flat however long the file is.

    Args:
        path: the XML file.
        on_start: called with each element as it starts (its attributes are there, its children not yet).

    Raises:
        InputError: the file is not well-formed XML (names the line).
    """
    root = None
    try:
        for event, element in etree.iterparse(str(path), events=("start", "end"), huge_tree=True, remove_comments=True):
            if event == "start":
                root = element if root is None else root
                if on_start is not None:
                    on_start(element)
                continue
            yield element, root
            if root is not None and element.getparent() is root:
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del root[0]
    except etree.XMLSyntaxError as exc:
        raise InputError(
            f"not well-formed XML: {exc.msg}", file=path, record=f"line {exc.lineno}", hint="is the file complete?"
        ) from exc
