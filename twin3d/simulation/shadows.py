"""Shadows of buildings on the ground for one sun position: every building a prism swept along the sun's rays.

A prism of height ``h`` on a footprint ``P`` casts, on flat ground, ``P`` swept along the shadow vector
``d = h / tan(e) * (-sin a, -cos a)`` (``a`` the sun's azimuth clockwise from north, ``e`` its elevation): the
Minkowski sum of ``P`` and the segment from 0 to ``d``. That sum is ``P`` joined with one quad per *front* edge, an
edge whose outward normal points along ``d`` (the quad spans the edge and its copy moved by ``d``): a point on its
way from ``P`` along ``d`` leaves ``P`` through a front edge and stays in that edge's quad for the rest of the way.
So neither the shifted copy of ``P`` nor the back edges are needed, and a concave footprint (an L) is exact. The
quads of all buildings are made at once from the rings' coordinate arrays (no loop over buildings).

What is drawn: the union of the shadows of the existing buildings, and apart from it the union of the planned
buildings' shadows (the existing ones take what the planned ones do not cover): two disjoint sets, so translucent
polygons never lie over each other and darken where shadows overlap, and the new shadow a plan adds shows in a
colour of its own. Existing buildings a plan stands on (at least :data:`REPLACED_SHARE` of their footprint under
it, as the simulation replaces them) and those the planner removes cast no shadow. Shadows include the footprints
they fall from; the viewer draws them under the buildings.

Simplifications, stated where the answer is used:

- **Flat ground.** Each shadow lies in the horizontal plane of the ground its building stands on. On a slope
  the true shadow is shorter uphill and longer downhill (by ``tan(e) / (tan(e) ± tan(slope))`` along the fall
  line); a shadow falling on a lower building's roof is drawn on the ground below it. The vertices carry the
  terrain height under them (:func:`shadow_features`), so the shadow lies where the viewer draws the ground.
- **Prisms.** A building is its footprint raised to its height (roofs as flat tops at the eaves' or ridge's height
  the store holds).
- **A cap.** With the sun near the horizon a shadow grows without bound (a 30 m building casts 1.7 km at 1°):
  every shadow is clipped to :data:`MAX_SHADOW_M`, and the result counts the buildings whose shadow was clipped.
- **Grid north.** The sun's azimuth is measured from true north; the shadow vector is turned into the twin's grid
  by the meridian convergence at the place (1.7° at Lauf in UTM zone 32), :func:`grid_north_deg`.

Example:
    >>> casters = Casters.of(np.array(["a"], object), np.array([shapely.box(0, 0, 10, 10)]), np.array([10.0]))
    >>> shadows = cast_shadows(casters, azimuth_deg=180.0, elevation_deg=45.0)
    >>> round(shadows.existing.area), round(shadows.existing.bounds[3])  # sun in the south: 10 m of shadow northward
    (200, 20)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import shapely
from pyproj import CRS

from twin3d.io.crs import transform_points
from twin3d.simulation.planned import REPLACED_SHARE
from twin3d.simulation.solar import TOWN_ZONE, solar_position
from twin3d.simulation.terrain import Terrain

WGS84 = CRS.from_epsg(4326)
MAX_SHADOW_M = 500.0
"""The longest shadow drawn (a 30 m building's at 3.4° of elevation); longer ones are clipped to it and counted."""
SIMPLIFY_M = 0.02
"""Tolerance that drops the collinear vertices the union leaves where quads meet (far below a drawn pixel)."""
HORIZON_DEG = -0.27
"""Apparent elevation of the sun's centre when its upper limb touches the horizon (its semi-diameter below it;
refraction is in :func:`~twin3d.simulation.solar.solar_position`): sunrise and sunset."""

BUILDINGS_SQL = """
SELECT building_id, height, ST_AsWKB(geom) AS wkb FROM buildings WHERE height > 0 ORDER BY building_id
"""


@dataclass(frozen=True)
class Casters:
    """Prisms that cast shadows: one footprint polygon each (a building of several parts repeats its id).

    Attributes:
        ids: object (n,): building ids; planned prisms are ``planned:<index>`` as in the simulation.
        footprints: shapely polygons (n,) in the twin's CRS (metres).
        height_m: float64 (n,): heights above the ground each stands on.
        planned: bool (n,): whether the prism is a planned building.
    """

    ids: np.ndarray
    footprints: np.ndarray
    height_m: np.ndarray
    planned: np.ndarray

    @classmethod
    def of(
        cls, ids: np.ndarray, footprints: np.ndarray, height_m: np.ndarray, planned: np.ndarray | None = None
    ) -> Casters:
        """Casters from parallel arrays; multi-part footprints are split into their polygons."""
        parts, owner = shapely.get_parts(np.asarray(footprints, dtype=object), return_index=True)
        keep = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        parts, owner = parts[keep], owner[keep]
        flags = np.zeros(len(ids), bool) if planned is None else np.asarray(planned, bool)
        return cls(
            np.asarray(ids, dtype=object)[owner],
            np.asarray(parts, dtype=object),
            np.asarray(height_m, np.float64)[owner],
            flags[owner],
        )

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Casters:
        """Every building of a built twin with a height."""
        t = con.execute(BUILDINGS_SQL).to_arrow_table()
        return cls.of(
            t["building_id"].to_numpy(zero_copy_only=False).astype(object),
            shapely.from_wkb(t["wkb"].to_numpy(zero_copy_only=False)),
            t["height"].to_numpy(zero_copy_only=False).astype(np.float64),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Casters:
        """The casters at ``index`` (indices or a boolean mask)."""
        return Casters(self.ids[index], self.footprints[index], self.height_m[index], self.planned[index])

    def near(self, area: shapely.Geometry, margin_m: float, tree: shapely.STRtree | None = None) -> Casters:
        """The casters whose footprint lies within ``margin_m`` of ``area``: all whose shadow may fall into it."""
        tree = tree or shapely.STRtree(self.footprints)
        found = tree.query(area, predicate="dwithin", distance=margin_m) if margin_m > 0 else tree.query(area)
        return self.take(np.sort(found))

    def without(self, building_ids: list[str] | np.ndarray) -> Casters:
        """The casters except the buildings named (removed by the planner)."""
        if not len(building_ids):
            return self
        return self.take(~np.isin(self.ids, np.asarray(building_ids, dtype=object)))

    def with_planned(self, footprints: np.ndarray, height_m: np.ndarray) -> Casters:
        """The casters with planned prisms added and the existing buildings they stand on dropped (at least
        :data:`REPLACED_SHARE` of a footprint under a plan, as the simulation replaces them)."""
        if not len(footprints):
            return self
        footprints = np.asarray(footprints, dtype=object)
        existing = np.flatnonzero(~self.planned)
        plan_index, hit = shapely.STRtree(self.footprints[existing]).query(footprints, predicate="intersects")
        hit = existing[hit]
        covered = shapely.area(shapely.intersection(self.footprints[hit], footprints[plan_index]))
        share = np.zeros(len(self))
        np.add.at(share, hit, covered)
        share /= np.maximum(shapely.area(self.footprints), 1e-9)
        kept = self.take(~((share >= REPLACED_SHARE) & ~self.planned))
        start = int(self.planned.sum())
        added = Casters.of(
            np.array([f"planned:{start + i}" for i in range(len(footprints))], dtype=object),
            footprints,
            np.asarray(height_m, np.float64),
            np.ones(len(footprints), bool),
        )
        return Casters(
            np.concatenate([kept.ids, added.ids]),
            np.concatenate([kept.footprints, added.footprints]),
            np.concatenate([kept.height_m, added.height_m]),
            np.concatenate([kept.planned, added.planned]),
        )


@dataclass(frozen=True)
class Shadows:
    """The shadows of a set of casters at one sun position (twin CRS).

    Attributes:
        existing: the union of the existing buildings' shadows, less what the planned ones cover.
        planned: the union of the planned buildings' shadows (empty without planned buildings).
        per_metre: metres of shadow per metre of height (``1 / tan(elevation)``); None with the sun down.
        capped: how many shadows were clipped to the cap.
        casters: how many prisms cast them.
    """

    existing: shapely.Geometry
    planned: shapely.Geometry
    per_metre: float | None
    capped: int
    casters: int


def grid_north_deg(crs: CRS, lon: float, lat: float) -> float:
    """The direction of true north in the twin's grid at ``lon, lat``, degrees clockwise from grid north (the
    negative meridian convergence: -1.7 at Lauf in UTM zone 32, east of the zone's central meridian)."""
    x, y = transform_points(np.array([lon, lon]), np.array([lat, lat + 0.001]), WGS84, crs)
    return math.degrees(math.atan2(x[1] - x[0], y[1] - y[0]))


def shadow_step(azimuth_deg: float, elevation_deg: float, grid_north: float = 0.0) -> np.ndarray:
    """float64 (2,): the shadow of one metre of height, in grid x (east) and y (north): away from the sun.

    Raises:
        ValueError: the sun is not above the horizon (there is no shadow to draw).
    """
    if elevation_deg <= 0:
        raise ValueError(f"the sun is {elevation_deg:.2f}° below the horizon: no shadow")
    heading = math.radians(azimuth_deg + grid_north)
    return -np.array([math.sin(heading), math.cos(heading)]) / math.tan(math.radians(elevation_deg))


def swept_parts(footprints: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each footprint swept along its offset, as parts whose union is the shadow: the footprints themselves and one
    quad per front edge.

    Args:
        footprints: shapely polygons (n,).
        offsets: float64 (n, 2): each footprint's shadow vector.

    Returns:
        The parts (polygons) and, for each, the index of its footprint.
    """
    n = len(footprints)
    oriented = shapely.orient_polygons(footprints, exterior_cw=False)  # the inside lies left of every edge
    rings = shapely.get_rings(oriented)
    ring_owner = np.repeat(np.arange(n), shapely.get_num_interior_rings(oriented) + 1)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]  # consecutive positions of one ring are an edge
    a, b, owner = coords[:-1][same], coords[1:][same], ring_owner[ring[:-1][same]]
    step = offsets[owner]
    edge = b - a
    # The outward normal is the edge turned right, (ey, -ex): a front edge has it along the shadow vector.
    front = edge[:, 1] * step[:, 0] - edge[:, 0] * step[:, 1] > 0
    a, b, step, owner = a[front], b[front], step[front], owner[front]
    quads = shapely.polygons(np.stack([a, b, b + step, a + step, a], axis=1))
    return np.concatenate([np.asarray(footprints, dtype=object), quads]), np.concatenate([np.arange(n), owner])


def _union(parts: np.ndarray) -> shapely.Geometry:
    return shapely.simplify(shapely.union_all(parts), SIMPLIFY_M) if len(parts) else shapely.Polygon()


def cast_shadows(
    casters: Casters,
    azimuth_deg: float,
    elevation_deg: float,
    *,
    grid_north: float = 0.0,
    max_length_m: float = MAX_SHADOW_M,
    clip: shapely.Geometry | None = None,
) -> Shadows:
    """The shadows the casters throw on flat ground with the sun at ``azimuth_deg``/``elevation_deg``.

    Args:
        casters: the prisms (twin CRS).
        azimuth_deg: the sun's azimuth, degrees clockwise from true north.
        elevation_deg: the sun's apparent elevation, degrees; at or below 0 there are no shadows.
        grid_north: the direction of true north in the grid (:func:`grid_north_deg`).
        max_length_m: the cap on a shadow's length.
        clip: an area the shadows are cut to (the requested box), else none.
    """
    if elevation_deg <= 0:
        empty = shapely.Polygon()
        return Shadows(empty, empty, None, 0, len(casters))
    step = shadow_step(azimuth_deg, elevation_deg, grid_north)
    per_metre = float(np.hypot(*step))
    length = casters.height_m * per_metre
    capped = length > max_length_m
    scale = np.where(capped, max_length_m / np.maximum(length, 1e-9), 1.0)
    offsets = casters.height_m[:, None] * scale[:, None] * step[None, :]
    parts, owner = swept_parts(casters.footprints, offsets)
    if clip is not None and len(parts):
        shapely.prepare(clip)
        inside = shapely.intersects(clip, parts)
        parts, owner = parts[inside], owner[inside]
    planned = _union(parts[casters.planned[owner]])
    existing = _union(parts[~casters.planned[owner]])
    if not planned.is_empty:
        existing = shapely.difference(existing, planned)
    if clip is not None:
        existing, planned = shapely.intersection(existing, clip), shapely.intersection(planned, clip)
    return Shadows(existing, planned, per_metre, int(capped.sum()), len(casters))


def _polygons(geometry: shapely.Geometry) -> np.ndarray:
    parts = shapely.get_parts(np.array([geometry], dtype=object))
    polygons: np.ndarray = parts[
        (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    ]
    return polygons


def shadow_features(shadows: Shadows, crs: CRS, terrain: Terrain, undulation_m: float, *, digits: int = 7) -> list[str]:
    """The shadows as GeoJSON features (JSON text each): one per polygon, in lon/lat with the height of the ground
    under each vertex above the WGS 84 ellipsoid as the third coordinate (RFC 7946), so they lie on the ground the
    viewer draws; ``properties``: ``source`` ("existing" or "planned") and ``area_m2``.

    Args:
        shadows: the shadows (twin CRS).
        crs: the twin's CRS.
        terrain: the twin's terrain (its DEM or its twin-wide ground); heights off the grid take the nearest edge's.
        undulation_m: the geoid undulation that turns the terrain's heights into ellipsoidal ones.
        digits: decimals of the lon/lat (7: about a centimetre).
    """
    existing, planned = _polygons(shadows.existing), _polygons(shadows.planned)
    polygons = np.concatenate([existing, planned])
    if not len(polygons):
        return []
    source = np.array(["existing"] * len(existing) + ["planned"] * len(planned))
    area = shapely.area(polygons)
    rows, cols = terrain.shape
    heights = np.where(np.isfinite(terrain.heights), terrain.heights, np.nanmean(terrain.heights))

    def lon_lat_z(xyz: np.ndarray) -> np.ndarray:
        x, y = xyz[:, 0], xyz[:, 1]
        col = np.clip(np.floor((x - terrain.origin[0]) / terrain.pixel[0] + 0.5), 0, cols - 1).astype(np.int64)
        row = np.clip(np.floor((terrain.origin[1] - y) / terrain.pixel[1] + 0.5), 0, rows - 1).astype(np.int64)
        lon, lat = transform_points(x, y, crs, WGS84)
        return np.column_stack(
            [np.round(lon, digits), np.round(lat, digits), np.round(heights[row, col] + undulation_m, 2)]
        )

    lifted = shapely.transform(shapely.force_3d(polygons, 0.0), lon_lat_z, include_z=True)
    geometry = shapely.to_geojson(lifted)
    return [
        f'{{"type":"Feature","properties":{{"source":"{s}","area_m2":{round(float(a), 1)}}},"geometry":{g}}}'
        for s, a, g in zip(source, area, geometry, strict=True)
    ]


@dataclass(frozen=True)
class SunDay:
    """The sun over one local day at a place: its path at the steps, and when it rises and sets.

    Attributes:
        times: aware local times of the path (every ``step_minutes`` from local midnight).
        azimuth: float64 degrees clockwise from north at each time.
        elevation: float64 apparent degrees above the horizon at each time.
        sunrise: when the upper limb rises (None: the sun does not rise or set that day).
        sunset: when it sets.
    """

    times: list[datetime]
    azimuth: np.ndarray
    elevation: np.ndarray
    sunrise: datetime | None
    sunset: datetime | None


def _utc_day(day: date, zone: ZoneInfo, step: timedelta) -> list[datetime]:
    """The local day's times every ``step`` in real (UTC) time: 23 or 25 hours on the days the clocks change."""
    start = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    count = int((end - start) / step)
    return [(start + k * step).astimezone(zone) for k in range(count)]


def _crossing(times: list[datetime], elevation: np.ndarray, rising: bool) -> datetime | None:
    """When the elevation crosses :data:`HORIZON_DEG` upwards (or downwards), interpolated linearly in time."""
    above = elevation > HORIZON_DEG
    edges = np.flatnonzero(above[1:] & ~above[:-1]) if rising else np.flatnonzero(~above[1:] & above[:-1])
    if not len(edges):
        return None
    k = int(edges[0] if rising else edges[-1])
    share = (HORIZON_DEG - elevation[k]) / (elevation[k + 1] - elevation[k])
    found = times[k] + (times[k + 1] - times[k]) * float(share)
    return found.replace(microsecond=0)


def sun_day(day: date, *, lon: float, lat: float, step_minutes: int = 10, zone: str = TOWN_ZONE) -> SunDay:
    """The sun's path over a local day at ``lon``/``lat`` every ``step_minutes`` from midnight, with sunrise and
    sunset found to the minute (within a minute or two of an almanac's, which assume a standard atmosphere)."""
    tz = ZoneInfo(zone)
    times = _utc_day(day, tz, timedelta(minutes=step_minutes))
    azimuth, elevation = solar_position(times, lon=lon, lat=lat)
    minutes = _utc_day(day, tz, timedelta(minutes=1))
    _, fine = solar_position(minutes, lon=lon, lat=lat)
    return SunDay(times, azimuth, elevation, _crossing(minutes, fine, True), _crossing(minutes, fine, False))


def sun_at(when: datetime, *, lon: float, lat: float) -> tuple[float, float]:
    """The sun's azimuth and apparent elevation (degrees) at one aware time."""
    azimuth, elevation = solar_position([when], lon=lon, lat=lat)
    return float(azimuth[0]), float(elevation[0])


def feature_collection(features: list[str], members: Mapping[str, object]) -> bytes:
    """A GeoJSON FeatureCollection of ready feature texts, with further top-level members (RFC 7946 allows them)."""
    head = json.dumps({"type": "FeatureCollection", **members}, separators=(",", ":"), ensure_ascii=False)
    return f'{head[:-1]},"features":[{",".join(features)}]}}'.encode()
