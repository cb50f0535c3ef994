"""The 3D Tiles 1.1 JSON we emit, kept apart from the producers.

The typed dicts describe what the tilers build; :func:`tileset_json` passes every tileset through py3dtiles'
tileset data model (``TileSet``/``Tile``), which checks refinement values, bounding volumes and transforms and
writes the JSON. Only its creation timestamp is left out, so that unchanged tilesets keep their bytes.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

import numpy as np
from py3dtiles.tileset import TileSet

from twin3d import __version__

PARTITIONS_DIR = "p"  # <tileset>/p/<partition>/tileset.json: one external tileset per partition


class Asset(TypedDict):
    version: Literal["1.1"]
    generator: NotRequired[str]
    tilesetVersion: NotRequired[str]
    extras: NotRequired[dict[str, Any]]


class BoundingVolume(TypedDict):
    box: list[float]


class Content(TypedDict):
    uri: str


class Tile(TypedDict):
    boundingVolume: BoundingVolume
    geometricError: float
    refine: NotRequired[Literal["ADD", "REPLACE"]]
    transform: NotRequired[list[float]]
    content: NotRequired[Content]
    children: NotRequired[list[Tile]]


class Tileset(TypedDict):
    asset: Asset
    geometricError: float
    root: Tile
    extras: NotRequired[dict[str, Any]]


def box_volume(lo: list[float] | tuple[float, ...], hi: list[float] | tuple[float, ...]) -> BoundingVolume:
    """An axis-aligned box bounding volume from its min and max corners (3D Tiles ``box``)."""
    center = [(a + b) / 2.0 for a, b in zip(lo, hi, strict=True)]
    half = [max((b - a) / 2.0, 0.01) for a, b in zip(lo, hi, strict=True)]
    return {"box": [float(v) for v in [*center, half[0], 0.0, 0.0, 0.0, half[1], 0.0, 0.0, 0.0, half[2]]]}


def box_bounds(volume: BoundingVolume) -> tuple[np.ndarray, np.ndarray]:
    """The min and max corners of a ``box`` bounding volume (its half axes may be rotated)."""
    box = np.asarray(volume["box"], dtype=np.float64)
    half = np.abs(box[3:].reshape(3, 3)).sum(axis=0)
    return box[:3] - half, box[:3] + half


def tileset_json(root: Tile, geometric_error: float, extras: dict[str, Any] | None = None) -> Tileset:
    """A complete tileset document for ``root``, through py3dtiles' data model.

    Args:
        root: the root tile (with its subtree).
        geometric_error: the tileset's geometric error (at least the root's).
        extras: tileset-level ``extras`` (e.g. the input fingerprint of a partition).
    """
    raw: dict[str, Any] = {
        "asset": {"version": "1.1"},
        "geometricError": geometric_error,
        "root": root,
    }
    model = TileSet.from_dict(cast(Any, raw))
    doc = cast(dict[str, Any], model.to_dict())
    # py3dtiles stamps the creation date into asset.extras; a date would change every rebuilt file.
    doc["asset"] = {"version": "1.1", "generator": f"twin3d {__version__}"}
    if extras:
        doc["extras"] = extras
    return cast(Tileset, doc)
