// The scenario panel: tools that draw or place measures on the map, the list of measures with their fields,
// "Berechnen" (store the scenario, fetch its results), the errors the server names per field, and the results.
// Text is always set with textContent, so data from the server is rendered inert.

import { api } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { el, keepingScroll } from "./panels.js";
import { categoryName } from "./names.js";
import { DrawTool, isMeasureLayer, measureLayers, measureTooltip } from "./scenario_draw.js";
import { FLOOD_FOCUS, floodLayers, floodMeasure } from "./flood_tool.js";
import { FACILITY_TYPES, buildSpec, drawnMeasure, exportResults, facilityMeasure } from "./scenario_model.js";
import { fromSpec, newMeasure, parseErrors, parseNumber } from "./scenario_model.js";
import { errorText, measureItem } from "./scenario_form.js";
import { CellMap } from "./scenario_cells.js";
import { againstBox, ScenarioLibrary } from "./scenario_library.js";
import { renderResults } from "./scenario_results.js";
import { personaLabel } from "./population.js";
import { infillLayers, infillMeasure, infillTooltip, installInfill, loadPlans } from "./scenario_infill.js";
import { clipped } from "./swipe.js";
import { BuildingTools, PICK_TOOLS, POINT_TOOLS } from "./scenario_buildings.js";
import { LANDMARK_TOOL, PlanningTools, planningLayers } from "./scenario_planning_tools.js";

const EDITABLE = "input, select, textarea, button, a, summary";

