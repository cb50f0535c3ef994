"""What planned geometry does to people: direct sun at their façades, road noise at their homes, and who will see a
planned landmark, as households and persons per persona through the privacy gate.

The physics is per building (:mod:`.sun`, :mod:`.noise`, :mod:`.viewshed` on the obstacle rasters of
:mod:`.surface`); this module turns it into figures that may leave the server. A building's value holds for its homes
(for the sun: the share of its façade samples below the threshold, "a flat looks out of its side"); the households
and persons where a condition holds (falls below 1.5 hours of sun, lies in the 65 dB band, sees the tower) are the
gate's estimate, :meth:`~twin3d.population.privacy.PublishedUnits.estimate`: published unit values times the share of
each unit's public weight in those buildings, withheld as a whole when the estimate is below the gate's thresholds.
So a one-building plan cannot reveal the households next to it, and every figure is a function of published values
and public geometry (renaming or repeating a scenario changes nothing). Whole-unit majority counting, as for hazard
areas, would hide every effect of a single building.

Only the buildings a scenario can change are computed again (those within the shadows its changes cast, within the
reach of the roads it changes, or within sight of its landmark), on rasters over a window around them, the same window
before and after; the whole-town figures are the baseline analyses (:func:`baseline_sun`, :func:`baseline_noise`),
computed once per baseline. A plan that only builds gets no noise section (it changes noise only by screening); a
removal alone no sun section (it can only give sun).

Sun and noise compare with the baseline also when a scenario is compared with another scenario (``compared_with``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import shapely
from pyproj import CRS, Transformer

from twin3d.population.privacy import PrivacyRules, PublishedUnits
from twin3d.simulation import sun as sunlib
from twin3d.simulation.layer_inputs import layer_for_scenario, noise_at
from twin3d.simulation.noise import (
    NOISE_BANDS,
    TRAFFIC_FILE,
    Roads,
    TrafficTable,
    building_levels,
    load_traffic,
    noise_band,
    point_levels,
)
from twin3d.simulation.noise import affected_by as noise_affected_by
from twin3d.simulation.planned import Prism
from twin3d.simulation.scenario import (
    STOREY_M,
    AddRoad,
    AddStoreys,
    CloseRoad,
    Landmark,
    NoiseMap,
    PlannedBuilding,
    ScenarioSpec,
)
from twin3d.simulation.surface import Obstacles, Surface, fitting_cell_m, positions
from twin3d.simulation.terrain import Terrain
from twin3d.simulation.viewshed import DISTANCE_FACTOR, ViewSettings, viewshed
from twin3d.store.queries import has_table

if TYPE_CHECKING:
    from twin3d.simulation.engine import Baseline
    from twin3d.simulation.measures import Applied

SUN_CHANGES = (PlannedBuilding, AddStoreys)
"""Measures that can take sun from homes (a demolition alone only gives it)."""
MAX_REACH_M = 600.0
"""The longest shadow and the widest view a scenario's local rasters look across."""


@dataclass
class PlanningGround:
    """What the planning analyses need of a twin, read once per baseline; the raster and the baseline analyses are
    made the first time a scenario asks for them."""

    obstacles: Obstacles
    terrain: Terrain
    lon: float
    lat: float
    roads: Roads | None = None
    traffic: TrafficTable | None = None
    sun_settings: sunlib.SunSettings = field(default_factory=sunlib.SunSettings)
    analyses: dict[str, Any] = field(default_factory=dict)  # the baseline analyses, once computed

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, pipelines_dir: Path, crs: CRS, terrain: Terrain) -> PlanningGround:
        """The twin's buildings, terrain, roads (if it has any) and the traffic assumptions."""
        obstacles = Obstacles.from_store(con)
        x0, y0, x1, y1 = _bounds(obstacles) if len(obstacles) else (*terrain.origin, *terrain.origin)
        lon, lat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True).transform(
            (x0 + x1) / 2, (y0 + y1) / 2
        )
        roads = traffic = None
        if has_table(con, "roads") and con.execute("SELECT count(*) FROM roads").fetchone() != (0,):
            roads = Roads.from_store(con)
            traffic = load_traffic(pipelines_dir / TRAFFIC_FILE)
        return cls(obstacles, terrain, float(lon), float(lat), roads, traffic)

    @cached_property
    def surface(self) -> Surface:
        """The raster of the baseline's buildings on the terrain."""
        return Surface.build(self.obstacles, self.terrain, cell_m=self.cell_m)

    @cached_property
    def cell_m(self) -> float:
        """The rasters' cell size: 1 m, coarser where the town is too large for a raster of 1 m cells."""
        bounds = shapely.total_bounds(self.obstacles.geometry) if len(self.obstacles) else np.zeros(4)
        return fitting_cell_m(tuple(float(v) for v in bounds))  # type: ignore[arg-type]

    def shadow_reach_m(self, tallest_m: float) -> float:
        """How far a shadow can fall on the reference day: from ``tallest_m`` above the lowest ground, at the
        lowest elevation the sun counts at (a cap for the local rasters of a scenario)."""
        return min(tallest_m / float(np.tan(np.radians(self.sun_settings.min_elevation_deg))), MAX_REACH_M)

    def index_of(self, building_ids: np.ndarray) -> np.ndarray:
        """int64: the obstacle index of each building id (-1: not a building of the twin)."""
        return positions(self.obstacles.ids, building_ids)


