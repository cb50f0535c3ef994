"""The population report as a page a statistician reads, in German or English: self-contained HTML, inline SVG.

What it shows, in the order a statistics office checks a synthetic population:

1. what went in (persons, households, zones, priors, seed) and which controls were held out of the fit;
2. the fit per level (district, census grid, H3): SRMSE per control against the target as a chart and a table,
   the held-out controls marked, and what each level is compared with (data, or only the fit's own targets);
3. an age pyramid per district: the synthetic single years (through the privacy gate) against the register's bands;
4. the projection's backtest, where the twin has a history: projected against observed district totals;
5. the personas.

Every value is escaped; the page has no script and loads nothing.
"""

from __future__ import annotations

import html
from typing import Any, Literal

from twin3d.population.pyramids import smoothness
from twin3d.population.report_svg import backtest_svg, pyramid_svg, srmse_svg

Lang = Literal["de", "en"]

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "title": "Synthetische Bevölkerung: {name}",
        "intro": (
            "{persons} Personen in {households} Haushalten, angepasst in {zones} Zonen (Startwert {seed}, "
            "{replicates} Replikat(e))."
        ),
        "holdout": "Zurückgehaltene Merkmale (nicht angepasst, nur geprüft): {names}.",
        "none": "keine",
        "priors": "Vorwissen: {priors}",
        "zones_off": "{n} Zone(n) verfehlen ihre Personenzahl: kein Haushalt dort konnte wachsen oder schrumpfen.",
        "exact": "Exakte Bezirkssummen: {items}.",
        "yes": "ja",
        "no": "NEIN",
        "fit": "Anpassung je Ebene",
        "fit_intro": (
            "SRMSE = Wurzel der mittleren quadratischen Abweichung durch den Mittelwert der Zielwerte; "
            "Anteil innerhalb max(1, 10 %) des Ziels. Schraffiert: zurückgehaltene Merkmale (Prüfung gegen Daten, "
            "nicht gegen die Anpassung)."
        ),
        "level": "{level}: {units} Einheiten, Ziel SRMSE ≤ {target}: {met}",
        "met": "erfüllt",
        "not_met": "NICHT erfüllt",
        "compared_with": "Verglichen mit: {what}",
        "control": "Merkmal",
        "srmse": "SRMSE",
        "within": "innerhalb max(1, 10 %)",
        "target_total": "Zielsumme",
        "synthetic_total": "synthetische Summe",
        "holdout_short": "zurückgehalten",
        "target": "Ziel",
        "pyramids": "Alterspyramiden je Bezirk",
        "pyramids_intro": (
            "Balken: synthetische Personen je Altersjahr (Männer links, Frauen rechts), durch das Datenschutz-Tor "
            "veröffentlicht (Rauschen, kleine Zahlen verborgen: grau). Linien: das Melderegister je Altersband als "
            "Personen je Jahr, nach dem synthetischen Geschlechterverhältnis des Bands geteilt."
        ),
        "men": "Männer",
        "women": "Frauen",
        "register": "Register",
        "hidden": "verborgen",
        "step": "größter Sprung zwischen Nachbarjahren innerhalb eines Bands: {step}",
        "band": "Altersband",
        "register_persons": "Register",
        "synthetic_persons": "synthetisch",
        "backtest": "Rückrechnung der Vorausberechnung",
        "backtest_intro": (
            "Angepasst mit Daten bis {fit_until}, vorausberechnet bis {target_year} und mit den beobachteten "
            "Bezirkssummen verglichen: MAPE {mape} % (keine Veränderung: {baseline} %)."
        ),
        "projected": "Vorausberechnung",
        "no_change": "keine Veränderung",
        "personas": "Personas",
        "persona": "Persona",
        "households": "Haushalte",
        "persons": "Personen",
        "few": "< 3 Haushalte",
    },
    "en": {
        "title": "Synthetic population: {name}",
        "intro": (
            "{persons} persons in {households} households, fitted in {zones} zones (seed {seed}, {replicates} "
            "replicate(s))."
        ),
        "holdout": "Held-out controls (left out of the fit, only checked): {names}.",
        "none": "none",
        "priors": "Priors: {priors}",
        "zones_off": "{n} zone(s) miss their person total: no household there could grow or shrink to close the gap.",
        "exact": "Exact district totals: {items}.",
        "yes": "yes",
        "no": "NO",
        "fit": "Fit per level",
        "fit_intro": (
            "SRMSE = root mean square error over the mean target; share within max(1, 10 %) of the target. Hatched: "
            "held-out controls (checked against data, not against the fit)."
        ),
        "level": "{level}: {units} units, target SRMSE ≤ {target}: {met}",
        "met": "met",
        "not_met": "NOT met",
        "compared_with": "Compared with: {what}",
        "control": "control",
        "srmse": "SRMSE",
        "within": "within max(1, 10 %)",
        "target_total": "target total",
        "synthetic_total": "synthetic total",
        "holdout_short": "held out",
        "target": "target",
        "pyramids": "Age pyramids per district",
        "pyramids_intro": (
            "Bars: synthetic persons per year of age (men left, women right), published through the privacy gate "
            "(noise; small counts hidden: grey). Lines: the register per age band as persons per year, split by the "
            "band's synthetic sex ratio."
        ),
        "men": "Men",
        "women": "Women",
        "register": "Register",
        "hidden": "hidden",
        "step": "largest step between adjacent years inside a band: {step}",
        "band": "age band",
        "register_persons": "register",
        "synthetic_persons": "synthetic",
        "backtest": "Backtest of the projection",
        "backtest_intro": (
            "Fitted on data up to {fit_until}, projected to {target_year} and compared with the observed district "
            "totals: MAPE {mape} % (no change: {baseline} %)."
        ),
        "projected": "projected",
        "no_change": "no change",
        "personas": "Personas",
        "persona": "persona",
        "households": "households",
        "persons": "persons",
        "few": "< 3 households",
    },
}

