"""A large OSM file is cut into pieces and read by several workers: the twin is the one read whole.

The Lauf extract (6,492 buildings, 66 ways cut at the extract's edge) is cut into 4 pieces by setting the source's
``split_mb`` below its size; the pieces overlap (each holds the buildings across its edges whole), and each
building must come out of exactly one of them, with the same footprint, and each broken way be reported once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import shapely
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.errors import InputError
from twin3d.executor import ExecutorSpec
from twin3d.io.osm import read_osm_buildings
from twin3d.io.osm_split import split_osm
from twin3d.io.surfaces import SkipLog
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

PBF = GEODATA / "lauf" / "osm" / "lauf-200115.osm.pbf"
UTM32 = CRS.from_epsg(25832)
QUARTER_MB = PBF.stat().st_size / 4 / 1e6


def test_every_building_comes_out_of_exactly_one_piece(tmp_path: Path) -> None:
    skipped = SkipLog()
    whole = read_osm_buildings(PBF, UTM32, skipped=skipped)
    pieces = split_osm(PBF, QUARTER_MB * 1.01, tmp_path)
    assert len(pieces) == 4
    footprints: dict[str, shapely.Geometry] = {}
    broken = set()
    for piece in pieces:
        log = SkipLog()
        table = read_osm_buildings(piece.path, UTM32, skipped=log)
        owned = piece.owns(table.geometry, UTM32)
        assert 0 < owned.sum() < len(table)  # pieces overlap; each hands on only its own buildings
        ids = table.attributes.column("osm_id").to_pylist()
        for i, geometry in zip([i for i, o in zip(ids, owned, strict=True) if o], table.geometry[owned], strict=True):
            assert i not in footprints, f"{i} came out of two pieces"
            footprints[i] = geometry
        broken |= {(record, reason) for _, record, reason in log.entries}
    whole_ids = whole.attributes.column("osm_id").to_pylist()
    assert footprints.keys() == set(whole_ids)
    assert all(shapely.equals_exact(footprints[i], g, 0.0) for i, g in zip(whole_ids, whole.geometry, strict=True))
    assert broken == {(record, reason) for _, record, reason in skipped.entries}


def test_a_file_no_larger_than_split_mb_is_read_whole(tmp_path: Path) -> None:
    assert split_osm(PBF, QUARTER_MB * 4.01, tmp_path) == []


def _pipeline(folder: Path, split_mb: float) -> Path:
    folder.mkdir(parents=True)
    (folder / "osmtown.toml").write_text(
        f"""
[twin]
name = "osmtown"
title = "Lauf from its OSM extract"
crs = "EPSG:25832"
ground_height = 327.0
geoid_undulation = 47.8

[[sources]]
name = "osm-buildings"
kind = "buildings"
format = "osm"
path = "{PBF.as_posix()}"
source_label = "osm"
split_mb = {split_mb}
""",
        encoding="utf-8",
    )
    return folder / "osmtown.toml"


def _build(root: Path, split_mb: float, executor: ExecutorSpec) -> tuple[list[tuple[object, ...]], ...]:
    pipeline = _pipeline(root / "pipelines", split_mb)
    paths = PathSettings(pipelines_dir=pipeline.parent, store_dir=root / "var", tiles_dir=root / "tiles")
    build_twin(load_pipeline(pipeline), paths, executor=executor)
    con = duckdb.connect(str(paths.store_file("osmtown")), read_only=True)
    try:
        buildings = con.execute(
            "SELECT building_id, height, ground_height, footprint_m2, ST_AsWKB(geom) FROM buildings ORDER BY 1"
        ).fetchall()
        drops = con.execute("SELECT source, file, record, reason FROM dropped_records ORDER BY ALL").fetchall()
        counts = con.execute("SELECT name, records_in, records_out, dropped FROM sources").fetchall()
    finally:
        con.close()
    return buildings, drops, counts


@pytest.mark.slow
def test_a_twin_built_from_pieces_on_dask_is_the_twin_built_from_the_whole_file(tmp_path: Path) -> None:
    whole = _build(tmp_path / "whole", 256.0, ExecutorSpec("local"))
    pieces = _build(tmp_path / "pieces", QUARTER_MB * 1.01, ExecutorSpec("dask", 2))
    buildings, drops, counts = whole
    assert len(buildings) > 6000
    assert pieces[0] == buildings
    assert len(drops) >= 66  # the ways cut at the extract's edge, each once, named by the file the user gave
    assert pieces[1] == drops
    assert {d[1] for d in drops} == {str(PBF)}
    assert pieces[2] == counts


def test_without_osmium_tool_a_large_file_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no osmium on it
    with pytest.raises(InputError, match="needs osmium-tool") as raised:
        split_osm(PBF, QUARTER_MB, tmp_path / "pieces")
    assert "apt-get install osmium-tool" in str(raised.value.hint)
    assert raised.value.file == str(PBF)
