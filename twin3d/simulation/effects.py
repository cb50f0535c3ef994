"""What a scenario means per persona, and how many residents gain: the two figures a proposal is judged and sorted by.

- :func:`persona_verdicts` reads the residents' KPI rows and green space rows (:mod:`.verdicts`, :mod:`.greens`)
  and sums them up per persona: "better" where something got better and nothing worse, "worse" the other way
  round, "mixed" where both happened, "unchanged" where every compared indicator stayed within its tolerance.
- :func:`gainers` counts residents whose **own published unit** gains: a persona's households in a unit gain when
  an indicator of a facility their persona needs (mean walk, coverage within the persona's distance, places per
  demand) or their green space per resident gets better beyond its tolerance, and none gets worse. The persona
  figures of a whole town can hide a loss of one quarter behind the gain of another; per unit, a family that walks
  farther to the doctor while the new Kita is nearer does not count as a gainer.

Privacy: every figure is a function of published units (their published persona counts, each unit's rest spread by
the town's suppressed mix) and public geometry, the same inputs as every scenario figure (see
:mod:`twin3d.simulation.engine`). A persona's count is shown only where its gaining households reach
``min_group``, and the total only where the gaining persons and households reach the thresholds of an area.

Example:
    >>> persona_verdicts([], [], ["young_families"])
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from twin3d.population.privacy import PrivacyRules, PublishedUnits
from twin3d.simulation.accessibility import Accessibility
from twin3d.simulation.greens import GREEN_TOLERANCE_M2
from twin3d.simulation.verdicts import INDICATORS, LOWER_IS_BETTER, TOLERANCES

NO_FACILITY_M = 1e7
"""The walk counted where a state has no facility of a type at all (its distance is infinite): longer than any."""


def _overall(better: list[Any], worse: list[Any], judged: int) -> str | None:
    if not judged:
        return None
    if better and worse:
        return "mixed"
    return "better" if better else "worse" if worse else "unchanged"


def persona_verdicts(
    kpis: Sequence[dict[str, Any]], green: Sequence[dict[str, Any]], persona_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """One verdict per persona shown among the residents, with the indicators that got better and worse.

    Args:
        kpis: rows of :func:`twin3d.simulation.verdicts.kpi_rows`.
        green: rows of :func:`twin3d.simulation.greens.green_rows`.
        persona_ids: the catalogue's ids, in its order (the order of the answer).

    Returns:
        ``[{"persona", "verdict": "better"|"worse"|"mixed"|"unchanged"|None, "better": [{"facility",
        "indicator"}], "worse": [...]}]``; None where no indicator of the persona could be compared.
    """
    out = []
    for pid in persona_ids:
        rows = [k for k in kpis if k["group"] == "residents" and k["persona"] == pid]
        greens = [g for g in green if g["group"] == "residents" and g["persona"] == pid]
        if not rows and not greens:
            continue  # fewer households than the privacy minimum, or none
        moved: dict[str, list[dict[str, str]]] = {"better": [], "worse": []}
        judged = 0
        for row in rows:
            for key in INDICATORS:
                found = row[f"{key}_verdict"]
                judged += found is not None
                if found in moved:
                    moved[found].append({"facility": row["facility"], "indicator": key})
        for row in greens:
            judged += row["verdict"] is not None
            if row["verdict"] in moved:
                moved[row["verdict"]].append({"facility": "green", "indicator": "green_m2"})
        out.append(
            {
                "persona": pid,
                "verdict": _overall(moved["better"], moved["worse"], judged),
                "better": moved["better"],
                "worse": moved["worse"],
            }
        )
    return out


def member_matrix(units: PublishedUnits, n_points: int) -> csr_matrix:
    """(units, points): each unit's share of its public weight at each home point (rows sum to 1, or 0)."""
    total = units.unit_weight[units.member_unit]
    share = np.divide(units.member_weight, total, out=np.zeros(len(total)), where=total > 0)
    return coo_matrix((share, (units.member_unit, units.member_point)), shape=(len(units), n_points)).tocsr()