export class ScenarioPanel {
  // host: {probe, onChange({permalink}), onError, showLayer(key), unproject(x, y), centre(), facilities(),
  // districts()} — what the panel needs from the page.
  constructor(host) {
    this.host = host;
    this.probe = host.probe;
    this.tool = new DrawTool();
    this.cells = new CellMap();
    this.library = new ScenarioLibrary({ twin: () => this.twin, open: (id) => this.load(id), probe: this.probe });
    const $ = (id) => document.getElementById(id);
    this.dom = {
      panel: $("scenario-panel"),
      toggle: $("scenario-toggle"),
      body: $("scenario-body"),
      name: $("scenario-name"),
      description: $("scenario-description"),
      facilityType: $("scenario-facility-type"),
      drawing: $("scenario-drawing"),
      hint: $("draw-hint"),
      finish: $("draw-finish"),
      list: $("scenario-measures"),
      empty: $("scenario-empty"),
      years: $("scenario-years"),
      run: $("scenario-run"),
      status: $("scenario-status"),
      errors: $("scenario-errors"),
      results: $("scenario-results"),
    };
    this.dom.toggle.addEventListener("click", () => this.setOpen(this.dom.body.hidden));
    installInfill(() => this.add(infillMeasure("infill"), "default_gfz")); // before the tools are wired up
    this.buildings = new BuildingTools(this); // planned, placed and removed buildings: its tools too
    this.planning = new PlanningTools(this); // roads, high points, noise maps, a hazard's layer: its tools too
    for (const button of document.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.startTool(button.dataset.tool));
    }
    $("draw-centre").addEventListener("click", () => this.addPoint(this.host.centre()));
    $("draw-undo").addEventListener("click", () => this.undo());
    this.dom.finish.addEventListener("click", () => this.finish());
    $("draw-cancel").addEventListener("click", () => this.cancelTool());
    $("scenario-reset").addEventListener("click", () => this.clear());
    this.dom.run.addEventListener("click", () => this.run().catch((error) => this.fail(error)));
    for (const input of [this.dom.name, this.dom.description, this.dom.years]) {
      input.addEventListener("input", () => {
        if (input === this.dom.name) this.namedByUser = true;
        this.edited();
      });
    }
    document.addEventListener("keydown", (event) => this.keydown(event));
    Object.assign(this, { twin: null, catalogue: [], catalogueReady: Promise.resolve() });
    this.reset();
  }

  reset() {
    Object.assign(this, { measures: [], errors: [], results: null, scenarioId: null, mode: "scenario", stale: false });
    this.cells.clear();
    this.namedByUser = false;
    this.tool.cancel();
    this.dom.name.value = t("defaultScenarioName");
    this.dom.description.value = "";
    this.dom.years.value = "";
    Object.assign(this.probe, { scenarioId: null, lastResults: null, scenarioErrors: [], scenarioRuns: 0 });
    this.setState("idle");
    this.syncProbe();
  }

  // Open a twin; `scenarioId` comes from the permalink and restores that scenario and its results.
  async open(twin, scenarioId = null) {
    Object.assign(this, { twin, catalogue: [], catalogueReady: Promise.resolve() });
    this.reset();
    this.dom.panel.hidden = !twin.counts?.personas;
    this.relabel();
    if (this.dom.panel.hidden) return;
    const catalogue = api.personas(twin.name).then((list) => {
      if (this.twin === twin) this.catalogue = list;
    });
    this.catalogueReady = catalogue.catch(() => {}); // the table falls back to persona ids
    this.library.refresh().catch((error) => this.host.onError(error));
    loadPlans(twin).then(() => this.renderMeasures(), (error) => this.host.onError(error));
    this.planning.open(twin);
    if (!scenarioId) return catalogue;
    return this.load(scenarioId);
  }

  // Restore a stored scenario and its results (from the permalink or the library).
  async load(scenarioId) {
    const twin = this.twin;
    this.setOpen(true);
    this.setState("computing");
    let stored;
    let results;
    try {
      [stored, results] = await Promise.all([
        api.scenario(twin.name, scenarioId),
        api.scenarioResults(twin.name, scenarioId),
        this.catalogueReady,
      ]);
    } catch (error) {
      if (this.twin !== twin) return;
      if (error.status !== 404) throw error;
      this.showErrors([{ index: null, field: "body", type: "missing_scenario", message: t("scenarioNotFound") }], []);
      this.setState("error");
      return;
    }
    if (this.twin !== twin) return;
    const restored = fromSpec(stored.spec);
    this.measures = restored.measures;
    this.buildings.restore(this.measures);
    this.planning.restore(this.measures);
    this.dom.name.value = restored.name;
    this.dom.description.value = restored.description;
    this.dom.years.value = restored.years ?? "";
    this.library.choose(stored.spec.visibility);
    this.namedByUser = true;
    this.show(scenarioId, results);
  }

  setOpen(open) {
    this.dom.body.hidden = !open;
    this.dom.toggle.setAttribute("aria-expanded", String(open));
    document.getElementById("sidebar").classList.toggle("wide", open);
    if (!open) this.cancelTool();
  }

  // `message`: an i18n key and its values, shown under the buttons (and relabelled with the language).
  setState(state, message = null) {
    this.state = state;
    this.message = message;
    this.probe.scenarioState = state;
    const [key, vars = {}] = message ?? [];
    const shown = Object.entries(vars).map(([k, v]) => [k, typeof v === "number" ? formatNumber(v, 2) : v]);
    this.dom.status.textContent = key ? t(key, Object.fromEntries(shown)) : "";
    this.dom.run.disabled = state === "saving" || state === "computing";
  }

  syncProbe() {
    this.probe.drawnPoints = this.tool.points.map((p) => [...p]);
    this.probe.scenarioTool = this.tool.tool;
    this.probe.scenarioMeasures = this.measures.map((m) => m.kind);
  }

  // ---- drawing and placing -------------------------------------------------------------------------------

  startTool(tool) {
    this.tool.start(tool);
    this.buildings.pickUid = {};
    if (tool === "remove_facility") this.host.showLayer("facilities");
    this.updateDrawing();
  }

  cancelTool() {
    if (!this.tool.active) return;
    this.tool.cancel();
    this.updateDrawing();
  }

  addPoint(lonLat) {
    if (!lonLat || this.buildings.point(lonLat) || this.planning.point(lonLat)) return;
    if (this.tool.drawsPolygon) {
      if (this.tool.add(lonLat)) this.updateDrawing();
    } else if (this.tool.tool === "add_facility") {
      this.tool.cancel();
      this.add(facilityMeasure(this.dom.facilityType.value, lonLat), "capacity");
    }
  }

  undo() {
    if (this.tool.undo()) this.updateDrawing();
  }

  finish() {
    if (!this.tool.drawsPolygon) return;
    if (this.tool.points.length < this.tool.minPoints) {
      this.dom.hint.textContent = t(this.tool.texts.few);
      return;
    }
    const [kind, points] = [this.tool.tool, [...this.tool.points]];
    this.tool.cancel();
    const flood = floodMeasure(kind, points, this.twin) ?? infillMeasure(kind, points);
    const planned = this.buildings.finish(kind, points) ?? this.planning.finish(kind, points);
    this.add(...(planned ?? (flood ? [flood, FLOOD_FOCUS[kind] ?? "default_gfz"] : drawnMeasure(kind, points))));
  }

  updateDrawing() {
    const { tool } = this;
    this.dom.drawing.hidden = !tool.active;
    this.dom.finish.hidden = !tool.drawsPolygon;
    for (const button of this.dom.drawing.querySelectorAll(".polygon-only")) button.hidden = !tool.drawsPolygon;
    // By keyboard, a point, a facility's place or a building is taken at the map's centre.
    const centred = tool.drawsPolygon || POINT_TOOLS.includes(tool.tool) || tool.tool === LANDMARK_TOOL;
    this.dom.drawing.querySelector("#draw-centre").hidden = !centred;
    for (const button of document.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === tool.tool));
    }
    let hint = "";
    this.dom.finish.textContent = t(tool.texts.finish);
    if (tool.drawsPolygon) hint = t(tool.texts.hint, { what: t(`m_${tool.tool}`), count: tool.points.length });
    else if (tool.tool === "add_facility") hint = t("placePointHint", { what: t(`fac_${this.dom.facilityType.value}`) });
    else if (tool.tool === "remove_facility") hint = t("pickFacilityHint");
    else hint = this.buildings.hint(tool.tool) ?? this.planning.hint(tool.tool) ?? "";
    this.dom.hint.textContent = hint;
    this.dom.hint.hidden = !hint;
    this.syncProbe();
    this.host.onChange({ tool: true });
  }

  // A click on the map; true when the panel used it (a tool is active).
  click(info) {
    if (!this.tool.active) return false;
    if (this.tool.tool === "remove_facility") {
      const p = info.object?.properties;
      if (info.layer?.id.startsWith("facilities-") && p?.facility_id) this.closeFacility(info.object);
      return true;
    }
    this.addPoint(PICK_TOOLS.includes(this.tool.tool) ? this.host.roofAt(info.x, info.y) : this.host.unproject(info.x, info.y));
    return true;
  }

  dblclick(x, y) {
    if (!this.tool.drawsPolygon) return;
    this.tool.add(this.host.unproject(x, y));
    this.finish();
  }

  hover(info) {
    if (!this.tool.drawsPolygon || this.tool.points.length === 0) return false;
    this.tool.hover = info.x >= 0 && info.y >= 0 ? this.host.unproject(info.x, info.y) : null;
    return true;
  }

  keydown(event) {
    if (!this.tool.active) return;
    if (event.key === "Escape") {
      this.cancelTool();
      event.preventDefault();
      return;
    }
    if (event.target.closest?.(EDITABLE)) return;
    if (event.key === "Enter") {
      if (!this.tool.drawsPolygon) this.cancelTool();
      else this.finish();
      event.preventDefault();
    } else if (event.key === "Backspace") {
      this.undo();
      event.preventDefault();
    }
  }

  closeFacility(feature) {
    const id = feature.properties.facility_id;
    this.tool.cancel();
    if (!this.measures.some((m) => m.kind === "remove_facility" && m.facility_id === id)) {
      this.add(newMeasure("remove_facility", { facility_id: id }));
    } else this.updateDrawing();
  }

  // What the viewer shows of a closed facility: its name and place from the facilities layer.
  local(measure) {
    if (measure.kind === "remove_facility" && !measure.local) {
      const feature = this.host.facilities()?.features.find((f) => f.properties.facility_id === measure.facility_id);
      if (feature) {
        const { name, category } = feature.properties;
        measure.local = { name: name || categoryName(feature.properties) || category, at: feature.geometry.coordinates };
      }
    }
    return measure.local;
  }

  // ---- the measure list ----------------------------------------------------------------------------------

  add(measure, focusField = null) {
    this.measures.push(measure);
    this.edited();
    this.renderMeasures();
    this.updateDrawing();
    const target = focusField && document.getElementById(`m${measure.uid}-${focusField}`);
    (target ?? this.dom.list.lastElementChild?.querySelector("button"))?.focus();
  }

  remove(uid) {
    this.measures = this.measures.filter((m) => m.uid !== uid);
    this.edited();
    this.renderMeasures();
    this.syncProbe();
    this.host.onChange({});
    this.dom.list.querySelector("button")?.focus();
  }

  clear() {
    this.reset();
    this.relabel();
    this.host.onChange({ permalink: true });
  }

  edited() {
    if (this.results && !this.stale) {
      this.stale = true;
      this.renderResults();
    }
  }

  renderMeasures() {
    const list = this.dom.list;
    list.replaceChildren();
    this.dom.empty.hidden = this.measures.length > 0;
    const ctx = {
      errorFor: (uid, field) => this.errorFor(uid, field),
      local: (m) => this.local(m),
      districts: () => this.host.districts(),
      buildings: this.buildings,
      planning: this.planning,
      onRemove: (uid) => this.remove(uid),
      onEdit: ({ redraw, rerender }) => {
        this.edited();
        if (rerender) {
          this.renderMeasures();
          document.getElementById(rerender)?.focus();
        }
        if (redraw) this.host.onChange({});
      },
    };
    this.measures.forEach((m, i) => list.append(measureItem(m, i + 1, ctx)));
    this.renderErrorsAt("measures", this.dom.list, "scenario-measures-error");
  }

  // ---- running -------------------------------------------------------------------------------------------

  spec() {
    return buildSpec({
      name: this.dom.name.value,
      description: this.dom.description.value,
      measures: this.measures,
      years: parseNumber(this.dom.years.value),
      visibility: this.library.visibility,
    });
  }

  async run() {
    if (!this.twin || this.state === "saving" || this.state === "computing") return;
    this.cancelTool();
    const twin = this.twin;
    const { body, owners } = this.spec();
    this.showErrors([], owners);
    this.setState("saving", ["saving"]);
    let stored;
    try {
      stored = await api.saveScenario(twin.name, body);
    } catch (error) {
      if (error.status !== 422 || !error.body) throw error;
      this.showErrors(parseErrors(error.body), owners);
      this.setState("invalid", ["notSaved"]);
      this.focusFirstError();
      return;
    }
    if (this.twin !== twin) return;
    this.setState("computing", ["computing"]);
    const [results] = await Promise.all([api.scenarioResults(twin.name, stored.scenario_id), this.catalogueReady]);
    if (this.twin !== twin) return;
    this.probe.scenarioRuns += 1;
    this.show(stored.scenario_id, results);
    this.library.refresh().catch((error) => this.host.onError(error));
  }

  // Compare the open scenario with another stored one (null: with today).
  async compareWith(against) {
    const twin = this.twin;
    const results = await api.scenarioResults(twin.name, this.scenarioId, against);
    if (this.twin === twin) this.show(this.scenarioId, results, against);
  }

  show(scenarioId, results, against = null) {
    Object.assign(this, { scenarioId, results, against, stale: false, errors: [] });
    this.cells.clear();
    this.loadCells(scenarioId);
    Object.assign(this.probe, { scenarioId, lastResults: results, scenarioErrors: [] });
    this.renderMeasures();
    this.renderErrors();
    this.renderResults();
    this.dom.results.scrollIntoView({ block: "nearest" });
    this.setState("done", ["computed", { seconds: results.seconds ?? 0 }]);
    this.syncProbe();
    this.host.onChange({ permalink: true });
  }

  // The per-cell map comes as GeoJSON (the server draws the H3 outlines), after the KPI table is on screen.
  async loadCells(scenarioId) {
    const twin = this.twin;
    try {
      const geojson = await api.scenarioCells(twin.name, scenarioId, this.against);
      if (this.twin !== twin || this.scenarioId !== scenarioId) return;
      this.cells.setData(geojson);
      this.probe.scenarioCells = geojson.features.length;
      this.renderResults();
      this.host.onChange({});
    } catch (error) {
      this.host.onError(error);
    }
  }

  fail(error) {
    this.setState("error", ["runFailed", { message: error?.message ?? String(error) }]);
    this.host.onError(error);
  }

  // Errors from the server, each tied to a measure's uid (or the projection years, or the scenario's fields).
  showErrors(errors, owners) {
    this.errors = errors.map((e) => ({ ...e, owner: e.index === null ? "scenario" : (owners[e.index] ?? "scenario") }));
    this.probe.scenarioErrors = this.errors.map((e) => ({ index: e.index, field: e.field, message: e.message }));
    this.renderMeasures();
    this.renderErrors();
  }

  errorFor(owner, field) {
    const found = this.errors.filter((e) => e.owner === owner && e.field === field);
    return found.length ? found.map(errorText).join(" · ") : null;
  }

  renderErrorsAt(field, input, id) {
    const error = this.errorFor("scenario", field);
    document.getElementById(id)?.remove();
    input.removeAttribute("aria-invalid");
    if (!error) return;
    if (input.matches("input, select")) input.setAttribute("aria-invalid", "true");
    input.after(el("p", { class: "field-error", id }, error));
  }

  renderErrors() {
    const box = this.dom.errors;
    box.replaceChildren();
    box.hidden = this.errors.length === 0;
    this.renderErrorsAt("name", this.dom.name, "scenario-name-error");
    this.renderErrorsAt("description", this.dom.description, "scenario-description-error");
    const years = this.errors.filter((e) => e.owner === "projection").map(errorText);
    document.getElementById("scenario-years-error")?.remove();
    this.dom.years.toggleAttribute("aria-invalid", years.length > 0);
    if (years.length) {
      this.dom.years.after(el("p", { class: "field-error", id: "scenario-years-error" }, years.join(" · ")));
    }
    if (!this.errors.length) return;
    box.append(el("p", {}, t("errorsIntro")));
    const list = el("ul");
    for (const e of this.errors) {
      const field = e.field === "body" ? "" : t(`f_${e.field}`);
      const position = this.measures.findIndex((m) => m.uid === e.owner);
      const text =
        position >= 0
          ? t("errorAt", { n: position + 1, kind: t(`m_${this.measures[position].kind}`), field, message: errorText(e) })
          : field
            ? t("errorGeneral", { field, message: errorText(e) })
            : errorText(e);
      list.append(el("li", { "data-field": e.field }, text));
    }
    box.append(list);
  }

  focusFirstError() {
    const invalid = "#scenario-body input[aria-invalid=true], #scenario-body select[aria-invalid=true]";
    (document.querySelector(invalid) ?? this.dom.errors).focus();
  }

  renderResults() {
    renderResults(this.dom.results, {
      results: this.results,
      catalogue: this.catalogue,
      mode: this.mode,
      stale: this.stale,
      onMode: (mode) => {
        this.mode = mode;
        keepingScroll(this.dom.results, () => {
          this.renderResults();
          document.getElementById(`scenario-mode-${mode}`)?.focus({ preventScroll: true });
        });
        this.host.onChange({});
      },
      onExport: (format) => this.export(format),
      against: againstBox(this.library.entries, this.scenarioId, this.against, this.results, (id) =>
        this.compareWith(id).catch((error) => this.host.onError(error)),
      ),
      reportUrl: this.scenarioId ? api.scenarioReportUrl(this.twin.name, this.scenarioId) : null,
      renderCells: (container) =>
        this.cells.render(container, {
          compare: this.mode === "compare" || this.mode === "swipe",
          onChange: () => {
            keepingScroll(this.dom.results, () => this.renderResults());
            this.host.onChange({});
          },
        }),
    });
  }

  export(format) {
    const personaName = (id) => personaLabel(id, this.catalogue); // personaLabel names ALL "all persons" too
    exportResults(`twin3d-${this.twin.name}-scenario-${this.scenarioId.slice(0, 12)}`, this.results, personaName, format);
  }

  // ---- what the page asks --------------------------------------------------------------------------------

  layers() {
    if (!this.twin) return [this.buildings.mask(null, [], false)];
    for (const m of this.measures) this.local(m);
    const shown = !(this.results && this.mode === "baseline");
    const results = this.stale ? null : this.results; // flood and infill results: drawn after the cell map
    const flood = [...floodLayers(this.twin, this.measures, results, shown), ...infillLayers(this.twin, results, shown)];
    flood.push(...planningLayers(this.twin, this.measures, shown)); // roads and high points: over the cell map too
    const scenarioOnly = [...measureLayers(this.twin, this.measures, shown), ...this.buildings.layers(this.twin, this.measures, shown)];
    if (this.swipe) {
      const layers = [...scenarioOnly, ...this.cells.layers(this.twin, "scenario"), ...flood];
      return [...layers.map((layer) => clipped(layer, "right")), ...this.tool.layers(this.twin), ...this.cellLayers()];
    }
    return [...scenarioOnly, ...this.tool.layers(this.twin), ...this.cellLayers(), ...flood];
  }

  // Side by side and swipe: the baseline's cells on the left, the scenario's (and its measures) on the right.
  cellLayers() {
    if (!this.results || this.stale || !this.cells.data) return [];
    if (this.mode === "compare") return [...this.cells.layers(this.twin, "baseline"), ...this.cells.layers(this.twin, "scenario")];
    if (this.mode === "swipe") return this.cells.layers(this.twin, "baseline").map((layer) => clipped(layer, "left"));
    return this.cells.layers(this.twin, this.cells.show === "change" ? "delta" : this.mode);
  }

  get compare() {
    return Boolean(this.results && this.mode === "compare");
  }

  get swipe() {
    return Boolean(this.results && !this.stale && this.mode === "swipe");
  }

  tooltip(info) {
    const cell = this.cells.tooltip(info) ?? infillTooltip(info) ?? this.buildings.tooltip(info);
    if (cell) return cell;
    if (!isMeasureLayer(info.layer) || !info.object) return null;
    return measureTooltip(info.object, this.local(info.object));
  }

  get drawing() {
    return this.tool.active;
  }

  hashParam() {
    return this.scenarioId;
  }

  relabel() {
    const select = this.dom.facilityType;
    const chosen = select.value || "kita";
    select.replaceChildren(...FACILITY_TYPES.map((f) => el("option", { value: f }, t(`fac_${f}`))));
    select.value = chosen;
    if (!this.namedByUser) this.dom.name.value = t("defaultScenarioName");
    this.renderMeasures();
    this.renderErrors();
    this.renderResults();
    this.library.relabel();
    this.buildings.relabel();
    this.updateDrawing();
    this.setState(this.state, this.message);
  }
}
