"""The tileset checks a 3D Tiles client relies on, on the real demo twins (external tilesets included)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import REPO
from twin3d.pipeline.build import current_tiles
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.tiling.gltf import decode_glb, read_accessor

TWINS = ("lauf", "rostock", "nrw")


def _root(paths: PathSettings, twin: str) -> Path:
    """The folder of the twin's current build."""
    found = current_tiles(paths, twin)
    assert found is not None
    return found


def walk(tileset_file: Path) -> Iterator[tuple[dict[str, Any], Path, dict[str, Any] | None]]:
    """Every tile (tile, folder its URIs are relative to, parent tile), following external tilesets."""
    doc = json.loads(tileset_file.read_text())
    stack: list[tuple[dict[str, Any], Path, dict[str, Any] | None]] = [(doc["root"], tileset_file.parent, None)]
    while stack:
        tile, folder, parent = stack.pop()
        yield tile, folder, parent
        uri = tile.get("content", {}).get("uri", "")
        if uri.endswith(".json"):
            external = folder / uri
            sub = json.loads(external.read_text())
            assert sub["asset"]["version"] == "1.1"
            stack.append((sub["root"], external.parent, tile))
        stack.extend((child, folder, tile) for child in tile.get("children", []))


def content_points(glb: bytes) -> tuple[np.ndarray, dict[str, Any], bytes]:
    """Vertex positions of a tile's content in the tile's frame (node transform applied, y-up turned z-up)."""
    doc, blob = decode_glb(glb)
    prim = doc["meshes"][0]["primitives"][0]
    pos = read_accessor(doc, blob, prim["attributes"]["POSITION"]).astype(np.float64)
    node = doc["nodes"][0]
    pos = pos * np.asarray(node.get("scale", [1, 1, 1])) + np.asarray(node.get("translation", [0, 0, 0]))
    return np.column_stack([pos[:, 0], -pos[:, 2], pos[:, 1]]), doc, blob


def leaf_ids(doc: dict[str, Any], blob: bytes) -> list[str]:
    table = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]
    values = doc["bufferViews"][table["properties"]["id"]["values"]]
    offsets = doc["bufferViews"][table["properties"]["id"]["stringOffsets"]]
    off = np.frombuffer(blob, np.uint32, table["count"] + 1, offsets["byteOffset"])
    raw = blob[values["byteOffset"] : values["byteOffset"] + values["byteLength"]]
    return [raw[off[i] : off[i + 1]].decode() for i in range(table["count"])]


@pytest.mark.parametrize("twin", TWINS)
def test_tileset_structure(built: dict[str, BuildReport], demo_paths: PathSettings, twin: str) -> None:
    root_file = _root(demo_paths, twin) / "tileset.json"
    doc = json.loads(root_file.read_text())
    assert doc["asset"]["version"] == "1.1"
    assert doc["root"]["refine"] in ("ADD", "REPLACE")
    assert len(doc["root"]["transform"]) == 16
    assert doc["geometricError"] >= doc["root"]["geometricError"]
    externals = overviews = 0
    for tile, _, parent in walk(root_file):
        assert "box" in tile["boundingVolume"]
        assert tile.get("refine", "ADD") in ("ADD", "REPLACE")
        if parent is not None:
            assert tile["geometricError"] <= parent["geometricError"]
        uri = tile.get("content", {}).get("uri", "")
        externals += uri.endswith(".json")
        overviews += uri.startswith("o/") or "/o/" in uri
        if uri.endswith(".glb") and "children" not in tile:
            assert tile["geometricError"] == 0
        if tile.get("refine") == "REPLACE":
            # A coarse level (of a partition or a group of them) replaced by its children, a leaf, a partition's
            # tileset, or an empty tile (nothing big enough to show at its size).
            assert uri.endswith((".glb", ".json")) or (not uri and tile["children"])
    assert externals >= 1  # one external tileset per partition
    if externals > 1:
        assert overviews  # tiles above the partitions show the biggest buildings from afar


@pytest.mark.parametrize("twin", TWINS)
def test_every_content_lies_inside_its_box(built: dict[str, BuildReport], demo_paths: PathSettings, twin: str) -> None:
    checked = 0
    for tile, folder, _ in walk(_root(demo_paths, twin) / "tileset.json"):
        uri = tile.get("content", {}).get("uri", "")
        if not uri.endswith(".glb"):
            continue
        points, _, _ = content_points((folder / uri).read_bytes())
        box = np.asarray(tile["boundingVolume"]["box"])
        centre, axes = box[:3], box[3:].reshape(3, 3)
        # Coordinates of each point along the box's half axes must lie within [-1, 1].
        local = np.linalg.solve(axes.T, (points - centre).T).T
        assert np.abs(local).max() <= 1.0, uri
        checked += 1
    assert checked


@pytest.mark.parametrize("twin", TWINS)
def test_buildings_in_leaf_tiles_equal_source_minus_drops(
    built: dict[str, BuildReport], demo_paths: PathSettings, twin: str
) -> None:
    report = built[twin]
    source_count = sum(s.records_in for s in report.sources if s.kind == "buildings")
    drops = sum(s.dropped for s in report.sources if s.kind == "buildings")
    ids: list[str] = []
    for tile, folder, _ in walk(_root(demo_paths, twin) / "tileset.json"):
        uri = tile.get("content", {}).get("uri", "")
        if not uri.endswith(".glb"):
            continue
        _, doc, blob = content_points((folder / uri).read_bytes())
        table = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]
        prim = doc["meshes"][0]["primitives"][0]
        fids = read_accessor(doc, blob, prim["attributes"]["_FEATURE_ID_0"])
        assert prim["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] == table["count"]
        assert set(np.unique(fids).astype(int).tolist()) == set(range(table["count"]))
        assert all(view.get("byteOffset", 0) % 8 == 0 for view in doc["bufferViews"])
        if "children" not in tile:  # coarse levels repeat buildings the leaves hold
            ids.extend(leaf_ids(doc, blob))
    assert len(ids) == len(set(ids)) == source_count - drops


def gltf_validate(files: list[Path]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "Node.js is needed for the glTF validator (see README: npm ci --prefix viewer)"
    assert (REPO / "viewer" / "node_modules" / "gltf-validator").is_dir(), "run: npm ci --prefix viewer"
    result = subprocess.run(
        [node, str(REPO / "tests" / "tools" / "validate_gltf.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_glb_passes_the_khronos_gltf_validator(built: dict[str, BuildReport], demo_paths: PathSettings) -> None:
    files = sorted(p for twin in TWINS for p in _root(demo_paths, twin).rglob("*.glb"))
    reports = gltf_validate(files)
    assert len(reports) == len(files)
    failed = [r for r in reports if r["errors"] or r["warnings"]]
    assert failed == [], failed[:3]
