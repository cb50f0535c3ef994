"""Who will see a planned high point (a tower, a wind turbine): a viewshed over the buildings and the terrain.

The structure is a vertical line at ``point_xy`` from its ground ``base_m`` up to ``base_m + height_m``. A building
sees it when a window of its top storey does:

- **observers**: façade samples of each building (:func:`~twin3d.simulation.sun.facade_samples`, every
  :data:`SPACING_M`) on the walls that face the point (outward normal toward it), at a top-storey window
  :data:`BELOW_ROOF_M` under the roof (the ground-floor window height of :mod:`~twin3d.simulation.sun` for a
  building too low for that). The twin places households in buildings, not storeys: a building counts when its
  best window sees the structure, which its upper storeys do first.
- **line of sight**: from the observer to every height of the structure; the surface (terrain and every building but
  the observer's own, :class:`~twin3d.simulation.surface.Surface`) is looked at every ``step_m`` along the way, up
  to :data:`TARGET_RADIUS_M` before the structure's axis (a planned tower in the surface does not hide itself). The
  lowest visible point of the structure is where the line over the highest obstacle angle meets it; the part above
  it is the **visible height**.
- **earth's curvature and refraction**: every height at horizontal distance d from the observer drops by
  d^2 / (2 R (1 / (1 - k))) with the earth's radius R and the standard refraction coefficient k = 0.13
  (:data:`REFRACTION_K`): about 6 m at 10 km, which matters for a wind turbine seen over hills.
- **seen**: a visible height of at least :data:`MIN_VISIBLE_M` (a sliver of a mast's tip is not a view) within
  ``max_distance_m``: by default :data:`DISTANCE_FACTOR` times the structure's height, the zone in which German
  practice assesses the visual impact of tall structures (e.g. the 15-fold total height of wind turbines in the
  compensation rules for the landscape).

The surface is a raster of limited extent: obstacles beyond it (far hills for a turbine seen from far) are not
looked at; build it with bounds that hold the structure and the observers.

Example:
    >>> height, distance = viewshed(surface, obstacles, homes, (663_700.0, 5_487_300.0), height_m=100.0)
    ...  # doctest: +SKIP
    >>> (height >= MIN_VISIBLE_M).sum()  # buildings that see it  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin3d.errors import InputError
from twin3d.simulation.sun import WINDOW_M, FacadeSamples, facade_samples
from twin3d.simulation.surface import Obstacles, Surface

EARTH_RADIUS_M = 6_371_000.0
"""Mean radius of the earth."""
REFRACTION_K = 0.13
"""Standard coefficient of terrestrial refraction: light bends with the earth, as if its radius were R / (1 - k)."""
MIN_VISIBLE_M = 5.0
"""A building sees the structure when at least this much of its height is in sight."""
DISTANCE_FACTOR = 15.0
"""By default the structure is looked for within this many times its height."""
BELOW_ROOF_M = 1.5
"""Observers stand this far under the roof: the middle of a top-storey window."""
SPACING_M = 5.0
"""Distance between observers along a wall (windows; visibility changes slowly along a wall)."""
TARGET_RADIUS_M = 10.0
"""The line of sight ends this far before the structure's axis (its own footprint, if the surface holds it)."""


@dataclass(frozen=True)
class ViewSettings:
    """How the viewshed looks.

    Attributes:
        max_distance_m: how far from the structure observers see it; None: :data:`DISTANCE_FACTOR` x its height.
        min_visible_m: the visible height from which a building sees the structure.
        step_m: distance between two points looked at along a line of sight; None: the surface's cell size.
        refraction_k: the refraction coefficient (0: the geometric earth; curvature off: use a huge radius).
        earth_radius_m: the earth's radius.
        spacing_m: distance between observers along a wall.
    """

    max_distance_m: float | None = None
    min_visible_m: float = MIN_VISIBLE_M
    step_m: float | None = None
    refraction_k: float = REFRACTION_K
    earth_radius_m: float = EARTH_RADIUS_M
    spacing_m: float = SPACING_M

    @property
    def effective_radius_m(self) -> float:
        """The radius of the earth a bent line of sight sees as straight: R / (1 - k)."""
        return self.earth_radius_m / (1.0 - self.refraction_k)


