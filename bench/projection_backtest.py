"""Backtest of the cohort-component projection: Rostock's 21 Stadtbereiche from 2018 to 2023, fitted on data up to 2018.

Usage:
    python bench/projection_backtest.py               # reads geodata/rostock/stat-history and .../population_csv
    python bench/projection_backtest.py --no-demand   # the backtest only

One JSON line per figure: name, value, unit, and the baseline measured in the same run.

Method (twin3d.simulation.calibration): the fit reads the history with ``last_year=2018``, so no file of 2019-2023
is even opened (the test suite checks that the fit is the same without those files). Per district: the 2018 age
bands expanded to single years and sex; fertility and mortality of germany.toml scaled to the district's births and
deaths of 2017-2018 (the years that start at a published age table); net migration by age from the residuals of the
age tables 2016-2018; its level carried forward as
rolling-origin validation on 2005-2018 chose (origins 2010-2013, five years ahead). Then one projection 2018 ->
2023, scored against the real 2023 totals (the headline, target 2.5 %) and, one year ahead, against the 2019 totals,
age bands, births and deaths. Baseline: no change (2023 = 2018), scored in the same run. The period holds COVID
(2020-21), a fall of births after 2019, the arrival of refugees from Ukraine (2022) and new housing in a few
districts, which no fit on 2005-2018 could know.

``hindsight_*`` figures score every candidate against 2023 after the fact. They were NOT used for any choice and
only show how far the choice made without 2019-2023 lies from the best its family could have done.

``trend_*`` figures are the comparison: district totals carried forward by the damped trend that validation on
2005-2018 chose (twin3d.simulation.projection.backtest), with no age structure.

``demand_*`` figures: the same model fitted on all the history (ages up to 2023, births and deaths up to 2019)
projects the 2023 districts ten years on: children 0-5 (Kita), 6-9 (primary school), persons 80+ (care).
Baseline: 2023 held constant. An outlook under stated assumptions, not a forecast.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.io.stat_history import DistrictHistory, read_district_history
from twin3d.simulation.backtest import score_backtest
from twin3d.simulation.calibration import TownFit, band_matrix, fit_town, migration_candidates
from twin3d.simulation.cohort import DEMAND_GROUPS, CohortProjection
from twin3d.simulation.projection import backtest, candidate_methods, mape, project_totals
from twin3d.simulation.projection_rates import load_rates

REPO = Path(__file__).resolve().parent.parent
FOLDERS = [
    REPO / "geodata" / "rostock" / "stat-history",
    REPO / "geodata" / "rostock" / "stadtbereiche" / "population_csv",
]
RATES = REPO / "pipelines" / "projection" / "germany.toml"

BASE_YEAR, HORIZON, TARGET_MAPE = 2018, 5, 2.5
DEMAND_YEARS = 10


def emit(name: str, value: Any, unit: str, **extra: Any) -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, **extra}, ensure_ascii=False))


def ape(projected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Absolute percentage error per district."""
    return np.asarray(np.abs(projected - actual) / actual * 100.0)


