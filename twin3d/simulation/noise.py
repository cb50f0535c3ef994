"""Road-traffic noise screening: RLS-19's emission and a simplified RLS-19 propagation, L_DEN per façade and point.

The model and every simplification are documented in ``docs/noise.md``. In short:

- Emission (RLS-19, eq. for the length-related sound power level of a source line): per road
  ``L_W' = 10 lg M + 10 lg[sum over Pkw, Lkw1, Lkw2 of p * 10^(0.1 L_W,FzG(v)) / v] - 30`` with the Grundwerte
  ``L_W0,FzG(v) = A + 10 lg(1 + (v / B)^C)`` (:data:`RLS19_GROUPS`). Traffic (M, shares, speeds) comes from the
  class assumptions of ``pipelines/noise_traffic.toml`` (:class:`TrafficTable`) and a road's own ``maxspeed``. Road
  surface, gradient, junction and multiple-reflection corrections are left out (0 dB).
- Propagation (RLS-19 / ISO 9613-2, simplified): each road is cut into pieces no longer than half their distance
  to the receiver (RLS-19's rule of thumb), each a point source 0.5 m above the road. Per piece
  ``L = L_W' + 10 lg l - D_div - D_atm - max(D_gr, D_z)`` with ``D_div = 10 lg(2 pi s^2)`` (a point source over
  reflecting ground), ``D_atm = s / 200``, ``D_gr = max(0, 4.8 - (h_m / s)(34 + 600 / s))`` and, where a building
  or the terrain cuts the line of sight, single diffraction over the most effective edge on the path
  ``D_z = min(10 lg(3 + 80 z K), 20)`` with the path difference z and RLS-19's weather correction K.
  Reflections are left out. A road counts up to its cut-off (:func:`cutoff_m`).
- Indicators: L_day (RLS-19, 6-22 h), L_night (22-6 h) and L_DEN (EU END, 5 and 10 dB penalties) per receiver;
  a building's level is that of its most exposed façade (EU END Annex VI, as VBEB counts residents), at 4 m above
  the ground. :func:`noise_band` gives the 5 dB band of :data:`NOISE_BANDS`.

Vectorised (:mod:`twin3d.simulation.noise_paths`): receivers and road pieces are paired with KD-trees (scipy
``cKDTree``), attenuations are numpy over the pairs, screening samples the surface
(:meth:`~twin3d.simulation.surface.Surface.samples_along`) along all paths at once, and the energy is summed per
receiver with ``np.bincount``. Only the façades that can be a building's most exposed one are screened (exact).

Example:
    >>> roads, traffic = Roads.from_store(con), load_traffic(Path("pipelines/noise_traffic.toml"))  # doctest: +SKIP
    >>> levels = building_levels(roads, surface, obstacles, index, traffic)  # doctest: +SKIP
    >>> noise_band(levels.lden)  # 0: below 55 dB, 1: 55-60, ... 4: 70 dB and more  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.simulation.noise_paths import Paths, Receivers, exposure, facade_receivers, road_pairs
from twin3d.simulation.scenario import AddRoad, CloseRoad
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.store.queries import has_table
from twin3d.tomlfile import load_toml_model

WGS84 = CRS.from_epsg(4326)
TRAFFIC_FILE = "noise_traffic.toml"
"""The traffic assumptions' file name in a twin's pipelines folder."""

NOISE_BANDS = (55.0, 60.0, 65.0, 70.0)
"""Lower edges of the L_DEN bands residents are counted in (dB): 55-60, 60-65, 65-70, 70 and more."""

RLS19_GROUPS: dict[str, tuple[float, float, float]] = {
    "pkw": (88.0, 20.0, 3.06),
    "lkw1": (100.3, 40.0, 4.33),
    "lkw2": (105.4, 50.0, 4.88),
}
"""RLS-19's Grundwerte (A_W in dB, B_W in km/h, C_W) of the vehicle groups: cars and vans up to 3.5 t (Pkw),
lorries over 3.5 t without trailer and buses (Lkw1), lorries with trailer and articulated lorries (Lkw2)."""

CAR_SPEED_KMH = (30.0, 130.0)
"""The cars' speed range RLS-19's emission is valid for: slower roads count as 30 km/h, faster ones as 130."""
HEAVY_SPEED_KMH = (30.0, 80.0)
"""Heavy vehicles drive at the cars' speed but at most 80 km/h (StVO § 3 (3) for lorries over 3.5 t)."""
PENALTY_DB = {"day": 0.0, "evening": 5.0, "night": 10.0}
"""L_DEN's penalties per period (EU END, Annex I)."""
PERIODS = ("day", "evening", "night")
CUTOFF_FLOOR_DB = 45.0
"""A road counts up to where it alone, unscreened and infinitely long, gives this L_DEN: 10 dB below the lowest band."""
CUTOFF_M = (25.0, 2000.0)
"""The cut-off's bounds: every road counts within 25 m, none beyond 2 km."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PeriodShares(_Strict):
    """Vehicles per hour as a share of DTV, per period."""

    day: float = Field(ge=0, le=0.25)
    evening: float = Field(ge=0, le=0.25)
    night: float = Field(ge=0, le=0.25)


class DayNight(_Strict):
    """A heavy-vehicle share by day (day and evening) and by night."""

    day: float = Field(ge=0, le=1)
    night: float = Field(ge=0, le=1)


class TrafficSources(_Strict):
    """Where each assumption of a class comes from (one line each)."""

    vehicles_per_day: str = Field(min_length=1)
    speed_kmh: str = Field(min_length=1)
    hourly_share: str = Field(min_length=1)
    heavy: str = Field(min_length=1)


class ClassTraffic(_Strict):
    """The traffic assumed on every road of one class."""

    vehicles_per_day: float = Field(ge=0, le=300_000, description="DTV, both directions")
    speed_kmh: float = Field(gt=0, le=200, description="the cars' speed where a road has no maxspeed")
    hourly_share: PeriodShares
    lkw1: DayNight
    lkw2: DayNight
    sources: TrafficSources

    @model_validator(mode="after")
    def _shares(self) -> ClassTraffic:
        for period in ("day", "night"):
            if getattr(self.lkw1, period) + getattr(self.lkw2, period) > 1:
                raise ValueError(f"lkw1.{period} + lkw2.{period} exceed 1 (they are shares of all vehicles)")
        return self


class Periods(_Strict):
    """The periods' hours [start, end) on the clock (EU END; Germany: 6-18, 18-22, 22-6)."""

    day: tuple[int, int]
    evening: tuple[int, int]
    night: tuple[int, int]

    @model_validator(mode="after")
    def _whole_day(self) -> Periods:
        if sum(self.hours()) != 24 or not all(0 <= h <= 24 for p in (self.day, self.evening, self.night) for h in p):
            raise ValueError("day, evening and night must cover the 24 hours once (e.g. [6, 18], [18, 22], [22, 6])")
        return self

    def hours(self) -> tuple[int, int, int]:
        """Hours of day, evening and night."""
        day, evening, night = ((end - start) % 24 for start, end in (self.day, self.evening, self.night))
        return day, evening, night


