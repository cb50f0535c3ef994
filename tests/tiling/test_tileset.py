"""The tileset checks a 3D Tiles client relies on, on the real demo twins."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import REPO
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.tiling.gltf import decode_glb, read_accessor

TWINS = ("lauf", "rostock")


def _tiles(tile: dict[str, Any]) -> list[dict[str, Any]]:
    out = [tile]
    for child in tile.get("children", []):
        out.extend(_tiles(child))
    return out


def _tileset(paths: PathSettings, twin: str) -> dict[str, Any]:
    return json.loads((paths.tileset_dir(twin) / "tileset.json").read_text())


@pytest.mark.parametrize("twin", TWINS)
def test_tileset_structure(built: dict[str, BuildReport], demo_paths: PathSettings, twin: str) -> None:
    tileset = _tileset(demo_paths, twin)
    assert tileset["asset"]["version"] == "1.1"
    root = tileset["root"]
    assert root["refine"] == "ADD"
    assert len(root["transform"]) == 16
    assert tileset["geometricError"] >= root["geometricError"]

    def check(tile: dict[str, Any]) -> None:
        assert "box" in tile["boundingVolume"]
        for child in tile.get("children", []):
            assert child["geometricError"] <= tile["geometricError"]
            check(child)
        if "content" in tile:
            assert tile["content"]["uri"].endswith(".glb")
            assert tile["geometricError"] == 0 or "children" in tile

    check(root)


def _content_points(glb: bytes) -> tuple[np.ndarray, dict[str, Any], bytes]:
    doc, blob = decode_glb(glb)
    prim = doc["meshes"][0]["primitives"][0]
    pos = read_accessor(doc, blob, prim["attributes"]["POSITION"]).astype(np.float64)
    # glTF is y-up; 3D Tiles turns content z-up: (x, y, z) -> (x, -z, y).
    return np.column_stack([pos[:, 0], -pos[:, 2], pos[:, 1]]), doc, blob


@pytest.mark.parametrize("twin", TWINS)
def test_every_content_lies_inside_its_box(built: dict[str, BuildReport], demo_paths: PathSettings, twin: str) -> None:
    tiles = [t for t in _tiles(_tileset(demo_paths, twin)["root"]) if "content" in t]
    assert tiles
    for tile in tiles:
        points, _, _ = _content_points((demo_paths.tileset_dir(twin) / tile["content"]["uri"]).read_bytes())
        box = np.asarray(tile["boundingVolume"]["box"])
        centre, axes = box[:3], box[3:].reshape(3, 3)
        # Coordinates of each point along the box's half axes must lie within [-1, 1].
        local = np.linalg.solve(axes.T, (points - centre).T).T
        assert np.abs(local).max() <= 1.0, tile["content"]["uri"]


@pytest.mark.parametrize("twin", TWINS)
def test_buildings_in_tiles_equal_source_minus_drops(
    built: dict[str, BuildReport], demo_paths: PathSettings, twin: str
) -> None:
    report = built[twin]
    source_count = sum(s.records_in for s in report.sources if s.kind == "buildings")
    drops = sum(s.dropped for s in report.sources if s.kind == "buildings")
    ids: list[str] = []
    for glb in sorted((demo_paths.tileset_dir(twin) / "content").glob("*.glb")):
        _, doc, blob = _content_points(glb.read_bytes())
        meta = doc["extensions"]["EXT_structural_metadata"]
        table = meta["propertyTables"][0]
        prim = doc["meshes"][0]["primitives"][0]
        fids = read_accessor(doc, blob, prim["attributes"]["_FEATURE_ID_0"])
        assert prim["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] == table["count"]
        assert set(np.unique(fids).astype(int).tolist()) == set(range(table["count"]))
        values = doc["bufferViews"][table["properties"]["id"]["values"]]
        offsets = doc["bufferViews"][table["properties"]["id"]["stringOffsets"]]
        off = np.frombuffer(blob, np.uint32, table["count"] + 1, offsets["byteOffset"])
        raw = blob[values["byteOffset"] : values["byteOffset"] + values["byteLength"]]
        ids.extend(raw[off[i] : off[i + 1]].decode() for i in range(table["count"]))
        assert all(view["byteOffset"] % 8 == 0 for view in doc["bufferViews"])
    assert len(ids) == len(set(ids)) == source_count - drops


def test_every_glb_passes_the_khronos_gltf_validator(built: dict[str, BuildReport], demo_paths: PathSettings) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the glTF validator (see README: npm ci --prefix viewer)"
    assert (REPO / "viewer" / "node_modules" / "gltf-validator").is_dir(), "run: npm ci --prefix viewer"
    files = sorted(str(p) for twin in TWINS for p in (demo_paths.tileset_dir(twin) / "content").glob("*.glb"))
    result = subprocess.run(
        [node, str(REPO / "tests" / "tools" / "validate_gltf.mjs"), *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == len(files)
    failed = [r for r in reports if r["errors"] or r["warnings"]]
    assert failed == [], failed[:3]


def test_tile_content_is_byte_identical_when_rebuilt(
    built: dict[str, BuildReport], demo_paths: PathSettings, tmp_path: Path
) -> None:
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415

    again = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles"
    )
    build_twin(load_pipeline(demo_paths.pipeline_file("lauf")), again)
    first = sorted((demo_paths.tileset_dir("lauf") / "content").glob("*.glb"))
    second = sorted((again.tileset_dir("lauf") / "content").glob("*.glb"))
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