def lowest_visible(
    surface: Surface,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    target_xy: tuple[float, float],
    *,
    skip_owner: np.ndarray | None = None,
    settings: ViewSettings | None = None,
) -> np.ndarray:
    """float64 (n,): the lowest height (metres above NHN) at the target's axis that each observer at (x, y, z) sees
    over the surface, the earth's curvature and refraction included; -inf where nothing stands between them."""
    s = settings or ViewSettings()
    x, y, z = (np.asarray(v, np.float64).ravel() for v in np.broadcast_arrays(x, y, z))
    tx, ty = target_xy
    distance = np.hypot(tx - x, ty - y)
    # The line of sight ends short of the target's own footprint.
    reach = np.maximum(distance - TARGET_RADIUS_M, 0.0)
    scale = np.divide(reach, distance, out=np.zeros_like(distance), where=distance > 0)
    ex, ey = x + (tx - x) * scale, y + (ty - y) * scale
    slope = np.full(len(x), -np.inf)
    curve = 2.0 * s.effective_radius_m
    looked = reach > 0
    rows = np.flatnonzero(looked)
    skip = None if skip_owner is None else np.asarray(skip_owner, np.int64)[rows]
    height = z[rows].astype(np.float32)
    bend = np.float32(1.0 / curve)
    for seg, along, top in surface.samples_along(
        x[rows], y[rows], ex[rows], ey[rows], step_m=s.step_m, skip_owner=skip
    ):
        # Heights seen from the observer drop with the square of the distance; NaN (no data) blocks nothing.
        starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
        steepest = np.fmax.reduceat((top - along * along * bend - height[seg]) / along, starts)
        slope[rows[seg[starts]]] = np.where(np.isnan(steepest), -np.inf, steepest)
    lowest: np.ndarray = np.where(np.isfinite(slope), z + slope * distance + distance**2 / curve, -np.inf)
    return lowest


def observers(
    obstacles: Obstacles, index: np.ndarray, point_xy: tuple[float, float], *, reach_m: float, spacing_m: float
) -> FacadeSamples:
    """The top-storey windows of the buildings ``index`` that face the point and lie within ``reach_m`` of it
    (façade samples :data:`BELOW_ROOF_M` under the roof, at least at the sun's ground-floor window height)."""
    px, py = point_xy
    index = np.asarray(index, np.int64)
    near = index[shapely.distance(obstacles.geometry[index], shapely.Point(px, py)) <= reach_m]
    samples = facade_samples(obstacles, near, spacing_m=spacing_m, window_m=WINDOW_M)
    upper = obstacles.base_m[samples.building] + obstacles.height_m[samples.building] - BELOW_ROOF_M
    facing = (samples.nx * (px - samples.x) + samples.ny * (py - samples.y) > 0) & (
        np.hypot(px - samples.x, py - samples.y) <= reach_m
    )
    return FacadeSamples(
        samples.building[facing],
        samples.x[facing],
        samples.y[facing],
        np.maximum(samples.z, upper)[facing],
        samples.nx[facing],
        samples.ny[facing],
    )


def best_visible(
    windows: FacadeSamples,
    lowest: np.ndarray,
    index: np.ndarray,
    *,
    base_m: float,
    height_m: float,
    min_visible_m: float,
) -> np.ndarray:
    """float64 (len(index),): per building the visible height of the structure from its best window, given the
    lowest point each window sees; 0 below ``min_visible_m``."""
    visible = np.clip(base_m + height_m - np.maximum(lowest, base_m), 0.0, height_m)
    best = np.zeros(int(max(windows.building.max(initial=-1), np.max(index, initial=-1))) + 1)
    np.maximum.at(best, windows.building, visible)
    seen = best[np.asarray(index, np.int64)]
    out: np.ndarray = np.where(seen >= min_visible_m, seen, 0.0)
    return out