class TrafficTable(_Strict):
    """``pipelines/noise_traffic.toml``: the periods and the traffic of each road class."""

    periods: Periods
    classes: dict[str, ClassTraffic] = Field(min_length=1)

    def of(self, road_class: np.ndarray, file: str = TRAFFIC_FILE) -> list[ClassTraffic]:
        """The assumption of each class (an array of OSM highway values).

        Raises:
            InputError: a class the table lacks (named, with the classes it has).
        """
        missing = sorted(set(road_class.tolist()) - self.classes.keys())
        if missing:
            raise InputError(
                f"no traffic assumption for road class {missing[0]!r}",
                file=file,
                record=f"classes.{missing[0]}",
                hint=f"add [classes.{missing[0]}] to the traffic table (it has {', '.join(sorted(self.classes))})",
            )
        return [self.classes[c] for c in road_class.tolist()]


def load_traffic(path: Path) -> TrafficTable:
    """Read and validate the traffic assumptions (``pipelines/noise_traffic.toml``).

    Raises:
        ConfigError: missing file, bad TOML, or an invalid value (the message names the field).
    """
    return load_toml_model(path, TrafficTable, what="noise traffic table", hint="see pipelines/noise_traffic.toml")


# --- emission (RLS-19) -----------------------------------------------------------------------------------------------


