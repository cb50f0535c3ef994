from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin3d.cli import main
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store.connection import connect


def test_lauf_keeps_every_footprint_and_reports_how_heights_were_found(built: dict[str, BuildReport]) -> None:
    report = built["lauf"]
    buildings = next(s for s in report.sources if s.name == "osm-buildings")
    assert buildings.records_in == 6492
    assert report.counts["buildings"] == buildings.records_in - buildings.dropped
    # Jan 2020 Lauf: 53 footprints carry building:levels, none a usable height tag.
    assert report.height_sources == {"levels": 53, "default": 6439}
    assert report.counts["facilities"] == 573
    assert report.counts["paths"] == 2815
    assert report.counts["grid_cells"] == 31


def test_rostock_districts_statistics_and_lod2_buildings(
    built: dict[str, BuildReport], demo_paths: PathSettings
) -> None:
    report = built["rostock"]
    assert report.counts["districts"] == 21 + 74
    assert report.height_sources == {"measured": 2}
    con = connect(demo_paths.store_file("rostock"), read_only=True)
    total = con.execute(
        "SELECT sum(value) FROM district_stats WHERE variable = 'population' AND year = 2023"
    ).fetchone()
    assert total == (211_692.0,)
    years = con.execute("SELECT count(DISTINCT year) FROM district_stats WHERE variable = 'population'").fetchone()
    assert years == (19,)
    # Every statistical Bezirk is assigned to the Stadtbereich its 3-digit code starts with.
    orphans = con.execute("SELECT count(*) FROM districts WHERE level = 'bezirk' AND parent_id IS NULL").fetchone()
    assert orphans == (0,)
    tor = con.execute("SELECT height, ground_height FROM buildings WHERE building_id = 'DEMVAL03000hEfAe'").fetchone()
    assert tor == pytest.approx((8.065, 15.57), abs=0.01)


def _fingerprint(paths: PathSettings, twin: str) -> str:
    digest = hashlib.sha256(paths.store_file(twin).read_bytes())
    for f in sorted(paths.tileset_dir(twin).rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(paths.tileset_dir(twin)).as_posix().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def _run(paths: PathSettings, *args: str) -> tuple[int, str]:
    env = {
        "TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir),
        "TWIN3D_STORE_DIR": str(paths.store_dir),
        "TWIN3D_TILES_DIR": str(paths.tiles_dir),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


BUILDINGS = "geodata/lauf/osm/lauf_buildings.geojson"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _unknown_crs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            '"type":"FeatureCollection",',
            '"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:99999"}},',
            1,
        ),
        encoding="utf-8",
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_truncate, "cannot be read as vector data"),
        (_empty, "file is empty"),
        (_unknown_crs, "unknown CRS 'EPSG:99999'"),
    ],
)
def test_bad_input_fails_in_one_line_and_leaves_the_twin_untouched(
    project_copy: PathSettings, breakage, message
) -> None:  # type: ignore[no-untyped-def]
    code, _ = _run(project_copy, "build", "lauf")
    assert code == 0
    before = _fingerprint(project_copy, "lauf")

    breakage(project_copy.pipelines_dir.parent / BUILDINGS)
    code, output = _run(project_copy, "build", "lauf")

    assert code != 0
    error_lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, output
    assert "lauf_buildings.geojson" in error_lines[0]
    assert message in error_lines[0]
    assert "fix:" in error_lines[0]
    assert _fingerprint(project_copy, "lauf") == before
    leftovers = [p.name for p in project_copy.store_dir.parent.rglob(".*") if re.search(r"\.(tmp|staged|old)$", p.name)]
    assert leftovers == []


def test_file_in_the_wrong_crs_is_caught(project_copy: PathSettings) -> None:
    # Rostock's Stadtbereiche are in WGS 84; declared as UTM the coordinates land near the equator.
    toml = project_copy.pipeline_file("rostock")
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            'path = "../geodata/rostock/stadtbereiche/stadtbereiche.json"',
            'path = "../geodata/rostock/stadtbereiche/stadtbereiche.json"\ncrs = "EPSG:25833"',
        ),
        encoding="utf-8",
    )
    code, output = _run(project_copy, "build", "rostock")
    assert code != 0
    assert "stadtbereiche.json" in output
    assert "CRS is probably wrong" in output
    assert not project_copy.store_file("rostock").exists()


