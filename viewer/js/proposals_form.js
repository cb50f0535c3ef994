// Drafting a proposal: title, topic and text; where (a place clicked on the map or at its centre, or an area
// drawn as a polygon); optional measures in the scenario vocabulary drawn with the scenario panel's own tools
// (DrawTool, the measure models and their small forms), so that a proposal's Kita is the same measure a
// scenario's Kita is; and the voluntary self-description. The server is the judge of validity: its answers are
// shown next to the field they name. Text is set with textContent only.

import { currentLang, formatNumber, showText, t } from "./i18n.js";
import { el } from "./panels.js";
import { proposalsApi } from "./proposals_api.js";
import { DRAFT_LAYER, draftLayers } from "./proposals_layers.js";
import { DrawTool, isMeasureLayer, measureLayers, measureTooltip } from "./scenario_draw.js";
import { errorText, measureItem } from "./scenario_form.js";
import { FACILITY_TYPES, apiMeasure, areaHa, drawnMeasure, facilityMeasure, lonLat, parseErrors, polygonOf } from "./scenario_model.js";

const MEASURE_TOOLS = ["add_facility", "green_space", "new_housing"];
const DRAFT_PREFIX = "proposals-draft-measures";
const EDITABLE = "input, select, textarea, button, a, summary";

// The scenario panel's tool, which also draws the proposal's own area (a polygon that is no measure).
class ProposalDrawTool extends DrawTool {
  get drawsPolygon() {
    return this.tool === "area" || super.drawsPolygon;
  }
}

