"""Floods from the terrain: the cells, buildings, homes, facilities and paths a water level reaches.

The model is a static water level with connectivity (a "bathtub" that fills from the river, not from the sky):

- a cell is flooded when its terrain lies below the level and it is connected to the water's source over cell
  edges (4-neighbourhood) through cells below the level: a hollow behind a dike stays dry;
- the source is the point the planner names (the river: the lowest cell below the level within
  :data:`SOURCE_REACH_M` of it, so a click near the water finds it), else the lowest cell of the area drawn, else
  of the whole terrain;
- an area drawn with the level (a depth polygon) limits the flood to the cells whose centre lies in it;
- a wall (a drawn line with a crest height) occupies every cell it touches: while the level is below its crest
  those cells are dry and block the flood; at or above it the wall is overtopped and they are terrain again;
- depth = level - terrain height, per cell; a building's depth is the deepest of the cells whose centre lies in
  its footprint (the cell at its point on surface where it holds no cell centre): where the water gets in first.

The terrain is the twin's DEM as its build kept it (:mod:`twin3d.simulation.terrain`). A twin without one stands on
its twin-wide ground: every cell has the same height, so a level above it floods all that the area and the walls
leave open, and every building is flooded or none; the result says so (``terrain.kind == "twin_ground"``).

What a flood changes in the scenario: a facility closes when it stands in the water (its cell, or its building) or
its access is flooded (the path segment it is reached by, or all four cells around it); path segments with any
point in the water (bar the river's usual bed, which a DEM's bare earth shows under every bridge: :data:`CHANNEL_M`)
leave the walking network (:func:`~twin3d.simulation.network.without_segments`) and the homes are located anew on
what is left, so the accessibility indicators are those of the flooded town. Residents are exposed
through the privacy gate only: a unit counts, as a whole, when at least half of its public weight lies at home
points in flooded cells or flooded buildings, and the flood gets no figure when the public estimate of the people
there is below the gate's thresholds (as hazard areas, :meth:`PublishedUnits.too_small`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS
from rasterio.features import rasterize, shapes
from scipy import ndimage

from twin3d.io.crs import reproject, transform_points
from twin3d.population.privacy import PrivacyRules, PublishedUnits
from twin3d.simulation.accessibility import Homes, locate_homes
from twin3d.simulation.facility_types import FACILITY_TYPES, Facilities
from twin3d.simulation.housing import Footprints
from twin3d.simulation.network import DistanceModel, NetworkDistances, StraightLineDistances, without_segments
from twin3d.simulation.scenario import Flood, FloodWall
from twin3d.simulation.terrain import Terrain, load_terrain

WGS84 = CRS.from_epsg(4326)
SOURCE_REACH_M = 50.0
"""A named source finds the water within this distance (at least one cell)."""
DEPTH_BANDS_M = (0.0, 0.5, 1.0, 2.0, 4.0)
"""Lower edges of the depth bands buildings are counted in (as German flood hazard maps draw them)."""
MAX_LISTED_BUILDINGS = 20_000
"""The most flooded buildings listed with their depth, deepest first."""
CHANNEL_M = 0.5
"""The river at its usual level: flooded cells of a DEM at most this far above the source cell (the lowest water
found). A DEM is bare earth: a path over them is a bridge, open as long as the water leaves its approaches dry."""


@dataclass(frozen=True)
class FloodGround:
    """What the flood model needs of a twin, prepared once per baseline: the terrain, the cells under every
    building, points along every path segment, and the facilities' names.

    Attributes:
        building_ids: the twin's buildings (as :class:`Footprints` orders them).
        pair_building, pair_cell: which building stands on which cell (flat index), one pair each.
        building_covered: bool per building, whether the terrain has a height under it.
        sample_segment, sample_cell: points along the walking network's segments and the cell each lies in.
    """

    terrain: Terrain
    crs: CRS
    model: DistanceModel
    building_ids: np.ndarray
    pair_building: np.ndarray
    pair_cell: np.ndarray
    building_covered: np.ndarray
    sample_segment: np.ndarray
    sample_cell: np.ndarray
    n_segments: int
    facility_names: dict[str, str] = field(default_factory=dict)


def load_flood_ground(
    con: duckdb.DuckDBPyConnection, crs: CRS, footprints: Footprints | None, model: DistanceModel
) -> FloodGround:
    """The cold part of the flood model: read the terrain and lay the buildings and paths onto its cells."""
    terrain = load_terrain(con)
    ids = footprints.ids if footprints is not None else np.zeros(0, object)
    if footprints is not None and len(ids):
        pair_building, pair_cell = terrain.footprint_cells(footprints.geometry, footprints.x, footprints.y)
    else:
        pair_building = pair_cell = np.zeros(0, np.int64)
    known = np.isfinite(terrain.heights.ravel()[pair_cell])
    covered = np.bincount(pair_building[known], minlength=len(ids)) > 0
    sample_segment, sample_cell, n_segments = np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    if isinstance(model, NetworkDistances):
        g = model.graph
        n_segments = len(g.seg_u)
        # Points along each segment at most half a cell apart, both ends included: a segment is under water when
        # any of them is; only a cell it clips at a corner can be missed.
        spacing = min(terrain.pixel) / 2
        pieces = np.maximum(np.ceil(g.seg_length / spacing), 1).astype(np.int64) + 1
        sample_segment = np.repeat(np.arange(n_segments), pieces)
        step = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t = step / (pieces[sample_segment] - 1)
        a, b = g.node_xy[g.seg_u[sample_segment]], g.node_xy[g.seg_v[sample_segment]]
        xy = a + t[:, None] * (b - a)
        cell, inside = terrain.cell_of(xy[:, 0], xy[:, 1])
        sample_segment, sample_cell = sample_segment[inside], cell[inside]
    names = dict(con.execute("SELECT facility_id, coalesce(name, '') FROM facilities").fetchall())
    return FloodGround(
        terrain, crs, model, ids, pair_building, pair_cell, covered, sample_segment, sample_cell, n_segments, names
    )


@dataclass(frozen=True)
class FloodMap:
    """One water level on the terrain: depth per cell (0 where dry) and what decided it."""

    level_m: float
    depth: np.ndarray
    seed: int | None
    blocked: np.ndarray

    @property
    def wet(self) -> np.ndarray:
        """bool (rows, cols): the flooded cells."""
        return np.asarray(self.depth > 0)

    def channel(self, terrain: Terrain) -> np.ndarray:
        """bool (rows, cols): the flooded cells that are the river at its usual level (see :data:`CHANNEL_M`);
        none on a flat terrain, which has no river bed."""
        if self.seed is None or terrain.flat:
            return np.zeros(terrain.shape, bool)
        return np.asarray(self.wet & (terrain.heights <= terrain.heights.ravel()[self.seed] + CHANNEL_M))


def _burn(terrain: Terrain, shapes: list[shapely.Geometry], *, all_touched: bool) -> np.ndarray:
    """bool (rows, cols): the cells the shapes cover (centre inside; every cell touched with ``all_touched``)."""
    if not shapes:
        return np.zeros(terrain.shape, bool)
    burnt = rasterize(
        [(g, 1) for g in shapes], out_shape=terrain.shape, transform=terrain.transform, all_touched=all_touched
    )
    return np.asarray(burnt, bool)


def _seed(terrain: Terrain, candidate: np.ndarray, source: tuple[float, float] | None) -> int | None:
    """The flat index of the cell the water comes from: the lowest candidate near the source, or of all."""
    heights = np.where(candidate, terrain.heights, np.inf)
    if source is None:
        best = int(np.argmin(heights))
        return best if np.isfinite(heights.ravel()[best]) else None
    (cell,), (inside,) = terrain.cell_of(np.array([source[0]]), np.array([source[1]]))
    if not inside:
        return None
    cols = terrain.shape[1]
    r, c = divmod(int(cell), cols)
    reach = max(1, int(np.ceil(SOURCE_REACH_M / min(terrain.pixel))))
    r0, c0 = max(r - reach, 0), max(c - reach, 0)
    window = heights[r0 : r + reach + 1, c0 : c + reach + 1]
    best = int(np.argmin(window))
    if not np.isfinite(window.ravel()[best]):
        return None
    wr, wc = divmod(best, int(window.shape[1]))
    return (r0 + wr) * cols + c0 + wc


def flood_map(
    terrain: Terrain,
    level_m: float,
    *,
    area: shapely.Geometry | None = None,
    source: tuple[float, float] | None = None,
    walls: list[tuple[shapely.Geometry, float]] | None = None,
) -> FloodMap:
    """The cells a water level floods from its source (see the module docstring); geometry in the twin's CRS.

    Args:
        terrain: the twin's terrain.
        level_m: the water level, metres above NHN.
        area: the cells whose centre lies in it may flood; all where None.
        source: where the water comes from (x, y); the lowest cell below the level where None.
        walls: (line, crest height) of every wall.
    """
    holding = [line for line, crest in walls or [] if crest > level_m]
    blocked = _burn(terrain, holding, all_touched=True)
    candidate = (terrain.heights < level_m) & ~blocked
    if area is not None:
        candidate &= _burn(terrain, [area], all_touched=False)
    seed = _seed(terrain, candidate, source)
    if seed is None:
        return FloodMap(level_m, np.zeros(terrain.shape), None, blocked)
    labels, _ = ndimage.label(candidate)  # the default structure: 4-neighbourhood, water flows over cell edges
    wet = labels == labels.ravel()[seed]
    return FloodMap(level_m, np.where(wet, level_m - terrain.heights, 0.0), seed, blocked)


@dataclass(frozen=True)
class FloodOutcome:
    """What a scenario's floods do: per level and wall what they found, the deepest water per cell and per
    building, the home points in the water, the facilities that close and the network that is left."""

    ground: FloodGround
    levels: list[dict[str, Any]]
    walls: list[dict[str, Any]]
    depth: np.ndarray
    building_depth: np.ndarray
    wet_points: np.ndarray
    facilities: Facilities
    cut_off: list[dict[str, Any]]
    homes: Homes
    paths: dict[str, Any]


def _twin(crs: CRS, geometry: shapely.Geometry) -> shapely.Geometry:
    return reproject(np.array([geometry]), WGS84, crs)[0]


def _lon_lat(crs: CRS, x: float, y: float) -> dict[str, float]:
    lon, lat = transform_points(np.array([x]), np.array([y]), crs, WGS84)
    return {"lon": round(float(lon[0]), 7), "lat": round(float(lat[0]), 7)}


def _building_depth(ground: FloodGround, depth: np.ndarray) -> np.ndarray:
    """float (buildings,): the deepest water over the cells under each building (0: dry or off the terrain)."""
    out = np.zeros(len(ground.building_ids))
    np.maximum.at(out, ground.pair_building, depth.ravel()[ground.pair_cell])
    return out


def _level(
    ground: FloodGround, i: int, m: Flood, walls: list[tuple[int, shapely.Geometry, float]]
) -> tuple[FloodMap, dict[str, Any]]:
    """One flood measure's map and what the result says of it (with what its holding walls keep dry)."""
    t, crs = ground.terrain, ground.crs
    area = _twin(crs, m.area.shape()) if m.area is not None else None
    source = None
    if m.source is not None:
        (sx,), (sy,) = transform_points(
            np.array([m.source.coordinates[0]]), np.array([m.source.coordinates[1]]), WGS84, crs
        )
        source = (float(sx), float(sy))
    lines = [(line, crest) for _, line, crest in walls]
    fm = flood_map(t, m.level_m, area=area, source=source, walls=lines)
    wet = fm.wet
    summary: dict[str, Any] = {
        "measure": i,
        "name": m.name,
        "level_m": m.level_m,
        "area_drawn": area is not None,
        "cells": int(wet.sum()),
        "area_m2": round(float(wet.sum()) * t.cell_area_m2),
        "max_depth_m": round(float(fm.depth.max()), 2),
        "mean_depth_m": round(float(fm.depth[wet].mean()), 2) if wet.any() else 0.0,
        "source": None,
        "walls_holding": [j for j, _, crest in walls if crest > m.level_m],
    }
    if fm.seed is not None:
        x, y = t.centres(np.array([fm.seed]))
        ground_m = round(float(t.heights.ravel()[fm.seed]), 2)
        summary["source"] = {**_lon_lat(crs, float(x[0]), float(y[0])), "ground_m": ground_m}
    else:
        summary["note"] = "source_not_below_level" if source is not None else "nothing_below_level"
    if summary["walls_holding"]:
        # What the walls keep dry: the same level without them, less the flood with them.
        free = flood_map(t, m.level_m, area=area, source=source)
        summary["protected_m2"] = round(float((free.wet & ~wet).sum()) * t.cell_area_m2)
        summary["buildings_protected"] = int(
            ((_building_depth(ground, free.depth) > 0) & (_building_depth(ground, fm.depth) == 0)).sum()
        )
    return fm, summary


