// The administration's moderation view: the queue (new places and comments, and what was reported, with the
// reasons), the places by status, and one place's detail: show, hide (with a reason) or answer it, show or hide
// its comments, internal remarks (only the administration sees them) and the moderation history.
// Shown only when the signed-in token (api.js, sessionStorage "twin3dToken") is an administrator's, as GET
// /api/me says (the server answers the queue only then, too). Text is always set with textContent, so every
// text is rendered inert.

import { authToken, isAdminIn } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./panels.js";
import { placesApi } from "./places_api.js";
import { countText, formatDate } from "./places_item.js";

const STATUSES = ["new", "visible", "hidden", "answered"];
const ACTIONS = {
  // what each action may be given from (twin3d/participation/moderation.py)
  show: ["new", "hidden", "visible"],
  hide: ["new", "visible", "answered"],
  answer: ["new", "visible", "answered"],
};
// Each button says what it acts on: a place's and its comments' "Verbergen" stood side by side under one name.
const ACTION_KEYS = { show: "modShowPlace", hide: "modHidePlace", answer: "modAnswerAction" };
const COMMENT_ACTION_KEYS = { show: "modShowComment", hide: "modHideComment" };

export const AUTH_EVENT = "twin3d-auth";

export class ModerationPanel {
  // host: {probe, onSelect(place), onProposal(id) (open a proposal's page), onData() (a decision changed what the
  // public sees), onError(error)}
  constructor(host) {
    this.host = host;
    this.probe = host.probe;
    const $ = (id) => document.getElementById(id);
    this.dom = {
      panel: $("moderation-panel"),
      queue: $("moderation-queue"),
      filter: $("moderation-filter"),
      places: $("moderation-places"),
      detail: $("moderation-detail"),
      message: $("moderation-message"),
    };
    this.dom.filter.addEventListener("change", () => this.loadPlaces().catch((error) => this.fail(error)));
    // The sign-in field (layer catalogue) keeps the token in api.js; it announces changes with this event.
    window.addEventListener(AUTH_EVENT, () => this.check().catch((error) => this.fail(error)));
    Object.assign(this, { twin: null, admin: false, queue: [], places: [], detailId: null, detail: null, seq: 0 });
    this.probe.moderation = { admin: false, queue: [], places: [], detail: null, decisions: 0, loads: 0, remarks: [] };
    this.relabel();
  }

  async open(twin) {
    Object.assign(this, { twin, queue: [], places: [], detailId: null, detail: null });
    this.dom.message.textContent = "";
    await this.check();
  }

  setAdmin(admin) {
    this.admin = admin;
    this.dom.panel.hidden = !admin;
    this.probe.moderation.admin = admin;
    if (!admin) Object.assign(this, { queue: [], places: [], detailId: null, detail: null });
  }

  // Whether the signed-in token is an administrator's (asked of /api/me, so that no other role's request
  // is refused); the queue answers only them.
  async check() {
    const twin = this.twin;
    if (!twin || !authToken()) return this.setAdmin(false);
    const admin = await isAdminIn(twin.name);
    if (this.twin !== twin) return;
    if (!admin) return this.setAdmin(false);
    let queue;
    try {
      queue = await placesApi.queue(twin.name);
    } catch (error) {
      if (error.status === 401 || error.status === 403) return this.setAdmin(false);
      throw error;
    }
    if (this.twin !== twin) return;
    this.setAdmin(true);
    this.queue = queue;
    this.renderQueue();
    await this.loadPlaces();
  }

  async refresh() {
    if (!this.admin || !this.twin) return;
    const twin = this.twin;
    const queue = await placesApi.queue(twin.name);
    if (this.twin !== twin) return;
    this.queue = queue;
    this.renderQueue();
    await this.loadPlaces();
    if (this.detailId) await this.openDetail(this.detailId, { focus: false });
  }

