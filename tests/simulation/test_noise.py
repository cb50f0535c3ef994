"""The road-noise screening model: hand-computed levels beside a straight road, screening, scenarios, bands."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS
from scipy.integrate import quad

from tests.conftest import PIPELINES
from twin3d.errors import ConfigError, InputError
from twin3d.io.crs import transform_points
from twin3d.simulation.noise import (
    NOISE_BANDS,
    Roads,
    TrafficTable,
    affected_by,
    building_levels,
    load_traffic,
    noise_band,
    point_levels,
)
from twin3d.simulation.scenario import AddRoad, CloseRoad
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.simulation.terrain import Terrain

GROUND = 300.0
UTM32 = CRS.from_epsg(25832)
# The test world sits at real UTM 32 coordinates near Lauf, so scenario lines in lon/lat land in it.
X0, Y0 = 660_000.0, 5_485_000.0
ROAD_HALF_M = 1000.0

# One class with fixed traffic, written out so the hand computation below reads the same numbers.
DTV, SPEED = 12_000.0, 50.0
SHARE = {"day": 0.065, "evening": 0.045, "night": 0.011}
LKW1 = {"day": 0.10, "night": 0.05}
LKW2 = {"day": 0.05, "night": 0.02}
HOURS = {"day": 12, "evening": 4, "night": 8}


def traffic_table() -> TrafficTable:
    return TrafficTable.model_validate(
        {
            "periods": {"day": [6, 18], "evening": [18, 22], "night": [22, 6]},
            "classes": {
                "primary": {
                    "vehicles_per_day": DTV,
                    "speed_kmh": SPEED,
                    "hourly_share": SHARE,
                    "lkw1": LKW1,
                    "lkw2": LKW2,
                    "sources": {"vehicles_per_day": "test", "speed_kmh": "test", "hourly_share": "t", "heavy": "t"},
                }
            },
        }
    )


def flat_world(obstacles: Obstacles | None = None, half: float = 150.0) -> Surface:
    terrain = Terrain(np.full((3, 3), GROUND), (X0 - half, Y0 + half), (half, half), None, half, GROUND)
    obstacles = obstacles if obstacles is not None else empty_obstacles()
    return Surface.build(obstacles, terrain, cell_m=1.0, bounds=(X0 - half, Y0 - half, X0 + half, Y0 + half))


def empty_obstacles() -> Obstacles:
    return Obstacles(np.zeros(0, object), np.zeros(0, object), np.zeros(0), np.zeros(0))


def roads(*lines: shapely.LineString) -> Roads:
    n = len(lines)
    return Roads(
        np.array([f"way/{i}" for i in range(n)], dtype=object),
        np.array(["primary"] * n, dtype=object),
        np.array(lines, dtype=object),
        np.full(n, np.nan),
        np.zeros(n, bool),
        np.full(n, np.nan),
        np.full(n, np.nan),
    )


def straight_road() -> Roads:
    return roads(shapely.LineString([(X0 - ROAD_HALF_M, Y0), (X0 + ROAD_HALF_M, Y0)]))


# --- the hand computation, from the formulas (docs/noise.md), not from the module -----------------------------------


def hand_sound_power(period: str) -> float:
    """RLS-19: L_W' = 10 lg M + 10 lg[sum p 10^(0.1 L_W,FzG(v)) / v] - 30, Grundwerte A + 10 lg(1 + (v/B)^C)."""
    shift = "night" if period == "night" else "day"
    m = DTV * SHARE[period]
    p1, p2 = LKW1[shift], LKW2[shift]
    pkw = 88.0 + 10 * math.log10(1 + (SPEED / 20.0) ** 3.06)
    lkw1 = 100.3 + 10 * math.log10(1 + (SPEED / 40.0) ** 4.33)
    lkw2 = 105.4 + 10 * math.log10(1 + (SPEED / 50.0) ** 4.88)
    mix = (1 - p1 - p2) * 10 ** (pkw / 10) / SPEED + p1 * 10 ** (lkw1 / 10) / SPEED + p2 * 10 ** (lkw2 / 10) / SPEED
    return 10 * math.log10(m) + 10 * math.log10(mix) - 30


