"""Inline SVG charts of the population report: no script, no external file, every label escaped.

- :func:`pyramid_svg`: one area's synthetic pyramid (men left, women right, one bar per single year) with the
  register's bands as an outline (persons per year of the band, split by the synthetic sex ratio of the band).
- :func:`srmse_svg`: the fit's SRMSE per control as bars against the level's target; hold-outs hatched.
- :func:`backtest_svg`: projected against observed totals per district.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from twin3d.population.pyramids import TOP_AGE

SYNTHETIC_MEN, SYNTHETIC_WOMEN, REGISTER, TARGET = "#5b8db8", "#d98c5f", "#222", "#b00"


def _number(value: float, digits: int = 0) -> str:
    return f"{value:.{digits}f}"


def pyramid_svg(pyramid: dict[str, Any], labels: dict[str, str], width: int = 320, bar: float = 2.4) -> str:
    """One area's pyramid; ``labels`` holds ``men``, ``women``, ``register``, ``hidden``, ``title``."""
    e = html.escape
    years = TOP_AGE + 1
    top, axis = 18, 16
    height = top + years * bar + axis
    half = width / 2
    men = [m if m is not None else 0 for m in pyramid["male"]]
    women = [w if w is not None else 0 for w in pyramid["female"]]
    register = _register_sides(pyramid)
    largest = max([*men, *women, *(r for pair in register for r in pair if r is not None), 1])
    scale = (half - 6) / largest

    def y_of(age: int) -> float:
        return top + (TOP_AGE - age) * bar

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_number(height)}" width="{width}" '
        f'height="{_number(height)}" role="img" aria-label="{e(labels["title"])}">',
        f'<text x="4" y="12" font-size="11">{e(labels["men"])}</text>',
        f'<text x="{width - 4}" y="12" font-size="11" text-anchor="end">{e(labels["women"])}</text>',
    ]
    for age in range(years):
        y = _number(y_of(age), 1)
        h = _number(bar * 0.9, 2)
        if pyramid["male"][age] is None or pyramid["female"][age] is None:
            parts.append(
                f'<rect x="{half - 4}" y="{y}" width="8" height="{h}" fill="#ccc"><title>{age}: '
                f"{e(labels['hidden'])}</title></rect>"
            )
            continue
        m, w = men[age] * scale, women[age] * scale
        parts.append(
            f'<rect x="{_number(half - m, 1)}" y="{y}" width="{_number(m, 1)}" height="{h}" fill="{SYNTHETIC_MEN}">'
            f"<title>{age}: {men[age]}</title></rect>"
            f'<rect x="{half}" y="{y}" width="{_number(w, 1)}" height="{h}" fill="{SYNTHETIC_WOMEN}">'
            f"<title>{age}: {women[age]}</title></rect>"
        )
    for band, (left, right) in zip(pyramid["register"], register, strict=True):
        if left is None or right is None:
            continue
        # Each band as an open box per side: its width is the register's persons per year of the band.
        y0, y1 = _number(y_of(band["hi"]), 1), _number(y_of(band["lo"]) + bar, 1)
        xl, xr = _number(half - left * scale, 1), _number(half + right * scale, 1)
        parts.append(
            f'<path d="M{half},{y0}H{xl}V{y1}H{half}M{half},{y0}H{xr}V{y1}H{half}" stroke="{REGISTER}" '
            f'stroke-width="1.2" fill="none">'
            f"<title>{e(labels['register'])} {band['lo']}-{band['hi']}: {band['per_year']}</title></path>"
        )
    for age in range(0, years, 20):
        parts.append(f'<text x="{half + 2}" y="{_number(y_of(age) + bar, 1)}" font-size="9">{age}</text>')
    parts.append(f'<line x1="{half}" x2="{half}" y1="{top}" y2="{_number(top + years * bar)}" stroke="#666"/>')
    parts.append("</svg>")
    return "".join(parts)


