"""Incremental rebuilds and compressed tiles, on a private copy of the Lauf twin."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.tiling.test_tileset import content_points, gltf_validate, walk
from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

pytestmark = pytest.mark.slow
BUILDINGS = "geodata/lauf/osm/lauf_buildings.geojson"


def _root(paths: PathSettings) -> Path:
    """The folder of Lauf's current build."""
    found = current_tiles(paths, "lauf")
    assert found is not None
    return found


def _files(paths: PathSettings) -> dict[str, tuple[bytes, int]]:
    root = _root(paths)
    return {f.relative_to(root).as_posix(): (f.read_bytes(), f.stat().st_ino) for f in root.rglob("*") if f.is_file()}


def _set_compression(paths: PathSettings, value: str) -> None:
    toml = paths.pipeline_file("lauf")
    text = toml.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("compression =")]
    lines.insert(lines.index("[tiles]") + 1, f'compression = "{value}"')
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_changing_one_building_rebuilds_only_its_partition(project_copy: PathSettings) -> None:
    _set_compression(project_copy, "none")
    build_twin(load_pipeline(project_copy.pipeline_file("lauf")), project_copy)
    before = _files(project_copy)

    # Raise one building in the town centre: give it 6 storeys.
    path = project_copy.pipelines_dir.parent / BUILDINGS
    doc = json.loads(path.read_text(encoding="utf-8"))
    target = next(f for f in doc["features"] if f["properties"]["osm_id"] == "way/23777857")
    target["properties"]["building:levels"] = "6"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = build_twin(load_pipeline(project_copy.pipeline_file("lauf")), project_copy)
    after = _files(project_copy)

    changed = {name for name in after if name not in before or after[name][0] != before[name][0]}
    partitions = {name.split("/")[1] for name in changed if name.startswith("p/")}
    assert len(partitions) == 1, changed
    unchanged = [name for name in after if name.startswith("p/") and name not in changed]
    assert unchanged
    # Unchanged partitions are linked from the previous build, not written again: same bytes, same file.
    assert all(after[name][1] == before[name][1] for name in unchanged)
    # The overview above the partitions: only the groups over the changed partition were made again.
    (pid,) = partitions
    old_groups = json.loads(before["o/groups.json"][0])
    new_groups = json.loads(after["o/groups.json"][0])
    assert old_groups.keys() == new_groups.keys()
    assert len(new_groups) >= 3
    redone = {key for key in new_groups if new_groups[key]["input"] != old_groups[key]["input"]}
    assert redone
    assert len(redone) < len(new_groups)
    over_pid = {key for key in new_groups if any(key in uri for uri in _group_path(after, pid))}
    assert redone == over_pid
    assert all(after[f"o/{key}.glb"][1] == before[f"o/{key}.glb"][1] for key in new_groups.keys() - redone)
    assert any("unchanged and kept" in note and "19 unchanged" in note for note in report.notes), report.notes


def _group_path(files: dict[str, tuple[bytes, int]], pid: str) -> list[str]:
    """The overview tiles above partition ``pid``, from the root down."""
    root = json.loads(files["tileset.json"][0])["root"]

    def down(tile: dict[str, object], path: list[str]) -> list[str] | None:
        uri = str(dict(tile.get("content") or {}).get("uri", ""))  # type: ignore[call-overload]
        if uri == f"p/{pid}/tileset.json":
            return path
        here = [*path, uri] if uri.startswith("o/") else path
        for child in tile.get("children", []):  # type: ignore[attr-defined]
            found = down(child, here)
            if found is not None:
                return found
        return None

    found = down(root, [])
    assert found is not None
    return found


def test_meshopt_tiles_are_smaller_valid_and_decode_to_the_same_places(project_copy: PathSettings) -> None:
    _set_compression(project_copy, "none")
    plain = build_twin(load_pipeline(project_copy.pipeline_file("lauf")), project_copy)
    plain_root = _root(project_copy)
    plain_points = {
        (folder / uri).relative_to(plain_root): content_points((folder / uri).read_bytes())[0]
        for tile, folder, _ in walk(plain_root / "tileset.json")
        if (uri := tile.get("content", {}).get("uri", "")).endswith(".glb")
    }
    _set_compression(project_copy, "meshopt")
    packed = build_twin(load_pipeline(project_copy.pipeline_file("lauf")), project_copy)
    assert packed.tile_bytes < plain.tile_bytes / 3
    files: list[Path] = []
    packed_root = _root(project_copy)
    for tile, folder, _ in walk(packed_root / "tileset.json"):
        uri = tile.get("content", {}).get("uri", "")
        if not uri.endswith(".glb"):
            continue
        files.append(folder / uri)
        points, doc, _ = content_points((folder / uri).read_bytes())
        assert "EXT_meshopt_compression" in doc["extensionsRequired"]
        # Same vertices (reordered for the vertex cache) within the 16-bit grid of the tile's size.
        ref = plain_points[(folder / uri).relative_to(packed_root)]
        assert len(points) == len(ref)
        step = np.ptp(ref, axis=0).max() / 32767
        assert np.abs(np.sort(points, axis=0) - np.sort(ref, axis=0)).max() <= step
    reports = gltf_validate(files)
    assert [r for r in reports if r["errors"]] == []