def hand_line_attenuation(d: float, height_difference: float = 3.5) -> float:
    """10 lg of the integral along the road of 10^(-0.1 (D_div + D_atm + D_gr)) for a receiver d metres off it."""

    def kernel(x: float) -> float:
        s = math.sqrt(d * d + x * x + height_difference**2)
        d_div = 10 * math.log10(2 * math.pi * s * s)
        d_gr = max(4.8 - (2.25 / s) * (34 + 600 / s), 0.0)
        return 10 ** (-0.1 * (d_div + s / 200 + d_gr))

    total = sum(quad(kernel, a, b, limit=200)[0] for a, b in ((-ROAD_HALF_M, 0.0), (0.0, ROAD_HALF_M)))
    return 10 * math.log10(total)


def hand_levels(d: float) -> tuple[float, float, float]:
    """(L_DEN, L_day 6-22, L_night) d metres beside the road."""
    levels = {p: hand_sound_power(p) + hand_line_attenuation(d) for p in ("day", "evening", "night")}
    den = 10 * math.log10(
        (
            HOURS["day"] * 10 ** (levels["day"] / 10)
            + HOURS["evening"] * 10 ** ((levels["evening"] + 5) / 10)
            + HOURS["night"] * 10 ** ((levels["night"] + 10) / 10)
        )
        / 24
    )
    day = 10 * math.log10((12 * 10 ** (levels["day"] / 10) + 4 * 10 ** (levels["evening"] / 10)) / 16)
    return den, day, levels["night"]


@pytest.mark.parametrize("distance", [10.0, 25.0, 50.0])
def test_a_straight_road_gives_the_hand_computed_levels(distance: float) -> None:
    levels = point_levels(
        straight_road(), flat_world(), np.array([X0 + 3.0]), np.array([Y0 + distance]), traffic=traffic_table()
    )
    den, day, night = hand_levels(distance)
    assert levels.lden[0] == pytest.approx(den, abs=0.1)
    assert levels.lday[0] == pytest.approx(day, abs=0.1)
    assert levels.lnight[0] == pytest.approx(night, abs=0.1)


def test_the_worked_example_of_the_documentation() -> None:
    # docs/noise.md works the same road through by hand: its figures are these.
    assert hand_sound_power("day") == pytest.approx(84.2, abs=0.05)
    assert [round(hand_levels(d)[0], 1) for d in (10.0, 25.0, 50.0)] == [71.5, 66.5, 61.3]


def test_a_wall_screens_what_stands_behind_it_by_the_expected_d_z() -> None:
    # A 10 m piece of road 36 m north of the receiver (one point source), a 6 m high wall 18..19 m north.
    piece = roads(shapely.LineString([(X0 - 5.0, Y0 + 36.0), (X0 + 5.0, Y0 + 36.0)]))
    wall = Obstacles(
        np.array(["wall"], dtype=object), np.array([shapely.box(X0 - 60, Y0 + 18, X0 + 60, Y0 + 19)]),
        np.array([GROUND]), np.array([6.0]),
    )  # fmt: skip
    x, y = np.array([X0]), np.array([Y0])
    free = point_levels(piece, flat_world(), x, y, traffic=traffic_table()).lden[0]
    screened = point_levels(piece, flat_world(wall), x, y, traffic=traffic_table()).lden[0]
    # By hand: source 0.5 m, receiver 4 m, edge 6 m above the ground; the raster sees the wall at its 1 m cell's
    # middle, 18.5 m from the receiver (the wall's faces give 17.88 and 18.09 dB).
    s = math.hypot(36.0, 3.5)
    a, b = math.hypot(17.5, 5.5), math.hypot(18.5, 2.0)
    z = a + b - s
    d_z = 10 * math.log10(3 + 80 * z * math.exp(-math.sqrt(a * b * s / (2 * z)) / 2000))
    d_gr = 4.8 - (2.25 / s) * (34 + 600 / s)
    assert d_z == pytest.approx(18.0, abs=0.05)
    assert free - screened == pytest.approx(d_z - d_gr, abs=0.1)


