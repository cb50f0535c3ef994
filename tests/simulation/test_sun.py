"""Sun hours at façades: exact geometry on tiny scenes, the raster against exact intersections, and Lauf."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import shapely

from tests.simulation.flat_scene import GROUND, flat, prisms
from twin3d.pipeline.build import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.solar import day_times, solar_position
from twin3d.simulation.sun import (
    OFFSET_M,
    SunSettings,
    affected_by,
    exact_sample_sun_hours,
    facade_samples,
    sample_sun_hours,
    sun_hours,
)
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.simulation.terrain import load_terrain
from twin3d.store.connection import connect

LON, LAT = 11.28, 49.51


def test_facade_samples_stand_in_front_of_free_walls() -> None:
    courtyard = shapely.Polygon([(0, 0), (30, 0), (30, 30), (0, 30)], [[(10, 10), (10, 20), (20, 20), (20, 10)]])
    obstacles = Obstacles(
        np.array(["box", "neighbour", "block"], dtype=object),
        np.array([shapely.box(100, 0, 112, 6), shapely.box(112, 0, 118, 6), courtyard]),
        np.full(3, GROUND),
        np.array([10.0, 10.0, 1.0]),
    )
    samples = facade_samples(obstacles, np.array([0, 2]))
    box = samples.building == 0
    # 12 m walls get 4 samples, 6 m walls 2; the wall shared with the neighbour none.
    assert box.sum() == 4 + 4 + 2
    assert not (samples.x[box] > 112).any()
    np.testing.assert_allclose(samples.z[box], GROUND + 1.5)
    # Outward normals: each sample lies OFFSET_M outside its wall, in the normal's direction.
    walls = shapely.boundary(obstacles.geometry[samples.building])
    points = shapely.points(samples.x, samples.y)
    np.testing.assert_allclose(shapely.distance(points, walls), OFFSET_M, atol=1e-9)
    back = shapely.points(samples.x - samples.nx, samples.y - samples.ny)
    assert shapely.within(back, obstacles.geometry[samples.building]).all()
    # The courtyard's walls face into it; a 1 m shed has its samples at half its height.
    inner = (samples.building == 2) & (samples.x > 9) & (samples.x < 21) & (samples.y > 9) & (samples.y < 21)
    assert inner.sum() == 4 * 3
    np.testing.assert_allclose(samples.z[samples.building == 2], GROUND + 0.5)


def test_a_long_wall_shades_while_the_sun_is_below_its_profile_angle() -> None:
    """A sample on a south façade 14.7 m north of a 7 m wall is in the shade exactly while the ray toward the sun
    meets the wall below its crest: tan(elevation) * 14.7 / cos(sun's bearing from south) < 7 - 1.5. On 1 February
    that is the morning and the evening (on 21 March the sun's profile angle on a south wall is 90 - latitude all
    day, so a long wall shades such a wall all day or never)."""
    obstacles = prisms([(-10, 0, 10, 10, 6.0), (-1000, -16, 1000, -15, 7.0)])
    surface = Surface.build(obstacles, flat(3000.0), cell_m=0.25, bounds=(-1000.0, -30.0, 1000.0, 20.0))
    settings = SunSettings(day=date(2026, 2, 1), step_minutes=5.0)
    samples = facade_samples(obstacles, np.array([0]))
    south = np.flatnonzero((samples.ny < -0.99) & (np.abs(samples.x) < 0.1))
    assert len(south) == 1
    azimuth, elevation = solar_position(day_times(settings.day, step_minutes=5.0), lon=LON, lat=LAT)
    bearing = np.radians(azimuth - 180.0)
    distance = (15.0 - OFFSET_M) / np.cos(bearing)  # horizontally along the ray, to the wall's face
    facing = (elevation > settings.min_elevation_deg) & (np.cos(bearing) > 0)
    shaded = np.tan(np.radians(elevation)) * distance < 7.0 - 1.5
    expected = (facing & ~shaded).sum() * 5.0 / 60.0
    assert 0.5 < expected < (facing.sum() * 5.0 / 60.0) - 0.5  # the wall shades some of the day, not all
    hours = sample_sun_hours(surface, samples, settings, lon=LON, lat=LAT)[south[0]]
    assert hours == pytest.approx(expected, abs=5.0 / 60.0 + 1e-9)
    exact = exact_sample_sun_hours(obstacles, samples, settings, lon=LON, lat=LAT)[south[0]]
    assert exact == pytest.approx(expected, abs=1e-9)


def town(seed: int = 3, n: int = 60) -> Obstacles:
    """Random houses 6-20 m wide and 3-24 m high on a 300 m square, none overlapping."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 280, (n * 4, 2))
    size = rng.uniform(6, 20, (n * 4, 2))
    boxes = shapely.box(corner[:, 0], corner[:, 1], corner[:, 0] + size[:, 0], corner[:, 1] + size[:, 1])
    keep: list[int] = []
    for i in range(len(boxes)):  # a test fixture: a few hundred boxes
        if len(keep) < n and not shapely.intersects(boxes[i], shapely.buffer(boxes[keep], 2.0)).any():
            keep.append(i)
    heights = rng.uniform(3, 24, len(keep))
    return Obstacles(np.array([f"h{i:03d}" for i in range(len(keep))], dtype=object), boxes[keep],
                     np.full(len(keep), GROUND), heights)  # fmt: skip


def test_the_raster_agrees_with_exact_intersections() -> None:
    obstacles = town()
    surface = Surface.build(obstacles, flat(1000.0), cell_m=0.5)
    settings = SunSettings()
    samples = facade_samples(obstacles, np.arange(len(obstacles)))
    fast = sample_sun_hours(surface, samples, settings, lon=LON, lat=LAT)
    exact = exact_sample_sun_hours(obstacles, samples, settings, lon=LON, lat=LAT)
    step = settings.step_minutes / 60.0
    assert (np.abs(fast - exact) <= step + 1e-9).mean() > 0.97
    assert abs((fast - exact).mean()) < 0.1 * step  # no bias toward sun or shade
    best = sun_hours(surface, obstacles, np.arange(len(obstacles)), settings, lon=LON, lat=LAT)
    reference = np.zeros(len(obstacles))
    np.maximum.at(reference, samples.building, exact)
    assert (np.abs(best - reference) <= step + 1e-9).mean() > 0.95


def test_affected_by_holds_every_building_whose_sun_changes() -> None:
    before = town()
    settings = SunSettings()
    centre = shapely.centroid(before.geometry)
    near = int(np.argmin(shapely.distance(centre, shapely.Point(150, 150))))
    x0, y0, _, _ = before.geometry[near].bounds
    tower = shapely.box(x0, y0 - 16, x0 + 12, y0 - 4)
    standing = shapely.intersects(before.geometry, shapely.buffer(tower, 1.0))
    after = before.with_changes(
        added=[("tower", tower, GROUND, 30.0)],
        removed=standing | (np.arange(len(before)) == 0),
        raised_m=np.where(np.arange(len(before)) == 1, 9.0, 0.0),
    )
    bounds = (-50.0, -50.0, 350.0, 350.0)
    surface_before = Surface.build(before, flat(1000.0), bounds=bounds)
    surface_after = surface_before.with_obstacles(after)
    hours_before = sun_hours(surface_before, before, np.arange(len(before)), settings, lon=LON, lat=LAT)
    hours_after = sun_hours(surface_after, after, np.arange(len(after)), settings, lon=LON, lat=LAT)
    remap, _, _ = before.matched(after)
    kept = remap >= 0
    changed = remap[kept][hours_before[kept] != hours_after[remap[kept]]]
    affected = affected_by(before, after, settings, lon=LON, lat=LAT)
    assert len(changed) > 0
    assert set(changed.tolist()) <= set(affected.tolist())
    assert len(after) - 1 in affected  # the tower itself
    assert len(affected) < len(after) / 2  # far houses are not computed again
    # Recomputing only the affected buildings gives what computing all gives.
    again = sun_hours(surface_after, after, affected, settings, lon=LON, lat=LAT)
    np.testing.assert_array_equal(again, hours_after[affected])


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> tuple[Obstacles, Surface]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    obstacles = Obstacles.from_store(con)
    surface = Surface.build(obstacles, load_terrain(con))
    con.close()
    return obstacles, surface


def test_a_30_m_building_next_to_homes_in_lauf_takes_their_sun(lauf: tuple[Obstacles, Surface]) -> None:
    obstacles, surface = lauf
    settings = SunSettings()
    # A free 16 x 16 m plot 6 m south of a house in the old town, with houses around it.
    centre = shapely.Point(663_700.0, 5_487_300.0)
    order = np.argsort(shapely.distance(obstacles.geometry, centre))
    tree = shapely.STRtree(obstacles.geometry)
    for house in order[:400]:  # candidates nearest the centre, until a plot is free
        x0, y0, x1, _ = obstacles.geometry[house].bounds
        plot = shapely.box((x0 + x1) / 2 - 8, y0 - 22, (x0 + x1) / 2 + 8, y0 - 6)
        if not len(tree.query(shapely.buffer(plot, 2.0), predicate="intersects")):
            break
    after = obstacles.with_changes(added=[("planned-tower", plot, float(obstacles.base_m[house]), 30.0)])
    affected = affected_by(obstacles, after, settings, lon=LON, lat=LAT)
    assert house in affected
    assert len(affected) < 200
    changed = surface.with_obstacles(after)
    before = sun_hours(surface, obstacles, affected[affected < len(obstacles)], settings, lon=LON, lat=LAT)
    now = sun_hours(changed, after, affected[affected < len(obstacles)], settings, lon=LON, lat=LAT)
    assert (now <= before).all()  # a new building only takes sun
    loss = before - now
    at_house = np.flatnonzero(affected == house)[0]
    assert loss[at_house] > 1.0, (before[at_house], now[at_house])
    assert (loss > 0).sum() >= 2
    # Its south side gets its full share: the tower stands in the open.
    assert sun_hours(changed, after, np.array([len(after) - 1]), settings, lon=LON, lat=LAT)[0] > 6.0