def _register_sides(pyramid: dict[str, Any]) -> list[tuple[float | None, float | None]]:
    """Per register band: its persons per year split into men and women by the band's synthetic sex ratio."""
    out: list[tuple[float | None, float | None]] = []
    for band in pyramid["register"]:
        men = [m for m in pyramid["male"][band["lo"] : band["hi"] + 1] if m is not None]
        women = [w for w in pyramid["female"][band["lo"] : band["hi"] + 1] if w is not None]
        total = sum(men) + sum(women)
        if band["per_year"] is None or total == 0:
            out.append((None, None))
            continue
        share = sum(men) / total
        out.append((band["per_year"] * share, band["per_year"] * (1 - share)))
    return out


def srmse_svg(controls: Sequence[dict[str, Any]], target: float, labels: dict[str, str], width: int = 600) -> str:
    """Horizontal bars of SRMSE per control with the level's target as a red line; hold-outs drawn hatched."""
    e = html.escape
    row, left = 16, 230
    height = 10 + row * len(controls) + 18
    largest = max([c["srmse"] for c in controls] + [target * 1.5, 1e-9])
    scale = (width - left - 40) / largest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(labels["title"])}">',
        '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="2" height="4" fill="#888"/></pattern></defs>',
    ]
    for i, c in enumerate(controls):
        y = 10 + i * row
        fill = "url(#hatch)" if c["holdout"] else ("#5b8db8" if c["srmse"] <= target else "#c66")
        name = c["control"] + (f" ({labels['holdout']})" if c["holdout"] else "")
        parts.append(
            f'<text x="{left - 4}" y="{y + 11}" font-size="11" text-anchor="end">{e(name)}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{_number(c["srmse"] * scale, 1)}" height="{row - 4}" fill="{fill}">'
            f"<title>{e(name)}: {c['srmse']:.4f}</title></rect>"
            f'<text x="{_number(left + c["srmse"] * scale + 3, 1)}" y="{y + 11}" font-size="10">{c["srmse"]:.3f}</text>'
        )
    x = _number(left + target * scale, 1)
    bottom = 10 + row * len(controls)
    parts.append(f'<line x1="{x}" x2="{x}" y1="6" y2="{bottom}" stroke="{TARGET}" stroke-dasharray="3 2"/>')
    parts.append(
        f'<text x="{x}" y="{bottom + 13}" font-size="10" fill="{TARGET}" text-anchor="middle">'
        f"{e(labels['target'])} {target}</text></svg>"
    )
    return "".join(parts)


def backtest_svg(rows: Sequence[dict[str, Any]], labels: dict[str, str], width: int = 520) -> str:
    """Per district: the error of the projection (and of "no change") against the observed total, in percent."""
    e = html.escape
    row, left = 16, 170
    height = 10 + row * len(rows) + 20
    largest = max([abs(r["error_pct"]) for r in rows] + [abs(r["baseline_error_pct"]) for r in rows] + [1.0])
    half = left + (width - left) / 2
    scale = ((width - left) / 2 - 10) / largest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{e(labels["title"])}">'
    ]
    for i, r in enumerate(rows):
        y = 10 + i * row
        for value, colour, offset, thick in (
            (r["baseline_error_pct"], "#bbb", 2, 5),
            (r["error_pct"], "#5b8db8", 7, 6),
        ):
            x0 = half + min(0.0, value) * scale
            parts.append(
                f'<rect x="{_number(x0, 1)}" y="{y + offset}" width="{_number(abs(value) * scale, 1)}" '
                f'height="{thick}" fill="{colour}"><title>{e(r["name"])}: {value:+.1f} %</title></rect>'
            )
        parts.append(f'<text x="{left - 4}" y="{y + 12}" font-size="11" text-anchor="end">{e(r["name"])}</text>')
    bottom = 10 + row * len(rows)
    parts.append(f'<line x1="{half}" x2="{half}" y1="6" y2="{bottom}" stroke="#666"/>')
    parts.append(
        f'<text x="{left}" y="{bottom + 14}" font-size="10">'
        f'<tspan fill="#5b8db8">■</tspan> {e(labels["projected"])}  <tspan fill="#999">■</tspan> '
        f"{e(labels['no_change'])}</text></svg>"
    )
    return "".join(parts)
