// The population panel and its layer's state: persona and resolution controls, legend, the picked cell and the
// persona catalogue. Text is always set with textContent, so data from the server is rendered inert.

import { api } from "./api.js";
import { currentLang, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import {
  ALL,
  DEFAULT_RESOLUTION,
  MEAN_AREA_KM2,
  RESOLUTIONS,
  hexToRgb,
  isPopulationLayer,
  personaDescription,
  personaLabel,
  personaName,
  populationLayers,
  prepareView,
  resolutionForZoom,
  tallest,
} from "./population.js";

const AUTO = "auto";

function swatch(color) {
  const node = el("span", { class: "swatch", "aria-hidden": "true" });
  node.style.background = `rgb(${color.join(",")})`;
  return node;
}

export class PopulationPanel {
  // probe: the test probe (window.__twin3d); onChange: redraw the map; onError: report a failure.
  constructor({ probe, onChange, onError }) {
    this.probe = probe;
    this.onChange = onChange;
    this.onError = onError;
    this.dom = {
      panel: document.getElementById("population-panel"),
      persona: document.getElementById("population-persona"),
      resolution: document.getElementById("population-resolution"),
      legendLabel: document.getElementById("population-legend-label"),
      legend: document.getElementById("population-legend"),
      note: document.getElementById("population-note"),
      cell: document.getElementById("population-cell"),
      catalogue: document.getElementById("persona-catalogue"),
      report: document.getElementById("population-report"),
    };
    this.dom.persona.addEventListener("change", () => this.choose({ persona: this.dom.persona.value }));
    this.dom.resolution.addEventListener("change", () => this.choose({ choice: this.dom.resolution.value }));
    Object.assign(this, { visible: false, persona: ALL, choice: String(DEFAULT_RESOLUTION), zoom: null });
    this.reset(null);
  }

  reset(twin) {
    Object.assign(this, {
      twin,
      catalogue: [],
      summary: null,
      view: null,
      selected: null,
      cache: new Map(),
      request: 0,
    });
    Object.assign(this.probe, {
      populationCells: 0,
      populationPersons: 0,
      populationLoads: 0,
      populationDrawn: 0,
      lastPopulationCell: null,
    });
  }

  get available() {
    return this.catalogue.length > 0;
  }

  // The finest resolution the server shows this caller (the public may be kept at a coarser one).
  get maxResolution() {
    return this.summary?.max_resolution ?? RESOLUTIONS.at(-1);
  }

  get resolution() {
    if (this.choice !== AUTO) return Math.min(Number(this.choice), this.maxResolution);
    return Math.min(this.zoom === null ? DEFAULT_RESOLUTION : resolutionForZoom(this.zoom), this.maxResolution);
  }

  // Open a twin; `initial` ({visible, persona, choice}) comes from the permalink.
  async open(twin, initial = {}) {
    this.reset(twin);
    this.visible = Boolean(initial.visible);
    this.persona = initial.persona ?? ALL;
    this.choice = initial.choice ?? String(DEFAULT_RESOLUTION);
    this.dom.panel.hidden = !twin.counts?.personas;
    if (this.dom.panel.hidden) return;
    const [catalogue, summary] = await Promise.all([api.personas(twin.name), api.populationSummary(twin.name)]);
    if (this.twin !== twin) return;
    Object.assign(this, { catalogue, summary });
    if (this.persona !== ALL && !catalogue.some((p) => p.id === this.persona)) this.persona = ALL;
    if (this.choice !== AUTO && !RESOLUTIONS.includes(Number(this.choice))) this.choice = String(DEFAULT_RESOLUTION);
    this.relabel();
    if (this.visible) await this.refresh();
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible && this.available) this.refresh().catch(this.onError);
    else this.onChange();
  }

  // A new persona or resolution; choosing a persona also shows the layer, which is what the person asked for.
  choose({ persona, choice }) {
    if (persona !== undefined) this.persona = persona;
    if (choice !== undefined) this.choice = choice;
    this.selected = null;
    this.renderCell();
    if (persona !== undefined && !this.visible) {
      this.visible = true;
      this.onChange({ toggles: true });
    }
    this.refresh().catch(this.onError);
  }

  onZoom(zoom) {
    const before = this.resolution;
    this.zoom = zoom;
    if (this.choice === AUTO && this.visible && this.available && this.resolution !== before) {
      this.refresh().catch(this.onError);
    }
  }

  async refresh() {
    if (!this.available || !this.visible) return;
    const { twin, persona, resolution } = this;
    const key = `${persona}|${resolution}`;
    const request = ++this.request;
    if (!this.cache.has(key)) this.cache.set(key, api.populationCells(twin.name, persona, resolution));
    let rows;
    try {
      rows = await this.cache.get(key);
    } catch (error) {
      this.cache.delete(key);
      throw error;
    }
    if (request !== this.request || this.twin !== twin) return; // a newer choice or another twin meanwhile
    this.view = prepareView(rows, persona, resolution, this.catalogue);
    Object.assign(this.probe, {
      populationCells: this.view.rows.length,
      populationPersons: this.view.rows.reduce((sum, r) => sum + r.persons, 0),
      populationPersona: persona,
      populationResolution: resolution,
      populationTallest: tallest(this.view, twin.origin.height),
      populationLoads: this.probe.populationLoads + 1,
    });
    this.renderLegend();
    this.onChange();
  }

  layers() {
    return this.available ? populationLayers(this.twin, this.view, this.visible, this.selected?.h3 ?? null) : [];
  }

  // A click on the map: true when it hit a population cell (its counts are shown in the panel).
  pick(info) {
    if (!isPopulationLayer(info.layer) || !info.object) return false;
    this.selected = info.object;
    this.probe.lastPopulationCell = info.object.h3;
    this.renderCell();
    this.onChange();
    return true;
  }

  tooltip(info) {
    if (!isPopulationLayer(info.layer) || !info.object) return null;
    const row = info.object;
    const lines = [
      personaLabel(row.persona, this.catalogue),
      `${t("persons")}: ${formatNumber(row.persons)}`,
      `${t("households")}: ${formatNumber(row.households)}`,
    ];
    if (row.cell_resolution < this.view?.resolution) lines.push(t("mergedAt", { r: row.cell_resolution }));
    return { text: lines.join("\n") };
  }

  // The permalink's part: "<persona>,<resolution or auto>" while the layer is shown.
  hashParam() {
    return this.visible && this.available ? `${this.persona},${this.choice}` : null;
  }

  relabel() {
    if (!this.available) return;
    // The statistician's report in the viewer's language.
    this.dom.report.href = `${api.populationReportUrl(this.twin.name)}?lang=${currentLang()}`;
    this.renderControls();
    this.renderLegend();
    this.renderCell();
    this.renderCatalogue();
  }

  renderControls() {
    const { persona, resolution } = this.dom;
    persona.replaceChildren(
      el("option", { value: ALL }, t("allPersons")),
      ...this.catalogue.map((p) => el("option", { value: p.id }, personaName(p))),
    );
    persona.value = this.persona;
    resolution.replaceChildren(
      el("option", { value: AUTO }, t("resolutionAuto")),
      ...RESOLUTIONS.filter((r) => r <= this.maxResolution).map((r) =>
        el("option", { value: String(r) }, t("resolutionOption", { r, area: formatNumber(MEAN_AREA_KM2[r], 3) })),
      ),
    );
    resolution.value = this.choice;
  }

  renderLegend() {
    const { legend, legendLabel, note } = this.dom;
    legend.replaceChildren();
    const view = this.view;
    if (!view) {
      legendLabel.textContent = "";
      note.hidden = true;
      return;
    }
    legendLabel.textContent = t("populationLegend", {
      persona: personaLabel(view.persona, this.catalogue),
      r: view.resolution,
    });
    legend.dataset.persona = view.persona;
    for (const entry of view.legend) {
      const item = el("li");
      item.append(swatch(entry.color), document.createTextNode(entry.label ?? t("noData")));
      legend.append(item);
    }
    note.hidden = view.merged.length === 0;
  }

  renderCell() {
    const container = this.dom.cell;
    container.replaceChildren();
    const row = this.selected;
    if (!row) {
      container.append(el("p", { class: "muted" }, t("clickCell")));
      return;
    }
    const dl = el("dl", { class: "building-attributes", "data-h3": row.h3 });
    const rows = [
      ["persona", personaLabel(row.persona, this.catalogue)],
      ["persons", formatNumber(row.persons)],
      ["households", formatNumber(row.households)],
      ["cell", row.cell_resolution < this.view?.resolution ? `${row.h3} (${t("mergedAt", { r: row.cell_resolution })})` : row.h3],
    ];
    for (const [key, value] of rows) dl.append(el("dt", {}, t(key)), el("dd", { "data-field": key }, String(value)));
    container.append(dl);
  }

  renderCatalogue() {
    const list = this.dom.catalogue;
    list.replaceChildren();
    const counts = new Map((this.summary?.personas ?? []).map((p) => [p.id, p]));
    for (const persona of this.catalogue) {
      const details = el("details", { "data-persona": persona.id });
      const summary = el("summary");
      summary.append(swatch(hexToRgb(persona.color)), el("span", { class: "persona-name" }, personaName(persona)));
      const body = el("div", { class: "persona-body" });
      body.append(el("p", {}, personaDescription(persona)));
      const published = counts.get(persona.id);
      if (published) {
        const text = t("publishedCounts", {
          persons: formatNumber(published.persons),
          households: formatNumber(published.households),
        });
        body.append(el("p", { class: "muted" }, text));
      }
      if (persona.needs?.length) {
        body.append(el("p", { class: "needs-title" }, `${t("needs")}:`));
        const needs = el("ul", { class: "needs" });
        for (const need of persona.needs) {
          const facility = t(`fac_${need.facility}`);
          needs.append(el("li", {}, t("needWithin", { facility, distance: formatNumber(need.max_distance_m) })));
        }
        body.append(needs);
      }
      const show = el("button", { type: "button", class: "link" }, t("showOnMap"));
      show.setAttribute("aria-label", `${personaName(persona)}: ${t("showOnMap")}`);
      show.addEventListener("click", () => {
        this.dom.persona.value = persona.id;
        this.choose({ persona: persona.id });
      });
      body.append(show);
      details.append(summary, body);
      list.append(el("li", {}, null));
      list.lastElementChild.append(details);
    }
  }
}
