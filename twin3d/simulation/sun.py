"""Hours of direct sun at the façades of buildings on a reference day, before and after a scenario.

The idea of DIN EN 17037's sunlight exposure: a dwelling should get direct sun into at least one habitable room for
at least 1.5 hours (the standard's minimum level, :data:`THRESHOLD_H`) on a day between 1 February and 21 March
(here 21 March, :data:`REFERENCE_DAY`), counting the sun only when it stands at least 11 degrees above the horizon
(the standard's minimum sun elevation, :data:`MIN_ELEVATION_DEG`). The standard looks from a point on the inner
face of a window; a twin knows no windows, so the model looks from the façades:

- **samples**: points along every wall of a building's footprint (each ring edge at least :data:`MIN_EDGE_M` long,
  every :data:`SPACING_M` or so, courtyards included), :data:`OFFSET_M` outside the wall, at the height of a
  ground-floor window (:data:`WINDOW_M` above the building's ground, half the height of a lower building). One
  height because the ground floor is where a dwelling loses its sun first: a point higher up on the same wall never
  gets less sun, so a building's best upper sample would hide what its lowest dwellings lose. Points that lie inside
  another building (party walls of terraced houses) are no façade and are left out.
- **sun**: every ``step_minutes`` of the day (the middle of each step, :func:`~twin3d.simulation.solar.day_times`),
  a sample is in the sun when the sun is above the minimum elevation, in front of the wall (the wall's outward
  normal points toward the sun's azimuth) and the ray toward the sun is not blocked by the terrain or any other
  building (:meth:`~twin3d.simulation.surface.Surface.ray_blocked`). The sample's own building is left out of the
  rays, so the wings of an L-shaped building do not shade each other: the same before and after a scenario, so a
  scenario's change is not touched by it (unless it raises that building itself, which then shades its own
  wings no more than before).
- **per building**: the hours of its best sample (one façade in the sun is what the standard asks of a dwelling);
  a building without a façade sample (fully enclosed by others) gets 0 hours.

A scenario changes few buildings: :func:`affected_by` names the buildings whose sun can change (those within the
longest shadow a changed obstacle casts on the day, in the directions it casts it), so only they are computed again.

Example:
    >>> everyone = np.arange(len(obstacles))  # doctest: +SKIP
    >>> hours = sun_hours(surface, obstacles, everyone, SunSettings(), lon=11.28, lat=49.51)  # doctest: +SKIP
    >>> (hours < SunSettings().threshold_h).sum()  # buildings below 1.5 hours  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely

from twin3d.simulation.solar import day_times, solar_position, sun_vector
from twin3d.simulation.surface import Obstacles, Surface

REFERENCE_DAY = date(2026, 3, 21)
"""The day looked at: the last day of DIN EN 17037's window (1 February to 21 March); the sun's path differs from
year to year by minutes, so one fixed year keeps results reproducible."""
THRESHOLD_H = 1.5
"""DIN EN 17037's minimum level of sunlight exposure: 1.5 hours of direct sun (3 h: medium, 4 h: high)."""
MIN_ELEVATION_DEG = 11.0
"""DIN EN 17037 counts the sun only above this elevation (lower sun is weak and hidden by the horizon anyway)."""
STEP_MINUTES = 10.0
"""Time step: a sample is in the sun or not for a whole step."""
WINDOW_M = 1.5
"""Height of a sample above its building's ground: a ground-floor window's reference point (a floor about 0.3 m
above the ground, the standard's point 1.2 m above the floor)."""
SPACING_M = 3.0
"""Distance between samples along a wall: about one window per room."""
MIN_EDGE_M = 1.0
"""Shorter edges (corners cut by digitising, bay returns) get no sample of their own."""
OFFSET_M = 0.3
"""Samples stand this far in front of their wall (a window sill), so a neighbour's wall behind a party wall holds
them."""
SHADOW_BUFFER_M = 3.0
""":func:`affected_by` widens a shadow by this much: the samples' offset and the raster's cells."""
CHUNK = 1_000_000
"""Rays per batch (bounds memory)."""


@dataclass(frozen=True)
class SunSettings:
    """What the sun-hours analysis counts: on which day, in which steps, above which elevation, against what.

    Attributes:
        day: the reference day (local wall-clock day in Europe/Berlin).
        step_minutes: the time step.
        threshold_h: hours of sun a building should reach (below: it counts as losing its sun).
        min_elevation_deg: the sun counts above this elevation.
        window_m: the samples' height above their building's ground.
        spacing_m: the distance between samples along a wall.
    """

    day: date = REFERENCE_DAY
    step_minutes: float = STEP_MINUTES
    threshold_h: float = THRESHOLD_H
    min_elevation_deg: float = MIN_ELEVATION_DEG
    window_m: float = WINDOW_M
    spacing_m: float = SPACING_M


