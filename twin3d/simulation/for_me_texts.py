"""The words of "Wie betrifft mich das?" (:mod:`twin3d.simulation.for_me`): one sentence per line and a summary,
German first and English, in the numbers and terms of the scenario report (:mod:`.report_texts`).

Example:
    >>> radius_text(1000.0, "de")
    'im Umkreis von 1 km'
"""

from __future__ import annotations

from typing import Any

from twin3d.simulation.greens import GREEN_REACH_M
from twin3d.simulation.report_texts import facility_label, format_change, format_number
from twin3d.simulation.verdicts import WALKING_M_PER_MIN

TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "walk": "{facility}: im Mittel {after} m zu Fuß (etwa {after_min} Min.), heute {before} m "
        "({change} m, {word}).",
        "walk_new": "{facility}: im Mittel {after} m zu Fuß (etwa {after_min} Min.); für heute fehlen Daten.",
        "coverage": "{facility} in höchstens {limit} m: für {after} % der Menschen wie Sie, heute {before} % "
        "({change} Prozentpunkte, {word}).",
        "coverage_new": "{facility} in höchstens {limit} m: für {after} % der Menschen wie Sie; "
        "für heute fehlen Daten.",
        "places": "{facility}: {after} Plätze je 100 {who}, heute {before} ({change}, {word}).",
        "places_new": "{facility}: {after} Plätze je 100 {who}; für heute fehlen Daten.",
        "children": "Kinder von {lo} bis {hi} Jahren",
        "adults": "Personen ab {lo} Jahren",
        "green": "Öffentliches Grün in {reach} m Fußweg: {after} m² je Einwohner, heute {before} m² ({change} m², "
        "{word}).",
        "exposed": "Im Gefahrenbereich des Szenarios liegen {after} % der Haushalte wie Ihrer hier.",
        "exposed_withheld": "Im Gefahrenbereich des Szenarios: zu wenige Haushalte für eine Zahl.",
        "better": "besser",
        "worse": "schlechter",
        "unchanged": "unverändert",
        "radius": "im Umkreis von {distance}",
        "whole": "im ganzen Zwilling",
        "intro": "Für {persona} {where} (rund {households} Haushalte, veröffentlichte Zahlen)",
        "sum_better": "{intro} wird es besser: {items}.",
        "sum_worse": "{intro} wird es schlechter: {items}.",
        "sum_mixed": "{intro} wird manches besser ({better}) und manches schlechter ({worse}).",
        "sum_unchanged": "{intro} ändert sich nichts Spürbares.",
        "sum_none": "{intro} lässt sich nichts vergleichen.",
        "too_few": "Im Zwilling wohnen zu wenige Haushalte wie Ihrer ({persona}), um etwas über sie zu sagen.",
        "up_mean_distance_m": "kürzere Wege",
        "down_mean_distance_m": "längere Wege",
        "up_coverage_share": "mehr in Reichweite",
        "down_coverage_share": "weniger in Reichweite",
        "up_supply_per_demand": "mehr Plätze",
        "down_supply_per_demand": "weniger Plätze",
        "up_green_m2": "mehr Grün je Einwohner",
        "down_green_m2": "weniger Grün je Einwohner",
    },
    "en": {
        "walk": "{facility}: {after} m on foot on average (about {after_min} min), today {before} m ({change} m, "
        "{word}).",
        "walk_new": "{facility}: {after} m on foot on average (about {after_min} min); no data for today.",
        "coverage": "{facility} within {limit} m: for {after} % of people like you, today {before} % "
        "({change} percentage points, {word}).",
        "coverage_new": "{facility} within {limit} m: for {after} % of people like you; no data for today.",
        "places": "{facility}: {after} places per 100 {who}, today {before} ({change}, {word}).",
        "places_new": "{facility}: {after} places per 100 {who}; no data for today.",
        "children": "children aged {lo} to {hi}",
        "adults": "persons aged {lo} and over",
        "green": "Public green within {reach} m on foot: {after} m² per resident, today {before} m² ({change} m², "
        "{word}).",
        "exposed": "{after} % of the households like yours here lie in the scenario's hazard area.",
        "exposed_withheld": "In the scenario's hazard area: too few households for a figure.",
        "better": "better",
        "worse": "worse",
        "unchanged": "unchanged",
        "radius": "within {distance}",
        "whole": "in the whole twin",
        "intro": "For {persona} {where} (about {households} households, published figures)",
        "sum_better": "{intro}, things get better: {items}.",
        "sum_worse": "{intro}, things get worse: {items}.",
        "sum_mixed": "{intro}, some things get better ({better}) and some worse ({worse}).",
        "sum_unchanged": "{intro}, nothing changes noticeably.",
        "sum_none": "{intro}, there is nothing to compare.",
        "too_few": "Too few households like yours ({persona}) live in the twin to say anything about them.",
        "up_mean_distance_m": "shorter walks",
        "down_mean_distance_m": "longer walks",
        "up_coverage_share": "more within reach",
        "down_coverage_share": "less within reach",
        "up_supply_per_demand": "more places",
        "down_supply_per_demand": "fewer places",
        "up_green_m2": "more green per resident",
        "down_green_m2": "less green per resident",
    },
}


