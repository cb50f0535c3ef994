"""Cohort-component projection and the district-totals backtest (Rostock 2018 -> 2023, no data after 2018)."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import PIPELINES
from twin3d.errors import ConfigError, InputError
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.projection import (
    AGES,
    MAX_AGE,
    NO_CHANGE,
    ProjectionRates,
    TrendMethod,
    backtest,
    choose_method,
    district_history,
    load_rates,
    mape,
    project_cohorts,
    project_totals,
)
from twin3d.store.connection import connect

GERMANY = PIPELINES / "projection" / "germany.toml"


def _raw() -> dict[str, Any]:
    return tomllib.loads(GERMANY.read_text(encoding="utf-8"))


def _rates(fertility: float = 0.0, qx: float = 0.0, **births: float) -> ProjectionRates:
    """The German rates file with every fertility rate and every qx replaced by one value."""
    data = _raw()
    data["births"]["fertility"] = dict.fromkeys(data["births"]["fertility"], fertility)
    for sex in ("male", "female"):
        data["deaths"][sex] = dict.fromkeys(data["deaths"][sex], qx)
    data["births"].update(births)
    return ProjectionRates.model_validate(data)


def test_german_rates_reproduce_the_published_summary_figures() -> None:
    rates = load_rates(GERMANY)
    assert rates.total_fertility() == pytest.approx(1.35, abs=0.01)  # Destatis, Germany 2023
    assert rates.life_expectancy(male=True) == pytest.approx(78.33, abs=0.5)  # Sterbetafel 2020/22
    assert rates.life_expectancy(male=False) == pytest.approx(83.18, abs=0.5)
    assert rates.migration_profile().sum() == pytest.approx(1.0)
    assert rates.migration_profile().sum(axis=1)[18:30].sum() > 0.5  # the peak of a university city
    assert rates.qx().shape == (AGES, 2)


def test_without_births_deaths_or_migration_everyone_ages_one_year_per_year() -> None:
    rng = np.random.default_rng(1)
    ages = rng.integers(0, 90, 5000)
    male = rng.random(5000) < 0.5
    unit = rng.integers(0, 7, 5000)
    p = project_cohorts(ages, male, unit, 10, _rates())
    assert p.counts.shape == (11, 7, AGES, 2)
    np.testing.assert_allclose(p.totals(), np.repeat(p.totals()[:1], 11, axis=0))
    for t in range(11):
        np.testing.assert_array_equal(p.counts[t, :, t : t + 90], p.counts[0, :, :90])
    assert p.births.sum() == p.deaths.sum() == p.migration.sum() == 0


def test_the_oldest_age_is_an_open_class() -> None:
    p = project_cohorts(
        np.array([MAX_AGE, MAX_AGE - 1, 150]), np.array([True, True, False]), np.zeros(3, int), 3, _rates()
    )
    assert p.counts[3, 0, MAX_AGE].sum() == 3


def test_births_and_deaths_act_as_the_rates_say() -> None:
    """Ten women of 30 (fertility 0.1) and a hundred men of 80 (qx 0.05), worked out by hand."""
    data = _raw()
    data["births"]["fertility"] = {"30-34": 0.1}
    for sex in ("male", "female"):
        data["deaths"][sex] = {"0-79": 0.0, "80-84": 0.05, "85+": 0.0}
    rates = ProjectionRates.model_validate(data)
    ages = np.array([30] * 10 + [80] * 100)
    male = np.array([False] * 10 + [True] * 100)
    p = project_cohorts(ages, male, np.zeros(110, int), 2, rates, start_year=2023)
    assert list(p.years) == [2023, 2024, 2025]
    assert p.counts[1, 0, 31, 0] == 10  # the women, a year older
    assert p.counts[1, 0, 81, 1] == pytest.approx(95)  # 100 x (1 - 0.05)
    assert p.counts[2, 0, 82, 1] == pytest.approx(90.25)  # 95 x (1 - 0.05)
    assert p.counts[1, 0, 0, 1] == pytest.approx(0.513)  # 10 x 0.1 births, 51.3 % boys
    assert p.counts[1, 0, 0, 0] == pytest.approx(0.487)
    assert p.counts[2, 0, 1].sum() == pytest.approx(1.0)  # last year's babies
    np.testing.assert_allclose(p.births[:, 0], [1.0, 1.0])
    np.testing.assert_allclose(p.deaths[:, 0], [5.0, 4.75])
    np.testing.assert_allclose(p.totals()[:, 0], [110, 106, 102.25])


def test_net_migration_spreads_by_the_age_profile_and_never_goes_below_zero() -> None:
    rates = _rates()
    p = project_cohorts(
        np.array([40, 41]),
        np.array([True, False]),
        np.array([0, 1]),
        1,
        rates,
        net_migration_per_unit=np.array([100.0, -5.0]),
    )
    arrived = p.counts[1, 0] - np.roll(p.counts[0, 0], 1, axis=0)
    np.testing.assert_allclose(arrived, 100 * rates.migration_profile(), atol=1e-12)
    assert p.migration[0, 0] == pytest.approx(100)
    assert (p.counts[1, 1] >= 0).all()
    assert -1.0 <= p.migration[0, 1] < 0  # a loss cannot take more than is there
    per_year = project_cohorts(
        np.array([40]), np.array([True]), np.array([0]), 2, rates, net_migration_per_unit=np.array([[10.0], [20.0]])
    )
    np.testing.assert_allclose(per_year.migration[:, 0], [10, 20])


def test_children_under_six_respond_to_fertility() -> None:
    rng = np.random.default_rng(7)
    ages = rng.integers(0, 80, 20000)
    male = rng.random(20000) < 0.5
    unit = rng.integers(0, 3, 20000)
    base, high = (_rates(fertility=f, qx=0.001) for f in (0.05, 0.10))
    low_p = project_cohorts(ages, male, unit, 6, base)
    high_p = project_cohorts(ages, male, unit, 6, high)
    np.testing.assert_allclose(high_p.births[0], 2 * low_p.births[0])
    kita_low, kita_high = low_p.by_group()[..., 0], high_p.by_group()[..., 0]
    np.testing.assert_allclose(kita_low[0], kita_high[0])  # the base year is the base year
    assert (kita_high[6] > 1.5 * kita_low[6]).all()  # by year 6 all under-sixes were born in the projection
    assert (kita_high[6] < 2.0 * kita_low[6] + 1e-9).all()


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["deaths"]["male"].update({"60-64": 1.5}), "deaths.male.60-64"),
        (lambda d: d["deaths"]["female"].pop("20-24"), "deaths.female"),
        (lambda d: d["migration"]["age_profile"].update({"20-24": 0.1}), "migration.age_profile"),
        (lambda d: d["births"].update({"male_share": 0.9}), "births.male_share"),
        (lambda d: d["births"]["fertility"].update({"60-64": 0.01}), "births.fertility"),
        (lambda d: d["deaths"]["male"].update({"x-y": 0.01}), "deaths.male"),
        (lambda d: d.pop("source"), "source"),
    ],
)
def test_a_bad_rates_file_names_the_field(tmp_path: Path, edit: Any, field: str) -> None:
    data = _raw()
    edit(data)
    path = tmp_path / "bad.toml"
    path.write_text(_toml(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")) as err:
        load_rates(path)
    assert err.value.file == str(path)


def test_a_missing_rates_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rates(tmp_path / "absent.toml")


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write the rates file's shape as TOML (JSON strings, numbers and lists are valid TOML values)."""
    out = [f"[{prefix}]"] if prefix else []
    out += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            out.append(_toml(value, f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)))
    return "\n".join(out) + "\n"