  async loadPlaces() {
    const twin = this.twin;
    if (!this.admin || !twin) return;
    const seq = ++this.seq;
    const status = this.dom.filter.value;
    // cluster=false: always rows, however many places there are (the map's list clusters above cluster_above).
    const listing = await placesApi.list(twin.name, { status: status || undefined, sort: "new", limit: 500, cluster: false });
    if (seq !== this.seq || this.twin !== twin) return;
    this.places = listing.mode === "pins" ? listing.places : [];
    this.probe.moderation.loads += 1;
    this.renderPlaces();
  }

  renderQueue() {
    const list = this.dom.queue;
    this.probe.moderation.queue = this.queue.map((q) => ({ place_id: q.place_id, comment_id: q.comment_id, status: q.status, reports: q.reports }));
    if (!this.queue.length) {
      list.replaceChildren(el("li", { class: "muted small" }, t("modQueueEmpty")));
      return;
    }
    list.replaceChildren(
      ...this.queue.map((q) => {
        const item = el("li", { class: "mod-item", "data-place-id": String(q.place_id), "data-status": q.status });
        if (q.comment_id) item.dataset.commentId = String(q.comment_id);
        // A proposal (kind idea) and the comments on it are decided on the proposal's own page.
        const idea = q.kind === "idea";
        const label =
          q.type === "place"
            ? idea ? t("modProposal", { id: q.place_id, title: q.title ?? "" }) : `#${q.place_id} ${q.title ?? ""}`
            : t(idea ? "modCommentOnProposal" : "modCommentOn", { id: q.place_id });
        const button = el("button", { type: "button", class: "link" }, label);
        if (idea) item.dataset.kind = "idea";
        const open = idea ? () => this.host.onProposal(q.place_id) : () => this.openDetail(q.place_id);
        button.addEventListener("click", () => Promise.resolve(open()).catch((error) => this.fail(error)));
        const meta = [t(`status_${q.status}`)];
        if (q.reports) meta.push(countText("modReports", q.reports));
        for (const [reason, n] of Object.entries(q.reasons ?? {})) meta.push(`${t(`reason_${reason}`)}: ${n}`);
        if (q.waiting_since) meta.push(t("modWaiting", { date: formatDate(q.waiting_since) }));
        item.append(button, el("p", { class: "mod-excerpt" }, q.excerpt ?? ""), el("p", { class: "muted small" }, meta.join(" · ")));
        if (q.report_texts?.length) {
          const texts = el("ul", { class: "report-texts", "aria-label": t("modReportTexts") });
          texts.append(...q.report_texts.map((text) => el("li", {}, text)));
          item.append(texts);
        }
        return item;
      }),
    );
  }

  renderPlaces() {
    const list = this.dom.places;
    this.probe.moderation.places = this.places.map((p) => ({ place_id: p.place_id, status: p.status }));
    if (!this.places.length) {
      list.replaceChildren(el("li", { class: "muted small" }, t("modNothing")));
      return;
    }
    list.replaceChildren(
      ...this.places.map((p) => {
        const item = el("li", { class: "mod-item", "data-place-id": String(p.place_id), "data-status": p.status });
        const button = el("button", { type: "button", class: "link", id: `mod-place-${p.place_id}` }, `#${p.place_id} ${p.title}`);
        button.addEventListener("click", () => this.openDetail(p.place_id).catch((error) => this.fail(error)));
        const meta = [t(`status_${p.status}`)];
        if (p.reports_open) meta.push(countText("modReports", p.reports_open));
        item.append(button, el("span", { class: "muted small" }, ` ${meta.join(" · ")}`));
        return item;
      }),
    );
  }

  async openDetail(placeId, { focus = true } = {}) {
    const twin = this.twin;
    const [place, comments] = await Promise.all([placesApi.place(twin.name, placeId), placesApi.comments(twin.name, placeId)]);
    if (this.twin !== twin) return;
    Object.assign(this, { detailId: placeId, detail: { place, comments } });
    this.probe.moderation.detail = { place_id: placeId, status: place.status };
    this.probe.moderation.remarks = place.remarks.map((r) => r.remark_id);
    this.renderDetail();
    if (focus) {
      this.host.onSelect(place); // highlights it in the list and on the map (scrolls the list), then:
      this.dom.detail.focus();
    }
  }

