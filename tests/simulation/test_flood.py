"""Floods from the terrain on a twin with a real DEM (the Rhine in Köln, FIXTURE buildings: rhine_twin.py) and on
Lauf without one. The DEM is read here with rasterio and the flood fill is redone with a plain breadth-first search,
so every depth below is checked against the raster itself, not against the code under test."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import shapely
from pydantic import ValidationError
from pyproj import Transformer

from tests.simulation.rhine_twin import FACILITIES, WALL, build_rhine_twin, dem_heights, footprints, xy
from twin3d.errors import InputError
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.engine import Baseline, load_baseline, run_scenario
from twin3d.simulation.flood import flood_map
from twin3d.simulation.scenario import ScenarioSpec, check_heights
from twin3d.simulation.terrain import load_terrain
from twin3d.store.connection import connect

LEVEL = 46.0
TO_LONLAT = Transformer.from_crs(25832, 4326, always_xy=True)


def lonlat(row: float, col: float) -> list[float]:
    return list(TO_LONLAT.transform(*xy(row, col)))


def flood(level: float = LEVEL, **extra: Any) -> dict[str, Any]:
    return {"kind": "flood", "level_m": level, **extra}


def wall(crest: float) -> dict[str, Any]:
    return {
        "kind": "flood_wall",
        "crest_m": crest,
        "line": {"type": "LineString", "coordinates": [lonlat(*p) for p in WALL]},
    }


def spec(*measures: dict[str, Any]) -> ScenarioSpec:
    return ScenarioSpec.model_validate({"name": "Hochwasser", "measures": list(measures)})


def box_around(row: float, col: float, half_m: float) -> dict[str, Any]:
    x, y = xy(row, col)
    ring = [
        list(TO_LONLAT.transform(px, py))
        for px, py in shapely.box(x - half_m, y - half_m, x + half_m, y + half_m).exterior.coords
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def reached(z: np.ndarray, level: float, blocked: np.ndarray | None = None) -> np.ndarray:
    """The cells below ``level`` connected over cell edges to the lowest cell (the river): a plain BFS."""
    below = (z < level) & (~blocked if blocked is not None else True)
    seed = np.unravel_index(np.argmin(np.where(below, z, np.inf)), z.shape)
    seen = np.zeros(z.shape, bool)
    seen[seed] = True
    queue = deque([seed])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < z.shape[0] and 0 <= nc < z.shape[1] and below[nr, nc] and not seen[nr, nc]:
                seen[nr, nc] = True
                queue.append((nr, nc))
    return seen


def cells_under(footprint: shapely.Polygon, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """The cells whose centre lies in the footprint, else the one holding its point on surface."""
    found = [(r, c) for r in range(shape[0]) for c in range(shape[1]) if footprint.contains(shapely.Point(*xy(r, c)))]
    if found:
        return found
    p = footprint.point_on_surface()
    return [(math.floor((5646999.0 - p.y) / 20 + 0.5), math.floor((p.x - 357000.0) / 20 + 0.5))]


@pytest.fixture(scope="module")
def rhine(tmp_path_factory: pytest.TempPathFactory) -> PathSettings:
    return build_rhine_twin(tmp_path_factory.mktemp("rhine"))


@pytest.fixture(scope="module")
def base(rhine: PathSettings) -> Iterator[Baseline]:
    con = connect(rhine.store_file("rhine"), read_only=True)
    try:
        yield load_baseline(con, rhine.pipelines_dir, key=rhine.privacy_key_file("rhine").read_bytes())
    finally:
        con.close()


def test_the_build_keeps_the_dem_cell_for_cell(rhine: PathSettings) -> None:
    with connect(rhine.store_file("rhine"), read_only=True) as con:
        terrain = load_terrain(con)
    np.testing.assert_array_equal(terrain.heights, dem_heights().astype(np.float64))
    assert terrain.describe() | {"min_m": 0, "max_m": 0} == {
        "kind": "dem",
        "source": "dgm1_32_357_5646_koeln_sub20m.tif",
        "source_resolution_m": 20.0,
        "resolution_m": 20.0,
        "rows": 50,
        "cols": 50,
        "min_m": 0,
        "max_m": 0,
    }


def test_depth_per_cell_is_the_level_less_the_dem_where_the_river_reaches(base: Baseline) -> None:
    z = dem_heights().astype(np.float64)
    wet = reached(z, LEVEL)
    assert base.flood_ground is not None
    fm = flood_map(base.flood_ground.terrain, LEVEL)
    np.testing.assert_array_equal(fm.wet, wet)
    np.testing.assert_array_equal(fm.depth[wet], LEVEL - z[wet])  # exactly, cell by cell
    assert (fm.depth[~wet] == 0).all()
    # The hollows of the west bank lie below the level but are not connected to the river: dry.
    hollows = (z < LEVEL) & ~wet
    assert hollows.sum() >= 40
    result = run_scenario(base, spec(flood()))["flood"]
    assert result["cells"] == wet.sum()
    assert result["area_m2"] == wet.sum() * 400
    assert result["max_depth_m"] == round(LEVEL - z.min(), 2)
    assert result["levels"][0]["source"]["ground_m"] == round(float(z.min()), 2)
    assert result["terrain"]["kind"] == "dem"
    assert result["all_or_nothing"] is False


def test_building_depth_is_the_deepest_cell_under_its_footprint(base: Baseline) -> None:
    z = dem_heights().astype(np.float64)
    wet = reached(z, LEVEL)
    result = run_scenario(base, spec(flood()))["flood"]
    expected = {}
    for name, (footprint, _, _) in footprints().items():
        depth = max(LEVEL - z[r, c] if wet[r, c] else 0.0 for r, c in cells_under(footprint, z.shape))
        if depth > 0:
            expected[name] = round(depth, 2)
    assert result["buildings"]["depth_m"] == expected
    assert set(expected) == {"east_bank", "east_corner", "east_small", "hut"}  # the hut: off every cell centre
    # The building on the hollow stands on cells below the level, yet stays dry: the river does not reach them.
    hollow = cells_under(footprints()["hollow"][0], z.shape)
    assert any(z[r, c] < LEVEL for r, c in hollow)
    assert result["buildings"]["depth_rule"] == "max_over_footprint_cells"
    assert result["buildings"]["flooded"] == 4
    assert sum(band["buildings"] for band in result["buildings"]["by_depth"]) == 4


def test_a_wall_keeps_the_cells_behind_it_dry_below_its_crest(base: Baseline) -> None:
    z = dem_heights().astype(np.float64)
    rows, cols = np.indices(z.shape)
    behind = rows + cols >= 81  # the wall runs along row + col = 79
    assert (reached(z, LEVEL) & behind).sum() > 20, "without the wall the water gets there"
    held = run_scenario(base, spec(flood(), wall(47.0)))["flood"]
    assert held["walls"][0]["holds"] == [0]
    assert "east_corner" not in held["buildings"]["depth_m"]
    assert "hut" not in held["buildings"]["depth_m"]
    assert held["levels"][0]["buildings_protected"] == 2
    assert base.flood_ground is not None
    line = shapely.LineString([xy(*p) for p in WALL])
    fm = flood_map(base.flood_ground.terrain, LEVEL, walls=[(line, 47.0)])
    assert not (fm.wet & behind).any()
    assert held["cells"] == int(fm.wet.sum()) == int(reached(z, LEVEL, fm.blocked).sum())
    # Above the crest the wall is overtopped and the corner floods again.
    over = run_scenario(base, spec(flood(47.5), wall(47.0)))["flood"]
    assert over["walls"][0]["overtopped"] == [0]
    assert "east_corner" in over["buildings"]["depth_m"]
    assert (flood_map(base.flood_ground.terrain, 47.5, walls=[(line, 47.0)]).wet & behind).any()


def test_residents_in_the_water_are_counted_through_the_gate(base: Baseline) -> None:
    result = run_scenario(base, spec(flood()))
    exposed = result["flood"]["exposed"]
    # The same figures from the gate's published units, with the wet homes found from the raster here.
    units = base.units
    z = dem_heights().astype(np.float64)
    wet = reached(z, LEVEL)
    col = np.floor((units.point_x - 357000.0) / 20 + 0.5).astype(int)
    row = np.floor((5646999.0 - units.point_y) / 20 + 0.5).astype(int)
    inside = (row >= 0) & (row < 50) & (col >= 0) & (col < 50)
    points = inside & wet[np.clip(row, 0, 49), np.clip(col, 0, 49)]
    flooded = np.isin(units.building_ids, list(result["flood"]["buildings"]["depth_m"]))
    points[units.member_point[units.building_member[flooded]]] = True
    share = units.share_of(points)
    chosen = units.select(units.affected(share))
    partly = int(((share > 0) & ~units.affected(share)).sum())
    assert exposed["persons"] == round(float(chosen.persons[:, 0].sum())) > 0
    assert exposed["households"] == round(float(chosen.households[:, 0].sum()))
    households = chosen.group_households().sum(axis=0)
    shown = {r["persona"]: r["households"] for r in exposed["personas"]}
    assert shown == {
        pid: round(float(households[g]))
        for g, pid in enumerate(base.catalogue.ids)
        if households[g] >= base.rules.min_group
    }
    assert all(h >= base.rules.min_group for h in shown.values())
    assert {"measure": 0, "code": "flood_whole_units", "units": len(chosen), "kept": partly} in result["privacy"][
        "notes"
    ]
    # A depth polygon around one small house: too few people for a figure, whatever its level.
    small = run_scenario(base, spec(flood(area=box_around(46, 31, 15))))
    assert small["flood"]["buildings"]["depth_m"] == {"east_small": round(LEVEL - z[46, 31], 2)}
    assert small["flood"]["exposed"] == {"withheld": True, "households": None, "persons": None, "personas": []}
    assert {"measure": 0, "code": "flood_area_too_small"} in small["privacy"]["notes"]
    # Around the garage: nobody lives there, which the public geometry alone says.
    hut = run_scenario(base, spec(flood(area=box_around(42, 40, 15))))["flood"]
    assert hut["buildings"]["flooded"] == 1
    assert hut["exposed"]["persons"] == 0


def test_facilities_in_the_water_or_cut_off_by_it_close(base: Baseline) -> None:
    z = dem_heights().astype(np.float64)
    r, c = FACILITIES["kita_insel"][:2]
    wet = reached(z, LEVEL)
    assert not wet[r, c]
    assert wet[r - 1, c] & wet[r + 1, c] & wet[r, c - 1] & wet[r, c + 1], "a dry island in the water"
    result = run_scenario(base, spec(flood()))
    cut = {f["facility_id"]: (f["reason"], f["depth_m"]) for f in result["flood"]["facilities_cut_off"]}
    r, c = FACILITIES["kita_ufer"][:2]
    assert cut == {"kita_ufer": ("flooded", round(LEVEL - z[r, c], 2)), "kita_insel": ("access_flooded", 0.0)}
    assert result["summary"]["facilities"] == len(FACILITIES) - 2
    assert any("flood" in loss["causes"] for loss in result["assessment"]["losses"])


def test_flooded_paths_leave_the_network_and_bridges_over_the_river_stay(base: Baseline) -> None:
    # At 40.2 m the water stays in the Rhine's bed: the bridge over it stays open, nothing is cut.
    low = run_scenario(base, spec(flood(40.2)))["flood"]["paths"]
    assert (low["segments_removed"], low["distance_method"]) == (0, "network")
    high = run_scenario(base, spec(flood()))["flood"]["paths"]
    # The bridge's approaches and the east bank's lane are under water: both go, the west bank's lane stays.
    bridge, lane = 45 * 20, math.hypot(13 * 20, 3 * 20)
    assert high["segments_removed"] == 2
    assert high["length_removed_km"] == round((bridge + lane) / 1000, 2)
    assert high["distance_method"] == "network"


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[Baseline]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    try:
        yield load_baseline(con, demo_paths.pipelines_dir, key=demo_paths.privacy_key_file("lauf").read_bytes())
    finally:
        con.close()


AT_THE_PEGNITZ = [[11.2760, 49.5090], [11.2830, 49.5090], [11.2830, 49.5120], [11.2760, 49.5120], [11.2760, 49.5090]]


def test_lauf_without_a_dem_floods_on_its_twin_wide_ground_and_says_so(lauf: Baseline) -> None:
    area = {"type": "Polygon", "coordinates": [AT_THE_PEGNITZ]}
    result = run_scenario(lauf, spec(flood(328.0, area=area)))["flood"]
    assert result["terrain"]["kind"] == "twin_ground"
    assert result["terrain"]["ground_m"] == 327.0
    assert result["all_or_nothing"] is True
    depths = set(result["buildings"]["depth_m"].values())
    assert depths == {1.0}, "one ground: every flooded building stands 1 m deep"
    assert result["buildings"]["flooded"] > 100
    assert result["exposed"]["persons"] > 0
    assert run_scenario(lauf, spec(flood(327.0, area=area)))["flood"]["buildings"]["flooded"] == 0


@pytest.mark.parametrize(
    ("measures", "words"),
    [
        ([flood(float("nan"))], "finite number"),
        ([flood(float("inf"))], "finite number"),
        ([flood(9000.0)], "less than or equal to 5000"),
        (
            [flood(), {"kind": "flood_wall", "crest_m": 47, "line": {"type": "LineString", "coordinates": [[7, 51]]}}],
            "at least 2",
        ),
        (
            [
                flood(),
                {
                    "kind": "flood_wall",
                    "crest_m": 47,
                    "line": {"type": "LineString", "coordinates": [[7, 51], [7, 51]]},
                },
            ],
            "no length",
        ),
        ([wall(47.0)], "a flood wall needs a flood"),
    ],
)
def test_levels_and_walls_are_validated(measures: list[dict[str, Any]], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        spec(*measures)


def test_levels_and_crests_must_lie_within_the_terrain() -> None:
    check_heights(spec(flood(46.0), wall(47.0)), 39.01, 50.33)
    with pytest.raises(InputError, match=r"measures\.0\.level_m") as raised:
        check_heights(spec(flood(38.0)), 39.01, 50.33)
    assert raised.value.record == "measures.0.level_m"
    with pytest.raises(InputError, match=r"measures\.1\.crest_m"):
        check_heights(spec(flood(46.0), wall(90.0)), 39.01, 50.33)


def test_the_flood_keeps_to_its_drawn_area(base: Baseline) -> None:
    # A depth polygon: only the cells whose centre lies in it may flood, connected to its lowest cell.
    area = box_around(38, 40, 50)
    result = run_scenario(base, spec(flood(area=area)))["flood"]
    z = dem_heights().astype(np.float64)
    polygon = shapely.Polygon([xy(38 + dr, 40 + dc) for dr, dc in ((-2.5, -2.5), (-2.5, 2.5), (2.5, 2.5), (2.5, -2.5))])
    inside = [(r, c) for r in range(50) for c in range(50) if polygon.contains(shapely.Point(*xy(r, c)))]
    assert result["cells"] == sum(z[r, c] < LEVEL for r, c in inside) == 25
    assert result["levels"][0]["area_drawn"] is True