export class ProposalForm {
  // host: {twin(), config(), probe (window.__twin3d.proposals), centre(), unproject(x, y), districts(),
  // onToolStart() (other panels put their tools away), onChange({tool}) (redraw; the drawing mode changed),
  // onSubmitted(created), onError(error)}
  constructor(host) {
    this.host = host;
    this.tool = new ProposalDrawTool("proposals-draw");
    const $ = (id) => document.getElementById(id);
    this.dom = {
      start: $("proposal-start"),
      refusal: $("proposal-refusal"),
      form: $("proposal-form"),
      title: $("proposal-title-input"),
      topic: $("proposal-topic"),
      text: $("proposal-text"),
      count: $("proposal-text-count"),
      where: $("proposal-where"),
      whereCentre: $("proposal-where-centre"),
      whereClear: $("proposal-where-clear"),
      facilityType: $("proposal-facility-type"),
      measures: $("proposal-measures"),
      empty: $("proposal-measures-empty"),
      drawing: $("proposal-drawing"),
      hint: $("proposal-draw-hint"),
      finish: $("proposal-draw-finish"),
      age: $("proposal-age"),
      household: $("proposal-household"),
      website: $("proposal-website"),
      submit: $("proposal-submit"),
      cancel: $("proposal-cancel"),
      status: $("proposal-form-status"),
    };
    const d = this.dom;
    d.start.addEventListener("click", () => (this.open ? this.close() : this.begin()));
    d.cancel.addEventListener("click", () => this.close());
    d.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit().catch((error) => this.fail(error));
    });
    for (const button of d.form.querySelectorAll("[data-proposal-tool]")) {
      button.addEventListener("click", () => this.startTool(button.dataset.proposalTool));
    }
    d.whereCentre.addEventListener("click", () => this.setLocation(this.host.centre()));
    d.whereClear.addEventListener("click", () => {
      Object.assign(this, { location: null, area: null });
      this.updateWhere();
      d.form.querySelector("[data-proposal-tool=point]").focus();
    });
    $("proposal-draw-centre").addEventListener("click", () => this.addPoint(this.host.centre()));
    $("proposal-draw-undo").addEventListener("click", () => this.tool.undo() && this.updateDrawing());
    d.finish.addEventListener("click", () => this.finish());
    $("proposal-draw-cancel").addEventListener("click", () => this.cancelTool());
    d.text.addEventListener("input", () => this.updateCount());
    for (const input of [d.title, d.text, d.topic]) input.addEventListener("input", () => this.clearError(input));
    document.addEventListener("keydown", (event) => this.keydown(event));
    this.reset();
  }

  reset() {
    Object.assign(this, { open: false, location: null, area: null, measures: [], errors: [] });
    this.tool.cancel();
    const d = this.dom;
    d.title.value = "";
    d.text.value = "";
    d.age.value = "";
    d.household.value = "";
    d.website.value = "";
    d.form.hidden = true;
    d.drawing.hidden = true;
    d.start.setAttribute("aria-expanded", "false");
    d.refusal.hidden = true;
    this.renderMeasures();
    this.updateWhere();
    this.updateCount();
  }

  get drawing() {
    return this.tool.active;
  }

  // "Vorschlag machen": first a participant token (or the server's refusal, shown instead of the form).
  async begin() {
    const twin = this.host.twin();
    if (!twin || this.open) return;
    const d = this.dom;
    d.refusal.hidden = true;
    d.start.setAttribute("aria-busy", "true");
    try {
      await proposalsApi.ensureParticipant(twin.name);
    } catch (error) {
      if (!error.status) throw error;
      d.refusal.replaceChildren(el("strong", {}, t("placeRefused")), " ", error.message);
      d.refusal.hidden = false;
      this.host.probe.refusal = { status: error.status, reason: error.reason };
      d.refusal.focus();
      return;
    } finally {
      d.start.removeAttribute("aria-busy");
    }
    if (this.host.twin() !== twin) return;
    this.open = true;
    d.form.hidden = false;
    d.status.textContent = "";
    d.start.setAttribute("aria-expanded", "true");
    this.sync();
    d.title.focus();
  }

  close() {
    const hadFocus = this.dom.form.contains(document.activeElement);
    this.reset();
    if (hadFocus) this.dom.start.focus();
    this.sync({ tool: true });
  }

  // ---- where, and the measures -------------------------------------------------------------------------------

  startTool(tool) {
    if (this.tool.tool === tool) return this.cancelTool();
    this.tool.start(tool);
    this.host.onToolStart();
    this.updateDrawing();
    document.getElementById("proposal-draw-centre").focus();
  }

  cancelTool() {
    if (!this.tool.active) return;
    const tool = this.tool.tool;
    this.tool.cancel();
    this.updateDrawing();
    this.dom.form.querySelector(`[data-proposal-tool=${tool}]`)?.focus();
  }

  addPoint(lonLat) {
    if (!lonLat || !this.tool.active) return;
    if (this.tool.drawsPolygon) {
      if (this.tool.add(lonLat)) this.updateDrawing();
      return;
    }
    const tool = this.tool.tool;
    this.tool.cancel();
    if (tool === "point") {
      this.updateDrawing();
      this.setLocation(lonLat);
      this.dom.form.querySelector("[data-proposal-tool=point]").focus();
    } else if (tool === "add_facility") {
      this.addMeasure(facilityMeasure(this.dom.facilityType.value, lonLat), "capacity");
    }
  }

  setLocation(point) {
    if (!point) return;
    const [lon, lat] = lonLat(point);
    this.location = { lon, lat };
    this.updateWhere();
    this.sync();
  }

  finish() {
    if (!this.tool.drawsPolygon) return;
    if (this.tool.points.length < this.tool.minPoints) {
      this.dom.hint.textContent = t(this.tool.texts.few);
      return;
    }
    const [kind, points] = [this.tool.tool, [...this.tool.points]];
    this.tool.cancel();
    if (kind === "area") {
      this.area = polygonOf(points);
      this.updateDrawing();
      this.updateWhere();
      this.dom.form.querySelector("[data-proposal-tool=area]").focus();
      return;
    }
    this.addMeasure(...drawnMeasure(kind, points));
  }

  addMeasure(measure, focusField) {
    this.measures.push(measure);
    this.errors = this.errors.filter((e) => e.owner !== measure.uid);
    this.updateDrawing();
    this.renderMeasures();
    this.updateWhere();
    const target = focusField && document.getElementById(`m${measure.uid}-${focusField}`);
    (target ?? this.dom.measures.lastElementChild?.querySelector("button"))?.focus();
  }

  removeMeasure(uid) {
    this.measures = this.measures.filter((m) => m.uid !== uid);
    this.renderMeasures();
    this.updateWhere();
    this.sync();
    (this.dom.measures.querySelector("button") ?? this.dom.form.querySelector("[data-proposal-tool=add_facility]")).focus();
  }

  updateDrawing() {
    const { tool } = this;
    const d = this.dom;
    d.drawing.hidden = !tool.active;
    for (const button of d.drawing.querySelectorAll(".polygon-only")) button.hidden = !tool.drawsPolygon;
    // The drawing's buttons right below the tools that started it (where, or the measures).
    const box = MEASURE_TOOLS.includes(tool.tool) ? "proposal-measures-box" : "proposal-where-box";
    if (tool.active && d.drawing.previousElementSibling?.id !== box) document.getElementById(box).after(d.drawing);
    for (const button of d.form.querySelectorAll("[data-proposal-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.proposalTool === tool.tool));
    }
    let hint = "";
    d.finish.textContent = t(tool.texts.finish);
    if (tool.tool === "area") hint = t("drawPolygonHint", { what: t("areaWhat"), count: tool.points.length });
    else if (tool.drawsPolygon) hint = t("drawPolygonHint", { what: t(`m_${tool.tool}`), count: tool.points.length });
    else if (tool.tool === "point") hint = t("pointHint");
    else if (tool.tool === "add_facility") hint = t("placePointHint", { what: t(`fac_${d.facilityType.value}`) });
    d.hint.textContent = hint;
    this.sync({ tool: true });
  }

  updateWhere() {
    const d = this.dom;
    const parts = [];
    if (this.location) parts.push(t("whereAt", { lat: this.location.lat.toFixed(5), lon: this.location.lon.toFixed(5) }));
    if (this.area) parts.push(t("whereAreaHa", { ha: formatNumber(areaHa(this.area), 2) }));
    if (!parts.length && this.measures.length) parts.push(t("whereFromMeasure"));
    d.where.textContent = parts.length ? parts.join(" · ") : t("whereNone");
    d.whereClear.hidden = !(this.location || this.area);
    const error = this.errorFor("form", "location") ?? this.errorFor("form", "area");
    document.getElementById("proposal-where-error")?.remove();
    if (error) d.where.after(el("p", { class: "field-error", id: "proposal-where-error" }, error));
  }

  renderMeasures() {
    const ctx = {
      errorFor: (uid, field) => this.errorFor(uid, field),
      local: () => null,
      districts: () => this.host.districts(),
      onRemove: (uid) => this.removeMeasure(uid),
      onEdit: ({ redraw, rerender }) => {
        if (rerender) {
          this.renderMeasures();
          document.getElementById(rerender)?.focus();
        }
        if (redraw) this.sync();
      },
    };
    this.dom.measures.replaceChildren(...this.measures.map((m, i) => measureItem(m, i + 1, ctx)));
    this.dom.empty.hidden = this.measures.length > 0;
    const general = this.errorFor("form", "measures");
    if (general) this.dom.measures.append(el("li", { class: "field-error", role: "alert" }, general));
  }

  // ---- the map -----------------------------------------------------------------------------------------------

  // A click on the map; true when the form used it (a tool is active).
  click(info) {
    if (!this.tool.active) return false;
    this.addPoint(this.host.unproject(info.x, info.y));
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
      this.finish();
      event.preventDefault();
    } else if (event.key === "Backspace") {
      if (this.tool.undo()) this.updateDrawing();
      event.preventDefault();
    }
  }

  layers(twin) {
    if (!this.open) return [];
    return [
      ...draftLayers(twin, { location: this.location, area: this.area }),
      ...measureLayers(twin, this.measures, true, DRAFT_PREFIX),
      ...this.tool.layers(twin),
    ];
  }

  tooltip(info) {
    if (info.layer?.id === DRAFT_LAYER) return { text: this.dom.where.textContent };
    if (isMeasureLayer(info.layer, DRAFT_PREFIX) && info.object) return measureTooltip(info.object, null);
    return null;
  }

  // ---- sending -----------------------------------------------------------------------------------------------

  body() {
    const d = this.dom;
    const body = {
      title: d.title.value,
      text: d.text.value,
      topic: d.topic.value,
      location: this.location,
      area: this.area,
      measures: this.measures.map(apiMeasure),
      website: d.website.value,
    };
    const me = { age_band: d.age.value || null, household: d.household.value || null };
    body.self_description = me.age_band || me.household ? me : null;
    return body;
  }

  async submit() {
    const d = this.dom;
    const twin = this.host.twin();
    if (!twin || !this.open) return;
    this.cancelTool();
    this.errors = [];
    for (const input of [d.title, d.text, d.topic]) this.clearError(input);
    const missing = [d.title, d.topic, d.text].filter((input) => !input.value.trim());
    for (const input of missing) this.showError(input, t(input === d.topic ? "needTopic" : "fieldRequired"));
    if (missing.length) return missing[0].focus();
    if (!this.location && !this.area && !this.measures.length) {
      d.status.textContent = t("proposalNeedWhere");
      return d.form.querySelector("[data-proposal-tool=point]").focus();
    }
    d.submit.disabled = true;
    d.status.textContent = t("proposalSending");
    let created;
    try {
      created = await proposalsApi.submit(twin.name, this.body());
    } catch (error) {
      d.submit.disabled = false;
      if (!error.status) throw error;
      this.showServerErrors(error);
      return;
    }
    d.submit.disabled = false;
    const message = t(created.status === "new" ? "proposalSentPre" : "proposalSent");
    this.close();
    d.start.focus(); // the button that sent it was disabled meanwhile; the page's focus goes back to the start
    showText(d.status, created.status === "new" ? "proposalSentPre" : "proposalSent"); // follows the language
    this.host.onSubmitted(created, message);
  }

  // The server's answer next to the fields it names: title, text, topic, where, or a measure's field.
  showServerErrors(error) {
    const d = this.dom;
    const owners = this.measures.map((m) => m.uid);
    const parsed = error.status === 422 && error.body ? parseErrors(error.body) : [];
    this.errors = parsed.map((e) => ({ ...e, owner: e.index === null ? "form" : (owners[e.index] ?? "form") }));
    const inputs = { title: d.title, text: d.text, topic: d.topic };
    for (const e of this.errors.filter((x) => x.owner === "form" && inputs[x.field])) {
      this.showError(inputs[e.field], errorText(e));
    }
    this.renderMeasures();
    this.updateWhere();
    this.host.probe.errors = this.errors.map((e) => ({ index: e.index, field: e.field, message: e.message }));
    d.status.textContent = t("proposalFailed", { message: error.message });
    (d.form.querySelector("[aria-invalid=true]") ?? d.submit).focus();
  }

  errorFor(owner, field) {
    const found = this.errors.filter((e) => e.owner === owner && e.field === field);
    return found.length ? found.map(errorText).join(" · ") : null;
  }

  clearError(input) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
    document.getElementById(`${input.id}-error`)?.remove();
    if (input === this.dom.text) input.setAttribute("aria-describedby", this.dom.count.id);
  }

  showError(input, message) {
    this.clearError(input);
    input.setAttribute("aria-invalid", "true");
    const id = `${input.id}-error`;
    input.setAttribute("aria-describedby", input === this.dom.text ? `${id} ${this.dom.count.id}` : id);
    input.after(el("p", { class: "field-error", id }, message));
  }

  updateCount() {
    const max = Number(this.dom.text.getAttribute("maxlength")) || 1000;
    this.dom.count.textContent = t("charsLeft", { n: formatNumber(max - this.dom.text.value.length), max: formatNumber(max) });
  }

  fail(error) {
    this.dom.status.textContent = t("actionFailed", { message: error?.message ?? String(error) });
    this.host.onError(error);
  }

  sync({ tool = false } = {}) {
    Object.assign(this.host.probe, {
      drafting: this.open,
      tool: this.tool.tool,
      drawnPoints: this.tool.points.map((p) => [...p]),
      draftLocation: this.location ? { ...this.location } : null,
      draftArea: Boolean(this.area),
      draftMeasures: this.measures.map((m) => m.kind),
    });
    this.host.onChange({ tool });
  }

  relabel() {
    const d = this.dom;
    const config = this.host.config();
    const fill = (select, options) => {
      const chosen = select.value;
      select.replaceChildren(...options.map(([value, text]) => el("option", { value }, text)));
      if (options.some(([value]) => value === chosen)) select.value = chosen;
    };
    const name = (c) => (currentLang() === "en" ? c.name_en : c.name);
    // No topic is preselected: a proposal is filed under the topic its author chose.
    fill(d.topic, [["", t("pleaseChoose")], ...(config?.categories ?? []).map((c) => [c.id, name(c)])]);
    fill(d.facilityType, FACILITY_TYPES.map((f) => [f, t(`fac_${f}`)]));
    if (!d.facilityType.value) d.facilityType.value = "kita";
    fill(d.age, [["", t("notSaid")], ...(config?.age_bands ?? []).map((a) => [a, t(`age_${a}`)])]);
    fill(d.household, [["", t("notSaid")], ...(config?.households ?? []).map((h) => [h, t(`hh_${h}`)])]);
    this.updateCount();
    this.updateWhere();
    this.renderMeasures();
    if (this.tool.active) this.updateDrawing();
  }
}