def _label(facility: str, lang: str) -> str:
    text = facility_label(facility, lang)
    return text[:1].upper() + text[1:]


def radius_text(radius: float | None, lang: str) -> str:
    """The area in words: "im Umkreis von 500 m", "within 1 km", or the whole twin."""
    tx = TEXTS[lang]
    if radius is None:
        return tx["whole"]
    distance = f"{format_number(radius / 1000, 1 if radius % 1000 else 0, lang)} km" if radius >= 1000 else None
    return tx["radius"].format(distance=distance or f"{format_number(radius, 0, lang)} m")


def line_text(line: dict[str, Any], lang: str, *, ages: tuple[int, int] | None = None) -> str:
    """One line in plain language; ``line`` also carries ``limit_m`` (the persona's distance) for coverage."""
    tx = TEXTS[lang]
    key, before, after, delta = line["indicator"], line["baseline"], line["scenario"], line["delta"]
    word = tx.get(line["verdict"] or "", "")
    suffix = "" if before is not None else "_new"
    values: dict[str, Any] = {"facility": _label(line["facility"], lang), "word": word}
    if key == "mean_distance_m":
        values |= {"after_min": format_number(after / WALKING_M_PER_MIN, 0, lang) if after is not None else "?"}
        values |= {"before": format_number(before, 0, lang), "after": format_number(after, 0, lang)}
        return tx["walk" + suffix].format(**values, change=format_change(delta, 0, lang))
    if key == "coverage_share":
        values |= {"limit": format_number(line.get("limit_m"), 0, lang)}
        values |= {"before": _percent(before, lang), "after": _percent(after, lang)}
        return tx["coverage" + suffix].format(**values, change=format_change(_times(delta, 100), 1, lang))
    if key == "supply_per_demand":
        lo, hi = ages or (0, 120)
        who = tx["children"].format(lo=lo, hi=hi) if hi < 18 else tx["adults"].format(lo=lo)
        values |= {
            "before": format_number(_times(before, 100), 1, lang),
            "after": format_number(_times(after, 100), 1, lang),
        }
        return tx["places" + suffix].format(**values, who=who, change=format_change(_times(delta, 100), 1, lang))
    if key == "green_m2":
        values |= {"before": format_number(before, 1, lang), "after": format_number(after, 1, lang)}
        reach = format_number(GREEN_REACH_M, 0, lang)
        return tx["green"].format(**values, reach=reach, change=format_change(delta, 1, lang))
    if after is None:
        return tx["exposed_withheld"]
    return tx["exposed"].format(after=_percent(after, lang))


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _percent(share: float | None, lang: str) -> str:
    return format_number(_times(share, 100), 0, lang)


def _items(lines: list[dict[str, Any]], judged: str, lang: str) -> str:
    """What got better (or worse), by facility: "Kita: kürzere Wege, mehr Plätze; Grünfläche: mehr Grün …"."""
    tx, prefix = TEXTS[lang], "up_" if judged == "better" else "down_"
    by_facility: dict[str, list[str]] = {}
    for line in lines:
        if line["verdict"] == judged:
            by_facility.setdefault(line["facility"], []).append(tx[prefix + line["indicator"]])
    return "; ".join(f"{_label(f, lang)}: {', '.join(words)}" for f, words in by_facility.items())


def summary_text(
    persona: str,
    radius: float | None,
    households: int | None,
    judged: str | None,
    lines: list[dict[str, Any]],
    *,
    lang: str,
) -> str:
    """The one sentence a resident reads first: who, where, and what got better or worse."""
    tx = TEXTS[lang]
    if households is None:
        return tx["too_few"].format(persona=persona)
    intro = tx["intro"].format(
        persona=persona, where=radius_text(radius, lang), households=format_number(households, 0, lang)
    )
    if judged in ("better", "worse"):
        return tx[f"sum_{judged}"].format(intro=intro, items=_items(lines, judged, lang))
    if judged == "mixed":
        return tx["sum_mixed"].format(
            intro=intro, better=_items(lines, "better", lang), worse=_items(lines, "worse", lang)
        )
    return tx["sum_unchanged" if judged == "unchanged" else "sum_none"].format(intro=intro)