def _judge(key: str, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per element: better, worse beyond the indicator's tolerance (NaN on either side: neither)."""
    with np.errstate(invalid="ignore"):
        delta = after - before
        lower = key in LOWER_IS_BETTER
        better = (delta < -TOLERANCES[key]) if lower else (delta > TOLERANCES[key])
        worse = (delta > TOLERANCES[key]) if lower else (delta < -TOLERANCES[key])
    return np.asarray(better), np.asarray(worse)


def unit_moves(
    residents: PublishedUnits,
    before: Accessibility,
    after: Accessibility,
    *,
    skip: Sequence[str] = (),
    green: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """bool (units, personas) twice: where a persona's indicators got better, and where worse, per resident unit.

    The residents' home points are the same in both states (the first points of each state's homes); a unit's
    walk and supply are the means over its points by public weight, its coverage the share of its weight within
    the persona's distance. Only facility types a persona needs count, and not those in ``skip`` (no baseline data).

    Args:
        residents: the units living in both states.
        before, after: accessibility of the two states.
        skip: facility types without a baseline to compare with.
        green: green m² per resident of each resident unit before and after, where the twin has greens.
    """
    n_personas = before.threshold.shape[0]
    better = np.zeros((len(residents), n_personas), bool)
    worse = np.zeros((len(residents), n_personas), bool)
    if not len(residents):
        return better, worse
    n_points = min(len(before.homes), len(after.homes))  # the residents' points come first in both
    share = member_matrix(residents, n_points)
    for j, ftype in enumerate(before.types):
        limit = before.threshold[:, j]
        needs = np.isfinite(limit)
        if ftype in skip or not needs.any() or ftype not in after.distance:
            continue
        d0 = np.minimum(before.distance[ftype][:n_points], NO_FACILITY_M)
        d1 = np.minimum(after.distance[ftype][:n_points], NO_FACILITY_M)
        up, down = _judge("mean_distance_m", share @ d0, share @ d1)
        up_p, down_p = np.repeat(up[:, None], n_personas, 1), np.repeat(down[:, None], n_personas, 1)
        c0 = share @ (d0[:, None] <= limit[None, needs]).astype(np.float64)
        c1 = share @ (d1[:, None] <= limit[None, needs]).astype(np.float64)
        cov_up, cov_down = _judge("coverage_share", c0, c1)
        up_p[:, needs] |= cov_up
        down_p[:, needs] |= cov_down
        if ftype in before.supply and ftype in after.supply:
            s_up, s_down = _judge(
                "supply_per_demand",
                share @ before.supply[ftype][:n_points],
                share @ after.supply[ftype][:n_points],
            )
            up_p |= s_up[:, None]
            down_p |= s_down[:, None]
        better[:, needs] |= up_p[:, needs]
        worse[:, needs] |= down_p[:, needs]
    if green is not None:
        delta = green[1] - green[0]
        better |= (delta > GREEN_TOLERANCE_M2)[:, None]
        worse |= (delta < -GREEN_TOLERANCE_M2)[:, None]
    return better, worse


def gainers(
    residents: PublishedUnits,
    moves: tuple[np.ndarray, np.ndarray],
    persona_ids: Sequence[str],
    rules: PrivacyRules,
) -> dict[str, Any]:
    """Residents whose own unit gains on a need of their persona (or on green space) and loses on none.

    Returns:
        ``{"persons": int | None, "by_persona": {persona: persons}}``: persons None where the gaining residents are
        fewer than an area's thresholds (``min_persons``, ``min_households``); a persona listed only where its
        gaining households reach ``min_group``.
    """
    better, worse = moves
    gain = better & ~worse
    households = (residents.group_households() * gain).sum(axis=0)
    persons = (residents.group_persons() * gain).sum(axis=0)
    total_h, total_p = float(households.sum()), float(persons.sum())
    shown = total_h >= rules.min_households and total_p >= rules.min_persons
    return {
        "persons": round(total_p) if shown else None,
        "by_persona": {
            pid: round(float(persons[g])) for g, pid in enumerate(persona_ids) if households[g] >= rules.min_group
        },
    }