def test_build_summary_names_counts_and_drops(project_copy: PathSettings) -> None:
    # Two duplicated footprints: both are reported as dropped, the rest is built.
    path = project_copy.pipelines_dir.parent / BUILDINGS
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"].extend(doc["features"][:2])
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, output = _run(project_copy, "build", "lauf")
    assert code == 0, output
    assert "dropped 2 record(s): duplicate id (first occurrence kept)" in output
    assert "6,492 buildings" in output
    # The green areas the OSM extract cannot give an outline are reported with their reason, never dropped silently.
    assert "green space mapped as a node, without an outline" in output
    con = connect(project_copy.store_file("lauf"), read_only=True)
    reasons = dict(con.execute("SELECT reason, count(*) FROM dropped_records GROUP BY reason").fetchall())
    assert reasons.pop("duplicate id (first occurrence kept)") == 2
    assert reasons.pop("green space mapped as a node, without an outline") == 5
    # The motor roads (the noise model's sources) cut at the extract's edge, and highway areas, likewise.
    assert reasons.pop("line could not be built (nodes missing at the extract edge)") == 49
    assert reasons.pop("highway area (area=yes), a surface and not a road axis") == 2
    assert all(reason.startswith("area could not be assembled") for reason in reasons)
    assert con.execute("SELECT count(*) FROM greens").fetchone() == (68,)


def test_footprints_stand_on_the_dem_where_it_covers_them(tmp_path: Path) -> None:
    from tests.io.test_raster import DEM  # noqa: PLC0415

    features = [
        {
            "type": "Feature",
            "properties": {"id": "slope", "building": "house"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[357100, 5646100], [357160, 5646100], [357160, 5646160], [357100, 5646160], [357100, 5646100]]
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"id": "beyond", "building": "house"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[358500, 5646100], [358520, 5646100], [358520, 5646120], [358500, 5646120], [358500, 5646100]]
                ],
            },
        },
    ]
    (tmp_path / "houses.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:25832"}},
                "features": features,
            }
        )
    )
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "rhine.toml").write_text(f"""
[twin]
name = "rhine"
title = "Rhine bank"
crs = "EPSG:25832"
ground_height = 45.0
geoid_undulation = 47.0
dem = "{DEM}"

[[sources]]
name = "houses"
kind = "buildings"
path = "../houses.geojson"
id_field = "id"
type_field = "building"
""")
    paths = PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "t")
    code, output = _run(paths, "build", "rhine")
    assert code == 0, output
    assert "ground from the DEM for 1 building(s), twin-wide 45 m for 1 outside it" in output
    con = connect(paths.store_file("rhine"), read_only=True)
    ground = dict(con.execute("SELECT building_id, ground_height FROM buildings").fetchall())
    assert ground["beyond"] == 45.0
    assert 39.0 < ground["slope"] < 45.0  # the Rhine bank, lowest corner of the outline


def test_skip_invalid_leaves_out_a_broken_citygml_building_and_counts_it(tmp_path: Path) -> None:
    from tests.conftest import TEST_PIPELINES  # noqa: PLC0415

    gml = (TEST_PIPELINES.parent / "citygml" / "nrw_lod2_3_buildings_citygml1.gml").read_text(encoding="utf-8")
    head, building, rest = gml.partition('<bldg:Building gml:id="DENW34AL00026uV0">')
    # Break the last building: the ring of its first polygon keeps only two corners.
    start = rest.index("<gml:posList", rest.index("<gml:Polygon"))
    open_end = rest.index(">", start) + 1
    close = rest.index("</gml:posList>", open_end)
    two_corners = " ".join(rest[open_end:close].split()[:6])
    broken = head + building + rest[:open_end] + two_corners + rest[close:]
    (tmp_path / "citygml").mkdir()
    (tmp_path / "citygml" / "tile.gml").write_text(broken, encoding="utf-8")
    (tmp_path / "pipelines").mkdir()
    toml = (TEST_PIPELINES / "nrw.toml").read_text(encoding="utf-8")
    toml = toml.replace("../citygml/nrw_lod2_3_buildings_citygml1.gml", "../citygml/tile.gml")
    (tmp_path / "pipelines" / "nrw.toml").write_text(toml, encoding="utf-8")
    paths = PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "t")

    code, output = _run(paths, "build", "nrw")
    assert code != 0
    assert "tile.gml" in output
    assert "DENW34AL00026uV0" in output
    assert "--skip-invalid" in output
    assert not paths.store_file("nrw").exists()

    code, output = _run(paths, "build", "nrw", "--skip-invalid")
    assert code == 0, output
    assert "dropped 1 record(s)" in output
    assert "2 buildings" in output