def test_the_most_effective_edge_screens_not_the_highest() -> None:
    # A 7 m shed right in front of the receiver screens a source 300 m away; a 12 m block half way does much less
    # (its edge rises higher above the line of sight, but far from both ends): the shed's D_z counts.
    piece = roads(shapely.LineString([(X0 - 5.0, Y0 + 300.0), (X0 + 5.0, Y0 + 300.0)]))
    shed = shapely.box(X0 - 20, Y0 + 5, X0 + 20, Y0 + 6)
    block = shapely.box(X0 - 20, Y0 + 150, X0 + 20, Y0 + 151)
    both = Obstacles(
        np.array(["shed", "block"], dtype=object), np.array([shed, block]), np.full(2, GROUND), np.array([7.0, 12.0])
    )
    only_shed = Obstacles(np.array(["shed"], dtype=object), np.array([shed]), np.array([GROUND]), np.array([7.0]))
    x, y = np.array([X0]), np.array([Y0])
    with_both = point_levels(piece, flat_world(both, half=400.0), x, y, traffic=traffic_table()).lden[0]
    with_shed = point_levels(piece, flat_world(only_shed, half=400.0), x, y, traffic=traffic_table()).lden[0]
    assert with_both == pytest.approx(with_shed, abs=1e-9)


def test_a_tall_screen_is_capped_at_20_db() -> None:
    piece = roads(shapely.LineString([(X0 - 5.0, Y0 + 60.0), (X0 + 5.0, Y0 + 60.0)]))
    tower = Obstacles(
        np.array(["tower"], dtype=object), np.array([shapely.box(X0 - 60, Y0 + 30, X0 + 60, Y0 + 34)]),
        np.array([GROUND]), np.array([60.0]),
    )  # fmt: skip
    x, y = np.array([X0]), np.array([Y0])
    free = point_levels(piece, flat_world(), x, y, traffic=traffic_table()).lden[0]
    screened = point_levels(piece, flat_world(tower), x, y, traffic=traffic_table()).lden[0]
    s = math.hypot(60.0, 3.5)
    assert free - screened == pytest.approx(20.0 - (4.8 - (2.25 / s) * (34 + 600 / s)), abs=0.05)


def test_closing_the_road_removes_its_noise_and_a_second_road_adds_to_it() -> None:
    both = roads(
        shapely.LineString([(X0 - ROAD_HALF_M, Y0), (X0 + ROAD_HALF_M, Y0)]),
        shapely.LineString([(X0 - ROAD_HALF_M, Y0 + 50), (X0 + ROAD_HALF_M, Y0 + 50)]),
    )
    x, y = np.array([X0]), np.array([Y0 + 25.0])
    surface, traffic = flat_world(), traffic_table()
    together = point_levels(both, surface, x, y, traffic=traffic).lden[0]
    one = point_levels(both.with_changes(closed=np.array([False, True]), crs=UTM32), surface, x, y, traffic=traffic)
    none = point_levels(both.with_changes(closed=np.array([True, True]), crs=UTM32), surface, x, y, traffic=traffic)
    assert together == pytest.approx(one.lden[0] + 10 * math.log10(2), abs=0.05)  # two equal roads: +3 dB
    assert none.lden[0] == -np.inf
    assert noise_band(none.lden)[0] == 0


