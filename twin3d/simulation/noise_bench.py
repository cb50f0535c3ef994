"""The noise screening's bench figure (``bench/sun.py`` prints it): all residential buildings of a built twin, timed,
against a plain per-pair reference on a sample of them, computed in the same run.

The reference is written for clarity, not speed, and shares nothing with the fast path but the receivers, the
formulas' constants and the cut-off: every original road (not merged), pieces halved recursively in Python,
screening by the exact intersection of each path with the building footprints (shapely: the most effective of the
crossed walls) instead of the raster, every receiver computed (no pruning), on a flat twin's ground. The figure
reports the time per building of both, their ratio, and how well they agree (same band, within 1 dB).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import shapely

from twin3d.population.placement import PlacementRules
from twin3d.settings import PathSettings
from twin3d.simulation.noise import (
    PENALTY_DB,
    PERIODS,
    TRAFFIC_FILE,
    Roads,
    TrafficTable,
    building_levels,
    cutoff_m,
    load_traffic,
    noise_band,
)
from twin3d.simulation.noise_paths import (
    MAX_DIFFRACTION_DB,
    MEAN_HEIGHT_M,
    MIN_PIECE_M,
    SOURCE_HEIGHT_M,
    facade_receivers,
)
from twin3d.simulation.surface import Obstacles, Surface
from twin3d.simulation.terrain import load_terrain

SAMPLE = 30
"""Buildings the reference computes (it takes seconds per building)."""


def residential(con: duckdb.DuckDBPyConnection, obstacles: Obstacles) -> np.ndarray:
    """Indices of the buildings people may live in (the placement's default rules: type and footprint)."""
    rules = PlacementRules()
    rows = con.execute("SELECT building_id, building_type, footprint_m2 FROM buildings").fetchall()
    homes = {b for b, kind, area in rows if kind in rules.residential_types and area >= rules.min_footprint_m2}
    return np.flatnonzero(np.isin(obstacles.ids, np.array(sorted(homes), dtype=object)))


class _Scene:
    """The roads and the footprints with their tops for exact path intersections; the current receiver's wall."""

    def __init__(self, obstacles: Obstacles, ground: float, roads: Roads, traffic: TrafficTable) -> None:
        self.obstacles = obstacles
        self.tree = shapely.STRtree(obstacles.geometry)
        self.ground = ground
        self.normal = (0.0, 0.0)
        self.roads = roads
        self.emission = roads.emissions(traffic)
        self.reach = cutoff_m(self.emission, traffic.periods)

    def energy(self, x: float, y: float, z: float, own: int) -> np.ndarray:
        """Energies by period at one receiver (standing at obstacle ``own``), pair by pair."""
        scene, reach, emission = self, self.reach, self.emission
        energy = np.zeros(3)
        for road in np.flatnonzero(reach > 0):
            line = self.roads.geometry[road]
            stack = [(0.0, float(line.length))]
            while stack:
                t0, t1 = stack.pop()
                source = line.interpolate((t0 + t1) / 2)
                horizontal = math.hypot(source.x - x, source.y - y)
                length = t1 - t0
                if horizontal - length / 2 > reach[road] or scene.behind(x, y, source.x, source.y, length):
                    continue
                if length > max(horizontal / 2, MIN_PIECE_M):
                    stack += [(t0, (t0 + t1) / 2), ((t0 + t1) / 2, t1)]
                    continue
                if horizontal > reach[road] or scene.behind(x, y, source.x, source.y, 0.0):
                    continue
                sz = scene.ground + SOURCE_HEIGHT_M
                s = max(math.hypot(horizontal, z - sz), 1.0)
                d_gr = max(4.8 - (MEAN_HEIGHT_M / s) * (34 + 600 / s), 0.0)
                screen = d_gr
                top, where = scene.edge(x, y, z, (source.x, source.y, sz), own)
                if not math.isnan(where):
                    a, b = math.hypot(horizontal - where, top - sz), math.hypot(where, top - z)
                    path = max(a + b - s, 1e-9)
                    k = math.exp(-math.sqrt(a * b * s / (2 * path)) / 2000)
                    screen = max(d_gr, min(10 * math.log10(3 + 80 * path * k), MAX_DIFFRACTION_DB))
                attenuation = 10 * math.log10(2 * math.pi * s * s) + s / 200 + screen
                energy += length * 10 ** ((emission[road] - attenuation) / 10)
        return energy

    def behind(self, x: float, y: float, sx: float, sy: float, slack: float) -> bool:
        nx, ny = self.normal
        return (sx - x) * nx + (sy - y) * ny + slack <= 0

    def edge(self, x: float, y: float, z: float, source: tuple[float, float, float], own: int) -> tuple[float, float]:
        """The most effective edge on the path to ``source`` (x, y, z): of the crossed footprints' edges (the ends of
        each crossing), the one of the largest z ~ h^2 (1/w + 1/(d - w)) above the line of sight; (NaN, NaN) for
        none."""
        sx, sy, sz = source
        path = shapely.LineString([(x, y), (sx, sy)])
        d = path.length
        best, found = 0.0, (math.nan, math.nan)
        for i in self.tree.query(path, predicate="intersects"):
            if i == own:
                continue
            top = float(self.obstacles.top_m[i])
            crossing = shapely.intersection(path, self.obstacles.geometry[i])
            for px, py in shapely.get_coordinates(crossing):
                w = math.hypot(px - x, py - y)
                rise = top - (z + (sz - z) * w / d)
                if rise > 0 and 0 < w < d and (score := rise * rise * (1 / w + 1 / (d - w))) > best:
                    best, found = score, (top, w)
        return found


def reference_levels(
    roads: Roads, obstacles: Obstacles, index: np.ndarray, traffic: TrafficTable, ground: float
) -> np.ndarray:
    """L_DEN of the most exposed façade of each building of ``index``, pair by pair (a flat twin's ground)."""
    receivers = facade_receivers(obstacles, index)
    scene = _Scene(obstacles, ground, roads, traffic)
    hours = traffic.periods.hours()
    best = np.full(len(index), -np.inf)
    for r in range(len(receivers.x)):
        scene.normal = (float(receivers.nx[r]), float(receivers.ny[r]))
        x, y, z = float(receivers.x[r]), float(receivers.y[r]), float(receivers.z[r])
        energy = scene.energy(x, y, z, int(receivers.owner[r]))
        den = sum(h * e * 10 ** (PENALTY_DB[p] / 10) for h, e, p in zip(hours, energy, PERIODS, strict=True)) / 24
        g = int(receivers.group[r])
        best[g] = max(best[g], 10 * math.log10(den) if den > 0 else -math.inf)
    return best


def bench_case(con: duckdb.DuckDBPyConnection, pipelines_dir: Path | None = None) -> dict[str, Any]:
    """Noise at every residential building of the twin (L_DEN at the most exposed façade), timed, and a reference
    on a sample.

    Returns:
        One figure: name, value (seconds), unit, and the baseline of the same run.
    """
    traffic = load_traffic((pipelines_dir or PathSettings().pipelines_dir) / TRAFFIC_FILE)
    obstacles = Obstacles.from_store(con)
    terrain = load_terrain(con)
    started = time.perf_counter()
    surface = Surface.build(obstacles, terrain)
    surface_seconds = time.perf_counter() - started
    homes = residential(con, obstacles)
    started, started_cpu = time.perf_counter(), time.process_time()
    roads = Roads.from_store(con)
    levels = building_levels(roads, surface, obstacles, homes, traffic)
    seconds, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    sample = np.sort(np.random.default_rng(18).choice(len(homes), size=min(SAMPLE, len(homes)), replace=False))
    started = time.perf_counter()
    reference = reference_levels(roads, obstacles, homes[sample], traffic, float(terrain.heights.mean()))
    reference_seconds = time.perf_counter() - started
    fast = levels.lden[sample]
    diff = np.abs(np.where(np.isfinite(fast) & np.isfinite(reference), fast - reference, 0.0))
    per_building = seconds / max(len(homes), 1)
    return {
        "name": "lauf_noise_seconds",
        "value": round(seconds, 3),
        "unit": "s",
        "target": 10.0,
        "cpu_seconds": round(cpu, 3),
        "buildings": len(homes),
        "bands": {
            label: int(n)
            for label, n in zip(
                ("<55", "55-60", "60-65", "65-70", ">=70"),
                np.bincount(noise_band(levels.lden), minlength=5),
                strict=True,
            )
        },
        "surface_seconds": round(surface_seconds, 3),
        "baseline": "plain per-pair reference (exact footprint intersections) on a sample, same run",
        "baseline_buildings": len(sample),
        "baseline_seconds_per_building": round(reference_seconds / max(len(sample), 1), 4),
        "seconds_per_building": round(per_building, 6),
        "speedup": round(reference_seconds / max(len(sample), 1) / max(per_building, 1e-12), 1),
        "agree_same_band": round(float(np.mean(noise_band(fast) == noise_band(reference))), 3),
        "agree_within_1db": round(float(np.mean(diff <= 1.0)), 3),
        "median_abs_diff_db": round(float(np.median(diff)), 3),
        "max_abs_diff_db": round(float(diff.max(initial=0.0)), 3),
    }
