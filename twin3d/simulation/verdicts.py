"""Who gains and who loses: the KPI rows per persona, a verdict per indicator, and the losses that matter most.

The residents a scenario affects are the households that live in the twin before and after it: their indicators
are compared under the old and the new facilities, so a walk to a facility nobody touched reads "unchanged" instead
of moving because newcomers were averaged in. Newcomers get rows of their own (scenario values only). A change
within the stated tolerance (:data:`TOLERANCES`) is "unchanged"; beyond it "better" or "worse" in the direction a
resident feels. :func:`assessment` ranks the losses and says why, from the measures that caused them.

Example:
    >>> verdict("mean_distance_m", 25.0)
    'worse'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

Verdict = Literal["better", "worse", "unchanged"]

TOLERANCES: dict[str, float] = {
    "mean_distance_m": 10.0,
    "median_distance_m": 10.0,
    "coverage_share": 0.005,
    "supply_per_demand": 0.005,
}
"""The largest change that still counts as unchanged: 10 m of walk (about 8 seconds), half a percentage point of
coverage, half a place per 100 persons of the demand group."""
LOWER_IS_BETTER = {"mean_distance_m", "median_distance_m"}
INDICATORS = tuple(TOLERANCES)
WALKING_M_PER_MIN = 80.0
"""Walking speed for minutes (4.8 km/h, as German planning guides use)."""
GROUPS = ("residents", "newcomers")


def verdict(key: str, delta: float | None) -> Verdict | None:
    """The verdict on a change of indicator ``key``; None where there is nothing to compare."""
    if delta is None:
        return None
    if abs(delta) <= TOLERANCES[key]:
        return "unchanged"
    return "better" if (delta < 0) == (key in LOWER_IS_BETTER) else "worse"


def _without(row: dict[str, Any]) -> dict[str, Any]:
    """A row of a facility type the twin's data lack: its indicators are unknown, not zero."""
    return {**row, **dict.fromkeys(INDICATORS)}


def _row(group: str, before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "group": group,
        "persona": after["persona"],
        "facility": after["facility"],
        "max_distance_m": after["max_distance_m"],
        "persons_baseline": before["persons"] if before else None,
        "persons_scenario": after["persons"],
    }
    for key in INDICATORS:
        old, new = (before or {}).get(key), after[key]
        delta = None if old is None or new is None else new - old
        entry |= {f"{key}_baseline": old, f"{key}_scenario": new, f"{key}_delta": delta}
        entry[f"{key}_verdict"] = verdict(key, delta)
    return entry


def kpi_rows(
    before: Iterable[dict[str, Any]],
    after: Iterable[dict[str, Any]],
    newcomers: Iterable[dict[str, Any]],
    min_group: int,
    *,
    missing: Iterable[str] = (),
    missing_after: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Residents (the same households under the baseline's and the scenario's facilities) and newcomers, per
    persona and needed facility type; groups with fewer households than ``min_group`` are left out.

    For the facility types in ``missing`` (the twin's data hold none) the baseline is unknown, not zero: its
    indicators are None and there is no verdict; ``missing_after`` likewise for the scenario (types it adds none
    of either). What a scenario adds of a missing type shows as scenario values.
    """
    lacking, still_lacking = set(missing), set(missing_after)
    base = {(r["persona"], r["facility"]): (_without(r) if r["facility"] in lacking else r) for r in before}
    after = [_without(r) if r["facility"] in still_lacking else r for r in after]
    newcomers = [_without(r) if r["facility"] in still_lacking else r for r in newcomers]
    rows = [
        _row("residents", base[key], r)
        for r in after
        if (key := (r["persona"], r["facility"])) in base and min(base[key]["households"], r["households"]) >= min_group
    ]
    rows += [_row("newcomers", None, r) for r in newcomers if r["households"] >= min_group]
    return rows


def _severity(row: dict[str, Any], key: str) -> float:
    """How bad a change is, comparable across indicators: relative for walks and supply, absolute for shares."""
    delta, old = row[f"{key}_delta"], row[f"{key}_baseline"]
    sign = 1.0 if key in LOWER_IS_BETTER else -1.0
    if key == "coverage_share":
        return float(sign * delta)
    return float(sign * delta / max(abs(old or 0.0), 1e-9))


def assessment(
    kpis: list[dict[str, Any]],
    causes: dict[str, list[str]],
    limit: int = 5,
    *,
    green: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The residents' largest losses and gains (per persona and facility, the indicator that got worse most and the
    one that got better most), with their causes, and how many comparisons are unchanged.

    Args:
        kpis: rows of :func:`kpi_rows`.
        causes: per facility type, what the scenario did that can explain a change (cause codes); ``green`` for
            green space.
        limit: the most losses and gains listed.
        green: the residents' green space rows (:func:`twin3d.simulation.greens.green_rows`), judged alike: their
            severity is the relative change of m² per resident.
    """
    losses: list[dict[str, Any]] = []
    gains: list[dict[str, Any]] = []
    unchanged = compared = 0
    for row in green:
        if row["group"] != "residents" or row["verdict"] is None:
            continue
        compared += 1
        unchanged += row["verdict"] == "unchanged"
        if row["verdict"] != "unchanged":
            item = {
                "persona": row["persona"],
                "facility": "green",
                "indicator": "green_m2",
                "baseline": row["m2_baseline"],
                "scenario": row["m2_scenario"],
                "delta": row["m2_delta"],
                "severity": round(abs(row["m2_delta"]) / max(abs(row["m2_baseline"]), 1e-9), 4),
                "causes": causes.get("green", []),
            }
            (losses if row["verdict"] == "worse" else gains).append(item)
    for row in kpis:
        if row["group"] != "residents" or row["persona"] == "*":
            continue
        moved: dict[str, list[tuple[float, str]]] = {"worse": [], "better": []}
        for key in INDICATORS:
            judged = row[f"{key}_verdict"]
            if judged is None:
                continue
            compared += 1
            unchanged += judged == "unchanged"
            if judged != "unchanged":
                moved[judged].append((abs(_severity(row, key)), key))
        for judged, found in moved.items():
            if found:
                severity, key = max(found)
                (losses if judged == "worse" else gains).append(
                    {
                        "persona": row["persona"],
                        "facility": row["facility"],
                        "indicator": key,
                        "baseline": row[f"{key}_baseline"],
                        "scenario": row[f"{key}_scenario"],
                        "delta": row[f"{key}_delta"],
                        "severity": round(severity, 4),
                        "causes": causes.get(row["facility"], []),
                    }
                )
    losses.sort(key=lambda i: -i["severity"])
    gains.sort(key=lambda i: -i["severity"])
    return {
        "tolerances": TOLERANCES,
        "walking_m_per_min": WALKING_M_PER_MIN,
        "losses": losses[:limit],
        "gains": gains[:limit],
        "compared": compared,
        "unchanged": unchanged,
    }