def _nrw_twin(tmp_path: Path, *, ground: float, z_shift: float = 0.0) -> PathSettings:
    """The NRW test twin with another ground_height, its CityGML heights moved by ``z_shift``."""
    from tests.conftest import TEST_PIPELINES  # noqa: PLC0415

    gml = (TEST_PIPELINES.parent / "citygml" / "nrw_lod2_3_buildings_citygml1.gml").read_text(encoding="utf-8")

    def moved(match: re.Match[str]) -> str:
        values = [float(v) for v in match.group(2).split()]
        shifted = [v + z_shift if i % 3 == 2 else v for i, v in enumerate(values)]
        return f"{match.group(1)}{' '.join(f'{v:.3f}' for v in shifted)}</gml:posList>"

    (tmp_path / "citygml").mkdir(parents=True)
    text = re.sub(r"(<gml:posList[^>]*>)([^<]*)</gml:posList>", moved, gml)
    (tmp_path / "citygml" / "tile.gml").write_text(text, encoding="utf-8")
    (tmp_path / "pipelines").mkdir()
    toml = (TEST_PIPELINES / "nrw.toml").read_text(encoding="utf-8")
    toml = toml.replace("../citygml/nrw_lod2_3_buildings_citygml1.gml", "../citygml/tile.gml")
    toml = toml.replace("ground_height = 20.0", f"ground_height = {ground}")
    (tmp_path / "pipelines" / "nrw.toml").write_text(toml, encoding="utf-8")
    return PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "t")


def test_relative_building_heights_are_refused_and_far_bases_are_warned_of(tmp_path: Path) -> None:
    relative = _nrw_twin(tmp_path / "relative", ground=115.0, z_shift=-17.5)  # bases at z = 0
    code, output = _run(relative, "build", "nrw")
    assert code != 0
    assert "tile.gml" in output
    assert "relative to the ground" in output
    assert not relative.store_file("nrw").exists()

    far = _nrw_twin(tmp_path / "far", ground=115.0)  # real heights near 18 m, the twin says 115 m
    code, output = _run(far, "build", "nrw")
    assert code == 0, output
    assert "3 of 3 building bases lie more than 10 m from the twin-wide ground_height" in output
    assert "(median offset -96" in output


def test_a_file_with_latitude_and_longitude_swapped_gets_the_axis_order_hint(project_copy: PathSettings) -> None:
    # Rostock's Stadtbereiche with every position written latitude first, in a file read longitude first.
    source = project_copy.pipelines_dir.parent / "geodata" / "rostock" / "stadtbereiche" / "stadtbereiche.json"
    data = json.loads(source.read_text(encoding="utf-8"))

    def swap(coords: list[object]) -> list[object]:
        return [coords[1], coords[0]] if isinstance(coords[0], float) else [swap(c) for c in coords]

    for feature in data["features"]:
        feature["geometry"]["coordinates"] = swap(feature["geometry"]["coordinates"])
    source.write_text(json.dumps(data), encoding="utf-8")
    code, output = _run(project_copy, "build", "rostock")
    assert code != 0
    assert "stadtbereiche.json" in output
    assert "latitude and longitude swapped" in output
    assert "OGC:CRS84" in output
