"""The maps of the scenario report: per H3 cell, the change of one indicator, as SVG drawn here and as data for
the inlined deck.gl map (``report_map.js``).

Colours are decided here once, for both: the viewer's five diverging classes around zero, scaled to the largest
change of the map, so a report's static and interactive maps (and the viewer's) read the same way.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from h3ronpy.vector import cells_to_wkb_polygons

from twin3d.simulation.cells import CELL_TYPES
from twin3d.simulation.report_texts import MEASURES, TEXTS, facility_label, format_change, format_number

CELL_METRICS = ("persons", *CELL_TYPES)
# ColorBrewer RdBu as in the viewer's cell map (viewer/js/scenario_cells.js): blue is better or more people.
DIVERGING = ((5, 113, 176), (146, 197, 222), (247, 247, 247), (244, 165, 130), (202, 0, 32))
NO_VALUE = (200, 200, 200)
SVG_SIZE = 560.0


def diverging(value: float | None, limit: float, lower_is_better: bool) -> tuple[int, int, int]:
    """The viewer's five classes around zero, against the largest change of the map."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    if limit <= 0 or abs(value) < 0.05 * limit:
        return DIVERGING[2]
    better = value < 0 if lower_is_better else value > 0
    strong = abs(value) >= 0.5 * limit
    return DIVERGING[(0 if strong else 1) if better else (4 if strong else 3)]


@dataclass
class CellMap:
    """The cells of the result as rings (lon/lat), with one coloured series per indicator."""

    h3: list[str]
    resolution: list[int]
    rings: list[list[list[float]]]
    metrics: list[dict[str, Any]]
    bounds: tuple[float, float, float, float] | None


def _rings(cells: Sequence[dict[str, Any]]) -> list[list[list[float]]]:
    ids = np.array([int(c["h3"], 16) for c in cells], dtype=np.uint64)
    if not len(ids):
        return []
    polygons = shapely.from_wkb(np.asarray(cells_to_wkb_polygons(ids)).astype(object))
    return [[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords] for p in polygons]