def _cut_off(
    ground: FloodGround, facilities: Facilities, depth: np.ndarray, building_depth: np.ndarray, segment_wet: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per facility: the water at it (its cell or its building), whether it is in the water, whether its access is."""
    t = ground.terrain
    cols = t.shape[1]
    wet = np.pad(depth > 0, 1)
    cell, inside = t.cell_of(facilities.x, facilities.y)
    at = np.where(inside, depth.ravel()[cell], 0.0)
    # Facilities taken from buildings ("building:<id>") stand in the water when their building does.
    names = ground.building_ids.astype(str)
    if len(names) and len(facilities):
        ids = facilities.ids.astype(str)
        order = np.argsort(names)
        wanted = np.char.partition(ids, "building:")[:, 2]
        pos = order[np.clip(np.searchsorted(names[order], wanted), 0, len(names) - 1)]
        mine = np.char.startswith(ids, "building:") & (names[pos] == wanted)
        at = np.where(mine, np.maximum(at, building_depth[pos]), at)
    # Access: all four neighbouring cells in the water (an island), or the path segment it is reached by.
    r, c = np.divmod(cell, cols)
    island = inside & wet[r, c + 1] & wet[r + 2, c + 1] & wet[r + 1, c] & wet[r + 1, c + 2]
    access = island
    if isinstance(ground.model, NetworkDistances) and len(facilities):
        snap = ground.model.locate(facilities.x, facilities.y).snap
        assert snap is not None
        access = access | (segment_wet[snap.seg] & (snap.comp >= 0))
    return at, at > 0, access & ~(at > 0)


def apply_flood(
    ground: FloodGround,
    measures: list[tuple[int, Flood | FloodWall]],
    units: PublishedUnits,
    facilities: Facilities,
    homes: Homes,
) -> FloodOutcome:
    """The scenario's floods and walls on its units (their home points located as ``homes``) and facilities."""
    t = ground.terrain
    wall_measures = [(i, m) for i, m in measures if isinstance(m, FloodWall)]
    walls = [(i, _twin(ground.crs, m.line.shape()), m.crest_m) for i, m in wall_measures]
    depth = np.zeros(t.shape)
    channel = np.zeros(t.shape, bool)
    levels = []
    for i, m in measures:  # one pass per flood measure (a scenario has at most 50 measures)
        if isinstance(m, Flood):
            fm, summary = _level(ground, i, m, walls)
            depth = np.maximum(depth, fm.depth)
            channel |= fm.channel(t)
            levels.append(summary)
    wall_rows = [
        {
            "measure": i,
            "name": m.name,
            "crest_m": m.crest_m,
            "length_m": round(float(line.length), 1),
            "holds": [lv["measure"] for lv in levels if m.crest_m > lv["level_m"]],
            "overtopped": [lv["measure"] for lv in levels if m.crest_m <= lv["level_m"]],
        }
        for (i, m), (_, line, _) in zip(wall_measures, walls, strict=True)
    ]
    wet = depth.ravel() > 0
    building_depth = _building_depth(ground, depth)
    cell, inside = t.cell_of(units.point_x, units.point_y)
    wet_points = inside & wet[cell]
    hit = np.isin(units.building_ids, ground.building_ids[building_depth > 0])
    wet_points[units.member_point[units.building_member[hit]]] = True
    # A path is cut where the water stands on it, not where it bridges the river's usual bed.
    cuts = wet & ~channel.ravel()
    segment_wet = np.bincount(ground.sample_segment, weights=cuts[ground.sample_cell], minlength=ground.n_segments) > 0
    at, flooded, access = _cut_off(ground, facilities, depth, building_depth, segment_wet)
    cut = flooded | access
    cut_off = [
        {
            "facility_id": str(facilities.ids[k]),
            "facility": FACILITY_TYPES[int(facilities.type[k])],
            "name": ground.facility_names.get(str(facilities.ids[k]), ""),
            "reason": "flooded" if flooded[k] else "access_flooded",
            "depth_m": round(float(at[k]), 2),
        }
        for k in np.flatnonzero(cut)
    ]
    model, removed_m = ground.model, 0.0
    if segment_wet.any() and isinstance(model, NetworkDistances):
        removed_m = float(model.graph.seg_length[segment_wet].sum())
        graph = without_segments(model.graph, segment_wet)
        model = (
            NetworkDistances(graph)
            if graph is not None
            else StraightLineDistances(reason="the flood covers every path of the twin")
        )
        homes = locate_homes(model, units.point_x, units.point_y)
    paths = {
        "segments": ground.n_segments,
        "segments_removed": int(segment_wet.sum()),
        "length_removed_km": round(removed_m / 1000, 2),
        "distance_method": model.method,
        "distance_description": model.describe(),
    }
    return FloodOutcome(
        ground, levels, wall_rows, depth, building_depth, wet_points, facilities.take(~cut), cut_off, homes, paths
    )


def _exposed(
    outcome: FloodOutcome, units: PublishedUnits, persona_ids: list[str], rules: PrivacyRules
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Residents in the water per persona, through the gate (see the module docstring), and the privacy notes."""
    wet = outcome.wet_points
    measure = outcome.levels[0]["measure"] if outcome.levels else 0  # the notes name the (first) flood measure
    if not wet.any():
        # Which home points lie in the water is public geometry: saying that none does reveals no one.
        none: dict[str, Any] = {"withheld": False, "households": 0, "persons": 0, "personas": []}
        return none, [{"measure": measure, "code": "flood_no_homes"}]
    share = units.share_of(wet)
    if units.too_small(share, rules):
        withheld: dict[str, Any] = {"withheld": True, "households": None, "persons": None, "personas": []}
        return withheld, [{"measure": measure, "code": "flood_area_too_small"}]
    whole = units.affected(share)
    exposed = units.select(whole)
    households, persons = exposed.group_households().sum(axis=0), exposed.group_persons().sum(axis=0)
    personas = [
        {"persona": pid, "households": round(float(households[g])), "persons": round(float(persons[g]))}
        for g, pid in enumerate(persona_ids)
        if households[g] >= rules.min_group
    ]
    partly = int(np.count_nonzero((share > 0) & ~whole))
    return {
        "withheld": False,
        "households": round(float(exposed.households[:, 0].sum())),
        "persons": round(float(exposed.persons[:, 0].sum())),
        "personas": personas,
    }, [{"measure": measure, "code": "flood_whole_units", "units": int(whole.sum()), "kept": partly}]


def _extent(ground: FloodGround, depth: np.ndarray) -> dict[str, Any]:
    """The flooded cells as GeoJSON (lon/lat), one multipolygon per depth band, simplified within half a cell."""
    t = ground.terrain
    band = np.where(depth > 0, np.digitize(depth, DEPTH_BANDS_M[1:]) + 1, 0).astype(np.uint8)
    found = list(shapes(band, mask=band > 0, transform=t.transform))  # polygons, not cells: few per band
    features = []
    if found:
        polygons = np.array([shapely.geometry.shape(g) for g, _ in found], dtype=object)
        values = np.array([int(v) for _, v in found])
        polygons = shapely.simplify(polygons, min(t.pixel) / 2, preserve_topology=True)
        polygons = shapely.set_precision(reproject(polygons, ground.crs, WGS84), 1e-7)
        edges = [*DEPTH_BANDS_M, None]
        for b in np.unique(values):
            multi = shapely.multipolygons(shapely.get_parts(polygons[values == b]))
            properties = {"band": int(b), "from_m": edges[b - 1], "to_m": edges[b]}
            features.append({"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(multi)})
    return {"type": "FeatureCollection", "features": features}


def flood_results(
    outcome: FloodOutcome, units: PublishedUnits, persona_ids: list[str], rules: PrivacyRules
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What a scenario's result says of its floods, and the privacy notes of the exposure."""
    ground = outcome.ground
    t = ground.terrain
    depth = outcome.building_depth
    flooded = depth > 0
    counts, _ = np.histogram(depth[flooded], bins=[*DEPTH_BANDS_M, np.inf])
    order = np.flatnonzero(flooded)[np.argsort(-depth[flooded], kind="stable")][:MAX_LISTED_BUILDINGS]
    exposed, notes = _exposed(outcome, units, persona_ids, rules)
    wet = outcome.depth > 0
    return {
        "terrain": t.describe(),
        # Without a DEM every cell has the twin's one ground: a level floods all buildings it reaches or none.
        "all_or_nothing": t.flat,
        "levels": outcome.levels,
        "walls": outcome.walls,
        "cells": int(wet.sum()),
        "area_m2": round(float(wet.sum()) * t.cell_area_m2),
        "max_depth_m": round(float(outcome.depth.max()), 2),
        "buildings": {
            "depth_rule": "max_over_footprint_cells",
            "total": len(depth),
            "on_terrain": int(ground.building_covered.sum()),
            "flooded": int(flooded.sum()),
            "max_depth_m": round(float(depth.max(initial=0.0)), 2),
            "by_depth": [
                {"from_m": lo, "to_m": hi, "buildings": int(n)}
                for lo, hi, n in zip(DEPTH_BANDS_M, [*DEPTH_BANDS_M[1:], None], counts, strict=True)
            ],
            "depth_m": {str(ground.building_ids[k]): round(float(depth[k]), 2) for k in order},
        },
        "exposed": exposed,
        "facilities_cut_off": outcome.cut_off,
        "paths": outcome.paths,
        "extent": _extent(ground, outcome.depth),
    }, notes
