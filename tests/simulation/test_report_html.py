"""The offline scenario report: the result's figures are in it, user text is inert, nothing is fetched, and the
page's own Content-Security-Policy admits exactly its inline scripts and stylesheet."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest
from h3ronpy.vector import coordinates_to_cells

from tests.conftest import REPO
from twin3d.errors import ConfigError
from twin3d.simulation.accessibility import INDICATORS
from twin3d.simulation.report_html import (
    KPI_ROWS,
    load_deck_bundle,
    report_csp,
    report_filename,
    scenario_report_html,
)
from twin3d.simulation.report_texts import INDICATOR_DOCS_DE, format_change, format_number
from twin3d.simulation.verdicts import assessment, verdict

QUARTER = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]
EVIL = '<script>alert("x")</script>'


def _cells() -> list[dict[str, Any]]:
    lon = np.array([11.2700, 11.2775, 11.2850])
    lat = np.array([49.5050, 49.5098, 49.5150])
    ids = np.asarray(coordinates_to_cells(lat, lon, 9)).astype(np.uint64)
    cells = []
    for i, cell in enumerate(ids):
        entry: dict[str, Any] = {
            "h3": f"{int(cell):x}",
            "cell_resolution": 9,
            "persons_baseline": 100 if i else None,
            "persons_scenario": 130,
            "persons_delta": 30 if i else None,
            "households_baseline": 50,
            "households_scenario": 60,
        }
        for ftype in ("kita", "school", "stop", "supermarket", "doctor"):
            delta = -120.0 * i if ftype == "kita" else 0.0
            entry |= {f"{ftype}_mean_m_baseline": 900.0, f"{ftype}_mean_m_scenario": 900.0 + delta}
            entry[f"{ftype}_mean_m_delta"] = delta
        cells.append(entry)
    return cells


def _kpi(
    persona: str,
    facility: str,
    mean: tuple[float, float],
    coverage: tuple[float, float],
    supply: tuple[float, float] = (0.448, 0.495),
) -> dict[str, Any]:
    row: dict[str, Any] = {"group": "residents", "persona": persona, "facility": facility, "max_distance_m": 800.0}
    row |= {"persons_baseline": 3170, "persons_scenario": 3185}
    values = {
        "mean_distance_m": mean,
        "median_distance_m": (939.9, 899.2),
        "coverage_share": coverage,
        "supply_per_demand": supply,
    }
    for key, (old, new) in values.items():
        row |= {f"{key}_baseline": old, f"{key}_scenario": new, f"{key}_delta": new - old}
        row[f"{key}_verdict"] = verdict(key, new - old)
    return row


RESULT: dict[str, Any] = {
    "scenario_id": "a" * 64,
    "name": "Neues Quartier",
    "distance_method": "network",
    "distance_description": "Walking distance over the twin's footpath network.",
    "summary": {
        "households_added": 120,
        "persons_added": 235,
        "households_removed": 0,
        "facilities": 320,
        "sealed_m2": 36242,
        "residents_per_sealed_m2": 0.0065,
    },
    "kpis": [
        _kpi("young_families", "kita", (1527.96, 1509.38), (0.4355, 0.4545)),
        _kpi("*", "kita", (1700.0, 1690.0), (0.40, 0.41)),
        _kpi("young_families", "school", (1200.0, 1200.0), (0.5, 0.5), (1.28, 1.27)),
    ],
    "hazard_exposed": [{"persona": "young_families", "households": 25, "persons": 75}],
    "green_space": {
        "reach_m": 500.0,
        "tolerance_m2": 0.5,
        "greens": 68,
        "greens_added": 1,
        "rows": [
            {
                "group": "residents",
                "persona": "young_families",
                "persons": 3216,
                "m2_baseline": 10.03,
                "m2_scenario": 11.2,
                "m2_delta": 1.17,
                "verdict": "better",
            },
            {
                "group": "newcomers",
                "persona": "young_families",
                "persons": 75,
                "m2_baseline": None,
                "m2_scenario": 14.5,
                "m2_delta": None,
                "verdict": None,
            },
        ],
    },
    "demand_outlook": {"years": [0, 1], "kita_0_5": [1615, 1680], "primary_6_9": [1295, 1220], "care_80_plus": [5, 10]},
    "cells": _cells(),
}
RESULT["assessment"] = assessment(RESULT["kpis"], {"school": ["newcomers"], "kita": ["facility_added", "newcomers"]})
PERSONAS = [{"id": "young_families", "name": "Junge Familien", "name_en": "Young families", "color": "#2ca02c"}]


def _summary(name: str = "Neues Quartier", description: str = "120 Wohnungen") -> dict[str, Any]:
    measures = [
        {"kind": "new_housing", "area": {"type": "Polygon", "coordinates": [QUARTER]}, "storeys": 4, "dwellings": 120},
        {
            "kind": "add_facility",
            "facility": "kita",
            "location": {"type": "Point", "coordinates": [11.2775, 49.5098]},
            "capacity": 75,
            "name": EVIL,
        },
    ]
    return {
        "scenario_id": "a" * 64,
        "name": name,
        "version": 3,
        "description": description,
        "created_at": "2026-11-22T06:45:44Z",
        "spec": {"name": name, "description": description, "measures": measures},
    }


@pytest.fixture(scope="module")
def deck_js() -> str:
    bundle = load_deck_bundle(REPO / "viewer")
    assert bundle is not None, "the vendored deck.gl bundle is missing: npm run vendor --prefix viewer"
    return bundle.js


def _page(deck_js: str | None, **kwargs: Any) -> str:
    summary = kwargs.pop("summary", _summary())
    when = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    return scenario_report_html(
        summary, RESULT, twin_title="Lauf a.d. Pegnitz", deck_js=deck_js, personas=PERSONAS, generated_at=when, **kwargs
    )


class _Tags(HTMLParser):
    """Every tag's attributes, and the text of every script element, as a browser's tokenizer splits them."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self.styles: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.append((tag, dict(attrs)))
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._open = None if tag == "script" else self._open
        self._style = False

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._style:
            self.styles.append(data)