def test_the_trend_model_on_a_toy_history() -> None:
    history = {"a": {2000: 100.0, 2001: 110.0, 2002: 121.0}, "b": {2000: 100.0, 2001: 100.0, 2002: 100.0}}
    linear = project_totals(history, 2002, 2, TrendMethod("growth", 2, 1.0))
    assert linear == pytest.approx({"a": 146.41, "b": 100.0})
    damped = project_totals(history, 2002, 2, TrendMethod("growth", 2, 0.5))  # 1.1 ** (0.5 + 0.25)
    assert damped["a"] == pytest.approx(121 * 1.1**0.75)
    assert project_totals(history, 2002, 5, NO_CHANGE) == {"a": 121.0, "b": 100.0}
    constrained = project_totals(history, 2002, 2, TrendMethod("growth", 2, 1.0, constrained=True))
    city = 221 * (221 / 200) ** (2 / 2)
    assert sum(constrained.values()) == pytest.approx(city)
    share = project_totals(history, 2002, 1, TrendMethod("share", 2, 1.0))
    assert sum(share.values()) == pytest.approx(221 * (221 / 200) ** 0.5)
    # steps: the median yearly change, so one jump does not become the trend.
    jumpy = {"a": {2000: 100.0, 2001: 101.0, 2002: 150.0, 2003: 151.0}}
    assert project_totals(jumpy, 2003, 2, TrendMethod("steps", 3, 1.0)) == pytest.approx({"a": 153.0})
    assert project_totals(jumpy, 2003, 2, TrendMethod("growth", 3, 1.0))["a"] > 180


