"""The report's "who loses most, and why" and its newcomers table: the same result the viewer and the API show."""

from __future__ import annotations

import html
from typing import Any

from twin3d.simulation.report_texts import TEXTS, VERDICT_TEXTS, facility_label, format_change, format_number

SCALED = {"coverage_share": (100.0, 1), "supply_per_demand": (100.0, 1), "green_m2": (1.0, 1)}
"""Indicators shown in planners' units: percent, places per 100 persons of the demand group, m² with a decimal."""


EDGE_SHOWN = 0.05
"""Facility types whose edge-bound share (see simulation.data_edge) is at least this are named."""


def scaled(key: str, value: float | None) -> tuple[float | None, int]:
    """A value in the unit the report shows, with its digits."""
    factor, digits = SCALED.get(key, (1.0, 0))
    return (None if value is None else value * factor), digits


def _item(item: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    vx = VERDICT_TEXTS[lang]
    key = item["indicator"]
    (before, digits), (after, _), (change, _) = (scaled(key, item[f]) for f in ("baseline", "scenario", "delta"))
    line = vx["line"].format(
        who=names.get(item["persona"], (item["persona"], ""))[0],
        facility=facility_label(item["facility"], lang),
        indicator=vx["indicators"][key],
        before=format_number(before, digits, lang),
        after=format_number(after, digits, lang),
        change=format_change(change, digits, lang),
    )
    why = ", ".join(vx["causes"].get(c, c) for c in item.get("causes", []))
    because = f' <span class="muted">{html.escape(vx["because"].format(why=why))}</span>' if why else ""
    return f'<li data-indicator="{html.escape(key)}">{html.escape(line)}{because}</li>'


def assessment_section(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    """The residents' largest losses (and gains) with their causes, and the tolerance behind "unchanged"."""
    a = result.get("assessment")
    if not a:
        return ""
    vx, e = VERDICT_TEXTS[lang], html.escape
    gaps = result.get("data_gaps", {}).get("facility_types", [])
    types = ", ".join(facility_label(f, lang) for f in gaps)
    note = f'<p class="note" id="data-gaps">{e(vx["gaps"].format(types=types))}</p>' if gaps else ""
    edge = [g for g in result.get("data_gaps", {}).get("facility_edge", []) if g["share"] >= EDGE_SHOWN]
    if edge:
        shares = ", ".join(
            f"{facility_label(g['facility'], lang)} {format_number(g['share'] * 100, 0, lang)} %" for g in edge
        )
        note += f'<p class="note" id="data-edge">{e(vx["edge"].format(types=shares))}</p>'
    losses = "".join(_item(i, names, lang) for i in a["losses"])
    gains = "".join(_item(i, names, lang) for i in a["gains"])
    tolerances = a["tolerances"]
    tolerance = vx["tolerance"].format(
        m=format_number(tolerances["mean_distance_m"], 0, lang),
        pp=format_number(tolerances["coverage_share"] * 100, 1, lang),
        places=format_number(tolerances["supply_per_demand"] * 100, 1, lang),
    )
    parts = [f'<section class="assessment" id="assessment"><h2>{e(vx["title"])}</h2>{note}']
    parts.append(f'<ul class="losses">{losses}</ul>' if losses else f"<p>{e(vx['no_losses'])}</p>")
    if gains:
        parts.append(f'<h3>{e(vx["gains"])}</h3><ul class="gains">{gains}</ul>')
    unchanged = vx["unchanged"].format(n=a["unchanged"], of=a["compared"])
    parts.append(f'<p class="meta">{e(unchanged)} {e(tolerance)}</p></section>')
    return "".join(parts)


def newcomers_section(result: dict[str, Any], names: dict[str, tuple[str, str]], lang: str) -> str:
    """The newcomers' walks, coverage and places (scenario values: they have no baseline)."""
    rows = [k for k in result.get("kpis", []) if k.get("group") == "newcomers"]
    if not rows:
        return ""
    vx, tx, e = VERDICT_TEXTS[lang], TEXTS[lang], html.escape
    heads = [vx["persona"], tx["need"], vx["indicators"]["mean_distance_m"], vx["indicators"]["coverage_share"]]
    heads.append(vx["indicators"]["supply_per_demand"])
    head = "".join(f'<th scope="col"{" class=num" if i > 1 else ""}>{e(h)}</th>' for i, h in enumerate(heads))
    body = []
    for k in rows:
        cells = [
            format_number(*scaled(key, k[f"{key}_scenario"]), lang)
            for key in ("mean_distance_m", "coverage_share", "supply_per_demand")
        ]
        who = names.get(k["persona"], (k["persona"], ""))[0]
        body.append(
            f"<tr><td>{e(who)}</td><td>{e(facility_label(k['facility'], lang))}</td>"
            + "".join(f"<td class=num>{c}</td>" for c in cells)
            + "</tr>"
        )
    return (
        f'<h2 id="newcomers">{e(vx["newcomers"])}</h2><table class="kpi newcomers"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