def measure_shapes(measures: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The measures that have a place, numbered as in the report's list: a ring (lon/lat) or a point."""
    out = []
    for i, m in enumerate(measures, start=1):
        label = f"{i}. {MEASURES[lang].get(m.get('kind', ''), m.get('kind', ''))}"
        if isinstance(m.get("area"), dict):
            out.append({"n": i, "label": label, "ring": m["area"]["coordinates"][0]})
        elif isinstance(m.get("location"), dict):
            out.append({"n": i, "label": label, "point": m["location"]["coordinates"]})
    return out


def cell_map(result: dict[str, Any], measures: list[dict[str, Any]], lang: str) -> CellMap:
    """Rings and colours per cell and indicator; bounds fitted to the finest cells and the measures."""
    tx = TEXTS[lang]
    cells = sorted(result.get("cells", []), key=lambda c: c["cell_resolution"])  # coarse remainders drawn first
    rings = _rings(cells)
    metrics = []
    for metric in CELL_METRICS:
        field = "persons_delta" if metric == "persons" else f"{metric}_mean_m_delta"
        values = [c.get(field) for c in cells]
        limit = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
        lower = metric != "persons"
        label = (
            tx["metric_persons"]
            if metric == "persons"
            else tx["metric_walk"].format(facility=facility_label(metric, lang))
        )
        metrics.append(
            {
                "key": metric,
                "label": label,
                "lower_is_better": lower,
                "limit": limit,
                "changed": any(v is not None and round(v) != 0 for v in values),
                "values": [None if v is None else round(v, 1) for v in values],
                "colors": [list(diverging(v, limit, lower)) for v in values],
            }
        )
    finest = max((c["cell_resolution"] for c in cells), default=0)
    points = [pt for ring, c in zip(rings, cells, strict=True) if c["cell_resolution"] == finest for pt in ring]
    for shape in measure_shapes(measures, lang):
        points.extend(shape.get("ring") or [shape["point"]])
    bounds = None
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        bounds = (min(xs), min(ys), max(xs), max(ys))
    return CellMap([c["h3"] for c in cells], [c["cell_resolution"] for c in cells], rings, metrics, bounds)


def _projector(bounds: tuple[float, float, float, float]) -> tuple[Any, float, float]:
    """lon/lat -> SVG x/y: equirectangular at the middle latitude (a town is small), north up, fitted in a box."""
    w, s, e, n = bounds
    pad_x, pad_y = max((e - w) * 0.04, 1e-4), max((n - s) * 0.04, 1e-4)
    w, e, s, n = w - pad_x, e + pad_x, s - pad_y, n + pad_y
    kx = math.cos(math.radians((s + n) / 2))
    scale = min(SVG_SIZE / ((e - w) * kx), SVG_SIZE / (n - s))

    def project(lon: float, lat: float) -> str:
        return f"{(lon - w) * kx * scale:.1f},{(n - lat) * scale:.1f}"

    return project, (e - w) * kx * scale, (n - s) * scale


def _rgb(color: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def svg_map(cmap: CellMap, metric: dict[str, Any], measures: list[dict[str, Any]], lang: str) -> str:
    """One indicator's change per cell as an inline SVG (presentation attributes only: no style attributes, which
    the page's CSP would block)."""
    assert cmap.bounds is not None
    project, width, height = _projector(cmap.bounds)
    finest = max(cmap.resolution, default=0)
    e = html.escape
    parts = [
        f'<svg class="cell-map" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{e(metric["label"])}" data-metric="{e(metric["key"])}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for h3, res, ring, value, color in zip(
        cmap.h3, cmap.resolution, cmap.rings, metric["values"], metric["colors"], strict=True
    ):
        points = " ".join(project(x, y) for x, y in ring[:-1])
        opacity = "0.45" if res < finest else "0.9"
        title = f"{TEXTS[lang]['cell']} {h3}: {format_change(value, 0, lang)}"
        parts.append(
            f'<polygon points="{points}" fill="{_rgb(color)}" fill-opacity="{opacity}" stroke="#5a5a5a" '
            f'stroke-width="0.5"><title>{e(title)}</title></polygon>'
        )
    for shape in measure_shapes(measures, lang):
        if "ring" in shape:
            ring = shape["ring"]
            points = " ".join(project(x, y) for x, y in ring)
            parts.append(f'<polygon points="{points}" fill="none" stroke="#111" stroke-width="2"/>')
            cx = sum(p[0] for p in ring[:-1]) / max(len(ring) - 1, 1)
            cy = sum(p[1] for p in ring[:-1]) / max(len(ring) - 1, 1)
        else:
            cx, cy = shape["point"]
            x, y = project(cx, cy).split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="5" fill="#fff" stroke="#111" stroke-width="2"/>')
        x, y = project(cx, cy).split(",")
        parts.append(
            f'<text x="{float(x) + 7:.1f}" y="{float(y) - 7:.1f}" font-size="13" font-weight="bold" fill="#111" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{shape["n"]}<title>{e(shape["label"])}</title></text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def swatch(color: str, *, faint: bool = False, outline: bool = False) -> str:
    fill = "none" if outline else html.escape(color)
    stroke = "#111" if outline else "#5a5a5a"
    opacity = ' fill-opacity="0.45"' if faint else ""
    return (
        f'<svg class="swatch" viewBox="0 0 16 12" aria-hidden="true"><rect x="1" y="1" width="14" height="10" '
        f'fill="{fill}"{opacity} stroke="{stroke}" stroke-width="{2 if outline else 1}"/></svg>'
    )


def legend(metric: dict[str, Any], lang: str) -> str:
    """The classes of one map with their ranges, plus the grey, faint and outlined marks."""
    tx = TEXTS[lang]
    names = tx["walk_classes" if metric["lower_is_better"] else "persons_classes"].split("|")
    unit = " m" if metric["lower_is_better"] else ""
    low, high = format_number(0.05 * metric["limit"], 0, lang), format_number(0.5 * metric["limit"], 0, lang)
    middle = f"{low}\u2013{high}{unit}"  # an en dash between the numbers
    ranges = [f"≥ {high}{unit}", middle, f"< {low}{unit}", middle, f"≥ {high}{unit}"]
    items = [
        f"<li>{swatch(_rgb(c))}{html.escape(n)} ({r})</li>" for c, n, r in zip(DIVERGING, names, ranges, strict=True)
    ]
    items.append(f"<li>{swatch(_rgb(NO_VALUE))}{html.escape(tx['no_comparison'])}</li>")
    items.append(f"<li>{swatch(_rgb(DIVERGING[1]), faint=True)}{html.escape(tx['coarse'])}</li>")
    items.append(f"<li>{swatch('', outline=True)}{html.escape(tx['measure_outline'])}</li>")
    return f'<ul class="legend" aria-label="{html.escape(tx["legend"])}">{"".join(items)}</ul>'
