// One place in the list: its head (a button that selects it) and, for the selected place, its details: the
// text, the official answer, votes, comments with one level of replies, and reports of the place or a comment.
// Text is always set with textContent, so what citizens and moderators wrote is rendered inert.

import { currentLang, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { placesApi } from "./places_api.js";

const GLYPH = { happy: "+", improvable: "!" };

// "1 Kommentar", "2 Kommentare": the key with "1" appended for one.
export function countText(key, n, name = "n") {
  return n === 1 ? t(`${key}1`) : t(key, { [name]: formatNumber(n) });
}

export function formatDate(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString(currentLang() === "de" ? "de-DE" : "en-GB", { day: "numeric", month: "short", year: "numeric" });
}

function option(value, text, selected = false) {
  const node = el("option", { value }, text);
  node.selected = selected;
  return node;
}

// The head of a list item: the kind's glyph, the title, and a line with kind, topic, votes, comments, status.
// A category's (a proposal's topic's) name in the page's language, from the twin's [participation] config.
export function categoryLabel(config, id) {
  const category = config?.categories.find((c) => c.id === id);
  if (!category) return id;
  return currentLang() === "en" ? category.name_en : category.name;
}

export function placeHead(place, { selected, categoryName, onSelect }) {
  const id = place.place_id;
  const button = el("button", {
    type: "button",
    class: "place-head",
    id: `place-${id}-head`,
    "aria-expanded": String(selected),
  });
  if (selected) button.setAttribute("aria-controls", `place-${id}-body`);
  const meta = [t(`kind_${place.kind}`), categoryName(place.category), countText("placeVotes", place.votes.score, "score")];
  if (place.comments) meta.push(countText("placeComments", place.comments));
  if (place.status !== "visible") meta.push(t(`status_${place.status}`));
  if (place.reports_open) meta.push(countText("modReports", place.reports_open));
  button.append(
    el("span", { class: `place-glyph kind-${place.kind}`, "aria-hidden": "true" }, GLYPH[place.kind] ?? "?"),
    el("span", { class: "place-title" }, place.title),
    el("span", { class: "place-meta" }, meta.join(" · ")),
  );
  button.addEventListener("click", () => onSelect(selected ? null : id));
  return button;
}

// The details of the selected place. `ctx`: {twin, config, categoryName, votes (Map id -> own vote), onChanged,
// onError, api (optional: the requests, placesApi by default)}. Keeps its own state (open reply and report forms)
// across re-renders.
export class PlaceDetails {
  constructor(place, ctx) {
    Object.assign(this, { place, ctx, comments: null, replyTo: null, reportFor: undefined, message: "" });
    this.root = el("div", { class: "place-body", id: `place-${place.place_id}-body` });
    this.render();
    this.loadComments().catch((error) => this.fail(error));
  }

  get id() {
    return this.place.place_id;
  }

  // The requests: the places' own, or those of another kind of contribution with the same bodies (proposals).
  get api() {
    return this.ctx.api ?? placesApi;
  }

  update(place) {
    const changed = JSON.stringify(place) !== JSON.stringify(this.place);
    this.place = place;
    if (changed) this.render();
  }

  async loadComments() {
    const comments = await this.api.comments(this.ctx.twin.name, this.id);
    this.comments = comments;
    this.ctx.probe.comments = comments.flatMap((c) => [c.comment_id, ...c.replies.map((r) => r.comment_id)]);
    this.render();
  }

  fail(error) {
    this.say(t("actionFailed", { message: error?.message ?? String(error) }));
    if (!error?.status) this.ctx.onError(error);
  }

  say(message) {
    this.message = message;
    const line = this.root.querySelector(".place-message");
    if (line) line.textContent = message;
  }

  // Re-render, then focus the element with `focusId` (the same control after an action).
  render(focusId = null, { keepDrafts = true } = {}) {
    const activeId = focusId ?? (this.root.contains(document.activeElement) ? document.activeElement.id : null);
    const drafts = keepDrafts ? [...this.root.querySelectorAll("textarea, input[type=text]")].map((n) => [n.id, n.value]) : [];
    this.root.replaceChildren(...this.renderBody());
    for (const [draftId, value] of drafts) {
      const node = draftId && this.root.querySelector(`#${CSS.escape(draftId)}`);
      if (node) node.value = value;
    }
    if (activeId) document.getElementById(activeId)?.focus();
  }

  // The details' elements, top to bottom (a proposal's page, proposals_page.js, has its own).
  renderBody() {
    const p = this.place;
    const info = [t(`kind_${p.kind}`), this.ctx.categoryName(p.category), formatDate(p.created_at)];
    if (p.location.building_id) info.push(t("onBuilding"));
    if (p.status !== "visible") info.push(t("statusLabel", { status: t(`status_${p.status}`) }));
    const parts = [el("p", { class: "place-text" }, p.text), el("p", { class: "muted small" }, info.filter(Boolean).join(" · "))];
    if (p.answer) {
      const answer = el("div", { class: "place-answer" });
      answer.append(
        el("h3", {}, t("officialAnswer")), // under the panel's h2 (axe: heading order)
        el("p", { class: "place-answer-text" }, p.answer),
        el("p", { class: "muted small" }, formatDate(p.answered_at)),
      );
      parts.push(answer);
    }
    parts.push(this.voteRow(), el("p", { class: "place-message small", role: "status", "aria-live": "polite" }, this.message));
    parts.push(this.reportToggle(null, `place-${this.id}-report`));
    if (this.reportFor === null) parts.push(this.reportForm(null));
    parts.push(this.commentSection());
    return parts;
  }

  voteRow() {
    const row = el("div", { class: "vote-row", role: "group", "aria-label": countText("placeVotes", this.place.votes.score, "score") });
    const mine = this.ctx.votes.get(this.id) ?? 0;
    for (const [value, key, count] of [
      [1, "voteUp", this.place.votes.up],
      [-1, "voteDown", this.place.votes.down],
    ]) {
      const button = el("button", {
        type: "button",
        id: `place-${this.id}-vote${value > 0 ? "up" : "down"}`,
        "aria-pressed": String(mine === value),
      }, t(key, { n: formatNumber(count) }));
      button.addEventListener("click", () => this.vote(value, button.id).catch((error) => this.fail(error)));
      row.append(button);
    }
    return row;
  }

  async vote(value, focusId) {
    const result = await this.api.vote(this.ctx.twin.name, this.id, value);
    this.ctx.votes.set(this.id, result.yours);
    this.place = { ...this.place, votes: { up: result.up, down: result.down, score: result.score } };
    this.message = t("voted");
    this.render(focusId);
    this.ctx.onChanged(this.place);
  }

  reportToggle(commentId, id) {
    const button = el("button", { type: "button", class: "link small", id, "aria-expanded": String(this.reportFor === commentId) },
      t(commentId ? "reportComment" : "report"));
    button.addEventListener("click", () => {
      this.reportFor = this.reportFor === commentId ? undefined : commentId;
      this.render(this.reportFor === commentId ? `${this.formId(commentId)}-reason` : id);
    });
    return button;
  }

  formId(commentId) {
    return commentId ? `place-${this.id}-c${commentId}-reportform` : `place-${this.id}-reportform`;
  }

  reportForm(commentId) {
    const id = this.formId(commentId);
    const form = el("form", { class: "mini-form", id, novalidate: "" });
    const reasons = this.ctx.config?.report_reasons ?? ["spam", "insult", "personal_data", "illegal", "off_topic", "other"];
    // No reason is preselected: a report sent without a choice was filed as "Werbung oder Spam".
    const select = el("select", { id: `${id}-reason`, required: "" });
    select.append(option("", t("pleaseChoose")), ...reasons.map((r) => option(r, t(`reason_${r}`))));
    const text = el("input", { type: "text", id: `${id}-text`, maxlength: "500", autocomplete: "off" });
    form.append(
      el("label", { for: select.id }, t("reportReason")),
      select,
      el("label", { for: text.id }, t("reportText")),
      text,
      el("button", { type: "submit" }, t("reportSend")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      document.getElementById(`${select.id}-error`)?.remove();
      select.removeAttribute("aria-invalid");
      if (!select.value) {
        select.setAttribute("aria-invalid", "true");
        select.setAttribute("aria-describedby", `${select.id}-error`);
        select.after(el("p", { class: "field-error", id: `${select.id}-error` }, t("needReportReason")));
        return select.focus();
      }
      this.report(commentId, select.value, text.value).catch((error) => this.fail(error));
    });
    return form;
  }

  async report(commentId, reason, text) {
    await this.api.report(this.ctx.twin.name, this.id, reason, text.trim(), commentId);
    this.reportFor = undefined;
    this.message = t("reportSent");
    this.render(commentId ? `place-${this.id}-c${commentId}-report` : `place-${this.id}-report`);
    this.ctx.onChanged(this.place);
  }

  commentSection() {
    const section = el("div", { class: "place-comments" });
    section.append(el("h3", {}, t("commentsTitle")));
    if (this.comments && this.comments.length === 0) section.append(el("p", { class: "muted small" }, t("commentsNone")));
    const list = el("ul", { class: "comments" });
    for (const comment of this.comments ?? []) {
      const item = this.commentItem(comment, true);
      if (comment.replies.length) {
        const replies = el("ul", { class: "replies" });
        replies.append(...comment.replies.map((r) => this.commentItem(r, false)));
        item.append(replies);
      }
      list.append(item);
    }
    section.append(list, this.commentForm(null));
    return section;
  }

  commentItem(comment, topLevel) {
    const cid = comment.comment_id;
    const item = el("li", { class: "comment", "data-comment-id": String(cid), "data-status": comment.status });
    item.append(el("p", { class: "comment-text" }, comment.text));
    const meta = [formatDate(comment.created_at)];
    if (comment.status !== "visible") meta.push(t(`status_${comment.status}`));
    item.append(el("p", { class: "muted small" }, meta.join(" · ")));
    const actions = el("div", { class: "comment-actions" });
    if (topLevel) {
      const reply = el("button", {
        type: "button",
        class: "link small",
        id: `place-${this.id}-c${cid}-replybtn`,
        "aria-expanded": String(this.replyTo === cid),
      }, t("reply"));
      reply.addEventListener("click", () => {
        this.replyTo = this.replyTo === cid ? null : cid;
        this.render(this.replyTo === cid ? `place-${this.id}-c${cid}-reply` : reply.id);
      });
      actions.append(reply);
    }
    actions.append(this.reportToggle(cid, `place-${this.id}-c${cid}-report`));
    item.append(actions);
    if (topLevel && this.replyTo === cid) item.append(this.commentForm(cid));
    if (this.reportFor === cid) item.append(this.reportForm(cid));
    return item;
  }

  commentForm(parentId) {
    const id = parentId ? `place-${this.id}-c${parentId}-reply` : `place-${this.id}-comment`;
    const form = el("form", { class: "mini-form" });
    const text = el("textarea", { id, rows: "2", maxlength: "1000" });
    form.append(
      el("label", { for: id }, t(parentId ? "replyLabel" : "commentLabel")),
      text,
      el("button", { type: "submit", id: `${id}-send` }, t(parentId ? "replySend" : "commentSend")),
    );
    // The participant token before the citizen types: a refusal shows now, not after the comment is written.
    text.addEventListener("focus", () => {
      this.api.ensureParticipant(this.ctx.twin.name).catch((error) => this.fail(error));
    }, { once: true });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!text.value.trim()) {
        text.setAttribute("aria-invalid", "true");
        this.say(t("fieldRequired"));
        text.focus();
        return;
      }
      this.comment(text.value, parentId).catch((error) => this.fail(error));
    });
    return form;
  }

  async comment(text, parentId) {
    const created = await this.api.comment(this.ctx.twin.name, this.id, text, parentId);
    this.replyTo = null;
    this.message = t(created.status === "new" ? "commentSentPre" : "commentSent");
    this.ctx.probe.lastComment = created.comment_id;
    this.comments = null;
    this.render(`place-${this.id}-comment`, { keepDrafts: false });
    await this.loadComments();
    this.ctx.onChanged(this.place);
  }
}
