"""The population report page: pyramids through the gate, charts inline, German and English, every value escaped."""

from __future__ import annotations

import numpy as np

from twin3d.population.pyramids import TOP_AGE, RegisterBand, area_pyramids, smoothness
from twin3d.population.report_page import report_html

KEY = b"test key of the report page"


def _pyramids() -> list[dict[str, object]]:
    rng = np.random.default_rng(3)
    ages = rng.integers(0, 95, 20_000)
    male = rng.random(20_000) < 0.49
    area = (rng.random(20_000) < 0.3).astype(np.int64)
    bands = [
        RegisterBand(0, 17, np.array([4_000.0, 1_700.0])),
        RegisterBand(18, 64, np.array([9_000.0, 3_900.0])),
        RegisterBand(65, TOP_AGE, np.array([1_000.0, np.nan])),
    ]
    return area_pyramids(
        ages, male, area, area_ids=["d:A", "d:B"], area_names=["Mitte", "<script>x</script>"], bands=bands, key=KEY
    )


def _report() -> dict[str, object]:
    control = {"control": "persons", "units": 2, "srmse": 0.01, "within_10pct": 1.0, "holdout": False}
    holdout = {**control, "control": "male", "srmse": 0.2, "holdout": True}
    return {
        "twin": "t",
        "title": "Teststadt",
        "persons": 20_000,
        "households": 9_000,
        "zones": 2,
        "seed": 1,
        "holdout": ["male"],
        "exact_totals": {"district_persons": True},
        "levels": [
            {
                "level": "district",
                "units": 2,
                "target_srmse": 0.05,
                "met": True,
                "controls": [
                    {**control, "target_total": 20_000, "synthetic_total": 20_000},
                    {**holdout, "target_total": 9_700, "synthetic_total": 9_800},
                ],
            }
        ],
        "pyramids": _pyramids(),
        "backtest": {
            "fit_until": 2018,
            "target_year": 2023,
            "mape": 3.2,
            "baseline_mape": 3.9,
            "districts": [{"name": "Mitte", "error_pct": 2.0, "baseline_error_pct": -2.8}],
        },
        "personas": [{"name": "Familien", "households": 10, "persons": 30}],
    }


def test_pyramids_are_single_years_by_sex_with_the_register_bands() -> None:
    first, second = _pyramids()
    assert len(first["male"]) == len(first["female"]) == TOP_AGE + 1
    # The register band without a figure stays empty; the others keep their count and persons per year.
    assert second["register"][2] == {"lo": 65, "hi": TOP_AGE, "persons": None, "per_year": None}
    assert first["register"][0]["per_year"] == round(4_000 / 18, 1)
    # The synthetic band sums are sums of the published single years: noise of at most 2 per year and sex.
    truth = 20_000 * 0.7 * 18 / 95
    assert abs(first["synthetic_bands"][0] - truth) < 0.1 * truth
    assert smoothness(first) is not None


def test_the_page_in_german_and_english_with_inline_charts_and_nothing_unescaped() -> None:
    german = report_html(_report(), "de")
    english = report_html(_report(), "en")
    assert "Alterspyramiden je Bezirk" in german
    assert "Age pyramids per district" in english
    assert "Rückrechnung der Vorausberechnung" in german
    assert "MAPE 3,20 %" in german
    assert "MAPE 3.20 %" in english
    for page in (german, english):
        assert page.count("<figure data-area=") == 2
        assert page.count("<svg") == 2 + 1 + 1  # pyramids, the fit's chart, the backtest
        assert "<script" not in page
        assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "male (zurückgehalten)" in german
    assert "male (held out)" in english
