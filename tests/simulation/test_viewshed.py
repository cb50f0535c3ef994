"""The viewshed of a planned high point: exact geometry over a wall, the earth's curvature, who sees it."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.simulation.flat_scene import GROUND, flat, prisms
from twin3d.errors import InputError
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.simulation.viewshed import (
    BELOW_ROOF_M,
    ViewSettings,
    best_visible,
    exact_lowest_visible,
    lowest_visible,
    observers,
    viewshed,
)

SETTINGS = ViewSettings()


def test_a_wall_hides_the_foot_of_a_tower_as_the_line_over_its_crest_says() -> None:
    # The tower (100 m) at the origin; a 30 m wall from x = 100 to 102; the observing house from x = 200, 10 m high
    # (its top-storey window 8.5 m up, 0.3 m in front of its west wall, at y = -2.5 and 2.5).
    obstacles = prisms([(100, -50, 102, 50, 30.0), (200, -5, 210, 5, 10.0), (300, -5, 310, 5, 5.0)])
    surface = Surface.build(obstacles, flat(1000.0), cell_m=0.25, bounds=(-20.0, -60.0, 320.0, 60.0))
    height, distance = viewshed(
        surface, obstacles, np.array([1, 2]), (0.0, 0.0), height_m=100.0, settings=ViewSettings(step_m=0.25)
    )
    radius = SETTINGS.effective_radius_m

    def expected(x: float, z: float) -> float:
        """What the line from (x, 2.5, z) over the wall's crest leaves visible of the tower."""
        d_obs = np.hypot(x, 2.5)
        t_wall = (x - 102.0) / x * d_obs  # along the line of sight to the wall's near face
        lowest = z + (GROUND + 30.0 - t_wall**2 / (2 * radius) - z) / t_wall * d_obs + d_obs**2 / (2 * radius)
        return GROUND + 100.0 - lowest

    assert height[0] == pytest.approx(expected(200.0 - 0.3, GROUND + 10.0 - BELOW_ROOF_M), abs=0.3)
    assert 40.0 < height[0] < 50.0
    np.testing.assert_allclose(distance, [200.0, 300.0])
    # The shed farther behind the wall sees more of the tower over it (the house in front stays below that line).
    assert height[1] == pytest.approx(expected(300.0 - 0.3, GROUND + 5.0 - BELOW_ROOF_M), abs=0.3)


def test_the_earth_hides_the_foot_of_a_far_tower() -> None:
    """Over flat ground an observer 2 m up sees no lower than where the line over the horizon (at sqrt(2 R' h))
    meets the tower: (D - horizon)^2 / (2 R') above the ground, with R' = R / (1 - k)."""
    empty = Obstacles(np.zeros(0, object), np.zeros(0, object), np.zeros(0), np.zeros(0))
    surface = Surface.build(empty, flat(30_000.0), cell_m=10.0, bounds=(0.0, -100.0, 16_000.0, 100.0))
    radius = SETTINGS.effective_radius_m
    horizon = np.sqrt(2 * radius * 2.0)
    for distance in (4_000.0, 15_000.0):
        lowest = lowest_visible(surface, np.array([0.0]), np.array([0.0]), np.array([GROUND + 2.0]), (distance, 0.0),
                                settings=ViewSettings(step_m=5.0))  # fmt: skip
        hidden = max(distance - horizon, 0.0) ** 2 / (2 * radius)
        assert lowest[0] - GROUND == pytest.approx(hidden, abs=0.05)
    assert hidden > 5.0  # at 15 km the first 6 m are below the horizon
    # Without refraction more is hidden.
    plain = lowest_visible(surface, np.array([0.0]), np.array([0.0]), np.array([GROUND + 2.0]), (15_000.0, 0.0),
                           settings=ViewSettings(step_m=5.0, refraction_k=0.0))  # fmt: skip
    assert plain[0] > lowest[0] + 0.5