  closeDetail() {
    const id = this.detailId;
    Object.assign(this, { detailId: null, detail: null });
    this.probe.moderation.detail = null;
    this.renderDetail();
    document.getElementById(`mod-place-${id}`)?.focus();
  }

  renderDetail() {
    const box = this.dom.detail;
    box.hidden = !this.detail;
    if (!this.detail) {
      box.replaceChildren();
      return;
    }
    const { place: p, comments } = this.detail;
    const parts = [
      el("h3", { id: "moderation-detail-title" }, t("modDetail", { id: p.place_id, title: p.title })),
      el("p", { class: "small", "data-field": "status" }, `${t("statusLabel", { status: t(`status_${p.status}`) })} · ${t("modOpenReports", { n: p.reports_open ?? 0 })}`),
      el("p", { class: "place-text" }, p.text),
    ];
    if (p.answer) {
      const answer = el("div", { class: "place-answer" });
      answer.append(el("h4", {}, t("officialAnswer")), el("p", { class: "place-answer-text" }, p.answer));
      parts.push(answer);
    }
    parts.push(this.decisionForm(p));
    parts.push(el("h4", {}, t("modCommentsTitle")));
    const list = el("ul", { class: "mod-comments" });
    for (const c of comments) {
      list.append(this.commentItem(c));
      for (const r of c.replies) list.append(this.commentItem(r, true));
    }
    if (!list.children.length) parts.push(el("p", { class: "muted small" }, t("commentsNone")));
    else parts.push(list);
    parts.push(...this.remarksSection(p));
    parts.push(el("h4", {}, t("modHistory")));
    if (!p.moderation.length) parts.push(el("p", { class: "muted small" }, t("modNoHistory")));
    else {
      const history = el("ul", { class: "mod-history" });
      for (const h of p.moderation) {
        const what = h.comment_id ? `${t("modCommentsTitle")} ${h.comment_id}: ` : "";
        const line = `${formatDate(h.created_at)} · ${h.moderator}: ${what}${t(`action_${h.action}`)} (${t(`status_${h.from_status}`)} → ${t(`status_${h.to_status}`)})`;
        const item = el("li", {}, line);
        if (h.reason) item.append(el("span", { class: "mod-reason" }, ` – ${h.reason}`));
        history.append(item);
      }
      parts.push(history);
    }
    const close = el("button", { type: "button", id: "moderation-close" }, t("modClose"));
    close.addEventListener("click", () => this.closeDetail());
    parts.push(close);
    box.replaceChildren(...parts);
  }

  decisionForm(place) {
    const form = el("form", { class: "mini-form", id: "moderation-form" });
    const reason = el("input", { type: "text", id: "moderation-reason", maxlength: "300", autocomplete: "off" });
    const answer = el("textarea", { id: "moderation-answer", rows: "3", maxlength: "1000" });
    answer.value = place.answer ?? "";
    form.append(el("label", { for: reason.id }, t("modReason")), reason, el("label", { for: answer.id }, t("modAnswer")), answer);
    const row = el("div", { class: "actions" });
    for (const [action, from] of Object.entries(ACTIONS)) {
      if (!from.includes(place.status)) continue;
      const button = el("button", { type: "button", "data-action": action, id: `moderation-do-${action}` }, t(ACTION_KEYS[action]));
      button.addEventListener("click", () => this.decide(action).catch((error) => this.fail(error)));
      row.append(button);
    }
    form.append(row);
    form.addEventListener("submit", (event) => event.preventDefault());
    return form;
  }