COMPARED_WITH: dict[str, dict[str, str]] = {
    "de": {
        "district": "den Bezirksstatistiken",
        "grid": "dem Zensusgitter (Anteil der Zelle im Zwilling)",
        "h3_9": "dem Zensusgitter, jede 1-km-Zelle nach ihrer Wohnkapazität verteilt (keine eigenen Daten auf H3)",
    },
    "en": {
        "district": "the district statistics",
        "grid": "the census grid (the cell's share inside the twin)",
        "h3_9": "the census grid, each 1-km cell spread over its residential capacity (H3 has no data of its own)",
    },
}

STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}"
    "table{border-collapse:collapse;margin:0 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;"
    "text-align:right}th:first-child,td:first-child{text-align:left}.bad{background:#fdd}.ok{background:#dfd}"
    ".hold{font-style:italic}.pyramids{display:flex;flex-wrap:wrap;gap:1rem}"
    ".pyramids figure{margin:0;border:1px solid #ddd;padding:.4rem}figcaption{font-size:13px;max-width:320px}"
    ".muted{color:#555;font-size:13px}"
)


def _fmt(value: float, lang: Lang, digits: int = 0) -> str:
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "de" else text


def report_html(report: dict[str, Any], lang: Lang = "de") -> str:
    """The page of a stored population report (see :func:`twin3d.population.report.validation_report`)."""
    tx, e = TEXTS[lang], html.escape
    name = str(report.get("title", report.get("twin", "")))
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{e(tx['title'].format(name=name))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(tx['title'].format(name=name))}</h1>",
        "<p>"
        + e(
            tx["intro"].format(
                persons=_fmt(report["persons"], lang),
                households=_fmt(report["households"], lang),
                zones=_fmt(report["zones"], lang),
                seed=report.get("seed"),
                replicates=report.get("replicates", 1),
            )
        )
        + " "
        + e(tx["holdout"].format(names=", ".join(report["holdout"]) or tx["none"]))
        + "</p>",
    ]
    if report.get("priors"):
        parts.append(f"<p class='muted'>{e(tx['priors'].format(priors=report['priors']))}</p>")
    if report.get("zones_off_person_target"):
        parts.append(f"<p class='bad'>{e(tx['zones_off'].format(n=report['zones_off_person_target']))}</p>")
    if report.get("exact_totals"):
        items = ", ".join(f"{k}: {tx['yes'] if v else tx['no']}" for k, v in report["exact_totals"].items())
        parts.append(f"<p>{e(tx['exact'].format(items=items))}</p>")
    parts.append(_fit_section(report, lang))
    if report.get("pyramids"):
        parts.append(_pyramid_section(report["pyramids"], lang))
    if report.get("backtest"):
        parts.append(_backtest_section(report["backtest"], lang))
    if report.get("personas"):
        parts.append(_persona_section(report["personas"], lang))
    parts.append("</body></html>")
    return "\n".join(parts)


