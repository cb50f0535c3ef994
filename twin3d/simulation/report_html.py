"""A scenario run as one self-contained HTML file that can be mailed, archived and opened offline.

Nothing in the page is fetched: the stylesheet is inline, the data sit in a ``<script type="application/json">``
block, the maps are drawn twice: as SVG in Python (they print, and show without JavaScript or WebGL) and, when the
vendored deck.gl bundle is handed in, as an interactive map whose script text is inlined. The page carries its own
Content-Security-Policy (``default-src 'none'``, scripts and the stylesheet allowed by their SHA-256 only), so it
stays locked down when opened from disk, where no HTTP header comes with it.

Every string that came from a user (scenario name, description, measure names) is HTML-escaped; the JSON block
escapes ``<``, ``>`` and ``&`` so that it cannot end its script element.

Example:
    >>> bundle = load_deck_bundle(Path("viewer"))  # doctest: +SKIP
    >>> page = scenario_report_html(summary, result, twin_title="Lauf", deck_js=bundle.js if bundle else None)
    ... # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import shapely
from pyproj import Geod

from twin3d import __version__
from twin3d.errors import ConfigError
from twin3d.population.privacy import PrivacyRules
from twin3d.simulation.accessibility import ALL, INDICATORS
from twin3d.simulation.greens import GREEN_REACH_M
from twin3d.simulation.report_flood import flood_measure_words, flood_section
from twin3d.simulation.report_maps import CellMap, cell_map, legend, measure_shapes, svg_map, swatch
from twin3d.simulation.report_planning import planning_measure_words, planning_section
from twin3d.simulation.report_texts import (
    HAZARDS,
    INDICATOR_DOCS_DE,
    KPI_LABELS,
    LANGS,
    MEASURES,
    POINTS,
    TEXTS,
    VERDICT_TEXTS,
    facility_label,
    format_change,
    format_number,
    outlook_method_text,
)
from twin3d.simulation.report_verdicts import assessment_section, newcomers_section

_GEOD = Geod(ellps="WGS84")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


@dataclass(frozen=True)
class KpiRow:
    """One indicator line of a KPI table: how its values are scaled, rounded and judged."""

    key: str
    scale: float = 1.0
    digits: int = 0
    lower_is_better: bool | None = None


KPI_ROWS = (
    KpiRow("persons"),
    KpiRow("mean_distance_m", lower_is_better=True),
    KpiRow("median_distance_m", lower_is_better=True),
    KpiRow("coverage_share", scale=100.0, digits=1, lower_is_better=False),
    KpiRow("supply_per_demand", scale=100.0, digits=1, lower_is_better=False),
)


@dataclass(frozen=True)
class DeckBundle:
    """The vendored deck.gl UMD bundle: its script text, version and the licence texts that must go with it."""

    js: str
    version: str
    notice: str


@cache
def load_deck_bundle(viewer_dir: Path) -> DeckBundle | None:
    """The viewer's vendored deck.gl (read once per folder: 2 MB); None where the viewer has none."""
    folder = viewer_dir / "vendor" / "deck.gl"
    script = folder / "dist.min.js"
    if not script.is_file():
        return None
    manifest_file = viewer_dir / "vendor" / "MANIFEST.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
    version = str(manifest.get("deck.gl/dist.min.js", {}).get("version", ""))
    notice = "\n\n".join(f"== {p.name} ==\n{p.read_text(encoding='utf-8')}" for p in sorted(folder.glob("LICENSE*")))
    return DeckBundle(script.read_text(encoding="utf-8"), version, notice)


@cache
def _sha256(text: str) -> str:
    # Cached: the 2 MB bundle is the same string object on every request, and str caches its own hash.
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def report_csp(page: str) -> str:
    """The Content-Security-Policy a report declares in its ``<meta>``, for the HTTP header of the same page."""
    found = _CSP_META.search(page)
    if found is None:
        raise ConfigError("the report carries no Content-Security-Policy")
    return html.unescape(found.group(1))


def report_filename(twin: str, name: str, version: int) -> str:
    """``<twin>-<name>-v<version>.html`` in ASCII letters, digits and dashes: safe in a header and on any disk."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_UMLAUTS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()[:60].rstrip("-") or "scenario"
    return f"{re.sub(r'[^a-z0-9_-]', '', twin)}-{slug}-v{int(version)}.html"


VERDICT_TONE = {"better": "good", "worse": "bad", "unchanged": "none"}
"""A change is toned by the result's verdict (tolerances of :mod:`twin3d.simulation.verdicts`), not by its sign."""


