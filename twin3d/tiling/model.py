"""The 3D Tiles 1.1 JSON data model we emit, as typed dicts (kept apart from the producers)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict


class Asset(TypedDict):
    version: Literal["1.1"]
    generator: NotRequired[str]
    tilesetVersion: NotRequired[str]


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


def box_volume(lo: list[float] | tuple[float, ...], hi: list[float] | tuple[float, ...]) -> BoundingVolume:
    """An axis-aligned box bounding volume from its min and max corners (3D Tiles ``box``)."""
    center = [(a + b) / 2.0 for a, b in zip(lo, hi, strict=True)]
    half = [max((b - a) / 2.0, 0.01) for a, b in zip(lo, hi, strict=True)]
    return {"box": [*center, half[0], 0.0, 0.0, 0.0, half[1], 0.0, 0.0, 0.0, half[2]]}