def vehicle_sound_power(group: str, speed_kmh: np.ndarray) -> np.ndarray:
    """RLS-19's Grundwert L_W0,FzG(v) = A + 10 lg(1 + (v / B)^C) of one vehicle group, dB(A)."""
    a, b, c = RLS19_GROUPS[group]
    level: np.ndarray = a + 10.0 * np.log10(1.0 + (np.asarray(speed_kmh, np.float64) / b) ** c)
    return level


def line_sound_power(
    vehicles_per_hour: np.ndarray, lkw1: np.ndarray, lkw2: np.ndarray, car_kmh: np.ndarray, heavy_kmh: np.ndarray
) -> np.ndarray:
    """RLS-19's length-related sound power level L_W' of a source line, dB(A) per metre.

    ``L_W' = 10 lg M + 10 lg[(1 - p1 - p2) 10^(0.1 L_W,Pkw) / v_Pkw + p1 10^(0.1 L_W,Lkw1) / v_Lkw1 +
    p2 10^(0.1 L_W,Lkw2) / v_Lkw2] - 30`` (shares p as fractions; -inf where nothing drives).
    """
    car = np.asarray(car_kmh, np.float64)
    heavy = np.asarray(heavy_kmh, np.float64)
    per_vehicle = (
        (1.0 - lkw1 - lkw2) * 10.0 ** (0.1 * vehicle_sound_power("pkw", car)) / car
        + lkw1 * 10.0 ** (0.1 * vehicle_sound_power("lkw1", heavy)) / heavy
        + lkw2 * 10.0 ** (0.1 * vehicle_sound_power("lkw2", heavy)) / heavy
    )
    with np.errstate(divide="ignore"):
        level: np.ndarray = 10.0 * np.log10(np.asarray(vehicles_per_hour, np.float64) * per_vehicle) - 30.0
    return level


def energy_level(energy: np.ndarray) -> np.ndarray:
    """10 lg of an energy sum (-inf for none)."""
    with np.errstate(divide="ignore"):
        level: np.ndarray = 10.0 * np.log10(energy)
    return level


def den_level(day: np.ndarray, evening: np.ndarray, night: np.ndarray, periods: Periods) -> np.ndarray:
    """L_DEN from the periods' levels: the energy mean over 24 h with 5 dB on the evening and 10 dB on the night."""
    hours = periods.hours()
    energy = sum(
        h * 10.0 ** (0.1 * (np.asarray(level, np.float64) + PENALTY_DB[p]))
        for h, level, p in zip(hours, (day, evening, night), PERIODS, strict=True)
    )
    return energy_level(np.asarray(energy) / 24.0)


