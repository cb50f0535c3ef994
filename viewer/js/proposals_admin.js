// The administration's box on a proposal's page: moderation as for places (show, hide with a reason, publish an
// official answer), the stage with a public reason ("simulated" runs the proposal's measures as a scenario;
// "rejected" needs a reason), and an official scenario attached instead of the proposal's own measures.
// Shown only to an administrator (api.js isAdminIn); the server checks the role on every request anyway.

import { t } from "./i18n.js";
import { el } from "./panels.js";
import { proposalsApi } from "./proposals_api.js";
import { STAGES } from "./proposals_layers.js";

const ACTIONS = {
  // what each action may be given from (twin3d/participation/moderation.py)
  show: ["new", "hidden", "visible"],
  hide: ["new", "visible", "answered"],
  answer: ["new", "visible", "answered"],
};
const ACTION_KEYS = { show: "modShow", hide: "modHide", answer: "modAnswerAction" };

export class ProposalAdmin {
  // details: the proposal's page (ProposalDetails), whose ctx has {twin, probe, refresh(id)}.
  constructor(details) {
    Object.assign(this, { details, message: "", busy: false, stage: null, official: "", scenarios: null });
    this.errors = {}; // input name -> the message shown under it (kept across re-renders)
    this.focusAfter = null;
  }

  get ctx() {
    return this.details.ctx;
  }

  get place() {
    return this.details.place;
  }

  get prefix() {
    return `proposal-${this.details.id}`;
  }

  render() {
    const p = this.place;
    const box = el("section", { class: "proposal-admin", id: `${this.prefix}-admin`, "aria-labelledby": `${this.prefix}-admin-title` });
    box.append(el("h3", { id: `${this.prefix}-admin-title` }, t("proposalAdminTitle")));
    box.append(el("p", { class: "small", "data-field": "status" }, t("statusLabel", { status: t(`status_${p.status}`) })));
    box.append(this.moderationForm(p), this.stageForm(p), this.scenarioForm(p));
    box.append(el("p", { class: "proposal-admin-message small", role: "status", "aria-live": "polite" }, this.message));
    if (this.scenarios === null) this.loadScenarios();
    return box;
  }

  moderationForm(p) {
    const form = el("form", { class: "mini-form", id: `${this.prefix}-moderation` });
    const reason = el("input", { type: "text", id: `${this.prefix}-mod-reason`, maxlength: "300", autocomplete: "off" });
    const answer = el("textarea", { id: `${this.prefix}-mod-answer`, rows: "3", maxlength: "1000" });
    answer.value = p.answer ?? "";
    form.append(el("label", { for: reason.id }, t("modReason")), this.marked(reason, "mod-reason"));
    form.append(el("label", { for: answer.id }, t("modAnswer")), this.marked(answer, "mod-answer"));
    const row = el("div", { class: "actions" });
    for (const [action, from] of Object.entries(ACTIONS)) {
      if (!from.includes(p.status)) continue;
      const button = el("button", { type: "button", "data-action": action, id: `${this.prefix}-mod-${action}` }, t(ACTION_KEYS[action]));
      button.disabled = this.busy;
      button.addEventListener("click", () => this.run(() => this.decide(action), button.id));
      row.append(button);
    }
    form.append(row);
    form.addEventListener("submit", (event) => event.preventDefault());
    return form;
  }

