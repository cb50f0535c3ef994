"""What "Wie betrifft mich das?" answers: what a scenario changes for people like the caller near a point they chose.

A caller names a persona and a home point. The answer compares the residents of that persona around the point
before and after the scenario: mean walk to each facility their persona needs (and minutes), the share within the
persona's distance, places per 100 persons of the demand group, green m² per resident, and where the scenario
draws a hazard area or a flood, the share of those households in it.

Privacy: the area is made of **whole published units** (a unit counts when at least half of its public weight lies
within the radius, as every area measure of the gate), every figure is a sum over their published values and
public geometry (:mod:`twin3d.simulation.engine` says why that is the gate's output), and the radius grows
(:data:`RADII_M`: 500 m, 1 km, 2 km, the whole twin) until the persona's households there reach the gate's
``min_group``; the answer says which radius it used. Nothing here stores, caches or logs the point: only the
scenario's state (:func:`prepare`) is kept, by the caller of this module, keyed by the scenario.

The expensive part, the scenario's measures and the accessibility after them, is :func:`prepare` (once per
scenario and build); :func:`for_me` is array arithmetic over the units near the point.

Example:
    >>> state = prepare(base, spec)  # doctest: +SKIP
    >>> for_me(base, state, "young_families", (11.2775, 49.5098))["verdict"]  # doctest: +SKIP
    'better'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from twin3d.io.crs import transform_points
from twin3d.simulation.accessibility import Accessibility, compute_accessibility, persona_indicators
from twin3d.simulation.engine import Baseline
from twin3d.simulation.facility_types import FACILITY_TYPES
from twin3d.simulation.for_me_texts import line_text, summary_text
from twin3d.simulation.greens import GREEN_TOLERANCE_M2
from twin3d.simulation.measures import WGS84, Applied, apply_measures
from twin3d.simulation.scenario import ScenarioSpec
from twin3d.simulation.verdicts import verdict

RADII_M: tuple[float | None, ...] = (500.0, 1000.0, 2000.0, None)
"""The areas tried in turn around the home point; None: the whole twin."""
SHOWN = ("mean_distance_m", "coverage_share", "supply_per_demand")
"""The indicators a resident reads per need (the median walk stays in the scenario's tables)."""


@dataclass(frozen=True)
class Prepared:
    """A scenario's state that every "for me" question reuses: computed once per scenario and build.

    Attributes:
        scenario_id: the spec's content hash.
        applied: the scenario's units and facilities.
        after: accessibility of every home point under the scenario.
        green_before, green_after: green m² per resident of every baseline unit (NaN where removed), or None where
            the twin has no greens.
        exposed: bool per baseline unit in the scenario's hazard areas or floods; None without either.
        exposure_withheld: an area too small to report on (the gate's rule for hazard areas).
        missing: facility types without a baseline to compare with.
    """

    scenario_id: str
    applied: Applied
    after: Accessibility
    green_before: np.ndarray | None
    green_after: np.ndarray | None
    exposed: np.ndarray | None
    exposure_withheld: bool
    missing: tuple[str, ...]


def _exposure(base: Baseline, applied: Applied) -> tuple[np.ndarray | None, bool]:
    """Which baseline units lie in a hazard area or the water (whole units by the gate's majority rule), and whether
    an area is too small to report on."""
    units = applied.units
    if not applied.hazards and applied.flood is None:
        return None, False
    exposed = np.zeros(len(units), bool)
    areas = [shapely.contains_xy(area, units.point_x, units.point_y) for _, area in applied.hazards]
    if applied.flood is not None and applied.flood.wet_points.any():
        areas.append(applied.flood.wet_points)
    for inside in areas:
        share = units.share_of(inside)
        if units.too_small(share, base.rules):
            return None, True
        exposed |= units.affected(share)
    out = np.zeros(len(base.units), bool)
    out[np.flatnonzero(applied.kept)] = exposed[~units.added]
    return out, False


def prepare(base: Baseline, spec: ScenarioSpec) -> Prepared:
    """The scenario's measures and the accessibility after them, for every "for me" question on it."""
    applied = apply_measures(base, spec)
    after = compute_accessibility(applied.homes, applied.units, applied.facilities, base.catalogue, base.config)
    green_before = green_after = None
    if len(base.greens):
        green_before = base.green_supply
        green_after = np.full(len(base.units), np.nan)
        green_after[np.flatnonzero(applied.kept)] = base.green_supply_of(applied)[~applied.units.added]
    exposed, withheld = _exposure(base, applied)
    missing = tuple(t for t in base.missing_types if not len(base.facilities.of_type(t)))
    return Prepared(spec.content_hash(), applied, after, green_before, green_after, exposed, withheld, missing)


def _area(base: Baseline, kept: np.ndarray, group_h: np.ndarray, x: float, y: float) -> tuple[np.ndarray, float | None]:
    """The resident units of the first radius whose persona households reach ``min_group`` (the whole twin last),
    and that radius (None: the whole twin)."""
    units = base.units
    d2 = (units.point_x - x) ** 2 + (units.point_y - y) ** 2
    area = kept
    for radius in RADII_M:
        area = kept if radius is None else kept & units.affected(units.share_of(d2 <= radius * radius))
        if group_h[area].sum() >= base.rules.min_group:
            return area, radius
    return np.zeros(len(units), bool), None


def _row(table: list[dict[str, Any]], persona: str, facility: str) -> dict[str, Any]:
    return next((r for r in table if r["persona"] == persona and r["facility"] == facility), {})


def _line(
    facility: str, indicator: str, before: float | None, after: float | None, judged: str | None
) -> dict[str, Any]:
    delta = None if before is None or after is None else after - before
    return {
        "facility": facility,
        "indicator": indicator,
        "baseline": before,
        "scenario": after,
        "delta": delta,
        "verdict": judged,
        "text": "",
    }


def _mean(values: np.ndarray | None, weights: np.ndarray) -> float | None:
    if values is None or weights.sum() <= 0:
        return None
    return float(np.dot(np.nan_to_num(values), weights) / weights.sum())


def _need_lines(base: Baseline, state: Prepared, persona: str, area: np.ndarray) -> list[dict[str, Any]]:
    """Per need of the persona: walk, coverage and (types with a demand group) places, before and after."""
    residents = base.units.select(area)
    before = persona_indicators(base.accessibility, residents).to_pylist()
    after = persona_indicators(state.after, residents).to_pylist()
    needs = next(p for p in base.catalogue.persona if p.id == persona).needs
    lines = []
    for need in needs:
        old, new = _row(before, persona, need.facility), _row(after, persona, need.facility)
        for key in SHOWN:
            b = None if need.facility in state.missing else old.get(key)
            a = new.get(key)
            if a is None and b is None:
                continue
            delta = None if a is None or b is None else a - b
            line = _line(need.facility, key, b, a, verdict(key, delta))
            line["limit_m"] = need.max_distance_m
            lines.append(line)
    return lines


def _green_line(base: Baseline, state: Prepared, weights: np.ndarray) -> list[dict[str, Any]]:
    before, after = _mean(state.green_before, weights), _mean(state.green_after, weights)
    if before is None or after is None:
        return []
    delta = after - before
    judged = "unchanged" if abs(delta) <= GREEN_TOLERANCE_M2 else ("better" if delta > 0 else "worse")
    return [_line("green", "green_m2", before, after, judged)]


def _exposure_line(base: Baseline, state: Prepared, area: np.ndarray, group_h: np.ndarray) -> list[dict[str, Any]]:
    """The share of the persona's households near the point in the scenario's hazard areas (not judged: it is a
    question the scenario asks, not a change it makes). Withheld where the area or the group is too small."""
    if state.exposed is None and not state.exposure_withheld:
        return []
    share = None
    if state.exposed is not None:
        hit = float(group_h[area & state.exposed].sum())
        if hit == 0 or hit >= base.rules.min_group:
            share = hit / float(group_h[area].sum())
    return [_line("hazard", "exposed_share", 0.0 if share is not None else None, share, None)]


def overall(lines: list[dict[str, Any]]) -> str | None:
    """better / worse / mixed / unchanged over the judged lines; None where none is judged."""
    judged = {line["verdict"] for line in lines if line["verdict"] is not None}
    if not judged:
        return None
    if {"better", "worse"} <= judged:
        return "mixed"
    return "better" if "better" in judged else "worse" if "worse" in judged else "unchanged"


def for_me(
    base: Baseline, state: Prepared, persona: str, home: tuple[float, float], *, lang: str = "de"
) -> dict[str, Any]:
    """What the scenario changes for the persona's residents around ``home`` (lon, lat in WGS 84); see above.

    Returns:
        ``{"persona", "persona_name", "radius_m" (None: the whole twin), "households" (published, rounded; None
        where even the whole twin holds fewer than min_group), "verdict", "lines": [{"facility", "indicator",
        "baseline", "scenario", "delta", "verdict", "text"}], "summary"}``.
    """
    p = base.catalogue.ids.index(persona)
    entry = base.catalogue.persona[p]
    name = entry.name if lang == "de" else entry.name_en
    (x,), (y,) = transform_points(np.array([home[0]]), np.array([home[1]]), WGS84, base.crs)
    group_h = base.units.group_households()[:, p]
    area, radius = _area(base, state.applied.kept, group_h, float(x), float(y))
    households = float(group_h[area].sum())
    lines: list[dict[str, Any]] = []
    if area.any():
        weights = base.units.group_persons()[:, p] * area
        lines = _need_lines(base, state, persona, area)
        lines += _green_line(base, state, weights)
        lines += _exposure_line(base, state, area, group_h)
    for line in lines:
        demand = base.config.spec(line["facility"]).demand if line["facility"] in FACILITY_TYPES else None
        line["text"] = line_text(line, lang, ages=demand.ages if demand is not None else None)
        line.pop("limit_m", None)
    judged = overall(lines)
    return {
        "persona": persona,
        "persona_name": name,
        "radius_m": radius,
        "households": round(households) if area.any() else None,
        "verdict": judged,
        "lines": lines,
        "summary": summary_text(name, radius, round(households) if area.any() else None, judged, lines, lang=lang),
    }