@dataclass(frozen=True)
class Roads:
    """Roads for motor traffic in the twin's CRS, with what a scenario may set per road.

    Attributes:
        ids: object (n,), road ids (``way/123``; added roads ``added-<i>``).
        road_class: object (n,), OSM highway values.
        geometry: shapely LineStrings (n,) in the twin's CRS.
        speed_kmh: float64 (n,), the cars' speed limit; NaN: the class's assumed speed.
        tunnel: bool (n,): in a tunnel (emits nothing).
        vehicles_per_day: float64 (n,), DTV; NaN: the class's assumption.
        heavy_share: float64 (n,), Lkw1 + Lkw2; NaN: the class's shares.
    """

    ids: np.ndarray
    road_class: np.ndarray
    geometry: np.ndarray
    speed_kmh: np.ndarray
    tunnel: np.ndarray
    vehicles_per_day: np.ndarray
    heavy_share: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Roads:
        """The roads of a built twin, ordered by id.

        Raises:
            InputError: the store has no ``roads`` table (built before roads were read, or without a roads source).
        """
        if not has_table(con, "roads"):
            raise InputError(
                "the twin has no roads table",
                record="roads",
                hint='add a [[sources]] kind = "roads" (e.g. the OSM extract) to the pipeline and build it again',
            )
        t = con.execute(
            "SELECT road_id, road_class, maxspeed_kmh, tunnel, ST_AsWKB(geom) AS wkb FROM roads ORDER BY road_id"
        ).to_arrow_table()
        n = t.num_rows
        return cls(
            t["road_id"].to_numpy(zero_copy_only=False).astype(object),
            t["road_class"].to_numpy(zero_copy_only=False).astype(object),
            shapely.from_wkb(t["wkb"].to_numpy(zero_copy_only=False)),
            np.asarray(t["maxspeed_kmh"].to_numpy(zero_copy_only=False), np.float64),  # nulls come as NaN
            t["tunnel"].to_numpy(zero_copy_only=False).astype(bool),
            np.full(n, np.nan),
            np.full(n, np.nan),
        )

    def closing(self, measure: CloseRoad, crs: CRS) -> np.ndarray:
        """bool (n,): the roads ``measure`` closes (named by id, or crossing its area, given in lon/lat).

        Raises:
            InputError: a named road the twin does not have.
        """
        if measure.road_ids is not None:
            unknown = sorted(set(measure.road_ids) - set(self.ids.tolist()))
            if unknown:
                raise InputError(
                    f"no road {unknown[0]!r} in the twin",
                    record="road_ids",
                    hint="close roads by the road_id of the twin's roads, or by an area",
                )
            return np.isin(self.ids, np.asarray(measure.road_ids, dtype=object))
        assert measure.area is not None
        area = reproject(np.array([measure.area.shape()], dtype=object), WGS84, crs)[0]
        return np.asarray(shapely.intersects(self.geometry, area), bool)

    def with_changes(self, added: Sequence[AddRoad] = (), closed: np.ndarray | None = None, *, crs: CRS) -> Roads:
        """The roads after a scenario: ``closed`` (bool per road) left out, ``added`` (lines in lon/lat, projected to
        ``crs``) appended with their own traffic where they give it.

        Raises:
            InputError: ``closed`` of the wrong length.
        """
        keep = np.ones(len(self), bool) if closed is None else ~np.asarray(closed, bool)
        if keep.shape != (len(self),):
            raise InputError(
                f"closed has {keep.shape} entries for {len(self)} roads", record="closed", hint="give one per road"
            )
        lines = reproject(np.array([m.line.shape() for m in added], dtype=object), WGS84, crs)

        def value(m: AddRoad, name: str) -> float:
            got = getattr(m, name)
            return np.nan if got is None else float(got)

        return Roads(
            np.concatenate([self.ids[keep], np.array([f"added-{i}" for i in range(len(added))], dtype=object)]),
            np.concatenate([self.road_class[keep], np.array([m.road_class for m in added], dtype=object)]),
            np.concatenate([self.geometry[keep], lines]),
            np.concatenate([self.speed_kmh[keep], [value(m, "speed_kmh") for m in added]]),
            np.concatenate([self.tunnel[keep], np.zeros(len(added), bool)]),
            np.concatenate([self.vehicles_per_day[keep], [value(m, "vehicles_per_day") for m in added]]),
            np.concatenate([self.heavy_share[keep], [value(m, "heavy_share") for m in added]]),
        )

    def emissions(self, traffic: TrafficTable) -> np.ndarray:
        """float64 (n, 3): L_W' of each road by day, evening and night (-inf in tunnels and without traffic)."""
        assumed = traffic.of(self.road_class)
        dtv = np.where(np.isnan(self.vehicles_per_day), [a.vehicles_per_day for a in assumed], self.vehicles_per_day)
        car = np.where(np.isnan(self.speed_kmh), [a.speed_kmh for a in assumed], self.speed_kmh)
        car = np.clip(car, *CAR_SPEED_KMH)
        heavy = np.clip(car, *HEAVY_SPEED_KMH)
        out = np.empty((len(self), 3))
        for k, period in enumerate(PERIODS):
            shift = "night" if period == "night" else "day"  # the evening has the day's heavy shares
            p1 = np.array([getattr(a.lkw1, shift) for a in assumed])
            p2 = np.array([getattr(a.lkw2, shift) for a in assumed])
            # A road's own heavy share keeps the class's split between the two groups.
            total = np.where(p1 + p2 > 0, p1 + p2, 1.0)
            given = ~np.isnan(self.heavy_share)
            p1 = np.where(given, self.heavy_share * np.where(p1 + p2 > 0, p1 / total, 0.5), p1)
            p2 = np.where(given, self.heavy_share - p1, p2)
            hourly = dtv * np.array([getattr(a.hourly_share, period) for a in assumed])
            out[:, k] = line_sound_power(hourly, p1, p2, car, heavy)
        out[self.tunnel] = -np.inf
        return out