def viewshed(
    surface: Surface,
    obstacles: Obstacles,
    index: np.ndarray,
    point_xy: tuple[float, float],
    *,
    height_m: float,
    base_m: float | None = None,
    settings: ViewSettings | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """How much of a structure each building ``index`` sees (see the module docstring).

    Args:
        surface: the raster of ``obstacles`` (and of the structure, if it is one of them) on the terrain.
        obstacles: the buildings.
        index: the buildings to look from (indices into ``obstacles``).
        point_xy: the structure's axis (twin CRS).
        height_m: the structure's height above its ground.
        base_m: its ground (metres above NHN); None: the surface's ground there.
        settings: distance, minimum visible height, step, refraction.

    Returns:
        float64 (len(index),) the visible height in metres from the building's best top-storey window (0: not seen,
        less than the minimum visible height, or beyond the maximum distance), and float64 (len(index),) the
        horizontal distance from its footprint to the structure's axis.

    Raises:
        InputError: a height that is not positive, or no ground at the point (off the surface, or no data).
    """
    s = settings or ViewSettings()
    if not height_m > 0:
        raise InputError(f"a structure's height must be positive, not {height_m}", record="height_m")
    px, py = float(point_xy[0]), float(point_xy[1])
    if base_m is None:
        base_m = float(surface.ground_at(np.array([px]), np.array([py]))[0])
        if not np.isfinite(base_m):
            raise InputError(
                "the structure stands where the surface has no ground",
                record="point_xy",
                hint="place it inside the twin, or give its base_m",
            )
    index = np.asarray(index, np.int64)
    reach = s.max_distance_m if s.max_distance_m is not None else DISTANCE_FACTOR * height_m
    windows = observers(obstacles, index, (px, py), reach_m=reach, spacing_m=s.spacing_m)
    lowest = lowest_visible(surface, windows.x, windows.y, windows.z, (px, py), skip_owner=windows.building, settings=s)
    seen = best_visible(windows, lowest, index, base_m=base_m, height_m=height_m, min_visible_m=s.min_visible_m)
    return seen, shapely.distance(obstacles.geometry[index], shapely.Point(px, py))


def exact_lowest_visible(
    obstacles: Obstacles,
    windows: FacadeSamples,
    target_xy: tuple[float, float],
    *,
    ground_m: float,
    settings: ViewSettings | None = None,
) -> np.ndarray:
    """The slow reference of :func:`lowest_visible` on flat ground at ``ground_m``, without a raster: each line of
    sight is intersected exactly with the footprints it crosses (shapely); a prism higher than the window is seen
    at its steepest where the line enters it, a lower one where the line leaves it, the ground at the line's end or
    at the horizon. For checking the raster method (tests, ``bench/sun.py``)."""
    s = settings or ViewSettings()
    curve = 2.0 * s.effective_radius_m
    tx, ty = target_xy
    distance = np.hypot(tx - windows.x, ty - windows.y)
    reach = np.maximum(distance - TARGET_RADIUS_M, 0.0)
    scale = np.divide(reach, distance, out=np.zeros_like(distance), where=distance > 0)
    start = np.column_stack([windows.x, windows.y])
    end = start + (np.array([tx, ty]) - start) * scale[:, None]
    lines = shapely.linestrings(np.stack([start, end], axis=1))
    line, hit = shapely.STRtree(obstacles.geometry).query(lines, predicate="intersects")
    other = (hit != windows.building[line]) & (reach[line] > 0)
    line, hit = line[other], hit[other]
    coords, part = shapely.get_coordinates(
        shapely.intersection(lines[line], obstacles.geometry[hit]), return_index=True
    )
    along = np.hypot(coords[:, 0] - windows.x[line[part]], coords[:, 1] - windows.y[line[part]])
    ok = along > 1e-6
    angle = (obstacles.top_m[hit[part]][ok] - along[ok] ** 2 / curve - windows.z[line[part]][ok]) / along[ok]
    slope = np.full(len(windows), -np.inf)
    np.maximum.at(slope, line[part][ok], angle)
    # The ground: its angle grows with distance up to the horizon, sqrt(curve * (z - ground)).
    horizon = np.sqrt(curve * np.maximum(windows.z - ground_m, 0.0))
    t = np.minimum(horizon, reach)
    ground = np.where(t > 0, (ground_m - t**2 / curve - windows.z) / np.where(t > 0, t, 1.0), -np.inf)
    slope = np.maximum(slope, ground)
    lowest: np.ndarray = windows.z + slope * distance + distance**2 / curve
    return lowest