  commentItem(comment, reply = false) {
    const item = el("li", { class: reply ? "mod-comment reply" : "mod-comment", "data-comment-id": String(comment.comment_id), "data-status": comment.status });
    item.append(el("p", { class: "comment-text" }, comment.text), el("p", { class: "muted small" }, t("statusLabel", { status: t(`status_${comment.status}`) })));
    const action = comment.status === "visible" ? "hide" : "show";
    const button = el("button", { type: "button", id: `moderation-c${comment.comment_id}-${action}` }, t(COMMENT_ACTION_KEYS[action]));
    button.addEventListener("click", () => this.decide(action, comment.comment_id).catch((error) => this.fail(error)));
    item.append(button);
    return item;
  }

  remarksSection(place) {
    const parts = [el("h4", {}, t("modRemarks"))];
    if (!place.remarks.length) parts.push(el("p", { class: "muted small" }, t("modNoRemarks")));
    else {
      const list = el("ul", { class: "mod-remarks" });
      for (const r of place.remarks) {
        const item = el("li", { "data-remark-id": String(r.remark_id) });
        item.append(el("p", { class: "remark-text" }, r.text), el("p", { class: "muted small" }, `${formatDate(r.created_at)} · ${r.author}`));
        list.append(item);
      }
      parts.push(list);
    }
    const form = el("form", { class: "mini-form" });
    const text = el("textarea", { id: "moderation-remark", rows: "2", maxlength: "1000" });
    form.append(el("label", { for: text.id }, t("modRemarkLabel")), text, el("button", { type: "submit", id: "moderation-remark-add" }, t("modRemarkAdd")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!text.value.trim()) {
        this.fieldError(text, t("fieldRequired"));
        return;
      }
      this.addRemark(text.value).catch((error) => this.fail(error));
    });
    parts.push(form);
    return parts;
  }

  fieldError(input, message) {
    document.getElementById(`${input.id}-error`)?.remove();
    input.setAttribute("aria-invalid", "true");
    input.after(el("p", { class: "field-error", id: `${input.id}-error` }, message));
    input.focus();
  }

  async decide(action, commentId = null) {
    const reasonInput = document.getElementById("moderation-reason");
    const answerInput = document.getElementById("moderation-answer");
    const reason = reasonInput.value.trim();
    const answer = answerInput.value.trim();
    if (action === "hide" && !reason) return this.fieldError(reasonInput, t("modNeedReason"));
    if (action === "answer" && !commentId && !answer) return this.fieldError(answerInput, t("modNeedAnswer"));
    const decision = action === "answer" ? { action, reason, answer } : { action, reason };
    const result = await placesApi.moderate(this.twin.name, this.detailId, decision, commentId);
    this.probe.moderation.decisions += 1;
    this.probe.moderation.last = result;
    this.dom.message.textContent = t("modDone", { from: t(`status_${result.from}`), to: t(`status_${result.status}`) });
    await this.refresh();
    this.host.onData();
    document.getElementById("moderation-detail-title")?.setAttribute("tabindex", "-1");
    document.getElementById("moderation-detail-title")?.focus();
  }

  async addRemark(text) {
    const remark = await placesApi.addRemark(this.twin.name, this.detailId, text);
    this.dom.message.textContent = "";
    await this.openDetail(this.detailId, { focus: false });
    this.probe.moderation.lastRemark = remark.remark_id;
    document.getElementById("moderation-remark")?.focus();
  }

  fail(error) {
    this.dom.message.textContent = t("actionFailed", { message: error?.message ?? String(error) });
    if (!error?.status) this.host.onError(error);
  }

  relabel() {
    const chosen = this.dom.filter.value;
    this.dom.filter.replaceChildren(
      el("option", { value: "" }, t("filterAll")),
      ...STATUSES.map((s) => el("option", { value: s }, t(`status_${s}`))),
    );
    this.dom.filter.value = chosen;
    if (this.admin) {
      this.renderQueue();
      this.renderPlaces();
      this.renderDetail();
    }
  }
}