def cutoff_m(emission: np.ndarray, periods: Periods) -> np.ndarray:
    """How far each road counts: where it alone, unscreened and infinitely long, gives :data:`CUTOFF_FLOOR_DB` L_DEN.

    Args:
        emission: float64 (n, 3), L_W' by day, evening and night.
        periods: the periods' hours (for L_DEN's weights).

    Returns:
        float64 (n,) metres within :data:`CUTOFF_M`.
    """
    den = den_level(emission[:, 0], emission[:, 1], emission[:, 2], periods)
    d = np.geomspace(CUTOFF_M[0], CUTOFF_M[1], 64)
    # An infinite line over reflecting ground: L = L_W' - 10 lg(2 d) - D_atm - D_gr (RLS-19 terms at distance d).
    ground = np.maximum(4.8 - (2.25 / d) * (34.0 + 600.0 / d), 0.0)
    line = den[:, None] - 10.0 * np.log10(2.0 * d) - d / 200.0 - ground
    beyond = line < CUTOFF_FLOOR_DB
    first = np.where(beyond.any(axis=1), beyond.argmax(axis=1), len(d) - 1)
    reach: np.ndarray = np.where(np.isfinite(den), d[first], 0.0)
    return reach


@dataclass(frozen=True)
class NoiseLevels:
    """Levels per building (its most exposed façade) or per point, dB(A); -inf where no road is within reach.

    Attributes:
        lden: L_DEN (EU END).
        lday: RLS-19's L_day (6-22 h) at the same receiver.
        lnight: L_night (22-6 h) at the same receiver.
    """

    lden: np.ndarray
    lday: np.ndarray
    lnight: np.ndarray


def noise_band(levels: np.ndarray) -> np.ndarray:
    """int (n,): the band of each level: 0 below 55 dB, 1 for 55-60, 2 for 60-65, 3 for 65-70, 4 for 70 and more."""
    band: np.ndarray = np.searchsorted(np.asarray(NOISE_BANDS), np.asarray(levels, np.float64), side="right")
    return band


def _source_lines(roads: Roads, traffic: TrafficTable) -> tuple[np.ndarray, np.ndarray]:
    """The roads that emit, merged where one ends where the next of the same emission begins (OSM cuts a street
    into many ways; a far receiver hears a whole stretch as one), and their L_W' by period (k, 3)."""
    emission = roads.emissions(traffic)
    live = np.flatnonzero(np.isfinite(emission).any(axis=1))
    rows, group = np.unique(emission[live], axis=0, return_inverse=True)
    lines, of = [], []
    for k in range(len(rows)):  # one merge per distinct emission: a few dozen in a town
        merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(roads.geometry[live[group == k]])))
        lines.append(merged)
        of.append(np.full(len(merged), k))
    if not lines:
        return np.zeros(0, dtype=object), np.zeros((0, 3))
    return np.concatenate(lines), rows[np.concatenate(of)]


def _receiver_levels(roads: Roads, surface: Surface, receivers: Receivers, traffic: TrafficTable) -> np.ndarray:
    """float64 (receivers, 3): the level by day, evening and night at each receiver (-inf at the receivers of a
    building that cannot be its most exposed one: :func:`~twin3d.simulation.noise_paths.exposure`)."""
    lines, emission = _source_lines(roads, traffic)
    reach = cutoff_m(emission, traffic.periods)
    paths = Paths.between(lines, reach, surface, receivers)
    den = 10.0 ** (0.1 * den_level(emission[:, 0], emission[:, 1], emission[:, 2], traffic.periods))
    energy, heard = exposure(paths, den, surface, receivers)
    counted = heard[paths.receiver]
    out = np.empty((len(receivers.x), 3))
    for k in range(3):
        weight = energy[counted] * 10.0 ** (0.1 * emission[paths.road[counted], k])
        out[:, k] = energy_level(np.bincount(paths.receiver[counted], weight, minlength=len(receivers.x)))
    out[~heard] = -np.inf
    return out


