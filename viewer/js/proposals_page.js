// One proposal in the list: its head (a button that selects it) and, for the selected proposal, its page: the
// text, the stage with its reason, the official answer, the residents who gain, the simulated verdict per persona
// (GET .../proposals/{id}/effects) with "Wie betrifft mich das?", votes, comments and reports (the places' own
// code: PlaceDetails with the proposals' requests), and for the administration its moderation and stage.
// Text is always set with textContent, so what citizens and the administration wrote is rendered inert.

import { currentLang, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { PlaceDetails, countText, formatDate } from "./places_item.js";
import { proposalsApi } from "./proposals_api.js";
import { ProposalAdmin } from "./proposals_admin.js";
import { STAGE_GLYPHS } from "./proposals_layers.js";

// The head of a list item: the stage's glyph, the title, and a line with topic, stage, votes, gainers, comments.
export function proposalHead(p, { selected, topicName, onSelect }) {
  const id = p.proposal_id;
  const button = el("button", { type: "button", class: "place-head", id: `proposal-${id}-head`, "aria-expanded": String(selected) });
  if (selected) button.setAttribute("aria-controls", `proposal-${id}-body`);
  const meta = [topicName(p.topic), t(`stage_${p.stage}`), countText("placeVotes", p.votes.score, "score")];
  if (Number.isFinite(p.gainers) && p.gainers !== null) meta.push(countText("gainers", p.gainers));
  if (p.comments) meta.push(countText("placeComments", p.comments));
  if (p.status !== "visible") meta.push(t(`status_${p.status}`));
  if (p.reports_open) meta.push(countText("modReports", p.reports_open));
  button.append(
    el("span", { class: `place-glyph stage-${p.stage}`, "aria-hidden": "true" }, STAGE_GLYPHS[p.stage] ?? "?"),
    el("span", { class: "place-title" }, p.title),
    el("span", { class: "place-meta" }, meta.join(" · ")),
  );
  button.addEventListener("click", () => onSelect(selected ? null : id));
  return button;
}

// The name of a facility or indicator in the page's language, or the server's id where the viewer has none.
function known(key, fallback) {
  const text = t(key);
  return text === key ? fallback : text;
}

// "Kita (Weg, in Reichweite, Plätze je Bedarf)": the indicators that moved, per facility; the median walk only
// where the mean is not named already.
function lineList(items) {
  const byFacility = new Map();
  for (const { facility, indicator } of items) {
    if (!byFacility.has(facility)) byFacility.set(facility, []);
    byFacility.get(facility).push(indicator);
  }
  return [...byFacility]
    .map(([facility, indicators]) => {
      const shown = indicators.filter((i) => i !== "median_distance_m" || !indicators.includes("mean_distance_m"));
      return `${known(`fac_${facility}`, facility)} (${shown.map((i) => known(`effInd_${i}`, i)).join(", ")})`;
    })
    .join("; ");
}

// Personas whose residents' lot changes first, then the unchanged ones (the server's order within each).
const VERDICT_ORDER = { worse: 0, mixed: 0, better: 0, unchanged: 1 };

// The proposal's page. `ctx`: PlaceDetails' context plus {topicName, admin, openScenario(id), refresh(id),
// probe (window.__twin3d.proposals)}.
export class ProposalDetails extends PlaceDetails {
  constructor(proposal, ctx) {
    super(proposal, { ...ctx, api: proposalsApi });
    this.root.id = `proposal-${proposal.proposal_id}-body`;
    this.effects = { state: "loading" };
    this.admin = ctx.admin ? new ProposalAdmin(this) : null;
    this.render();
    this.loadEffects().catch((error) => this.fail(error));
  }

  get id() {
    return this.place.proposal_id;
  }

  update(proposal) {
    const stageChanged = proposal.stage !== this.place.stage || proposal.official_scenario_id !== this.place.official_scenario_id;
    super.update(proposal);
    if (stageChanged) this.loadEffects().catch((error) => this.fail(error));
  }

  // The verdict per persona: 404 without a scenario, 409 while the proposal is under review (to the public).
  async loadEffects() {
    const id = this.id;
    const p = this.place;
    if (!p.scenario_id && !p.official_scenario_id) {
      this.effects = { state: "none" };
    } else {
      this.effects = { state: "loading" };
      this.render();
      try {
        this.effects = { state: "ready", data: await proposalsApi.effects(this.ctx.twin.name, id) };
      } catch (error) {
        if (error.status === 404) this.effects = { state: "none" };
        else if (error.status === 409) this.effects = { state: "pending" };
        else throw error;
      }
    }
    if (this.id !== id) return;
    const data = this.effects.data;
    this.ctx.probe.effects = {
      proposal_id: id,
      state: this.effects.state,
      scenario_id: data?.scenario_id ?? null,
      personas: (data?.personas ?? []).map((row) => ({ persona: row.persona, verdict: row.verdict })),
    };
    this.render();
  }

  render(focusId = null, options = {}) {
    if (!this.effects) return; // PlaceDetails' constructor renders before this page has its state
    super.render(focusId, options);
  }

  // Called by PlaceDetails.render: the page's own parts in place of a place's.
  parts() {
    const p = this.place;
    const info = [this.ctx.topicName(p.topic), formatDate(p.created_at)];
    if (p.status !== "visible") info.push(t("statusLabel", { status: t(`status_${p.status}`) }));
    const parts = [
      el("p", { class: "place-text" }, p.text),
      el("p", { class: "muted small" }, info.filter(Boolean).join(" · ")),
    ];
    const stage = el("div", { class: `proposal-stage stage-${p.stage}`, "data-stage": p.stage });
    stage.append(el("p", { class: "proposal-stage-line" }, t("stageLine", { stage: t(`stage_${p.stage}`) })));
    if (p.stage_reason) stage.append(el("p", { class: "proposal-stage-reason" }, t("stageBecause", { reason: p.stage_reason })));
    parts.push(stage);
    if (p.answer) {
      const answer = el("div", { class: "place-answer" });
      answer.append(
        el("h3", {}, t("officialAnswer")), // under the panel's h2 (axe: heading order)
        el("p", { class: "place-answer-text" }, p.answer),
        el("p", { class: "muted small" }, formatDate(p.answered_at)),
      );
      parts.push(answer);
    }
    parts.push(this.effectsSection());
    return parts;
  }

  effectsSection() {
    const id = this.id;
    const section = el("section", { class: "proposal-effects", id: `proposal-${id}-effects`, "aria-labelledby": `proposal-${id}-effects-title` });
    section.dataset.state = this.effects.state;
    section.append(el("h3", { id: `proposal-${id}-effects-title` }, t("effectsTitle")));
    const { state, data } = this.effects;
    if (state !== "ready") {
      const key = { loading: "effectsLoading", pending: "effectsPending", none: "effectsNone" }[state];
      section.append(el("p", { class: "muted small" }, t(key)));
      return section;
    }
    section.append(el("p", { class: "muted small" }, t(data.official ? "effectsOfficial" : "effectsOwn")));
    const list = el("ul", { class: "effects-list" });
    const rows = [...(data.personas ?? [])].sort((a, b) => (VERDICT_ORDER[a.verdict] ?? 2) - (VERDICT_ORDER[b.verdict] ?? 2));
    for (const row of rows) {
      const verdict = row.verdict ?? "none";
      const item = el("li", { class: "effect", "data-persona": row.persona, "data-verdict": verdict });
      const name = (currentLang() === "en" ? row.name_en : row.name) || row.persona;
      item.append(
        el("span", { class: "effect-name" }, name),
        el("span", { class: "sr-only" }, ": "),
        el("span", { class: `effect-verdict verdict-${verdict}` }, t(`effect_${verdict}`)),
      );
      const lines = [];
      if (row.better?.length) lines.push(t("effectBetterOn", { list: lineList(row.better) }));
      if (row.worse?.length) lines.push(t("effectWorseOn", { list: lineList(row.worse) }));
      if (lines.length) item.append(el("span", { class: "effect-lines muted small" }, lines.join(" · ")));
      list.append(item);
    }
    section.append(list);
    const gainers = data.gainers?.persons;
    const gained = gainers === null || gainers === undefined ? t("effectsGainersHidden") : t("effectsGainers", { n: formatNumber(gainers) });
    section.append(el("p", { class: "small", "data-field": "gainers" }, gained));
    const actions = el("div", { class: "actions" });
    // for_me_panel.js opens itself on any button.for-me-open, for the scenario and title the button names.
    const forMe = el("button", { type: "button", class: "for-me-open", "data-scenario": data.scenario_id }, t("proposalForMe"));
    forMe.dataset.title = this.place.title;
    const show = el("button", { type: "button", class: "proposal-open-scenario", id: `proposal-${id}-scenario` }, t("openScenario"));
    show.addEventListener("click", () => this.ctx.openScenario(data.scenario_id));
    actions.append(forMe, show);
    section.append(actions);
    return section;
  }

  // PlaceDetails.render's body with this page's parts; the admin box sits between the reports and the comments.
  renderBody() {
    const parts = this.parts();
    parts.push(this.voteRow(), el("p", { class: "place-message small", role: "status", "aria-live": "polite" }, this.message));
    parts.push(this.reportToggle(null, `place-${this.id}-report`));
    if (this.reportFor === null) parts.push(this.reportForm(null));
    if (this.admin) parts.push(this.admin.render());
    parts.push(this.commentSection());
    return parts;
  }
}