def _bounds(obstacles: Obstacles) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = shapely.total_bounds(obstacles.geometry)
    return float(x0), float(y0), float(x1), float(y1)


def _group(units: PublishedUnits, share: np.ndarray, rules: PrivacyRules) -> dict[str, Any]:
    """Households and persons (all, and per persona) that ``share`` of each unit holds, or withheld."""
    found = units.estimate(share, rules) if np.any(share > 0) else _nobody()
    return {"withheld": True} if found is None else {"withheld": False, **found}


def _nobody() -> dict[str, Any]:
    return {"households": 0, "persons": 0, "by_persona": []}


def _in_buildings(units: PublishedUnits, ids: np.ndarray, part: np.ndarray, rules: PrivacyRules) -> dict[str, Any]:
    """The group of residents in the buildings ``ids``, ``part`` of each building's homes (1: all of them)."""
    at = positions(ids, units.building_ids)
    part = np.append(np.asarray(part, np.float64), 0.0)  # position -1 (not among ``ids``) reads the 0 at the end
    return _group(units, units.share_of_buildings(part[at]), rules)


class _State:
    """The obstacles of a scenario, how its planned buildings are numbered among them, and its rasters: the whole
    town's (made only when a section needs it: noise) or a window around what changed (sun, views)."""

    def __init__(self, ground: PlanningGround, obstacles: Obstacles, planned: dict[str, int]) -> None:
        self.ground = ground
        self.obstacles = obstacles
        self.planned = planned  # prism id -> obstacle index

    @property
    def unchanged(self) -> bool:
        """Whether the scenario changes no building."""
        return self.obstacles is self.ground.obstacles

    @cached_property
    def surface(self) -> Surface:
        """The raster of the scenario's obstacles over the whole town."""
        return self.ground.surface if self.unchanged else self.ground.surface.with_obstacles(self.obstacles)

    def window(self, bounds: tuple[float, float, float, float]) -> tuple[Surface, Surface]:
        """Rasters of the baseline's and the scenario's obstacles over ``bounds`` only, at the whole town's cell
        size: what a local analysis needs, without rasterising the town."""
        cell = self.ground.cell_m
        before = Surface.build(self.ground.obstacles, self.ground.terrain, cell_m=cell, bounds=bounds)
        after = (
            before if self.unchanged else Surface.build(self.obstacles, self.ground.terrain, cell_m=cell, bounds=bounds)
        )
        return before, after