def _indicators(levels: np.ndarray, periods: Periods) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(L_DEN, L_day 6-22, L_night) from the periods' levels."""
    day_h, evening_h, _ = periods.hours()
    lden = den_level(levels[:, 0], levels[:, 1], levels[:, 2], periods)
    day_energy = day_h * 10.0 ** (0.1 * levels[:, 0]) + evening_h * 10.0 ** (0.1 * levels[:, 1])
    return lden, energy_level(day_energy / (day_h + evening_h)), levels[:, 2]


def building_levels(
    roads: Roads, surface: Surface, obstacles: Obstacles, index: np.ndarray, traffic: TrafficTable
) -> NoiseLevels:
    """The noise at the most exposed façade of each building of ``index``, 4 m above the ground.

    Args:
        roads: the roads (a scenario's: :meth:`Roads.with_changes`).
        surface: the buildings and terrain that screen (built from ``obstacles``).
        obstacles: the buildings; ``index`` points into them.
        index: int (k,), the buildings to compute (e.g. the residential ones).
        traffic: the traffic assumptions.

    Returns:
        Levels per building of ``index``, in its order.

    Raises:
        InputError: ``surface`` was built from other obstacles, or a road class lacks a traffic assumption.
    """
    if len(surface.obstacles) != len(obstacles):
        raise InputError(
            f"the surface holds {len(surface.obstacles)} obstacles, not the {len(obstacles)} given",
            record="surface",
            hint="build the surface from the same obstacles (Surface.build or with_obstacles)",
        )
    index = np.asarray(index, np.int64)
    receivers = facade_receivers(obstacles, index)
    if not len(receivers.x):  # no building asked, or none with a free wall: nothing is heard
        return NoiseLevels(*(np.full(len(index), -np.inf) for _ in range(3)))
    lden, lday, lnight = _indicators(_receiver_levels(roads, surface, receivers, traffic), traffic.periods)
    # The most exposed façade decides: per building the receiver of the highest L_DEN, with its L_day and L_night.
    order = np.lexsort((lden, receivers.group))
    last = np.r_[receivers.group[order][1:] != receivers.group[order][:-1], True]
    best = order[last]
    out = [np.full(len(index), -np.inf) for _ in range(3)]
    for target, values in zip(out, (lden, lday, lnight), strict=True):
        target[receivers.group[best]] = values[best]
    return NoiseLevels(*out)


