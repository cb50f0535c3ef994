"""Shadows of prisms on flat ground: length h / tan(e) away from the sun, concave footprints swept exactly, planned
buildings replacing the existing ones under them, removed buildings casting none, the cap at a low sun, and the
sun's day (rise, set, the steps of a day whose clocks change)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import CRS

from twin3d.simulation.shadows import (
    MAX_SHADOW_M,
    Casters,
    cast_shadows,
    grid_north_deg,
    shadow_features,
    sun_at,
    sun_day,
    swept_parts,
)
from twin3d.simulation.terrain import Terrain

BERLIN = ZoneInfo("Europe/Berlin")
UTM32 = CRS.from_epsg(25832)


def _casters(*footprints: shapely.Geometry, heights: list[float], ids: list[str] | None = None) -> Casters:
    names = ids or [f"b{i}" for i in range(len(footprints))]
    return Casters.of(np.array(names, dtype=object), np.array(footprints, dtype=object), np.array(heights))


def _reach(shadow: shapely.Geometry, origin: tuple[float, float], bearing_deg: float) -> float:
    """How far the shadow reaches from ``origin`` towards ``bearing_deg`` (degrees clockwise from north)."""
    heading = math.radians(bearing_deg)
    direction = np.array([math.sin(heading), math.cos(heading)])
    coords = shapely.get_coordinates(shadow) - np.array(origin)
    return float((coords @ direction).max())


@pytest.mark.parametrize(("azimuth", "elevation"), [(90.0, 30.0), (180.0, 45.0), (235.0, 12.5), (300.0, 60.0)])
def test_a_box_casts_h_over_tan_e_away_from_the_sun(azimuth: float, elevation: float) -> None:
    box = shapely.box(-5, -5, 5, 5)
    shadows = cast_shadows(_casters(box, heights=[20.0]), azimuth, elevation)
    expected = 20.0 / math.tan(math.radians(elevation))
    assert shadows.per_metre == pytest.approx(1 / math.tan(math.radians(elevation)))
    away = (azimuth + 180) % 360
    # The shadow reaches as far beyond the box as h / tan(e) in the direction opposite the sun, none towards it.
    assert _reach(shadows.existing, (0, 0), away) - _reach(box, (0, 0), away) == pytest.approx(expected, rel=1e-6)
    assert _reach(shadows.existing, (0, 0), azimuth) == pytest.approx(_reach(box, (0, 0), azimuth), abs=1e-6)
    # The box swept along the shadow vector: its area plus the band its width perpendicular to the sun draws.
    heading = math.radians(away)
    width = _reach(box, (0, 0), math.degrees(heading) + 90) + _reach(box, (0, 0), math.degrees(heading) - 90)
    assert shadows.existing.area == pytest.approx(100 + width * expected, rel=1e-4)
    assert shadows.planned.is_empty
    assert shadows.capped == 0


def test_grid_north_turns_the_shadow_into_the_twin_grid() -> None:
    # At Lauf, east of UTM zone 32's central meridian, true north lies 1.7° west of grid north.
    turn = grid_north_deg(UTM32, 11.2775, 49.5098)
    assert turn == pytest.approx(-1.73, abs=0.01)
    shadows = cast_shadows(_casters(shapely.box(-1, -1, 1, 1), heights=[10.0]), 180.0, 45.0, grid_north=turn)
    west, _, east, north = shadows.existing.bounds  # true north lies a little west in the grid
    assert west == pytest.approx(-1 + 10 * math.sin(math.radians(turn)))
    assert east == pytest.approx(1)
    assert north == pytest.approx(1 + 10 * math.cos(math.radians(turn)))


def test_a_concave_footprint_is_swept_exactly() -> None:
    # An L: its notch opens to the north-east; with the sun in the south-west the arms' shadows fill the notch.
    ell = shapely.Polygon([(0, 0), (20, 0), (20, 8), (8, 8), (8, 20), (0, 20)])
    shadows = cast_shadows(_casters(ell, heights=[10.0]), azimuth_deg=225.0, elevation_deg=45.0)
    step = 10.0 * np.array([math.sin(math.radians(45)), math.cos(math.radians(45))])
    # The same sweep by brute force: many copies of the L along the way.
    copies = [shapely.affinity.translate(ell, *(t * step)) for t in np.linspace(0, 1, 401)]
    brute = shapely.union_all(copies)
    assert shadows.existing.symmetric_difference(brute).area < 0.002 * brute.area
    assert shadows.existing.contains(shapely.Point(12, 12))  # in the notch
    assert not shadows.existing.contains(shapely.Point(28, 28))  # beyond the reach of both arms
    # Only front edges make quads: the L's three edges facing south or west cast none.
    parts, owner = swept_parts(np.array([ell], dtype=object), step[None, :])
    assert len(parts) == 1 + 4
    assert set(owner) == {0}


def test_a_hole_in_a_footprint_casts_into_the_courtyard() -> None:
    courtyard = shapely.Polygon(
        shapely.box(0, 0, 30, 30).exterior.coords, [shapely.box(10, 10, 20, 20).exterior.coords]
    )
    shadows = cast_shadows(_casters(courtyard, heights=[5.0]), azimuth_deg=180.0, elevation_deg=45.0)
    assert shadows.existing.contains(shapely.Point(15, 12))  # the courtyard's south wall shades its south half
    assert not shadows.existing.contains(shapely.Point(15, 17))


def test_planned_buildings_replace_those_under_them_and_removed_ones_cast_none() -> None:
    old = shapely.box(0, 0, 10, 10)
    neighbour = shapely.box(30, 0, 40, 10)
    kept = shapely.box(60, 0, 70, 10)
    casters = _casters(old, neighbour, kept, heights=[8.0, 8.0, 8.0], ids=["old", "neighbour", "kept"])
    tower = shapely.box(-2, -2, 12, 12)  # stands on the old house
    changed = casters.without(["neighbour"]).with_planned(np.array([tower], dtype=object), np.array([30.0]))
    assert list(changed.ids) == ["kept", "planned:0"]
    assert list(changed.planned) == [False, True]
    shadows = cast_shadows(changed, azimuth_deg=180.0, elevation_deg=45.0)
    assert shadows.planned.bounds == pytest.approx((-2, -2, 12, 42))  # 30 m northwards
    assert not shadows.existing.intersects(shapely.box(30.5, 0.5, 39.5, 40))  # the removed neighbour: no shadow
    assert shadows.existing.contains(shapely.Point(65, 15))
    assert shadows.existing.intersection(shadows.planned).area == pytest.approx(0, abs=1e-6)
    # A plan beside a house leaves it standing; overlapping shadows go to the plan, so none lies twice.
    beside = casters.with_planned(np.array([shapely.box(12, 0, 22, 10)], dtype=object), np.array([30.0]))
    assert "old" in set(beside.ids)
    both = cast_shadows(beside, azimuth_deg=200.0, elevation_deg=40.0)
    assert both.existing.intersection(both.planned).area == pytest.approx(0, abs=1e-6)
    alike = Casters(beside.ids, beside.footprints, beside.height_m, np.zeros(len(beside), bool))
    everything = cast_shadows(alike, azimuth_deg=200.0, elevation_deg=40.0).existing
    assert both.existing.union(both.planned).area == pytest.approx(everything.area, rel=1e-6)


def test_a_low_sun_clips_shadows_to_the_cap_and_says_how_many() -> None:
    casters = _casters(shapely.box(0, 0, 10, 10), shapely.box(50, 0, 60, 10), heights=[30.0, 3.0])
    shadows = cast_shadows(casters, azimuth_deg=180.0, elevation_deg=2.0)  # 30 m at 2°: 859 m
    assert shadows.capped == 1
    assert shadows.existing.bounds[3] == pytest.approx(10 + MAX_SHADOW_M)
    assert _reach(shadows.existing.intersection(shapely.box(45, -1, 65, 1000)), (0, 0), 0) == pytest.approx(
        10 + 3 / math.tan(math.radians(2.0))
    )


def test_no_shadows_with_the_sun_below_the_horizon() -> None:
    shadows = cast_shadows(_casters(shapely.box(0, 0, 10, 10), heights=[10.0]), azimuth_deg=0.0, elevation_deg=-3.0)
    assert shadows.existing.is_empty
    assert shadows.planned.is_empty
    assert shadows.per_metre is None


def test_shadows_are_clipped_to_the_box_asked_for() -> None:
    casters = _casters(shapely.box(0, 0, 10, 10), shapely.box(1000, 0, 1010, 10), heights=[10.0, 10.0])
    box = shapely.box(-50, -50, 50, 15)
    near = casters.near(box, 10.0)
    assert list(near.ids) == ["b0"]
    shadows = cast_shadows(near, azimuth_deg=180.0, elevation_deg=30.0, clip=box)
    assert shadows.existing.bounds[3] == pytest.approx(15)


def test_features_are_lon_lat_with_the_ground_under_each_vertex() -> None:
    x0, y0 = 664_800.0, 5_486_600.0  # Lauf
    # A terrain rising 1 m per 10 m eastwards, in 10 m cells.
    heights = np.tile(300.0 + np.arange(20, dtype=np.float64), (20, 1))
    terrain = Terrain(heights, (x0 + 5, y0 + 195), (10.0, 10.0), "dem.tif", 10.0)
    casters = _casters(shapely.box(x0 + 50, y0 + 50, x0 + 60, y0 + 60), heights=[10.0])
    shadows = cast_shadows(casters, azimuth_deg=270.0, elevation_deg=45.0)  # 10 m eastwards
    features = [json.loads(f) for f in shadow_features(shadows, UTM32, terrain, undulation_m=47.8)]
    assert [f["properties"]["source"] for f in features] == ["existing"]
    assert features[0]["properties"]["area_m2"] == pytest.approx(200.0, rel=1e-3)
    ring = np.array(features[0]["geometry"]["coordinates"][0])
    assert ring.shape[1] == 3
    assert 11.276 < ring[:, 0].min() < ring[:, 0].max() < 11.278
    assert 49.509 < ring[:, 1].min() < 49.511
    assert ring[:, 2].min() == pytest.approx(305.0 + 47.8)
    assert ring[:, 2].max() == pytest.approx(307.0 + 47.8)


def test_the_sun_over_lauf_on_midsummers_day() -> None:
    day = sun_day(date(2026, 6, 21), lon=11.2775, lat=49.5098)
    assert day.sunrise is not None
    assert day.sunset is not None
    # Solar noon: 12:00 CET + 4 min per degree west of 15° E, less the equation of time (-1.7 min): 13:16 CEST.
    noon = day.sunrise + (day.sunset - day.sunrise) / 2
    assert abs((noon - datetime(2026, 6, 21, 13, 16, 30, tzinfo=BERLIN)).total_seconds()) < 60
    # The standard day length, from the hour angle at which the centre is 50' below the horizon.
    phi, delta = math.radians(49.5098), math.radians(23.44)
    cos_h = (math.sin(math.radians(-0.833)) - math.sin(phi) * math.sin(delta)) / (math.cos(phi) * math.cos(delta))
    length_h = 2 * math.degrees(math.acos(cos_h)) / 15
    assert abs((day.sunset - day.sunrise).total_seconds() / 3600 - length_h) < 3 / 60
    assert len(day.times) == 144
    assert float(day.elevation.max()) == pytest.approx(64.0, abs=0.2)
    azimuth, elevation = sun_at(datetime(2026, 6, 21, 10, 0, tzinfo=BERLIN), lon=11.2775, lat=49.5098)
    assert 100 < azimuth < 112
    assert 40 < elevation < 48


def test_a_day_whose_clocks_change_has_its_real_hours() -> None:
    spring = sun_day(date(2026, 3, 29), lon=11.2775, lat=49.5098)
    autumn = sun_day(date(2026, 10, 25), lon=11.2775, lat=49.5098)
    assert len(spring.times) == 23 * 6
    assert len(autumn.times) == 25 * 6
    assert [t.strftime("%H:%M") for t in spring.times[11:14]] == ["01:50", "03:00", "03:10"]


def test_no_sunrise_in_a_polar_night() -> None:
    day = sun_day(date(2026, 12, 21), lon=18.96, lat=78.2)  # Longyearbyen
    assert day.sunrise is None
    assert day.sunset is None
    assert float(day.elevation.max()) < 0