def test_close_road_by_id_or_area_and_an_added_road_from_lon_lat() -> None:
    both = roads(
        shapely.LineString([(X0 - 500, Y0), (X0 + 500, Y0)]), shapely.LineString([(X0 - 500, Y0 + 300), (X0, Y0 + 300)])
    )
    assert both.closing(CloseRoad(kind="close_road", road_ids=["way/1"]), UTM32).tolist() == [False, True]
    lon, lat = transform_points(np.array([X0 - 10, X0 + 10]), np.array([Y0 + 290, Y0 + 310]), UTM32, CRS(4326))
    ring = [[lon[0], lat[0]], [lon[1], lat[0]], [lon[1], lat[1]], [lon[0], lat[1]], [lon[0], lat[0]]]
    area = CloseRoad.model_validate({"kind": "close_road", "area": {"type": "Polygon", "coordinates": [ring]}})
    assert both.closing(area, UTM32).tolist() == [False, True]
    with pytest.raises(InputError, match="way/7"):
        both.closing(CloseRoad(kind="close_road", road_ids=["way/7"]), UTM32)
    # A new road given in lon/lat 20 m south of a point, with its own traffic: as loud as the same road drawn in UTM.
    lon, lat = transform_points(np.array([X0 - 800, X0 + 800]), np.array([Y0 + 100, Y0 + 100]), UTM32, CRS(4326))
    added = AddRoad.model_validate(
        {"kind": "add_road", "road_class": "primary", "vehicles_per_day": 12_000, "speed_kmh": 50,
         "line": {"type": "LineString", "coordinates": [[lon[0], lat[0]], [lon[1], lat[1]]]}}
    )  # fmt: skip
    assert both.with_changes([added], crs=UTM32).ids.tolist() == ["way/0", "way/1", "added-0"]
    only_new = roads().with_changes([added], crs=UTM32)
    x, y = np.array([X0]), np.array([Y0 + 120.0])
    near_new = point_levels(only_new, flat_world(), x, y, traffic=traffic_table()).lden[0]
    drawn = roads(shapely.LineString([(X0 - 800, Y0 + 100), (X0 + 800, Y0 + 100)]))
    assert near_new == pytest.approx(point_levels(drawn, flat_world(), x, y, traffic=traffic_table()).lden[0], abs=0.05)
    # The road's own traffic wins over the class's: twice the vehicles, 3 dB more.
    busier = roads().with_changes([added.model_copy(update={"vehicles_per_day": 24_000})], crs=UTM32)
    louder = point_levels(busier, flat_world(), x, y, traffic=traffic_table()).lden[0]
    assert louder - near_new == pytest.approx(10 * math.log10(2), abs=0.01)


def test_a_building_hears_at_its_most_exposed_facade() -> None:
    # A 10 x 10 m house 20 m north of the road: its south façade faces the road, its north façade is behind it.
    house = Obstacles(
        np.array(["house"], dtype=object), np.array([shapely.box(X0 - 5, Y0 + 20, X0 + 5, Y0 + 30)]),
        np.array([GROUND]), np.array([8.0]),
    )  # fmt: skip
    surface, traffic = flat_world(house), traffic_table()
    levels = building_levels(straight_road(), surface, house, np.array([0]), traffic)
    # The south façade's receiver stands 0.3 m in front of the wall (twin3d.simulation.sun.OFFSET_M).
    front = point_levels(straight_road(), flat_world(), np.array([X0]), np.array([Y0 + 19.7]), traffic=traffic)
    assert levels.lden[0] == pytest.approx(front.lden[0], abs=0.05)
    assert levels.lnight[0] == pytest.approx(front.lnight[0], abs=0.05)
    assert noise_band(levels.lden)[0] == 3  # 65-70 dB
    with pytest.raises(InputError, match="surface"):
        building_levels(straight_road(), flat_world(), house, np.array([0]), traffic)


def test_a_point_off_the_surface_is_refused() -> None:
    with pytest.raises(InputError, match="off the surface"):
        point_levels(
            straight_road(), flat_world(), np.array([X0, X0 + 5000]), np.array([Y0, Y0]), traffic=traffic_table()
        )


def test_bands_of_levels() -> None:
    levels = np.array([-np.inf, 54.9, 55.0, 59.99, 60.0, 64.5, 65.0, 70.0, 84.0])
    assert noise_band(levels).tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 4]
    assert NOISE_BANDS == (55.0, 60.0, 65.0, 70.0)