def point_levels(
    roads: Roads,
    surface: Surface,
    x: np.ndarray,
    y: np.ndarray,
    *,
    traffic: TrafficTable,
    ground_m: np.ndarray | None = None,
) -> NoiseLevels:
    """The noise at points (homes a scenario adds), 4 m above the ground, from every direction.

    Args:
        roads: the roads.
        surface: what screens; a point inside an obstacle (a planned building) is not screened by it.
        x, y: the points in the twin's CRS.
        ground_m: their ground, metres above NHN; None: the surface's ground.
        traffic: the traffic assumptions.

    Returns:
        Levels per point, in their order.

    Raises:
        InputError: a point off the surface without a ground given, or a road class without a traffic assumption.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ground = surface.ground_at(x, y) if ground_m is None else np.asarray(ground_m, np.float64)
    if (off := np.flatnonzero(~np.isfinite(ground))).size:
        raise InputError(
            f"point {int(off[0])} has no ground: it lies off the surface",
            record=f"points.{int(off[0])}",
            hint="give points within the twin (the surface covers its buildings and 100 m around), or their ground",
        )
    receivers = Receivers.points(x, y, ground, surface.owner_at(x, y))
    return NoiseLevels(*_indicators(_receiver_levels(roads, surface, receivers, traffic), traffic.periods))


def _segments_cross(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, box: tuple[float, float, float, float]
) -> np.ndarray:
    """bool: whether each segment touches the box (west, south, east, north); Liang-Barsky clipping."""
    low, high = np.zeros(len(x0)), np.ones(len(x0))
    inside = np.ones(len(x0), bool)
    for start, end, lo, hi in ((x0, x1, box[0], box[2]), (y0, y1, box[1], box[3])):
        delta = end - start
        flat = np.abs(delta) < 1e-12
        inside &= ~flat | ((start >= lo) & (start <= hi))
        with np.errstate(divide="ignore", invalid="ignore"):
            t_lo, t_hi = (lo - start) / delta, (hi - start) / delta
        low = np.where(flat, low, np.maximum(low, np.minimum(t_lo, t_hi)))
        high = np.where(flat, high, np.minimum(high, np.maximum(t_lo, t_hi)))
    crossed: np.ndarray = inside & (low <= high)
    return crossed


def affected_by(
    roads_before: Roads,
    roads_after: Roads,
    obstacles_before: Obstacles,
    obstacles_after: Obstacles,
    *,
    index: np.ndarray,
    traffic: TrafficTable,
) -> np.ndarray:
    """The buildings of ``index`` whose noise can differ after a scenario, so that only they are computed again.

    A building is affected when it lies within the reach (:func:`cutoff_m`) of a road that was added, closed or
    whose traffic changed, when it was added or changed itself, or when the path from one of its façades to a piece
    of road it hears passes over an obstacle that was added, removed or changed (over its bounding box, widened by
    a metre: a superset). Consecutive ways of one emission are joined before they are cut into pieces, so after a
    change the pieces of roads that stay may fall a little differently: a building left out can differ from a full
    recomputation by a few hundredths of a dB (at most 0.07 dB when three Bundesstraße ways of Lauf close).

    Args:
        roads_before, roads_after: the roads of the baseline and of the scenario (matched by id).
        obstacles_before, obstacles_after: the buildings (matched by id).
        index: int (k,), the buildings of ``obstacles_after`` asked about (e.g. the residential ones).
        traffic: the traffic assumptions.

    Returns:
        int64 indices into ``obstacles_after`` (a sorted subset of ``index``).
    """
    index = np.asarray(index, np.int64)
    emission_before, emission_after = roads_before.emissions(traffic), roads_after.emissions(traffic)
    ids_before, ids_after = roads_before.ids.astype(str), roads_after.ids.astype(str)
    lookup = dict(zip(ids_after.tolist(), range(len(ids_after)), strict=True))
    there = np.array([lookup.get(i, -1) for i in ids_before.tolist()], np.int64)
    kept = there >= 0
    same = np.zeros(len(roads_before), bool)
    same[kept] = (emission_before[kept] == emission_after[there[kept]]).all(axis=1)
    unchanged_after = np.zeros(len(roads_after), bool)
    unchanged_after[there[same]] = True
    lines = np.concatenate([roads_before.geometry[~same], roads_after.geometry[~unchanged_after]])
    reach = np.concatenate(
        [cutoff_m(emission_before[~same], traffic.periods), cutoff_m(emission_after[~unchanged_after], traffic.periods)]
    )
    footprints = obstacles_after.geometry[index]
    hit = np.zeros(len(index), bool)
    if len(lines):
        found = shapely.STRtree(footprints).query(lines, predicate="dwithin", distance=reach)[1]
        hit[found] = True
    _, unchanged, fresh = obstacles_before.matched(obstacles_after)
    hit |= fresh[index]
    changed = np.concatenate([obstacles_before.geometry[~unchanged], obstacles_after.geometry[fresh]])
    if len(changed) and (~hit).any():
        open_ = np.flatnonzero(~hit)
        receivers = facade_receivers(obstacles_after, index[open_])
        source, source_emission = _source_lines(roads_after, traffic)
        pairs, table = road_pairs(source, cutoff_m(source_emission, traffic.periods), receivers)
        sx, sy = table.point(pairs.road, (pairs.t0 + pairs.t1) / 2)
        rx, ry = receivers.x[pairs.receiver], receivers.y[pairs.receiver]
        boxes = shapely.bounds(changed) + np.array([-1.0, -1.0, 1.0, 1.0])
        overall = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        near = np.flatnonzero(_segments_cross(rx, ry, sx, sy, overall))
        crossing = np.zeros(len(near), bool)
        for box in boxes:  # one test per changed obstacle: a scenario changes a few buildings
            crossing |= _segments_cross(rx[near], ry[near], sx[near], sy[near], tuple(box))
        hit[open_[np.unique(receivers.group[pairs.receiver[near[crossing]]])]] = True
    return np.sort(index[hit])