@dataclass(frozen=True)
class FacadeSamples:
    """Points in front of buildings' walls, ordered by building.

    Attributes:
        building: int64, the obstacle index each sample belongs to.
        x, y, z: the sample (twin CRS; z metres above NHN).
        nx, ny: the wall's outward unit normal.
    """

    building: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    nx: np.ndarray
    ny: np.ndarray

    def __len__(self) -> int:
        return len(self.building)


def facade_samples(
    obstacles: Obstacles, index: np.ndarray, *, spacing_m: float = SPACING_M, window_m: float = WINDOW_M
) -> FacadeSamples:
    """Samples in front of the walls of the buildings ``index`` (see the module docstring): every ring edge of at
    least :data:`MIN_EDGE_M` gets round(length / spacing_m) samples (at least one) at the middles of equal pieces,
    :data:`OFFSET_M` outside, ``window_m`` above the building's ground (half its height if it is lower). Samples
    inside any building are left out."""
    index = np.asarray(index, np.int64)
    parts, part_of = shapely.get_parts(obstacles.geometry[index], return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    exterior = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(rings) else np.zeros(0, bool)
    # The outward normal is an edge's right-hand side on a counter-clockwise exterior or a clockwise courtyard.
    right = shapely.is_ccw(rings) == exterior
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[:-1] == ring_of[1:]
    a, b, edge_ring = coords[:-1][same], coords[1:][same], ring_of[:-1][same]
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    count = np.where(length >= MIN_EDGE_M, np.maximum(np.round(length / spacing_m), 1), 0).astype(np.int64)
    edge = np.repeat(np.arange(len(length)), count)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
    t = (k + 0.5) / count[edge]
    sign = np.where(right[edge_ring[edge]], 1.0, -1.0)
    nx, ny = sign * d[edge, 1] / length[edge], -sign * d[edge, 0] / length[edge]
    x = a[edge, 0] + t * d[edge, 0] + OFFSET_M * nx
    y = a[edge, 1] + t * d[edge, 1] + OFFSET_M * ny
    building = index[part_of[ring_part[edge_ring[edge]]]]
    z = obstacles.base_m[building] + np.minimum(window_m, obstacles.height_m[building] / 2)
    inside = shapely.STRtree(obstacles.geometry).query(shapely.points(x, y), predicate="within")[0]
    keep = np.ones(len(x), bool)
    keep[inside] = False
    return FacadeSamples(building[keep], x[keep], y[keep], z[keep], nx[keep], ny[keep])


def sun_directions(settings: SunSettings, *, lon: float, lat: float) -> np.ndarray:
    """float64 (steps, 3): unit vectors toward the sun (east, north, up) at the steps of the day when it stands
    above the minimum elevation."""
    azimuth, elevation = solar_position(day_times(settings.day, step_minutes=settings.step_minutes), lon=lon, lat=lat)
    up = elevation > settings.min_elevation_deg
    return sun_vector(azimuth[up], elevation[up])


def sample_sun_hours(
    surface: Surface, samples: FacadeSamples, settings: SunSettings, *, lon: float, lat: float
) -> np.ndarray:
    """float64 (samples,): the hours of direct sun at each façade sample on the settings' day."""
    sun = sun_directions(settings, lon=lon, lat=lat)
    tan = sun[:, 2] / np.hypot(sun[:, 0], sun[:, 1])
    lit = np.zeros(len(samples), np.int64)
    # One ray per sample and step with the sun in front of the wall; samples in batches so memory stays bounded.
    per_batch = max(1, CHUNK // max(len(sun), 1))
    for first in range(0, len(samples), per_batch):
        part = slice(first, first + per_batch)
        facing = samples.nx[part, None] * sun[None, :, 0] + samples.ny[part, None] * sun[None, :, 1] > 0
        s, step = np.nonzero(facing)
        s = s + first
        blocked = surface.ray_blocked(
            samples.x[s],
            samples.y[s],
            samples.z[s],
            sun[step, 0],
            sun[step, 1],
            tan[step],
            max_m=np.inf,
            skip_owner=samples.building[s],
        )
        lit += np.bincount(s[~blocked], minlength=len(samples))[: len(samples)] if len(s) else 0
    hours: np.ndarray = lit * settings.step_minutes / 60.0
    return hours


def sun_hours(
    surface: Surface, obstacles: Obstacles, index: np.ndarray, settings: SunSettings, *, lon: float, lat: float
) -> np.ndarray:
    """Hours of direct sun of each building ``index`` of ``obstacles`` (its best façade sample) on the day.

    Args:
        surface: the raster of ``obstacles`` on the terrain.
        obstacles: the buildings (with a scenario's changes).
        index: the buildings to compute (indices into ``obstacles``).
        settings: day, step, minimum elevation, sample height and spacing.
        lon, lat: where the twin lies (WGS 84), for the sun's path.

    Returns:
        float64 (len(index),): hours; 0 for a building without a free wall.
    """
    index = np.asarray(index, np.int64)
    samples = facade_samples(obstacles, index, spacing_m=settings.spacing_m, window_m=settings.window_m)
    hours = sample_sun_hours(surface, samples, settings, lon=lon, lat=lat)
    best = np.zeros(len(obstacles))
    np.maximum.at(best, samples.building, hours)
    out: np.ndarray = best[index]
    return out


def affected_by(
    obstacles_before: Obstacles, obstacles_after: Obstacles, settings: SunSettings, *, lon: float, lat: float
) -> np.ndarray:
    """The buildings of ``obstacles_after`` whose sun can differ from before: those touching the shadow any added,
    removed or changed obstacle casts (at its height before or after) at a step of the day, on ground as low as the
    lowest building's, widened by :data:`SHADOW_BUFFER_M`; the new and changed buildings themselves included.

    Returns:
        int64 indices into ``obstacles_after``, sorted.
    """
    _, same, fresh = obstacles_before.matched(obstacles_after)
    geometry = np.concatenate([obstacles_before.geometry[~same], obstacles_after.geometry[fresh]])
    top = np.concatenate([obstacles_before.top_m[~same], obstacles_after.top_m[fresh]])
    if not len(geometry) or not len(obstacles_after):
        return np.zeros(0, np.int64)
    sun = sun_directions(settings, lon=lon, lat=lat)
    if not len(sun):
        return np.flatnonzero(fresh)
    lowest = min(float(obstacles_after.base_m.min()), float(obstacles_before.base_m.min(initial=np.inf)))
    horizontal = np.hypot(sun[:, 0], sun[:, 1])
    # Per changed obstacle and step: the hull of its outline and the outline moved to the shadow's tip holds the
    # shadow its walls cast down to the lowest ground (a superset for a concave outline).
    coords, which = shapely.get_coordinates(shapely.convex_hull(geometry), return_index=True)
    length = np.maximum(top[which] - lowest, 0.0)[:, None] / (sun[None, :, 2] / horizontal[None, :])  # (points, steps)
    tip_x = coords[:, 0, None] - sun[None, :, 0] / horizontal[None, :] * length
    tip_y = coords[:, 1, None] - sun[None, :, 1] / horizontal[None, :] * length
    steps = len(sun)
    group = which[:, None] * steps + np.arange(steps)[None, :]
    points = np.concatenate([np.repeat(coords, steps, axis=0), np.column_stack([tip_x.ravel(), tip_y.ravel()])])
    groups = np.concatenate([group.ravel(), group.ravel()])
    order = np.argsort(groups, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(points[order], indices=groups[order]))
    shadow = shapely.buffer(shapely.union_all(hulls), SHADOW_BUFFER_M)
    hit = shapely.STRtree(obstacles_after.geometry).query(shadow, predicate="intersects")
    return np.union1d(hit, np.flatnonzero(fresh)).astype(np.int64)


def exact_sample_sun_hours(
    obstacles: Obstacles, samples: FacadeSamples, settings: SunSettings, *, lon: float, lat: float
) -> np.ndarray:
    """The slow reference of :func:`sample_sun_hours` on flat ground, without a raster: each ray toward the sun is
    intersected exactly with the footprints it crosses (shapely), and it is blocked when it enters a prism below its
    roof (a rising ray is lowest where it enters). For checking the raster method (tests, ``bench/sun.py``)."""
    sun = sun_directions(settings, lon=lon, lat=lat)
    tan = sun[:, 2] / np.hypot(sun[:, 0], sun[:, 1])
    facing = samples.nx[:, None] * sun[None, :, 0] + samples.ny[:, None] * sun[None, :, 1] > 0
    s, step = np.nonzero(facing)
    reach = np.maximum(float(obstacles.top_m.max(initial=0.0)) - samples.z[s], 0.0) / tan[step] + 1.0
    unit = sun[step, :2] / np.hypot(sun[step, 0], sun[step, 1])[:, None]
    start = np.column_stack([samples.x[s], samples.y[s]])
    rays = shapely.linestrings(np.stack([start, start + unit * reach[:, None]], axis=1))
    ray, hit = shapely.STRtree(obstacles.geometry).query(rays, predicate="intersects")
    other = hit != samples.building[s[ray]]
    ray, hit = ray[other], hit[other]
    entry = shapely.distance(shapely.points(start[ray]), shapely.intersection(rays[ray], obstacles.geometry[hit]))
    below = samples.z[s[ray]] + entry * tan[step[ray]] < obstacles.top_m[hit]
    blocked = np.zeros(len(s), bool)
    blocked[ray[below]] = True
    hours: np.ndarray = np.bincount(s[~blocked], minlength=len(samples)) * settings.step_minutes / 60.0
    return hours