def test_affected_buildings_are_those_near_a_changed_road_or_behind_a_changed_building() -> None:
    # Houses in a row 30 m north of the road, and one far away; a new wall goes up between the road and house 0.
    houses = [shapely.box(X0 + 40 * i, Y0 + 30, X0 + 40 * i + 10, Y0 + 40) for i in range(3)]
    before = Obstacles(
        np.array(["h0", "h1", "h2", "far"], dtype=object),
        np.array([*houses, shapely.box(X0 + 200, Y0 + 900, X0 + 210, Y0 + 910)]),
        np.full(4, GROUND), np.full(4, 8.0),
    )  # fmt: skip
    traffic = traffic_table()
    short = roads(shapely.LineString([(X0 - 100, Y0), (X0 + 100, Y0)]))
    index = np.arange(4)
    unchanged = affected_by(short, short, before, before, index=index, traffic=traffic)
    assert unchanged.tolist() == []
    wall = before.with_changes([("wall", shapely.box(X0 - 2, Y0 + 10, X0 + 12, Y0 + 12), GROUND, 5.0)])
    behind = affected_by(short, short, before, wall, index=index, traffic=traffic)
    assert 0 in behind.tolist()
    assert 3 not in behind.tolist()
    closed = short.with_changes(closed=np.array([True]), crs=UTM32)
    assert affected_by(short, closed, before, before, index=index, traffic=traffic).tolist() == [0, 1, 2]


def test_the_traffic_table_of_the_repository_covers_every_class_a_scenario_may_add() -> None:
    from twin3d.simulation.scenario import ROAD_CLASSES  # noqa: PLC0415

    table = load_traffic(PIPELINES / "noise_traffic.toml")
    assert table.periods.hours() == (12, 4, 8)
    assert set(ROAD_CLASSES) <= table.classes.keys()
    assert all(c.sources.vehicles_per_day for c in table.classes.values())
    with pytest.raises(InputError, match="bus_guideway"):
        table.of(np.array(["primary", "bus_guideway"], dtype=object))


def test_a_broken_traffic_table_names_the_field(tmp_path: Path) -> None:
    text = (
        (PIPELINES / "noise_traffic.toml")
        .read_text(encoding="utf-8")
        .replace("lkw2 = { day = 0.20", "lkw2 = { day = 0.99")
    )
    broken = tmp_path / "noise_traffic.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"classes\.motorway"):
        load_traffic(broken)


def test_the_fast_path_agrees_with_the_plain_reference_of_the_bench() -> None:
    from twin3d.simulation.noise_bench import reference_levels  # noqa: PLC0415

    # Two rows of terraced houses along a bent road, the second row screened by the first. (Gaps between the houses
    # would let each method see a different share of the road through them: each piece of road is one point source,
    # and the two cut the road into pieces differently.)
    houses = [
        shapely.box(X0 + 20 * i - 60, Y0 + dy, X0 + 20 * i - 40, Y0 + dy + 10) for i in range(6) for dy in (15, 45)
    ]
    scene = Obstacles(
        np.array([f"h{i}" for i in range(len(houses))], dtype=object), np.array(houses),
        np.full(len(houses), GROUND), np.full(len(houses), 9.0),
    )  # fmt: skip
    bent = roads(shapely.LineString([(X0 - 140, Y0 - 40), (X0 - 20, Y0), (X0 + 140, Y0 + 5)]))
    index = np.arange(len(houses))
    fast = building_levels(bent, flat_world(scene), scene, index, traffic_table()).lden
    plain = reference_levels(bent, scene, index, traffic_table(), GROUND)
    np.testing.assert_allclose(fast[::2], plain[::2], atol=0.1)  # the first row sees the road
    # The second row hears the road round the rows' ends, where the two cut the road differently: within 1.5 dB.
    np.testing.assert_allclose(fast[1::2], plain[1::2], atol=1.5)
    assert (fast[1::2] < fast[::2] - 3).all()  # the second row hears less than the first
