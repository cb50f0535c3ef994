"""The obstacle surface: heights, a box that blocks rays and segments, and scenario changes."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from twin3d.errors import InputError
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.simulation.terrain import Terrain

GROUND = 300.0


def flat_terrain(size: float = 200.0, pixel: float = 10.0) -> Terrain:
    n = int(size / pixel) + 1
    return Terrain(np.full((n, n), GROUND), (0.0, size), (pixel, pixel), None, pixel, GROUND)


def box_scene() -> Obstacles:
    """A 10 m box 20 m high at x, y 50..60, and a 5 m shed at 100..110, 50..60."""
    return Obstacles(
        np.array(["box", "shed"], dtype=object),
        np.array([shapely.box(50, 50, 60, 60), shapely.box(100, 50, 110, 60)]),
        np.array([GROUND, GROUND]),
        np.array([20.0, 5.0]),
    )


@pytest.fixture
def surface() -> Surface:
    return Surface.build(box_scene(), flat_terrain(), cell_m=1.0, bounds=(0.0, 0.0, 200.0, 200.0))


def test_heights_and_owners(surface: Surface) -> None:
    x = np.array([55.0, 105.0, 10.0, -5.0])
    y = np.array([55.0, 55.0, 10.0, 10.0])
    np.testing.assert_allclose(surface.top_at(x, y), [320.0, 305.0, 300.0, np.nan])
    np.testing.assert_allclose(surface.ground_at(x, y), [300.0, 300.0, 300.0, np.nan])
    np.testing.assert_array_equal(surface.owner_at(x, y), [0, 1, -1, -1])
    assert surface.max_top == pytest.approx(320.0)
    assert surface.shape == (200, 200)


def test_a_box_blocks_a_ray_below_its_roof_and_not_above(surface: Surface) -> None:
    # From 30 m west of the box's wall, 2 m above ground, toward the east: the wall is 20 m above the ground.
    # The ray clears the roof when it rises more than 18 m over the 20 m to the wall: tan > 0.9.
    tan = np.array([0.5, 0.85, 0.95, 2.0])
    blocked = surface.ray_blocked(30.0, 55.0, GROUND + 2.0, 1.0, 0.0, tan, max_m=500.0)
    np.testing.assert_array_equal(blocked, [True, True, False, False])
    # Toward the west nothing stands; toward the east but beyond reach it does not count.
    assert not surface.ray_blocked(30.0, 55.0, GROUND + 2.0, -1.0, 0.0, 0.1, max_m=500.0)[0]
    assert not surface.ray_blocked(30.0, 55.0, GROUND + 2.0, 1.0, 0.0, 0.1, max_m=15.0)[0]


def test_a_ray_from_its_own_building_is_not_blocked_by_it(surface: Surface) -> None:
    # From the box's east edge westward through the box: blocked, unless the box is the ray's own building.
    assert surface.ray_blocked(59.7, 55.0, GROUND + 2.0, -1.0, 0.0, 0.1, max_m=100.0)[0]
    assert not surface.ray_blocked(59.7, 55.0, GROUND + 2.0, -1.0, 0.0, 0.1, max_m=100.0, skip_owner=0)[0]


def test_long_rays_agree_with_a_plain_march() -> None:
    """The skipping march gives what a plain march of every half metre gives, over a field of random boxes."""
    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 480, (300, 2))
    geometry = shapely.box(corners[:, 0], corners[:, 1], corners[:, 0] + rng.uniform(5, 20, 300),
                           corners[:, 1] + rng.uniform(5, 20, 300))  # fmt: skip
    obstacles = Obstacles(np.arange(300).astype(str).astype(object), geometry, np.full(300, GROUND),
                          rng.uniform(3, 30, 300))  # fmt: skip
    surface = Surface.build(obstacles, flat_terrain(500.0), cell_m=1.0, bounds=(0.0, 0.0, 500.0, 500.0))
    n = 3000
    x, y = rng.uniform(0, 500, n), rng.uniform(0, 500, n)
    z = GROUND + rng.uniform(0, 35, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    tan = np.tan(np.radians(rng.uniform(2, 60, n)))
    fast = surface.ray_blocked(x, y, z, np.cos(angle), np.sin(angle), tan, max_m=800.0, step_m=0.5)
    t = np.arange(0.25, 800, 0.5)
    px, py = x[:, None] + np.cos(angle)[:, None] * t, y[:, None] + np.sin(angle)[:, None] * t
    top = surface.top_at(px, py)
    # Each point stands for the half metre around it, so it is compared with the ray's lowest point there.
    plain = (top > z[:, None] + tan[:, None] * (t - 0.25)).any(axis=1)
    np.testing.assert_array_equal(fast, plain)
    assert 0.1 < plain.mean() < 0.9


def test_highest_along_finds_the_box_and_where_it_stands(surface: Surface) -> None:
    top, distance = surface.highest_along(
        np.array([0.0, 0.0, 0.0, 150.0]),
        np.array([55.0, 55.0, 20.0, 55.0]),
        np.array([200.0, 80.0, 200.0, 90.0]),
        np.array([55.0, 55.0, 20.0, 55.0]),
        step_m=0.5,
    )
    np.testing.assert_allclose(top, [320.0, 320.0, 300.0, 305.0])
    assert distance[0] == pytest.approx(50.0, abs=0.5)
    assert distance[3] == pytest.approx(40.0, abs=0.5)  # from x=150 westward the shed's east wall at x=110
    # Standing at the box, its own cells count as ground: the shed is the highest.
    top, _ = surface.highest_along(55.0, 55.0, 200.0, 55.0, skip_owner=0)
    assert top[0] == pytest.approx(305.0)


def test_with_obstacles_rasterises_only_what_changed(surface: Surface) -> None:
    before = surface.obstacles
    after = before.with_changes(
        added=[("tower", shapely.box(150, 150, 160, 160), GROUND, 50.0)],
        removed=np.array([False, True]),
        raised_m=np.array([6.0, 0.0]),
    )
    assert list(after.ids) == ["box", "tower"]
    changed = surface.with_obstacles(after)
    fresh = Surface.build(after, flat_terrain(), cell_m=1.0, bounds=(0.0, 0.0, 200.0, 200.0))
    np.testing.assert_array_equal(changed.top, fresh.top)
    np.testing.assert_array_equal(changed.owner, fresh.owner)
    assert changed.max_top == pytest.approx(350.0)
    np.testing.assert_allclose(changed.top_at(np.array([55.0, 105.0]), np.array([55.0, 55.0])), [326.0, 300.0])
    # The surface it came from is unchanged.
    assert surface.top_at(np.array([105.0]), np.array([55.0]))[0] == pytest.approx(305.0)
    assert surface.ray_blocked(140.0, 155.0, GROUND + 2, 1.0, 0.0, 0.5, max_m=100.0)[0] == np.False_
    assert changed.ray_blocked(140.0, 155.0, GROUND + 2, 1.0, 0.0, 0.5, max_m=100.0)[0]


def test_overlapping_footprints_show_the_taller() -> None:
    obstacles = Obstacles(
        np.array(["tall", "low"], dtype=object),
        np.array([shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10)]),
        np.array([GROUND, GROUND]),
        np.array([12.0, 4.0]),
    )
    surface = Surface.build(obstacles, flat_terrain(), bounds=(0.0, 0.0, 20.0, 20.0))
    np.testing.assert_allclose(surface.top_at(np.array([7.0, 12.0]), np.array([5.0, 5.0])), [312.0, 304.0])


def test_a_dem_is_interpolated_under_the_cells() -> None:
    # A slope rising 1 m per metre eastward on 10 m cells.
    heights = np.tile(np.arange(21) * 10.0, (21, 1)) + GROUND
    terrain = Terrain(heights, (0.0, 200.0), (10.0, 10.0), "dem.tif", 10.0)
    empty = Obstacles(np.zeros(0, object), np.zeros(0, object), np.zeros(0), np.zeros(0))
    surface = Surface.build(empty, terrain, cell_m=2.0, bounds=(0.0, 0.0, 200.0, 200.0))
    np.testing.assert_allclose(surface.ground_at(np.array([51.0, 150.5]), np.array([100.0, 7.0])), [351.0, 451.0])


def test_bad_changes_are_refused() -> None:
    obstacles = box_scene()
    with pytest.raises(InputError, match="duplicate"):
        obstacles.with_changes(added=[("box", shapely.box(0, 0, 5, 5), GROUND, 10.0)])
    with pytest.raises(InputError, match="raised_m"):
        obstacles.with_changes(raised_m=np.zeros(3))
    with pytest.raises(InputError, match="too large"):
        Surface.build(obstacles, flat_terrain(), cell_m=0.001)


def test_changed_clearance_equals_a_fresh_one(surface: Surface) -> None:
    """The skipping copies filtered again around a change equal those of a surface built from scratch."""
    assert surface.ray_blocked(30.0, 55.0, GROUND + 2.0, 1.0, 0.0, 0.5, max_m=500.0)[0]  # computes them
    after = surface.obstacles.with_changes(added=[("mast", shapely.box(20, 140, 24, 144), GROUND, 80.0)])
    changed = surface.with_obstacles(after)
    fresh = Surface.build(after, flat_terrain(), cell_m=1.0, bounds=(0.0, 0.0, 200.0, 200.0))
    for (jump, near), (fresh_jump, fresh_near) in zip(changed._clearance, fresh._clearance, strict=True):
        assert jump == fresh_jump
        np.testing.assert_array_equal(near, fresh_near)