def _fit_section(report: dict[str, Any], lang: Lang) -> str:
    tx, e = TEXTS[lang], html.escape
    parts = [f"<h2 id='fit'>{e(tx['fit'])}</h2>", f"<p class='muted'>{e(tx['fit_intro'])}</p>"]
    for level in report["levels"]:
        met = tx["met"] if level["met"] else tx["not_met"]
        heading = tx["level"].format(
            level=level["level"], units=_fmt(level["units"], lang), target=level["target_srmse"], met=met
        )
        parts.append(f"<h3 data-level='{e(level['level'])}'>{e(heading)}</h3>")
        what = level.get("compared_with") or COMPARED_WITH[lang].get(level["level"], "")
        if what:
            parts.append(f"<p class='muted'>{e(tx['compared_with'].format(what=what))}</p>")
        labels = {"title": heading, "holdout": tx["holdout_short"], "target": tx["target"]}
        parts.append(srmse_svg(level["controls"], level["target_srmse"], labels))
        parts.append(
            f"<table><tr><th>{e(tx['control'])}</th><th>{e(tx['srmse'])}</th><th>{e(tx['within'])}</th>"
            f"<th>{e(tx['target_total'])}</th><th>{e(tx['synthetic_total'])}</th></tr>"
        )
        for c in level["controls"]:
            cls = "hold" if c["holdout"] else ("ok" if c["srmse"] <= level["target_srmse"] else "bad")
            label = c["control"] + (f" ({tx['holdout_short']})" if c["holdout"] else "")
            parts.append(
                f"<tr class='{cls}'><td>{e(label)}</td><td>{_fmt(c['srmse'], lang, 4)}</td>"
                f"<td>{_fmt(100 * c['within_10pct'], lang, 1)} %</td><td>{_fmt(c['target_total'], lang)}</td>"
                f"<td>{_fmt(c['synthetic_total'], lang)}</td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def _pyramid_section(pyramids: list[dict[str, Any]], lang: Lang) -> str:
    tx, e = TEXTS[lang], html.escape
    parts = [f"<h2 id='pyramids'>{e(tx['pyramids'])}</h2>", f"<p class='muted'>{e(tx['pyramids_intro'])}</p>"]
    parts.append("<div class='pyramids'>")
    for p in pyramids:
        labels = {
            "title": f"{tx['pyramids']}: {p['name']}",
            "men": tx["men"],
            "women": tx["women"],
            "register": tx["register"],
            "hidden": tx["hidden"],
        }
        step = smoothness(p)
        caption = e(p["name"])
        if step is not None:
            caption += f"<br><span class='muted'>{e(tx['step'].format(step=_fmt(step * 100, lang) + ' %'))}</span>"
        rows = "".join(
            f"<tr><td>{b['lo']}-{b['hi']}</td><td>{'' if b['persons'] is None else _fmt(b['persons'], lang)}</td>"
            f"<td>{'' if s is None else _fmt(s, lang)}</td></tr>"
            for b, s in zip(p["register"], p["synthetic_bands"], strict=True)
        )
        table = (
            f"<table class='bands'><tr><th>{e(tx['band'])}</th><th>{e(tx['register_persons'])}</th>"
            f"<th>{e(tx['synthetic_persons'])}</th></tr>{rows}</table>"
        )
        parts.append(
            f"<figure data-area='{e(str(p['id']))}'>{pyramid_svg(p, labels)}<figcaption>{caption}</figcaption>"
            f"<details><summary>{e(tx['band'])}</summary>{table}</details></figure>"
        )
    parts.append("</div>")
    return "".join(parts)


def _backtest_section(backtest: dict[str, Any], lang: Lang) -> str:
    tx, e = TEXTS[lang], html.escape
    intro = tx["backtest_intro"].format(
        fit_until=backtest["fit_until"],
        target_year=backtest["target_year"],
        mape=_fmt(backtest["mape"], lang, 2),
        baseline=_fmt(backtest["baseline_mape"], lang, 2),
    )
    labels = {"title": tx["backtest"], "projected": tx["projected"], "no_change": tx["no_change"]}
    return f"<h2 id='backtest'>{e(tx['backtest'])}</h2><p>{e(intro)}</p>" + backtest_svg(backtest["districts"], labels)


def _persona_section(personas: list[dict[str, Any]], lang: Lang) -> str:
    tx, e = TEXTS[lang], html.escape
    parts = [
        f"<h2 id='personas'>{e(tx['personas'])}</h2><table><tr><th>{e(tx['persona'])}</th>"
        f"<th>{e(tx['households'])}</th><th>{e(tx['persons'])}</th></tr>"
    ]
    for p in personas:
        counts = [_fmt(v, lang) if v is not None else e(tx["few"]) for v in (p["households"], p["persons"])]
        parts.append(f"<tr><td>{e(p['name'])}</td><td>{counts[0]}</td><td>{counts[1]}</td></tr>")
    parts.append("</table>")
    return "".join(parts)