def test_who_sees_a_tower_standing_in_the_surface() -> None:
    # The tower is itself an obstacle of the surface (a scenario's planned building): it does not hide itself.
    obstacles = prisms([
        (-4, -4, 4, 4, 60.0),  # the tower
        (40, -5, 50, 5, 9.0),  # a house facing it in the open
        (80, -10, 84, 10, 40.0),  # a tall block
        (90, -3, 96, 3, 6.0),  # a house right behind the block
        (1000, -5, 1010, 5, 9.0),  # a house beyond 15 x 60 m
        (-40, 30, -30, 40, 12.0),  # another house in the open
    ])  # fmt: skip
    surface = Surface.build(obstacles, flat(3000.0), cell_m=1.0, bounds=(-100.0, -100.0, 1100.0, 100.0))
    height, distance = viewshed(surface, obstacles, np.arange(1, 6), (0.0, 0.0), height_m=60.0)
    assert height[0] > 50.0  # from 40 m away, 7.5 m up: all but the foot
    assert height[1] > 0  # the block sees over nothing
    assert height[2] == 0.0  # hidden behind the block
    assert height[3] == 0.0  # too far
    assert height[4] > 50.0
    assert distance[3] == pytest.approx(1000.0)
    # With a maximum distance of 60 m only the near houses see it.
    near, _ = viewshed(surface, obstacles, np.arange(1, 6), (0.0, 0.0), height_m=60.0,
                       settings=ViewSettings(max_distance_m=60.0))  # fmt: skip
    assert (near > 0).tolist() == [True, False, False, False, True]


def test_a_structure_needs_ground_and_height() -> None:
    obstacles = prisms([(0, 0, 10, 10, 5.0)])
    surface = Surface.build(obstacles, flat(100.0), bounds=(-10.0, -10.0, 20.0, 20.0))
    with pytest.raises(InputError, match="no ground"):
        viewshed(surface, obstacles, np.array([0]), (500.0, 500.0), height_m=50.0)
    with pytest.raises(InputError, match="positive"):
        viewshed(surface, obstacles, np.array([0]), (5.0, 5.0), height_m=0.0)


def test_the_raster_agrees_with_exact_lines_of_sight() -> None:
    rng = np.random.default_rng(5)
    corner = rng.uniform(-300, 300, (900, 2))
    boxes = shapely.box(corner[:, 0], corner[:, 1], corner[:, 0] + 12, corner[:, 1] + 10)
    boxes = boxes[shapely.distance(boxes, shapely.Point(0, 0)) > 30]
    a, b = shapely.STRtree(boxes).query(boxes, predicate="dwithin", distance=1.0)
    boxes = boxes[np.setdiff1d(np.arange(len(boxes)), a[b < a])]  # none touching an earlier one
    obstacles = Obstacles(np.array([f"h{i}" for i in range(len(boxes))], dtype=object), boxes,
                          np.full(len(boxes), GROUND), rng.uniform(3, 25, len(boxes)))  # fmt: skip
    surface = Surface.build(obstacles, flat(1000.0), cell_m=0.5)
    everyone = np.arange(len(obstacles))
    settings = ViewSettings(step_m=0.5)
    fast, _ = viewshed(surface, obstacles, everyone, (0.0, 0.0), height_m=40.0, settings=settings)
    windows = observers(obstacles, everyone, (0.0, 0.0), reach_m=600.0, spacing_m=settings.spacing_m)
    lowest = exact_lowest_visible(obstacles, windows, (0.0, 0.0), ground_m=GROUND, settings=settings)
    exact = best_visible(windows, lowest, everyone, base_m=GROUND, height_m=40.0, min_visible_m=settings.min_visible_m)
    assert 0.2 < (exact > 0).mean() < 0.9
    assert ((fast > 0) == (exact > 0)).mean() > 0.97
    assert (np.abs(fast - exact) < 1.0).mean() > 0.95