def _parse(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return tags


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def test_the_report_shows_the_kpis_of_the_result(deck_js: str) -> None:
    page = _page(deck_js)
    kita = RESULT["kpis"][0]
    # Mean walk of young families to a Kita: baseline, scenario and change, in German number style.
    assert "<td class=num>1.528</td><td class=num>1.509</td>" in page
    assert format_change(kita["mean_distance_m_delta"]) == "\u221219"
    assert '<td class="num delta good">\u221219 m</td>' in page
    assert f'<td class="num delta good">{format_change(100 * kita["coverage_share_delta"], 1)} Pp.</td>' in page
    assert "+1,9 Pp." in page
    # Who loses: the school places per 100 persons of young families, because of the newcomers; the walk to school
    # did not change and reads so.
    assert "Wer verliert am meisten \u2013 und warum" in page
    assert "Junge Familien, Schule: Plätze je 100 Personen 128,0 → 127,0 (\u22121,0)" in page
    assert "wegen: Zuzug in neue Wohnungen" in page
    assert '<tbody data-facility="school"><tr data-indicator="persons">' in page
    assert "Junge Familien" in page
    assert "Alle Personen" in page
    # The other indicators and the notes.
    assert "<dd data-field='sealed_m2'>36.242 m²</dd>" in page
    assert 'id="hazard"' in page
    assert 'id="green"' in page
    assert "10,0" in page
    assert "11,2" in page
    assert "+1,2" in page
    assert "14,5" in page  # the newcomers'
    assert f"<td class=num>{format_number(1680)}</td>" in page
    assert "Datenschutz" in page
    assert "Einheiten von mindestens 50 Personen und 25 Haushalten" in page
    assert "twin3d 0.1.0" in page
    assert "2026-11-22 07:00 UTC" in page
    assert html.escape(INDICATOR_DOCS_DE["coverage_share"]) in page
    # The map: one SVG per indicator that changes somewhere (persons and the walk to a Kita), with its legend.
    assert re.findall(r'<svg class="cell-map"[^>]*data-metric="(\w+)"', page) == ["persons", "kita"]
    assert page.count('<ul class="legend"') == 2


def test_english_on_request() -> None:
    page = _page(None, lang="en")
    assert '<html lang="en">' in page
    assert "Young families" in page
    assert "<td class=num>1,528</td><td class=num>1,509</td>" in page
    assert html.escape(INDICATORS["coverage_share"].description) in page
    with pytest.raises(ConfigError):
        _page(None, lang="fr")


def test_user_text_is_escaped_everywhere(deck_js: str) -> None:
    page = _page(deck_js, summary=_summary(name=EVIL, description=f"a & b {EVIL}"))
    assert "alert" in page
    assert '<script>alert("x")' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    tags = _parse(page)
    # Only our three script elements: the data block, deck.gl and the map.
    assert [attrs.get("type") for attrs, _ in tags.scripts] == ["application/json", None, None]
    assert not any("onerror" in attrs or "onload" in attrs for _, attrs in tags.attrs)
    data = json.loads(tags.scripts[0][1])
    assert len(data["cells"]) == len(RESULT["cells"])
    assert data["default_metric"] == "kita"


def test_nothing_is_fetched_from_anywhere(deck_js: str) -> None:
    for page in (_page(deck_js), _page(None)):
        tags = _parse(page)
        for tag, attrs in tags.attrs:
            assert tag not in {"link", "iframe", "img", "object", "embed", "base"}, tag
            for name in ("src", "href", "action", "srcset", "poster", "data"):
                value = attrs.get(name) or ""
                assert not re.match(r"^\s*(https?:|//|file:)", value, re.IGNORECASE), (tag, name, value)
            assert attrs.get("src") is None or tag != "script", "scripts are inline"
        assert not re.search(r"@import|url\(", "".join(tags.styles))


def test_the_policy_admits_exactly_the_inline_scripts_and_style(deck_js: str) -> None:
    page = _page(deck_js)
    tags = _parse(page)
    csp = report_csp(page)
    directives = _directives(csp)
    assert directives["default-src"] == ["'none'"]
    executable = [text for attrs, text in tags.scripts if attrs.get("type") != "application/json"]
    assert len(executable) == 2
    assert sorted(directives["script-src"]) == sorted(_sha(text) for text in executable)
    assert executable[0] == deck_js  # inlined byte for byte, so its hash is the bundle's
    assert directives["style-src"] == [_sha(tags.styles[0])]
    assert "http" not in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp


def test_without_deck_the_maps_are_svg_and_no_script_runs() -> None:
    page = _page(None)
    tags = _parse(page)
    assert [attrs.get("type") for attrs, _ in tags.scripts] == ["application/json"]
    assert "script-src" not in _directives(report_csp(page))
    assert 'id="interactive-map"' not in page
    assert '<svg class="cell-map"' in page


def test_german_docs_cover_every_indicator_the_tables_show() -> None:
    shown = {row.key for row in KPI_ROWS}
    assert shown <= set(INDICATOR_DOCS_DE)
    assert set(INDICATOR_DOCS_DE) <= set(INDICATORS)


def test_a_script_that_would_end_its_element_is_refused() -> None:
    with pytest.raises(ConfigError):
        _page("var a = '</script><img src=x>';")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Neues Quartier am Bahnhof", "lauf-neues-quartier-am-bahnhof-v3.html"),
        ('Straße "Süd"; rm -rf /', "lauf-strasse-sued-rm-rf-v3.html"),
        ("<<<>>>", "lauf-scenario-v3.html"),
    ],
)
def test_file_names_are_plain_ascii(name: str, expected: str) -> None:
    assert report_filename("lauf", name, 3) == expected