def _json_block(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_script(text: str) -> str:
    # An HTML parser ends a script at the first "</script" whatever the JavaScript means, and "<!--" switches it
    # into a state where it may not end at all; neither occurs in the bundles we ship, and none may.
    lowered = text.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ConfigError("a script to inline contains '</script' or '<!--'", hint="check viewer/vendor/")
    return f"<script>{text}</script>"


@cache
def _map_js() -> str:
    return files("twin3d.simulation").joinpath("report_map.js").read_text(encoding="utf-8")


@cache
def _stylesheet() -> str:
    return files("twin3d.simulation").joinpath("report.css").read_text(encoding="utf-8")


def _personas(personas: list[dict[str, Any]] | None, lang: str) -> dict[str, tuple[str, str]]:
    """Persona id -> (name in the language, colour checked to be #rrggbb)."""
    out = {ALL: (TEXTS[lang]["all_persons"], "#555555")}
    for p in personas or []:
        name = p.get("name_en") if lang == "en" and p.get("name_en") else p.get("name")
        color = str(p.get("color", ""))
        out[str(p["id"])] = (str(name or p["id"]), color if re.fullmatch(r"#[0-9a-fA-F]{6}", color) else "#999999")
    return out


def _area_ha(polygon: dict[str, Any], lang: str) -> str:
    area, _ = _GEOD.geometry_area_perimeter(shapely.Polygon(polygon["coordinates"][0]))
    return TEXTS[lang]["area_ha"].format(ha=format_number(abs(area) / 10_000, 1, lang))


def _homes_text(m: dict[str, Any], lang: str) -> list[str]:
    """What a measure that adds homes builds, and for whom, in words."""
    tx = TEXTS[lang]
    if m["kind"] == "add_storeys":
        parts = [tx["storeys_on"].format(storeys=m["storeys"], n=format_number(len(m["building_ids"]), 0, lang))]
    elif m.get("dwellings"):
        parts = [tx["dwellings"].format(n=format_number(m["dwellings"], 0, lang), storeys=m["storeys"])]
    else:
        coverage = format_number(100 * m.get("site_coverage", 0.4), 0, lang)
        parts = [tx["storeys_coverage"].format(storeys=m["storeys"], coverage=coverage)]
    if m.get("occupancy", 1.0) < 1.0:
        parts.append(tx["occupancy"].format(share=format_number(100 * m["occupancy"], 0, lang)))
    mix = str(m.get("mix", "new_build"))
    parts.append(tx["mix_new_build"] if mix == "new_build" else tx["mix_like"].format(district=mix[5:]))
    return [str(p) for p in parts]


PLANNING_KINDS = ("planned_building", "add_road", "close_road", "landmark", "noise_map")


def measure_text(m: dict[str, Any], lang: str) -> str:
    """One measure in words (plain text; the caller escapes it)."""
    tx, kind = TEXTS[lang], m.get("kind", "")
    parts = [MEASURES[lang].get(kind, kind)]
    if kind in ("new_housing", "add_storeys"):
        parts += _homes_text(m, lang)
    elif kind == "add_facility":
        parts.append(facility_label(m["facility"], lang) + (f" „{m['name']}“" if m.get("name") else ""))
        if m.get("capacity"):
            parts.append(tx["places"].format(n=format_number(m["capacity"], 0, lang)))
    elif kind == "remove_facility":
        parts.append(str(m["facility_id"]))
    elif kind == "remove_buildings":
        parts.append(tx["buildings"].format(n=format_number(len(m["building_ids"]), 0, lang)))
    elif kind == "hazard":
        parts.append(HAZARDS[lang].get(m.get("hazard", ""), "") + (f" „{m['name']}“" if m.get("name") else ""))
    elif kind in ("flood", "flood_wall"):
        parts += flood_measure_words(m, lang)
    elif kind in PLANNING_KINDS or (kind == "hazard" and m.get("layer")):
        parts += planning_measure_words(m, lang)
    elif kind == "green_space" and m.get("name"):
        parts.append(f"„{m['name']}“")
    elif kind == "projection":
        parts.append(tx["years"].format(n=m["years"]))
    if isinstance(m.get("area"), dict):
        parts.append(_area_ha(m["area"], lang))
    return ": ".join(parts[:2]) + "".join(f", {p}" for p in parts[2:])


def _table(caption: str, heads: list[str], rows: list[list[str]], attrs: str = "") -> str:
    """Rows of already escaped cells; the first column is text, the others numbers."""
    head = "".join(f'<th scope="col"{" class=num" if i else ""}>{h}</th>' for i, h in enumerate(heads))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i else ''}>{v}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    top = f'<caption class="sr-only">{caption}</caption><thead><tr>{head}</tr></thead>'
    return f"<table{attrs}>{top}<tbody>{body}</tbody></table>"