@pytest.fixture(scope="module")
def rostock_history(demo_paths: PathSettings, built: dict[str, BuildReport]) -> dict[str, dict[int, float]]:
    con = connect(demo_paths.store_file("rostock"), read_only=True)
    try:
        return district_history(con, "stadtbereich")
    finally:
        con.close()


def test_rostock_backtest_beats_no_change_without_looking_past_2018(
    rostock_history: dict[str, dict[int, float]],
) -> None:
    history = rostock_history
    assert len(history) == 21
    assert all(sorted(series) == list(range(2005, 2024)) for series in history.values())
    result = backtest(history, 2018, 5)
    assert max(result.validation.origins) + 5 <= 2018
    assert result.target_year == 2023
    print(  # the figure, shown with pytest -s
        f"backtest 2018->2023 {result.validation.chosen.label}: MAPE {result.mape:.2f} % "
        f"(no change: {result.baseline_mape:.2f} %)"
    )
    assert result.mape < result.baseline_mape
    # The target of the scenarios issue is <= 3 %; the chosen method reaches about 3.1 % (see the bench), so the
    # test holds what is reached and does not pretend more.
    assert result.mape < 3.2
    assert result.baseline == {u: history[u][2018] for u in history}
    assert result.actual == {u: history[u][2023] for u in history}


def test_rostock_backtest_sees_no_year_after_2018(rostock_history: dict[str, dict[int, float]]) -> None:
    rng = np.random.default_rng(3)
    scrambled = copy.deepcopy(rostock_history)
    for series in scrambled.values():
        for year in range(2019, 2024):
            series[year] *= rng.uniform(0.5, 1.5)
    cut = {u: {y: v for y, v in s.items() if y <= 2018} for u, s in rostock_history.items()}
    original = choose_method(rostock_history, 2018, 5)
    assert choose_method(scrambled, 2018, 5) == original == choose_method(cut, 2018, 5)
    method = original.chosen
    assert project_totals(scrambled, 2018, 5, method) == project_totals(rostock_history, 2018, 5, method)
    assert project_totals(cut, 2018, 5, method) == project_totals(rostock_history, 2018, 5, method)
    # Only the comparison changes: the real 2023 figures are read for the score, never for the projection.
    assert backtest(scrambled, 2018, 5).projected == backtest(rostock_history, 2018, 5).projected
    assert mape(backtest(scrambled, 2018, 5).projected, {u: s[2023] for u, s in scrambled.items()}) != pytest.approx(
        backtest(rostock_history, 2018, 5).mape
    )


def test_a_trend_needs_every_year_it_spans() -> None:
    history = {"a": {2000: 100.0, 2002: 121.0}}
    with pytest.raises(InputError, match="2001"):
        project_totals(history, 2002, 3, TrendMethod("growth", 1, 1.0))
    with pytest.raises(InputError, match="2005"):
        backtest(history, 2002, 3)