def _terrain_at(terrain: Terrain, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The terrain's height at points (NaN off the grid or where it has no data)."""
    index, inside = terrain.cell_of(x, y)
    return np.where(inside, terrain.heights.ravel()[index], np.nan)


def _state(ground: PlanningGround, applied: Applied) -> _State:
    """The scenario's obstacles: planned prisms added, removed and replaced buildings gone, added storeys on top."""
    obstacles = ground.obstacles
    removed = np.isin(obstacles.ids, np.asarray(applied.removed_buildings, dtype=object))
    raised = np.zeros(len(obstacles))
    if applied.raised_storeys:
        idx = ground.index_of(np.asarray(list(applied.raised_storeys), dtype=object))
        raised[idx[idx >= 0]] = np.asarray(list(applied.raised_storeys.values()))[idx >= 0] * STOREY_M
    if not applied.prisms and not removed.any() and not raised.any():
        return _State(ground, obstacles, {})
    centres = shapely.point_on_surface(np.array([p.footprint for p in applied.prisms], dtype=object))
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    base = _terrain_at(ground.terrain, x, y) if len(centres) else np.zeros(0)
    fallback = float(np.nanmedian(obstacles.base_m)) if len(obstacles) else 0.0
    added = [
        (p.id, p.footprint, float(b) if np.isfinite(b) else fallback, p.height_m)
        for p, b in zip(applied.prisms, base, strict=True)
    ]
    after = obstacles.with_changes(added, removed, raised)
    n = len(after)
    return _State(ground, after, {p.id: n - len(added) + k for k, p in enumerate(applied.prisms)})


def _residential(ground: PlanningGround, units: PublishedUnits, obstacles: Obstacles) -> np.ndarray:
    """Indices into ``obstacles`` of the buildings where ``units`` have homes."""
    mine = np.isin(obstacles.ids, units.building_ids)
    return np.flatnonzero(mine)


def baseline_sun(base: Baseline) -> dict[str, Any]:
    """Households per persona whose building gets less direct sun than the threshold on the reference day, in the
    whole baseline twin (computed once per baseline)."""
    ground = base.planning
    assert ground is not None
    if "sun" not in ground.analyses:
        ground.analyses["sun"] = _baseline_sun(base, ground)
    found: dict[str, Any] = ground.analyses["sun"]
    return found


def share_below(
    surface: Surface, obstacles: Obstacles, index: np.ndarray, settings: sunlib.SunSettings, *, lon: float, lat: float
) -> np.ndarray:
    """float64 (len(index),): the share of each building's façade samples with less direct sun than the threshold:
    the part of its homes taken to lose their sun (a flat looks out of its side of the building; a building
    without a free wall counts as all below)."""
    index = np.asarray(index, np.int64)
    samples = sunlib.facade_samples(obstacles, index, spacing_m=settings.spacing_m, window_m=settings.window_m)
    hours = sunlib.sample_sun_hours(surface, samples, settings, lon=lon, lat=lat)
    total = np.bincount(samples.building, minlength=len(obstacles))[index]
    below = np.bincount(samples.building, weights=hours < settings.threshold_h, minlength=len(obstacles))[index]
    share: np.ndarray = np.divide(below, total, out=np.ones(len(index)), where=total > 0)
    return share


def _baseline_sun(base: Baseline, ground: PlanningGround) -> dict[str, Any]:
    settings = ground.sun_settings
    idx = _residential(ground, base.units, ground.obstacles)
    part = share_below(ground.surface, ground.obstacles, idx, settings, lon=ground.lon, lat=ground.lat)
    return {
        **_sun_method(settings),
        "buildings_checked": len(idx),
        "below": _in_buildings(base.units, ground.obstacles.ids[idx], part, base.rules),
    }


def _sun_method(settings: sunlib.SunSettings) -> dict[str, Any]:
    return {
        "day": settings.day.isoformat(),
        "threshold_h": settings.threshold_h,
        "step_minutes": settings.step_minutes,
        "min_elevation_deg": settings.min_elevation_deg,
        "counted": "facade_share",
    }


def _sun(base: Baseline, ground: PlanningGround, state: _State, applied: Applied) -> dict[str, Any]:
    """Who falls below (or rises above) the sun threshold through the scenario's geometry, per persona: per
    building, the change in the share of its façades below the threshold (see :func:`share_below`)."""
    settings, lon, lat = ground.sun_settings, ground.lon, ground.lat
    checked = sunlib.affected_by(ground.obstacles, state.obstacles, settings, lon=lon, lat=lat)
    residents = base.units.select(applied.kept)
    homes = np.isin(state.obstacles.ids[checked], residents.building_ids)
    ids = state.obstacles.ids[checked[homes]]
    # Rasters over the buildings looked at, widened by the longest shadow any building there can cast on them.
    near = state.obstacles.geometry[checked]
    tallest = float((state.obstacles.top_m - state.obstacles.base_m.min()).max()) if len(near) else 0.0
    reach = ground.shadow_reach_m(tallest)
    x0, y0, x1, y1 = shapely.total_bounds(near) if len(near) else (0.0, 0.0, 1.0, 1.0)
    before_surface, after_surface = state.window((x0 - reach, y0 - reach, x1 + reach, y1 + reach))
    after = share_below(after_surface, state.obstacles, checked[homes], settings, lon=lon, lat=lat)
    before = share_below(before_surface, ground.obstacles, ground.index_of(ids), settings, lon=lon, lat=lat)
    rules = base.rules
    result = {
        **_sun_method(settings),
        "compared_with": "baseline",
        "buildings_checked": len(ids),
        "losing": _in_buildings(residents, ids, np.clip(after - before, 0, 1), rules),
        "gaining": _in_buildings(residents, ids, np.clip(before - after, 0, 1), rules),
        "below_before": _in_buildings(residents, ids, before, rules),
        "below_after": _in_buildings(residents, ids, after, rules),
        "newcomers_below": None,
    }
    homes_planned = [p for p in applied.prisms if p.dwellings]
    if homes_planned:
        idx = np.array([state.planned[p.id] for p in homes_planned])
        part = share_below(after_surface, state.obstacles, idx, settings, lon=lon, lat=lat)
        result["newcomers_below"] = _newcomers_in(base, applied, homes_planned, part)
    return result


def _newcomers_in(base: Baseline, applied: Applied, prisms: list[Prism], part: np.ndarray) -> dict[str, Any]:
    """The newcomers in planned buildings, ``part`` of each building's (its home point lies in its footprint)."""
    units = applied.units
    new = np.zeros(len(units.point_x), bool)
    new[units.member_point[units.added[units.member_unit]]] = True
    per_point = np.zeros(len(units.point_x))
    for prism, share in zip(prisms, part, strict=True):
        per_point[new & shapely.contains_xy(prism.footprint, units.point_x, units.point_y)] = share
    return _group(units, units.share_of(per_point), base.rules)


def _band_groups(
    units: PublishedUnits, ids: np.ndarray, before: np.ndarray | None, after: np.ndarray, rules: PrivacyRules
) -> list[dict[str, Any]]:
    """Residents per noise band (55, 60, 65, 70 dB and more) before and after, for the buildings ``ids``."""
    rows = []
    for k, low in enumerate(NOISE_BANDS, start=1):
        row: dict[str, Any] = {"band": int(low), "after": _in_buildings(units, ids, after == k, rules)}
        row["before"] = _in_buildings(units, ids, before == k, rules) if before is not None else None
        rows.append(row)
    return rows


def _noise_method(source: str, layer: str | None = None) -> dict[str, Any]:
    return {"indicator": "L_DEN", "bands": [int(b) for b in NOISE_BANDS], "source": source, "layer": layer}


def baseline_noise(base: Baseline) -> dict[str, Any] | None:
    """Residents per persona in each L_DEN band of the screening model in the whole baseline twin (None without
    roads), computed once per baseline."""
    ground = base.planning
    if ground is None or ground.roads is None or ground.traffic is None:
        return None
    if "noise" not in ground.analyses:
        idx = _residential(ground, base.units, ground.obstacles)
        levels = building_levels(ground.roads, ground.surface, ground.obstacles, idx, ground.traffic).lden
        ids = ground.obstacles.ids[idx]
        ground.analyses["noise"] = {
            **_noise_method("model"),
            "buildings_checked": len(idx),
            "residents": _band_groups(base.units, ids, None, noise_band(levels), base.rules),
        }
    found: dict[str, Any] = ground.analyses["noise"]
    return found


def _noise(
    base: Baseline, ground: PlanningGround, state: _State, applied: Applied, spec: ScenarioSpec
) -> dict[str, Any] | None:
    """Residents per noise band before and after where the scenario changes roads or screens, and the newcomers'."""
    maps = [m for m in spec.measures if isinstance(m, NoiseMap)]
    if maps:
        return _noise_from_layer(base, applied, maps[0], spec.visibility)
    if ground.roads is None or ground.traffic is None:
        return None
    road_measures = [m for m in spec.measures if isinstance(m, AddRoad | CloseRoad)]
    has_newcomers = bool(applied.units.added.any())
    # A plan that only builds changes the noise by screening, by a few dB behind it: the noise section is for
    # roads and new homes (with the plan's screens counted there).
    if not road_measures and not has_newcomers:
        return None
    closed = np.zeros(len(ground.roads), bool)
    for m in road_measures:
        if isinstance(m, CloseRoad):
            closed |= ground.roads.closing(m, base.crs)
    added_roads = [m for m in road_measures if isinstance(m, AddRoad)]
    roads = ground.roads.with_changes(added_roads, closed, crs=base.crs) if road_measures else ground.roads
    residents = base.units.select(applied.kept)
    result: dict[str, Any] = {**_noise_method("model"), "compared_with": "baseline"}
    near = noise_affected_by(
        ground.roads,
        roads,
        ground.obstacles,
        state.obstacles,
        index=_residential(ground, residents, state.obstacles),
        traffic=ground.traffic,
    )
    ids = state.obstacles.ids[near]
    levels_before = building_levels(
        ground.roads, ground.surface, ground.obstacles, ground.index_of(ids), ground.traffic
    )
    before = noise_band(levels_before.lden)
    after = noise_band(building_levels(roads, state.surface, state.obstacles, near, ground.traffic).lden)
    result["buildings_checked"] = len(ids)
    result["residents"] = _band_groups(residents, ids, before, after, base.rules) if len(ids) else []
    result["louder"] = _in_buildings(residents, ids, after > before, base.rules) if len(ids) else None
    result["quieter"] = _in_buildings(residents, ids, after < before, base.rules) if len(ids) else None
    if has_newcomers:
        units = applied.units
        new_points = np.unique(units.member_point[units.added[units.member_unit]])
        levels = point_levels(
            roads, state.surface, units.point_x[new_points], units.point_y[new_points], traffic=ground.traffic
        ).lden
        bands = np.zeros(len(units.point_x), np.int64)
        bands[new_points] = noise_band(levels)
        is_new = np.zeros(len(units.point_x), bool)
        is_new[new_points] = True
        result["newcomers"] = [
            {"band": int(low), "group": _group(units, units.share_of(is_new & (bands == k)), base.rules)}
            for k, low in enumerate(NOISE_BANDS, start=1)
            if (is_new & (bands == k)).any()
        ]
    return result


def _noise_from_layer(base: Baseline, applied: Applied, m: NoiseMap, visibility: str) -> dict[str, Any]:
    """Residents per band of a loaded noise map at their home points (the scenario's homes, newcomers included)."""
    result: dict[str, Any] = {**_noise_method("layer", m.layer), "compared_with": "baseline"}
    if base.layers is None:
        return {**result, "residents": [], "note": "layer_missing"}
    units = applied.units
    levels, why = noise_at(base.layers, m.layer, visibility, base.crs, units.point_x, units.point_y)
    if levels is None:
        return {**result, "residents": [], "note": why}
    entry, _ = layer_for_scenario(base.layers, m.layer, visibility)
    result["layer_title"] = entry.title if entry is not None else m.layer
    bands = noise_band(np.where(np.isfinite(levels), levels, -np.inf))
    result["residents"] = [
        {"band": int(low), "before": None, "after": _group(units, units.share_of(bands == k), base.rules)}
        for k, low in enumerate(NOISE_BANDS, start=1)
    ]
    result["buildings_checked"] = 0
    return result


def _views(
    base: Baseline, ground: PlanningGround, state: _State, applied: Applied, spec: ScenarioSpec
) -> list[dict[str, Any]]:
    """Per landmark, the residents who will see it from their building."""
    out = []
    residents = base.units.select(applied.kept)
    idx = _residential(ground, residents, state.obstacles)
    to_twin = Transformer.from_crs(CRS.from_epsg(4326), base.crs, always_xy=True)
    settings = ViewSettings()
    for i, m in enumerate(spec.measures):
        if not isinstance(m, Landmark):
            continue
        x, y = to_twin.transform(*m.location.coordinates)
        ground_m = float(_terrain_at(ground.terrain, np.array([x]), np.array([y]))[0])
        if not np.isfinite(ground_m):
            ground_m = float(np.nanmedian(state.obstacles.base_m))
        reach = DISTANCE_FACTOR * m.height_m + ground.cell_m  # the viewshed's own reach, and a cell
        _, surface = state.window((x - reach, y - reach, x + reach, y + reach))
        visible, _ = viewshed(
            surface, state.obstacles, idx, (x, y), height_m=m.height_m, base_m=ground_m, settings=settings
        )
        seen = visible >= settings.min_visible_m
        out.append(
            {
                "measure": i,
                "name": m.name,
                "structure": m.structure,
                "height_m": m.height_m,
                "max_distance_m": settings.max_distance_m or DISTANCE_FACTOR * m.height_m,
                "buildings_checked": len(idx),
                "see": _in_buildings(residents, state.obstacles.ids[idx], seen, base.rules),
            }
        )
    return out


def planning_results(base: Baseline, applied: Applied, spec: ScenarioSpec) -> dict[str, Any]:
    """The scenario's ``sun``, ``noise`` and ``views`` sections (None / empty where it changes nothing they see)."""
    ground = base.planning
    kinds = {type(m) for m in spec.measures}
    wants_sun = bool(kinds & set(SUN_CHANGES))
    wants_views = Landmark in kinds
    if ground is None:
        return {"sun": None, "noise": None, "views": []}
    state = _state(ground, applied) if wants_sun or wants_views or applied.prisms else None
    state = state or _State(ground, ground.obstacles, {})
    return {
        "sun": _sun(base, ground, state, applied) if wants_sun else None,
        "noise": _noise(base, ground, state, applied, spec),
        "views": _views(base, ground, state, applied, spec) if wants_views else [],
    }