def _persona_head(pid: str, names: dict[str, tuple[str, str]]) -> str:
    name, color = names.get(pid, (pid, "#999999"))
    return f"{swatch(color)}{html.escape(name)}"


def kpi_tables(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    """Per persona, one table: per need, a group of rows (persons, walks, coverage, supply) with baseline, scenario
    and change."""
    tx, e = TEXTS[lang], html.escape
    order: dict[str, list[dict[str, Any]]] = {pid: [] for pid in names}  # everyone first, then the catalogue
    for k in result.get("kpis", []):
        if k.get("group", "residents") == "residents":  # newcomers: a table of their own
            order.setdefault(k["persona"], []).append(k)
    heads = [tx["need"], tx["indicator"], tx["baseline"], tx["scenario"], tx["change"]]
    head = "".join(f'<th scope="col"{" class=num" if i > 1 else ""}>{e(h)}</th>' for i, h in enumerate(heads))
    out = []
    for pid, rows in order.items():
        if not rows:
            continue
        groups = []
        for k in rows:
            need = facility_label(k["facility"], lang)
            if k.get("max_distance_m"):
                need = tx["need_limit"].format(facility=need, distance=format_number(k["max_distance_m"], 0, lang))
            lines: list[tuple[str, str]] = []  # (indicator, its cells after the need)
            for row in KPI_ROWS:
                old, new = k.get(f"{row.key}_baseline"), k.get(f"{row.key}_scenario")
                delta = k.get(f"{row.key}_delta")
                if row.key == "persons":
                    delta = new - old if old is not None and new is not None else None
                if old is None and new is None:
                    continue
                label, unit = KPI_LABELS[lang][row.key]
                change_unit = POINTS[lang] if row.key == "coverage_share" else unit
                scaled = [None if v is None else v * row.scale for v in (old, new, delta)]
                tone = VERDICT_TONE.get(k.get(f"{row.key}_verdict") or "", "none")
                lines.append(
                    (
                        row.key,
                        f'<td><a href="#doc-{row.key}">{e(label)}</a>{f" ({e(unit)})" if unit else ""}</td>'
                        f"<td class=num>{format_number(scaled[0], row.digits, lang)}</td>"
                        f"<td class=num>{format_number(scaled[1], row.digits, lang)}</td>"
                        f'<td class="num delta {tone}">{format_change(scaled[2], row.digits, lang)}'
                        f"{f' {e(change_unit)}' if change_unit else ''}</td>",
                    )
                )
            if not lines:
                continue
            need_cell = f'<th scope="rowgroup" rowspan="{len(lines)}">{e(need)}</th>'
            trs = "".join(
                f'<tr data-indicator="{key}">{need_cell if i == 0 else ""}{cells}</tr>'
                for i, (key, cells) in enumerate(lines)
            )
            groups.append(f'<tbody data-facility="{e(k["facility"])}">{trs}</tbody>')
        caption = f"{tx['kpis']}: {names.get(pid, (pid, ''))[0]}"
        out.append(
            f'<section class="persona" data-persona="{e(pid)}"><h3>{_persona_head(pid, names)}</h3>'
            f'<table class="kpi"><caption class="sr-only">{e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"{''.join(groups)}</table></section>"
        )
    return "".join(out)


def _other_indicators(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    tx, e, out = TEXTS[lang], html.escape, []
    if result.get("hazard_exposed"):
        rows = [
            [
                _persona_head(r["persona"], names),
                format_number(r["households"], 0, lang),
                format_number(r["persons"], 0, lang),
            ]
            for r in result["hazard_exposed"]
        ]
        heads = [e(tx["persona"]), e(tx["households"]), e(tx["persons"])]
        out.append(f"<h2>{e(tx['hazard'])}</h2>" + _table(e(tx["hazard"]), heads, rows, ' id="hazard"'))
    green = result.get("green_space") or {}
    if green.get("rows"):
        vx = VERDICT_TEXTS[lang]

        def m2(value: float | None) -> str:
            return "" if value is None else format_number(value, 1, lang)

        rows = [
            [
                _persona_head(r["persona"], names),
                e(vx["newcomers"] if r["group"] == "newcomers" else tx["residents"]),
                m2(r["m2_baseline"]),
                m2(r["m2_scenario"]),
                format_change(r["m2_delta"], 1, lang) if r["m2_delta"] is not None else "",
            ]
            for r in green["rows"]
        ]
        heads = [e(tx["persona"]), e(tx["group"]), e(tx["baseline"]), e(tx["scenario"]), e(tx["change"])]
        title = f"{tx['green']} ({tx['m2_per_resident']})"
        out.append(f"<h2>{e(title)}</h2>" + _table(e(title), heads, rows, ' id="green"'))
    outlook = result.get("demand_outlook")
    if outlook:
        groups = [k for k in outlook if k != "years" and isinstance(outlook[k], list)]
        rows = [
            [e(tx["outlook_now"] if year == 0 else tx["outlook_year"].format(n=year))]
            + [format_number(outlook[g][i], 0, lang) for g in groups]
            for i, year in enumerate(outlook["years"])
        ]
        heads = [e(tx["outlook_when"])] + [e(tx.get(f"outlook_{g}", g)) for g in groups]
        out.append(f"<h2>{e(tx['outlook'])}</h2>" + _table(e(tx["outlook"]), heads, rows, ' id="outlook"'))
        method = outlook_method_text(outlook, lang)
        out.append(f'<p class="note" id="outlook-method">{e(method)}</p>' if method else "")
    return "".join(out)


def _overview(summary: dict[str, Any], lang: str) -> str:
    tx = TEXTS[lang]
    digits = {"residents_per_sealed_ha": 1}
    keys = ("dwellings_added", "households_added", "persons_added", "households_removed", "facilities", "sealed_m2")
    items = [
        f"<dt>{html.escape(tx[key])}</dt><dd data-field='{key}'>"
        f"{format_number(summary.get(key), digits.get(key, 0), lang)}{' m²' if key == 'sealed_m2' else ''}</dd>"
        for key in keys + ("residents_per_sealed_ha",) * (summary.get("residents_per_sealed_ha") is not None)
        if summary.get(key) is not None
    ]
    if summary.get("no_new_sealing"):
        items.append(f"<dt>{html.escape(tx['no_new_sealing'])}</dt><dd data-field='no_new_sealing'>✓</dd>")
    return f'<h2>{html.escape(tx["overview"])}</h2><dl class="overview">{"".join(items)}</dl>'


def _docs(result: dict[str, Any], lang: str) -> str:
    tx, e = TEXTS[lang], html.escape
    items = []
    for row in KPI_ROWS:
        label, unit = KPI_LABELS[lang][row.key]
        doc = INDICATOR_DOCS_DE[row.key] if lang == "de" else INDICATORS[row.key].description
        items.append(f'<dt id="doc-{row.key}">{e(label)}{f" ({e(unit)})" if unit else ""}</dt><dd>{e(doc)}</dd>')
    for key in ("static_maps", "hazard", "green", "sealed_m2", "outlook"):
        doc = tx[f"doc_{key}"].format(reach=format_number(GREEN_REACH_M, 0, lang))
        items.append(f"<dt>{e(tx[key])}</dt><dd>{e(doc)}</dd>")
    method = tx["method_network" if result.get("distance_method") == "network" else "method_other"]
    items.append(f"<dt>{e(tx['method'])}</dt><dd>{e(method)} {e(str(result.get('distance_description', '')))}</dd>")
    return f'<h2>{e(tx["docs"])}</h2><dl class="docs">{"".join(items)}</dl>'


def _maps(cmap: CellMap, measures: list[dict[str, Any]], lang: str, interactive: bool) -> str:
    tx, e = TEXTS[lang], html.escape
    if cmap.bounds is None:
        return ""
    shown = [m for m in cmap.metrics if m["changed"]] or [cmap.metrics[0]]
    parts = [f'<h2 id="map">{e(tx["map"])}</h2><p>{e(tx["map_intro"])}</p>']
    if interactive:
        parts.append(
            f'<section id="interactive-map" class="interactive" hidden><h3>{e(tx["interactive"])}</h3>'
            f'<label for="map-metric">{e(tx["metric"])}</label> <select id="map-metric"></select>'
            f'<div id="deck-map" class="deck-map" tabindex="0" aria-label="{e(tx["interactive"])}"></div>'
            f'<p class="hint">{e(tx["interactive_hint"])}</p></section>'
        )
    parts.append(f'<h3>{e(tx["static_maps"])}</h3><div class="maps">')
    for metric in shown:
        parts.append(
            f'<figure class="map-figure"><figcaption>{e(metric["label"])}</figcaption>'
            f"{svg_map(cmap, metric, measures, lang)}{legend(metric, lang)}</figure>"
        )
    parts.append("</div>")
    return "".join(parts)


def scenario_report_html(
    summary: dict[str, Any],
    result: dict[str, Any],
    *,
    twin_title: str,
    deck_js: str | None,
    deck_version: str = "",
    deck_notice: str = "",
    personas: list[dict[str, Any]] | None = None,
    lang: str = "de",
    generated_at: datetime | None = None,
    rules: PrivacyRules | None = None,
) -> str:
    """The report of one scenario run as a single HTML page that requests nothing.

    Args:
        summary: the stored scenario (name, version, description, created_at, scenario_id) with its ``spec``.
        result: what :func:`twin3d.simulation.engine.run_scenario` returned for it.
        twin_title: the twin's title, for the heading.
        deck_js: the deck.gl UMD bundle's text to inline for the interactive map; None draws SVG maps only.
        deck_version: the bundle's version, named in the footer.
        deck_notice: the bundle's licence texts, shipped with it in the page.
        personas: the persona catalogue (``GET .../personas``) for names and colours; ids where missing.
        lang: ``"de"`` (default) or ``"en"``.
        generated_at: the time printed as the report's making (now by default).
        rules: the privacy gate's rules, for the privacy note.
    """
    if lang not in LANGS:
        raise ConfigError(f"no report language {lang!r}", hint=f"use one of {', '.join(LANGS)}")
    tx, e = TEXTS[lang], html.escape
    when = (generated_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    spec = summary.get("spec") or {}
    measures = list(spec.get("measures", []))
    name = str(summary.get("name") or result.get("name") or "")
    names = _personas(personas, lang)
    cmap = cell_map(result, measures, lang)
    interactive = deck_js is not None and cmap.bounds is not None
    data = {
        "locale": tx["locale"],
        "labels": {"cell": tx["cell"], "no_comparison": tx["no_data"]},
        "bounds": cmap.bounds,
        "finest_resolution": max(cmap.resolution, default=0),
        "default_metric": next((m["key"] for m in cmap.metrics if m["changed"] and m["key"] != "persons"), "persons"),
        "cells": [
            {"h3": h, "res": r, "ring": ring} for h, r, ring in zip(cmap.h3, cmap.resolution, cmap.rings, strict=True)
        ],
        "metrics": [{k: m[k] for k in ("key", "label", "values", "colors")} for m in cmap.metrics],
        "measures": measure_shapes(measures, lang),
    }
    scripts = [deck_js, _map_js()] if interactive and deck_js is not None else []
    style = _stylesheet()
    csp = "; ".join(
        [
            "default-src 'none'",
            *([f"script-src {' '.join(_sha256(s) for s in scripts)}"] if scripts else []),
            f"style-src {_sha256(style)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    meta_line = " · ".join(
        x
        for x in (
            tx["version"].format(version=summary.get("version", "?")),
            f"{tx['created']} {str(summary['created_at']).replace('T', ' ')[:16]} UTC"
            if summary.get("created_at")
            else "",
            f"{tx['generated']} {when}",
        )
        if x
    )
    measure_items = "".join(f"<li>{e(measure_text(m, lang))}</li>" for m in measures)
    footer_what = tx["footer_deck"].format(version=f" {deck_version}" if deck_version else "")
    footer_what = footer_what if interactive else tx["footer_svg"]
    licences = (
        f'<details class="licences"><summary>{e(tx["licences"])}</summary><pre>{e(deck_notice)}</pre></details>'
        if interactive and deck_notice
        else ""
    )
    body = [
        f'<header><p class="kicker">{e(tx["kicker"].format(twin=twin_title))}</p><h1>{e(name)}</h1>',
        f'<p class="meta">{e(meta_line)}</p>',
        f'<p class="meta">{e(tx["scenario_id"])}: <code>{e(str(summary.get("scenario_id", "")))}</code></p>',
        f'<p class="description">{e(str(summary.get("description") or "")) or e(tx["no_description"])}</p>',
        f'<h2>{e(tx["measures"])}</h2><ol class="measures">{measure_items}</ol></header><main>',
        _overview(result.get("summary", {}), lang),
        _maps(cmap, measures, lang, interactive),
        assessment_section(result, names, lang),
        f'<h2 id="kpis">{e(tx["kpis"])}</h2><p>{e(tx["kpi_intro"])}</p>{kpi_tables(result, names, lang)}',
        newcomers_section(result, names, lang),
        _other_indicators(result, names, lang),
        flood_section(result, names, lang),
        planning_section(result, names, lang),
        _docs(result, lang),
        f'<h2>{e(tx["privacy"])}</h2><p class="privacy">'
        f"{e(tx['privacy_text'].format(**_privacy_figures(rules or PrivacyRules())))}</p>"
        f"{_privacy_notes(result, lang)}</main>",
        f"<footer><p>{e(tx['footer'].format(when=when, version=__version__, what=footer_what))}</p>{licences}</footer>",
    ]
    return "\n".join(
        [
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="generator" content="twin3d {__version__}">',
            f"<title>{e(tx['doc_title'].format(name=name, twin=twin_title))}</title>",
            f"<style>{style}</style>",
            "</head><body>",
            *body,
            # Data and scripts last: the map script needs the page above it.
            f'<script type="application/json" id="report-data">{_json_block(data)}</script>',
            *(_inline_script(s) for s in scripts),
            "</body></html>",
        ]
    )


@dataclass(frozen=True)
class ReportFile:
    """A report ready to send: the page, its download name and its policy."""

    page: str
    filename: str
    csp: str

    def headers(self) -> dict[str, str]:
        """Download as a file, under the page's own policy (plus what only a header can say)."""
        return {
            "Content-Disposition": f'attachment; filename="{self.filename}"',
            "Content-Security-Policy": f"{self.csp}; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        }


def scenario_report_file(
    summary: dict[str, Any],
    result: dict[str, Any],
    *,
    twin: str,
    twin_title: str,
    personas: list[dict[str, Any]] | None,
    viewer_dir: Path | None,
    lang: str = "de",
) -> ReportFile:
    """The report of a stored scenario (``summary`` with its ``spec``), with deck.gl inlined from ``viewer_dir``
    where the viewer has it (SVG maps only otherwise)."""
    bundle = load_deck_bundle(viewer_dir) if viewer_dir is not None else None
    page = scenario_report_html(
        summary,
        result,
        twin_title=twin_title,
        deck_js=bundle.js if bundle else None,
        deck_version=bundle.version if bundle else "",
        deck_notice=bundle.notice if bundle else "",
        personas=personas,
        lang=lang,
    )
    name = report_filename(twin, str(summary.get("name") or "scenario"), int(summary.get("version") or 1))
    return ReportFile(page, name, report_csp(page))


def _privacy_figures(rules: PrivacyRules) -> dict[str, int]:
    return {"min_persons": rules.min_persons, "min_households": rules.min_households, "min_group": rules.min_group}


def _privacy_notes(result: dict[str, Any], lang: str) -> str:
    """What the gate did to this result's area measures, one line each."""
    tx = TEXTS[lang]
    items = []
    for note in result.get("privacy", {}).get("notes", []):
        text = tx.get(f"privacy_{note['code']}")
        if text:
            values = {"measure": note["measure"] + 1, "units": note.get("units", 0), "kept": note.get("kept", 0)}
            items.append(f"<li>{html.escape(text.format(**values))}</li>")
    return f'<ul class="privacy">{"".join(items)}</ul>' if items else ""