  stageForm(p) {
    const form = el("form", { class: "mini-form", id: `${this.prefix}-stage-form` });
    const select = el("select", { id: `${this.prefix}-stage` });
    select.append(...STAGES.map((s) => el("option", { value: s }, t(`stage_${s}`))));
    select.value = this.stage ?? p.stage;
    select.addEventListener("change", () => {
      this.stage = select.value;
    });
    const reason = el("input", { type: "text", id: `${this.prefix}-stage-reason`, maxlength: "1000", autocomplete: "off" });
    const save = el("button", { type: "submit", id: `${this.prefix}-stage-save` }, t("stageSave"));
    save.disabled = this.busy;
    form.append(el("label", { for: select.id }, t("stageChange")), select);
    form.append(el("label", { for: reason.id }, t("stageReasonLabel")), this.marked(reason, "stage-reason"), save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(() => this.saveStage(select.value), save.id);
    });
    return form;
  }

  scenarioForm(p) {
    const form = el("form", { class: "mini-form", id: `${this.prefix}-official-form` });
    const select = el("select", { id: `${this.prefix}-official` });
    select.append(el("option", { value: "" }, t("officialScenarioNone")));
    for (const s of this.scenarios ?? []) select.append(el("option", { value: s.scenario_id }, s.name ?? s.scenario_id.slice(0, 12)));
    select.value = this.official;
    select.addEventListener("change", () => {
      this.official = select.value;
    });
    const typed = el("input", { type: "text", id: `${this.prefix}-official-id`, maxlength: "64", autocomplete: "off", spellcheck: "false" });
    const attach = el("button", { type: "submit", id: `${this.prefix}-official-attach` }, t("attachScenario"));
    attach.disabled = this.busy;
    form.append(
      el("label", { for: select.id }, t("officialScenarioLabel")),
      select,
      el("label", { for: typed.id }, t("officialScenarioId")),
      this.marked(typed, "official-id"),
      attach,
    );
    if (p.official_scenario_id) form.append(el("p", { class: "muted small" }, p.official_scenario_id));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(() => this.attach(), attach.id);
    });
    return form;
  }

  // The stored scenarios the administration may attach (the listing shows it every scenario it may open).
  async loadScenarios() {
    this.scenarios = [];
    try {
      const list = await proposalsApi.scenarios(this.ctx.twin.name);
      this.scenarios = Array.isArray(list) ? list : (list.scenarios ?? []);
    } catch (error) {
      if (!error.status) this.ctx.onError(error);
      return;
    }
    this.details.render();
  }

  // An action with the buttons disabled meanwhile; its message, and the focus back on the button that started it.
  async run(action, focusId) {
    if (this.busy) return;
    Object.assign(this, { busy: true, errors: {}, focusAfter: null });
    for (const button of document.querySelectorAll(`#${this.prefix}-admin button`)) button.disabled = true;
    try {
      await action();
    } catch (error) {
      this.message = t("actionFailed", { message: error?.message ?? String(error) });
      if (!error?.status) this.ctx.onError(error);
    } finally {
      this.busy = false;
      this.details.render(this.focusAfter ?? focusId);
    }
  }

  // A message in the box's status line, now (while a request runs) and after the next render.
  say(text) {
    this.message = text;
    const line = document.querySelector(`#${this.prefix}-admin .proposal-admin-message`);
    if (line) line.textContent = text;
  }

  // An input of the box as it is on screen now (the page re-renders while a request runs).
  input(name) {
    return document.getElementById(`${this.prefix}-${name}`);
  }

  // An input (`name`: its id after the box's prefix) with the error an action left for it, as a fragment.
  marked(input, name) {
    const error = this.errors[name];
    if (!error) return input;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${input.id}-error`);
    const fragment = document.createDocumentFragment();
    fragment.append(input, el("p", { class: "field-error", id: `${input.id}-error` }, error));
    return fragment;
  }

  // Refuse an action for a field: its message under it, and the focus on it, once the box is drawn again.
  fieldError(name, message) {
    this.errors[name] = message;
    this.focusAfter = `${this.prefix}-${name}`;
  }

  async decide(action) {
    const reason = this.input("mod-reason").value.trim();
    const answer = this.input("mod-answer").value.trim();
    if (action === "hide" && !reason) return this.fieldError("mod-reason", t("modNeedReason"));
    if (action === "answer" && !answer) return this.fieldError("mod-answer", t("modNeedAnswer"));
    const decision = action === "answer" ? { action, reason, answer } : { action, reason };
    const result = await proposalsApi.moderate(this.ctx.twin.name, this.details.id, decision);
    const probe = this.ctx.probe;
    probe.decisions = (probe.decisions ?? 0) + 1;
    probe.last = result;
    this.input("mod-reason").value = "";
    this.message = t("modDone", { from: t(`status_${result.from}`), to: t(`status_${result.status}`) });
    await this.ctx.refresh(this.details.id);
  }

  async saveStage(stage) {
    const reason = this.input("stage-reason").value.trim();
    if (stage === "rejected" && !reason) return this.fieldError("stage-reason", t("stageNeedReason"));
    this.say(t("stageSaving"));
    const result = await proposalsApi.stage(this.ctx.twin.name, this.details.id, stage, reason);
    this.stage = null;
    this.input("stage-reason").value = "";
    this.message = t("stageDone", { stage: t(`stage_${result.stage ?? stage}`) });
    this.ctx.probe.stage = { proposal_id: this.details.id, stage: result.stage ?? stage };
    await this.ctx.refresh(this.details.id);
  }

  async attach() {
    const scenarioId = this.input("official-id").value.trim() || this.official;
    if (!scenarioId) return this.fieldError("official-id", t("scenarioNeedId"));
    await proposalsApi.attachScenario(this.ctx.twin.name, this.details.id, scenarioId);
    this.official = "";
    this.input("official-id").value = "";
    this.message = t("scenarioAttached");
    this.ctx.probe.attached = { proposal_id: this.details.id, scenario_id: scenarioId };
    await this.ctx.refresh(this.details.id);
  }
}
