"""`twin3d init NAME FILE...`: a pipeline definition inferred from a GIS team's files, that builds as written."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from tests.conftest import GEODATA, PIPELINES, REPO
from twin3d.cli import main
from twin3d.errors import ConflictError, InputError
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import (
    BuildingsSource,
    DistrictsSource,
    DistrictStatsSource,
    FacilitiesSource,
    GridStatsSource,
    ParcelsSource,
    PathsSource,
    PipelineConfig,
    load_pipeline,
)
from twin3d.pipeline.init import approximate_undulation, init_pipeline, target_file, utm_crs
from twin3d.pipeline.init_inspect import inspect_file
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

MONZEL = GEODATA / "monzel" / "monzel_alkis.gpkg"
LAUF_FILES = sorted((GEODATA / "lauf" / "osm").glob("*.geojson")) + sorted(
    (GEODATA / "lauf" / "census-grid").glob("*.csv")
)
TEST_DATA = REPO / "tests" / "data"


def _write(tmp_path: Path, name: str, files: list[Path], **kwargs: object) -> Path:
    folder = tmp_path / "pipelines"
    result = init_pipeline(name, files, folder, **kwargs)  # type: ignore[arg-type]
    folder.mkdir(exist_ok=True)
    target = folder / f"{name}.toml"
    target.write_text(result.text, encoding="utf-8")
    return target


SourceT = TypeVar("SourceT")


def _only(cfg: PipelineConfig, kind: type[SourceT]) -> SourceT:
    (found,) = [s for s in cfg.sources if isinstance(s, kind)]
    return found


def _paths(tmp_path: Path) -> PathSettings:
    return PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")


def test_monzel_from_its_cadastre_alone_builds_as_written(tmp_path: Path) -> None:
    result = init_pipeline("monzel", [MONZEL], tmp_path / "pipelines")
    target = _write(tmp_path, "monzel", [MONZEL])
    cfg = load_pipeline(target)

    kinds = {s.layer: s.kind for s in cfg.sources}
    assert kinds == {"flurstuecke": "parcels", "gebaeude": "buildings", "tatsaechliche_nutzung": "land_use"}
    buildings = _only(cfg, BuildingsSource)
    assert buildings.type_field == "gebaeudefunktion"
    assert buildings.levels_field == "anzahlderoberirdischengeschosse"
    assert buildings.type_names is not None
    assert buildings.type_names.endswith("ax_gebaeudefunktion_codes.csv")
    assert cfg.twin.crs == "EPSG:25832"
    assert cfg.heights.by_type["1000"] == 8.0
    assert cfg.heights.by_type["2000"] == 6.0
    assert cfg.population is None  # no census: no made-up population, and the file says why
    assert "No [population]" in result.text
    assert "TODO" in result.text  # the title, the ground and the approximate geoid are marked for checking
    assert {"title", "ground_height"} <= {q.key for q in result.questions}
    assert cfg.twin.attribution == ["© GeoBasis-DE / LVermGeoRP"]  # the Land from the ALKIS ids (DERP...)

    report = build_twin(cfg, _paths(tmp_path))

    assert report.counts["parcels"] == 2369
    assert report.counts["land_use"] == 1345
    assert report.counts["buildings"] == 827
    con = connect(_paths(tmp_path).store_file("monzel"), read_only=True)
    try:
        named = con.execute("SELECT name FROM type_names WHERE code = '1000'").fetchone()
    finally:
        con.close()
    assert named == ("Wohngebäude",)


def test_lauf_from_osm_exports_and_the_census_grid(tmp_path: Path) -> None:
    target = _write(tmp_path, "lauf", LAUF_FILES, shared_dirs=[PIPELINES])
    cfg = load_pipeline(target)

    assert sorted(s.kind for s in cfg.sources) == ["buildings", "facilities", "grid", "paths"]
    buildings = _only(cfg, BuildingsSource)
    assert (buildings.id_field, buildings.type_field, buildings.name_field) == ("osm_id", "building", "name")
    assert (buildings.levels_field, buildings.height_field) == ("building:levels", "height")
    assert buildings.source_label == "osm"
    assert _only(cfg, FacilitiesSource).category_field == "poi_kind"
    assert _only(cfg, PathsSource).class_field == "highway"
    grid = _only(cfg, GridStatsSource)
    assert grid.year == 2022
    assert grid.rename["T"] == "population"
    assert cfg.twin.crs == "EPSG:25832"  # the UTM zone of lon/lat files at 11.3 E
    assert cfg.population is not None
    assert cfg.population.year == 2022
    assert "© OpenStreetMap contributors (ODbL 1.0)" in cfg.twin.attribution

    report = build_twin(cfg, _paths(tmp_path))

    assert report.counts["buildings"] == 6492
    assert report.counts["facilities"] == 573
    assert report.counts["paths"] == 2815
    assert report.counts["grid_cells"] == 31
    con = connect(_paths(tmp_path).store_file("lauf"), read_only=True)
    try:
        persons = con.execute("SELECT count(*) FROM persons").fetchone()
    finally:
        con.close()
    assert persons is not None
    assert persons[0] > 20_000


def test_nas_parcels_and_citygml_buildings_build(tmp_path: Path) -> None:
    files = [TEST_DATA / "alkis" / "flurstueck_wfs_nas6.gml", TEST_DATA / "alkis" / "lod2_buildings_extract.gml"]
    cfg = load_pipeline(_write(tmp_path, "duisburg", files))

    assert {(s.kind, getattr(s, "format", None)) for s in cfg.sources} == {("parcels", "nas"), ("buildings", "citygml")}
    assert cfg.twin.ground_height == pytest.approx(29.6, abs=0.1)  # the 3D model's lowest point, not a placeholder

    report = build_twin(cfg, _paths(tmp_path))

    assert (report.counts["parcels"], report.counts["buildings"]) == (1, 4)


def test_an_osm_extract_gives_buildings_pois_greens_paths_and_the_basemap(tmp_path: Path) -> None:
    cfg = load_pipeline(_write(tmp_path, "laufc", [TEST_DATA / "osm" / "lauf-centre.osm.pbf"]))

    assert sorted(s.kind for s in cfg.sources) == ["buildings", "facilities", "greens", "paths"]
    assert {getattr(s, "format", None) for s in cfg.sources} == {"osm"}
    assert cfg.basemap.osm is not None
    assert cfg.basemap.osm.endswith("lauf-centre.osm.pbf")


def test_one_family_of_buildings_is_used_and_the_other_commented_out(tmp_path: Path) -> None:
    files = [TEST_DATA / "osm" / "lauf-centre.osm.pbf", GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"]
    result = init_pipeline("lauf2", files, tmp_path)

    assert [r for layer, r in result.roles if r.startswith("buildings, commented out")]
    buildings = [s for s in tomllib.loads(result.text)["sources"] if s["kind"] == "buildings"]
    assert [b["path"].rsplit("/", 1)[-1] for b in buildings] == ["lauf_buildings.geojson"]


def test_districts_statistics_by_year_and_their_population(tmp_path: Path) -> None:
    folder = GEODATA / "rostock"
    tables = sorted((folder / "stadtbereiche" / "population_csv").glob("insgesamt_*.csv"))
    files = [
        folder / "stadtbereiche" / "stadtbereiche.json",
        folder / "statistische-bezirke" / "statistische_bezirke.geojson",
    ]
    cfg = load_pipeline(_write(tmp_path, "hro", files + tables, shared_dirs=[PIPELINES]))

    districts = {s.level: s for s in cfg.sources if isinstance(s, DistrictsSource)}
    assert districts["statistische_bezirke"].parent_level == "stadtbereiche"
    stats = _only(cfg, DistrictStatsSource)
    assert stats.path.endswith("insgesamt_{year}.csv")
    assert stats.years == list(range(2005, 2024))
    assert stats.key_field == "stadtbereich_code"
    assert stats.rename["einwohnerzahl"] == "population"
    assert cfg.population is not None
    assert (cfg.population.district_level, cfg.population.year) == ("stadtbereiche", 2023)
    assert cfg.twin.crs == "EPSG:25833"


def test_a_dem_gives_the_ground_and_a_dem_elsewhere_is_left_out(tmp_path: Path) -> None:
    # A synthetic test raster (not terrain data): a 130 m plane under Monzel, to check the DEM's path through init.
    dem = tmp_path / "plane.tif"
    profile = {"driver": "GTiff", "width": 60, "height": 30, "count": 1, "dtype": "float32", "crs": "EPSG:25832"}
    with rasterio.open(dem, "w", transform=from_origin(349_500, 5_532_300, 100, 100), **profile) as out:
        out.write(np.full((1, 30, 60), 130.0, dtype=np.float32))
    koeln = TEST_DATA / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"

    result = init_pipeline("monzel", [MONZEL, dem, koeln], tmp_path / "pipelines")
    cfg = load_pipeline(_write(tmp_path, "monzel", [MONZEL, dem, koeln]))

    assert cfg.twin.ground_height == 130.0
    assert cfg.twin.dem is not None
    assert cfg.twin.dem.endswith("plane.tif")
    assert "ground_height" not in {q.key for q in result.questions}
    assert any("dgm1_32_357_5646_koeln_sub20m.tif" in n and "does not cover" in n for n in result.notes)


def test_inspection_reports_format_crs_extent_and_fields() -> None:
    (dem,) = inspect_file(TEST_DATA / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif")
    (citygml,) = inspect_file(TEST_DATA / "citygml" / "nrw_lod2_3_buildings_citygml3.gml")
    (grid,) = inspect_file(TEST_DATA / "zensus" / "Zensus2022_Bevoelkerungszahl_1km-Gitter_lauf.csv")

    assert (dem.format, dem.crs.to_epsg() if dem.crs else None) == ("raster", 25832)
    assert dem.details["median"] == pytest.approx(43.6, abs=1.0)
    assert "LICENSE" in dem.metadata
    assert (citygml.format, citygml.count, citygml.driver) == ("citygml", 3, "CityGML 3.0")
    assert citygml.crs is not None
    assert citygml.crs.to_epsg() == 25832
    assert citygml.bounds == (328000.0, 5730000.0, 329000.0, 5731000.0)
    assert (grid.format, grid.count, grid.fields) == ("grid", 31, ("Einwohner",))


def test_rough_geoid_and_utm_zone_for_germany() -> None:
    assert approximate_undulation(6.96, 49.92) == pytest.approx(47.6, abs=1.5)  # Monzel, south-west
    assert approximate_undulation(12.13, 54.09) == pytest.approx(39.0, abs=1.5)  # Rostock, north-east
    assert 36.0 <= approximate_undulation(14.5, 55.0) <= 51.0
    assert (utm_crs(6.96, 49.92), utm_crs(12.13, 54.09)) == ("EPSG:25832", "EPSG:25833")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: shutil.copy(GEODATA / "lauf" / "osm" / "SOURCE.md", d / "notes.md"),
            "not a format twin3d init knows",
        ),
        (lambda d: shutil.copy(TEST_DATA / "bad-layers" / "truncated.gpkg", d / "truncated.gpkg"), "truncated.gpkg"),
        (
            lambda d: shutil.copy(
                GEODATA / "rostock" / "stadtbereiche" / "population_csv" / "alter_2023.csv", d / "t.csv"
            ),
            "nothing twin3d can use",
        ),
    ],
)
def test_an_unknown_or_broken_file_is_named_and_nothing_is_written(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    data.mkdir()
    make(data)
    (bad,) = data.iterdir()
    pipelines = tmp_path / "pipelines"

    code, output = _run(tmp_path, "init", "town", str(MONZEL), str(bad))

    assert code == 3, output
    error = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error) == 1, output
    assert bad.name in error[0]
    assert message in error[0]
    assert not pipelines.exists() or not list(pipelines.iterdir())


def _run(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {
        "TWIN3D_PIPELINES_DIR": str(tmp_path / "pipelines"),
        "TWIN3D_STORE_DIR": str(tmp_path / "var"),
        "TWIN3D_TILES_DIR": str(tmp_path / "tiles"),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_cli_writes_the_definition_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    shutil.copy(PIPELINES / "monzel.toml", pipelines / "monzel.toml")  # the repository's own demo definition
    before = (pipelines / "monzel.toml").read_bytes()

    code, output = _run(tmp_path, "init", "monzel", str(MONZEL))

    assert code == 8, output
    assert "exists" in output
    assert "--force" in output
    assert (pipelines / "monzel.toml").read_bytes() == before

    code, output = _run(tmp_path, "init", "monzel", str(MONZEL), "--force")

    assert code == 0, output
    assert "wrote" in output
    assert "twin3d build monzel" in output
    assert "flurstuecke (parcels)" in output
    assert load_pipeline(pipelines / "monzel.toml").twin.title == "Monzel"


def test_cli_output_folder_and_interactive_answers(tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    answers = "Monzel an der Mosel\n131\n47.5\nMonzel\n"

    code, output = _run(tmp_path, "init", "monzel", str(MONZEL), "--output", str(out), "--interactive", stdin=answers)

    assert code == 0, output
    cfg = load_pipeline(out / "monzel.toml")
    assert (cfg.twin.title, cfg.twin.ground_height, cfg.twin.geoid_undulation) == ("Monzel an der Mosel", 131.0, 47.5)
    assert _only(cfg, ParcelsSource).gemarkung_name == "Monzel"
    assert "TODO: the title" not in (out / "monzel.toml").read_text(encoding="utf-8")
    assert not (tmp_path / "pipelines").exists()


def test_refusing_an_existing_target_names_it(tmp_path: Path) -> None:
    (tmp_path / "monzel.toml").write_text("# mine\n", encoding="utf-8")

    with pytest.raises(ConflictError, match="exists"):
        target_file(tmp_path, "monzel")
    assert target_file(tmp_path, "monzel", force=True) == tmp_path / "monzel.toml"
    with pytest.raises(InputError, match="not found"):
        init_pipeline("monzel", [tmp_path / "missing.gpkg"], tmp_path)