def share_error(bands: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Mean absolute error of the age-band shares per district, in percentage points."""
    shares, truth = bands / bands.sum(axis=1, keepdims=True), actual / actual.sum(axis=1, keepdims=True)
    return np.asarray(np.abs(shares - truth).mean(axis=1) * 100.0)


def run_cohort(past: DistrictHistory, full: DistrictHistory) -> None:
    rates = load_rates(RATES)
    clock = time.perf_counter()
    fit = fit_town(past, rates)
    projection = fit.project(HORIZON)
    seconds = time.perf_counter() - clock
    assert fit.base_year == BASE_YEAR, fit.base_year
    score = score_backtest(fit, full, HORIZON, projection)  # the same scoring as the population report's
    projected, actual, base = score.projected, score.actual, score.base
    errors, baseline_errors = np.abs(score.error), np.abs(score.baseline_error)
    context = {"base_year": BASE_YEAR, "target_year": BASE_YEAR + HORIZON, "districts": len(fit.codes)}
    emit(
        "projection_backtest_mape",
        round(float(errors.mean()), 3),
        "%",
        baseline=round(float(baseline_errors.mean()), 3),
        baseline_name="no change (2023 = 2018)",
        method=f"cohort-component; migration: {fit.choice.label}",
        target=TARGET_MAPE,
        target_met=bool(errors.mean() <= TARGET_MAPE),
        seconds=round(seconds, 3),
        files_read=len(past.files),
        later_files_left_unopened=len(past.left_out),
        **context,
    )
    emit(
        "projection_backtest_mape_vs_baseline",
        round(float(errors.mean() / baseline_errors.mean()), 3),
        "ratio",
        baseline=1.0,
        note="MAPE of the cohort-component projection / MAPE of no change; below 1 is better than no change",
    )
    emit(
        "projection_city_total_error",
        round(float((projected.sum() - actual.sum()) / actual.sum() * 100), 3),
        "%",
        projected=round(float(projected.sum())),
        actual=round(float(actual.sum())),
        baseline=round(float((base.sum() - actual.sum()) / actual.sum() * 100), 3),
    )
    for i, code in enumerate(fit.codes):
        emit(
            f"projection_ape_{code}",
            round(float(errors[i]), 3),
            "%",
            baseline=round(float(baseline_errors[i]), 3),
            base=round(float(base[i])),
            projected=round(float(projected[i])),
            actual=round(float(actual[i])),
        )
    run_one_year(fit, projection, full)
    run_validation(fit, past, projection.start_year, actual, errors)


def run_one_year(fit: TownFit, projection: CohortProjection, full: DistrictHistory) -> None:
    """2019, one year ahead: totals, age-band shares, births and deaths (read for the score, never for the fit)."""
    year, onehot = BASE_YEAR + 1, band_matrix(full.bands)
    totals, bands = projection.totals()[1], projection.counts[1].sum(axis=2) @ onehot
    actual, base = full.population[year], full.population[BASE_YEAR]
    emit(
        "projection_2019_total_mape",
        round(float(ape(totals, actual).mean()), 3),
        "%",
        baseline=round(float(ape(base, actual).mean()), 3),
        baseline_name="no change (2019 = 2018)",
    )
    shares, baseline = share_error(bands, full.ages[year]), share_error(full.ages[BASE_YEAR], full.ages[year])
    emit(
        "projection_2019_age_share_error",
        round(float(shares.mean()), 3),
        "percentage points",
        baseline=round(float(baseline.mean()), 3),
        baseline_name="no change (2019 shares = 2018 shares)",
        bands=len(full.bands),
        note="mean absolute error of the share of each age band in each district's population",
    )
    for i, code in enumerate(fit.codes):
        emit(
            f"projection_2019_age_share_error_{code}",
            round(float(shares[i]), 3),
            "percentage points",
            baseline=round(float(baseline[i]), 3),
            worst_band=full.bands[int(np.argmax(np.abs(bands[i] / bands[i].sum() - full.ages[year][i] / actual[i])))],
        )
    last = BASE_YEAR + HORIZON
    five = projection.counts[-1].sum(axis=2) @ onehot
    emit(
        "projection_2023_age_share_error",
        round(float(share_error(five, full.ages[last]).mean()), 3),
        "percentage points",
        baseline=round(float(share_error(full.ages[BASE_YEAR], full.ages[last]).mean()), 3),
        baseline_name="no change (2023 shares = 2018 shares)",
    )
    german = fit.rates.fertility() @ fit.base[:, :, 0].T
    observed = np.mean([full.births[y].sum() for y in range(BASE_YEAR - 4, BASE_YEAR + 1)])
    emit(
        "projection_births_first_year",
        round(float(projection.births[0].sum())),
        "births",
        actual_2019=round(float(full.births[year].sum())),
        observed_mean_2014_2018=round(float(observed)),
        fitted_on=fit.evidence["fertility_years"],
        baseline=round(float(german.sum())),
        baseline_name="germany.toml rates, not calibrated",
        fertility_factor_town=round(fit.town_scales[0], 3),
        fertility_factor_districts=[
            round(float(fit.fertility_scale.min()), 3),
            round(float(fit.fertility_scale.max()), 3),
        ],
    )
    emit(
        "projection_deaths_first_year",
        round(float(projection.deaths[0].sum())),
        "deaths",
        actual_2019=round(float(full.deaths[year].sum())),
        baseline=round(float((fit.base * fit.rates.qx()[None]).sum())),
        baseline_name="germany.toml rates, not calibrated",
        mortality_factor_town=round(fit.town_scales[1], 3),
    )
    emit(
        "projection_net_migration_first_year",
        round(float(projection.migration[0].sum())),
        "persons",
        actual_2019=round(float(full.net_migration(year).sum())),
        baseline=0,
        baseline_name="no migration",
    )


def run_validation(fit: TownFit, past: DistrictHistory, start: int, actual: np.ndarray, errors: np.ndarray) -> None:
    """The migration choice made on 2005-2018, and how every candidate would have scored against 2023."""
    validation = fit.validation
    origins = validation.origins
    still = float(np.mean([np.mean(ape(past.population[o], past.population[o + validation.horizon])) for o in origins]))
    emit(
        "projection_migration_choice",
        fit.choice.label,
        "method",
        validation_mape=round(validation.scores[0][1], 3),
        baseline=round(still, 3),
        baseline_name="no change, same validation",
        origins=list(origins),
        horizon=validation.horizon,
        candidates=len(validation.scores),
        runner_up=[{"method": c.label, "validation_mape": round(s, 3)} for c, s in validation.scores[1:4]],
    )
    scored = []
    for choice in migration_candidates():
        trial = fit_town(past, fit.rates, candidates=[choice])  # the same fit with this choice imposed
        scored.append((float(ape(trial.project(HORIZON).totals()[-1], actual).mean()), choice.label))
    scored.sort()
    labels = [label for _, label in scored]
    emit(
        "hindsight_best_mape",
        round(scored[0][0], 3),
        "%",
        method=scored[0][1],
        chosen_rank=1 + labels.index(fit.choice.label),
        candidates=len(scored),
        baseline=round(float(errors.mean()), 3),
        baseline_name="the choice made without 2019-2023",
        note="scored against 2023 after the fact; not used for any choice",
        start_year=start,
    )


def run_trend(full: DistrictHistory) -> None:
    """The damped-trend family on district totals only: the comparison."""
    history = {c: {y: float(v[i]) for y, v in full.population.items()} for i, c in enumerate(full.codes)}
    result = backtest(history, BASE_YEAR, HORIZON)
    emit(
        "trend_backtest_mape",
        round(result.mape, 3),
        "%",
        baseline=round(result.baseline_mape, 3),
        baseline_name="no change (2023 = 2018)",
        method=result.validation.chosen.label,
        origins=list(result.validation.origins),
        note="district totals by the damped trend chosen on 2005-2018; no age structure",
    )
    hindsight = sorted(
        (mape(project_totals(history, BASE_YEAR, HORIZON, m), result.actual), m.label) for m in candidate_methods()
    )
    emit(
        "trend_hindsight_best_mape",
        round(hindsight[0][0], 3),
        "%",
        method=hindsight[0][1],
        baseline=round(result.mape, 3),
        baseline_name="the trend chosen without 2019-2023",
        note="scored against 2023 after the fact; not used for any choice",
    )


def run_demand(full: DistrictHistory) -> None:
    """Ten years on from the 2023 districts, with the model fitted on all the history."""
    fit = fit_town(full, load_rates(RATES))
    clock = time.perf_counter()
    projection = fit.project(DEMAND_YEARS)
    seconds = time.perf_counter() - clock
    city = projection.by_group().sum(axis=1)  # years x groups
    for g, name in enumerate(DEMAND_GROUPS):
        emit(
            f"demand_{name}",
            round(float(city[-1, g])),
            "persons",
            year=int(projection.years[-1]),
            baseline=round(float(city[0, g])),
            baseline_name=f"{fit.base_year} held constant",
            by_year={int(y): round(float(v)) for y, v in zip(projection.years, city[:, g], strict=True)},
        )
    emit(
        "demand_projection_seconds",
        round(seconds, 4),
        "s",
        units=len(fit.codes),
        years=DEMAND_YEARS,
        method=fit.town("Rostock").method,
    )
    youngest = fit.base.sum(axis=(0, 2))[:3].sum() / 3
    emit(
        "demand_births_first_year",
        round(float(projection.births[0].sum())),
        "births",
        baseline=round(float(youngest)),
        baseline_name=f"persons per year of age 0-2 in {fit.base_year} (recent births, less moves)",
        uncalibrated=round(float((fit.rates.fertility() @ fit.base[:, :, 0].T).sum())),
        note="fertility from the 2023 under-3s, since births are published only up to 2019",
    )
    emit(
        "demand_flows_first_year",
        round(float(projection.migration[0].sum())),
        "net migrants",
        births=round(float(projection.births[0].sum())),
        deaths=round(float(projection.deaths[0].sum())),
        baseline=0,
        baseline_name="no migration",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-demand", action="store_true", help="skip the demand figures")
    args = parser.parse_args()
    past = read_district_history(FOLDERS, last_year=BASE_YEAR)
    full = read_district_history(FOLDERS)
    run_cohort(past, full)
    run_trend(full)
    if not args.no_demand:
        run_demand(full)


if __name__ == "__main__":
    main()
