// The per-cell map of a scenario's results: persons, or the mean walk to a facility type, per H3 cell that the
// privacy gate published in both populations. Values of baseline or scenario share one colour scale so that the
// two halves of the side-by-side view can be read against each other; the change has a diverging scale.

import { PALETTE, colorFor, legendEntries, quantileBreaks } from "./classify.js";
import { formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { liftMatrix } from "./layers.js";

const { GeoJsonLayer } = globalThis.deck;

export const CELL_METRICS = ["persons", "kita", "school", "stop", "supermarket", "doctor"];
export const CELL_SHOW = ["change", "values"];

// ColorBrewer RdBu (5 classes), reversed where a rise is bad: blue is better (or more people), red is worse.
const DIVERGING = [
  [5, 113, 176],
  [146, 197, 222],
  [247, 247, 247],
  [244, 165, 130],
  [202, 0, 32],
];

export function cellField(metric, which) {
  return metric === "persons" ? `persons_${which}` : `${metric}_mean_m_${which}`;
}

// A change is coloured by its size against the largest change, in five symmetric classes around zero.
function divergingColor(delta, limit, lowerIsBetter) {
  if (!Number.isFinite(delta)) return [200, 200, 200];
  if (limit <= 0 || Math.abs(delta) < limit * 0.05) return DIVERGING[2];
  const better = lowerIsBetter ? delta < 0 : delta > 0;
  const strong = Math.abs(delta) >= limit * 0.5;
  return better ? DIVERGING[strong ? 0 : 1] : DIVERGING[strong ? 4 : 3];
}

export class CellMap {
  constructor() {
    Object.assign(this, { data: null, metric: "persons", show: "change" });
  }

  setData(geojson) {
    this.data = geojson;
  }

  clear() {
    this.data = null;
  }

  // Metrics some cell has a value for (a twin without doctors has no doctor distances).
  metrics() {
    const features = this.data?.features ?? [];
    return CELL_METRICS.filter((m) => features.some((f) => Number.isFinite(f.properties[cellField(m, "scenario")])));
  }

  values(which) {
    return (this.data?.features ?? []).map((f) => f.properties[cellField(this.metric, which)] ?? NaN);
  }

  // One scale for baseline and scenario values, so equal colours mean equal values on both sides.
  breaks() {
    return quantileBreaks([...this.values("baseline"), ...this.values("scenario")]);
  }

  limit() {
    return Math.max(0, ...this.values("delta").filter(Number.isFinite).map(Math.abs));
  }

  // `which`: "baseline" or "scenario" (the values of one side) or "delta" (the change map). One layer per H3
  // resolution: a coarse row (small cells merged by the privacy gate) lies under the finer rows inside it, so
  // each finer level is lifted a little higher and drawn over it.
  layers(twin, which) {
    if (!this.data) return [];
    const field = cellField(this.metric, which);
    const lowerIsBetter = this.metric !== "persons";
    const breaks = which === "delta" ? null : this.breaks();
    const limit = which === "delta" ? this.limit() : 0;
    const byResolution = new Map();
    for (const f of this.data.features) {
      const res = f.properties.cell_resolution;
      if (!byResolution.has(res)) byResolution.set(res, []);
      byResolution.get(res).push(f);
    }
    return [...byResolution.keys()].sort((a, b) => a - b).map(
      (res) =>
        new GeoJsonLayer({
          id: `scenario-cells-${which}-r${res}`,
          data: { type: "FeatureCollection", features: byResolution.get(res) },
          pickable: true,
          stroked: true,
          filled: true,
          modelMatrix: liftMatrix(twin.origin.height + 0.5 + (res - 5) * 0.5),
          getFillColor: (f) => {
            const value = f.properties[field];
            const colour = which === "delta" ? divergingColor(value, limit, lowerIsBetter) : colorFor(value, breaks);
            return [...colour, 200];
          },
          getLineColor: [70, 70, 70, 160],
          getLineWidth: 1,
          lineWidthUnits: "pixels",
          updateTriggers: { getFillColor: [this.metric, which, breaks, limit] },
        }),
    );
  }

  label() {
    return t(this.metric === "persons" ? "cellPersons" : "cellWalk", { facility: t(`fac_${this.metric}`) });
  }

  tooltip(info) {
    const p = info.object?.properties;
    if (!p || !info.layer?.id.startsWith("scenario-cells-")) return null;
    const fmt = (v) => (Number.isFinite(v) ? formatNumber(v) : t("noData"));
    const base = p[cellField(this.metric, "baseline")];
    const next = p[cellField(this.metric, "scenario")];
    const delta = p[cellField(this.metric, "delta")];
    const change = Number.isFinite(delta) ? `${delta > 0 ? "+" : ""}${formatNumber(delta)}` : t("noData");
    const lines = [this.label(), `${t("modeBaseline")}: ${fmt(base)}`, `${t("modeScenario")}: ${fmt(next)}`];
    return { text: [...lines, `${t("colChange")}: ${change}`].join("\n") };
  }

  // The controls (metric, values or change) and the legend; `onChange` redraws the map.
  render(container, { compare, onChange }) {
    container.replaceChildren();
    const metrics = this.metrics();
    if (!this.data || metrics.length === 0) return;
    if (!metrics.includes(this.metric)) this.metric = metrics[0];
    container.append(el("h4", { id: "scenario-cells-title" }, t("cellMapTitle")));
    const select = el("select", { id: "scenario-cell-metric", "aria-labelledby": "scenario-cells-title" });
    for (const m of metrics) {
      const option = el("option", { value: m }, m === "persons" ? t("persons") : t(`fac_${m}`));
      option.selected = m === this.metric;
      select.append(option);
    }
    select.addEventListener("change", () => {
      this.metric = select.value;
      onChange();
    });
    container.append(select);
    if (!compare) {
      const group = el("fieldset", { class: "segmented", id: "scenario-cell-show" });
      group.append(el("legend", {}, t("cellShow")));
      for (const s of CELL_SHOW) {
        const id = `scenario-cell-show-${s}`;
        const input = el("input", { type: "radio", name: "scenario-cell-show", id, value: s });
        input.checked = s === this.show;
        input.addEventListener("change", () => {
          if (!input.checked) return;
          this.show = s;
          onChange();
          document.getElementById(id)?.focus();
        });
        group.append(input, el("label", { for: id }, t(s === "change" ? "cellShowChange" : "cellShowValues")));
      }
      container.append(group);
    }
    container.append(this.legend(compare || this.show === "values"));
    const published = this.data.features.length;
    container.append(el("p", { class: "muted small", "data-field": "cells" }, t("cellNote", { n: published })));
  }

  legend(values) {
    const list = el("ol", { class: "legend", id: "scenario-cell-legend" });
    const swatch = (colour, text) => {
      const item = el("li");
      const box = el("span", { class: "swatch", "aria-hidden": "true" });
      box.style.background = `rgb(${colour.join(",")})`;
      item.append(box, el("span", {}, text));
      return item;
    };
    if (values) {
      const all = [...this.values("baseline"), ...this.values("scenario")];
      for (const e of legendEntries(all, this.breaks(), (v) => formatNumber(v), PALETTE)) {
        list.append(swatch(e.color, e.label ?? t("noData")));
      }
      return list;
    }
    const lowerIsBetter = this.metric !== "persons";
    const words = lowerIsBetter ? ["cellBetter", "cellWorse"] : ["cellMore", "cellFewer"];
    list.append(
      swatch(DIVERGING[0], t(words[0])),
      swatch(DIVERGING[2], t("cellSame")),
      swatch(DIVERGING[4], t(words[1])),
    );
    return list;
  }
}
