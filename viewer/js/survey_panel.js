// The survey of the administration: a citizen answers the open survey once, with an e-mail address (the answer
// counts once the link in the mail is followed: double opt-in) or an invitation code; the link lands here
// (#twin=...&survey-confirm=<token>, a fragment the browser never sends to the server) and says it is confirmed.
// Results show as counts per answer once the survey is closed (the council and the administration: always), a
// count of fewer than three persons as "< 3"; the administration also reads the free texts, opens and closes the
// survey, and downloads codes (PDF, CSV) and the exports. Nothing of this goes to localStorage. Texts are set
// with textContent only.

import { authHeaders, isAdminIn, whoami } from "./api.js";
import { currentLang, formatNumber, showText, t } from "./i18n.js";
import { el } from "./panels.js";
import { request } from "./places_api.js";

const AGE_BANDS = ["under_18", "18_29", "30_44", "45_64", "65_79", "80_plus"];
const HOUSEHOLDS = ["alone", "couple", "family_young_children", "family_school_children", "single_parent", "shared"];
const base = (twin) => `/api/twins/${encodeURIComponent(twin)}/surveys`;
const local = (texts) => texts?.[currentLang()] || texts?.de || "";

// The confirmation link's token, read before the viewer rewrites the fragment, and taken out of the address bar.
function takeConfirmation() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("survey-confirm");
  if (!token) return null;
  params.delete("survey-confirm");
  history.replaceState(null, "", `#${params.toString()}`);
  return { twin: params.get("twin"), token };
}
const CONFIRMATION = takeConfirmation();

async function download(url, method = "GET", body = undefined) {
  const headers = { ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "download";
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return name;
}

export class SurveyPanel {
  // host: {probe, onError(error)}
  constructor(host) {
    this.host = host;
    const $ = (id) => document.getElementById(id);
    this.dom = {
      panel: $("survey-panel"),
      toggle: $("survey-toggle"),
      body: $("survey-body"),
      confirm: $("survey-confirm"),
      pick: $("survey-pick"),
      pickRow: $("survey-pick-row"),
      intro: $("survey-intro"),
      form: $("survey-form"),
      status: $("survey-status"),
      results: $("survey-results"),
      admin: $("survey-admin"),
    };
    this.dom.toggle.addEventListener("click", () => this.setOpen(this.dom.body.hidden));
    this.dom.pick.addEventListener("change", () => this.show(Number(this.dom.pick.value)).catch((e) => this.fail(e)));
    this.dom.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit().catch((error) => this.fail(error));
    });
    window.addEventListener("twin3d-auth", () => this.twin && this.open(this.twin).catch((e) => this.fail(e)));
    Object.assign(this, { twin: null, surveys: [], survey: null, role: "public", admin: false });
    this.probe = host.probe.survey = { loads: 0, surveyId: null, submitted: null, confirmed: null, results: null, admin: false };
  }

  fail(error) {
    this.dom.status.textContent = error?.message ?? String(error);
    this.dom.status.classList.add("refusal");
    this.host.onError?.(error);
  }

  setOpen(open) {
    this.dom.body.hidden = !open;
    this.dom.toggle.setAttribute("aria-expanded", String(open));
  }

  async open(twin) {
    this.twin = twin;
    const me = await whoami();
    this.role = me.role;
    this.admin = await isAdminIn(twin.name);
    this.probe.admin = this.admin;
    this.surveys = await request("GET", base(twin.name));
    if (this.twin !== twin) return;
    this.dom.panel.hidden = !this.surveys.length && !CONFIRMATION;
    const first = this.surveys.find((s) => s.phase === "open") ?? this.surveys[0] ?? null;
    this.dom.pickRow.hidden = this.surveys.length < 2;
    this.dom.pick.replaceChildren(
      ...this.surveys.map((s) => el("option", { value: String(s.survey_id) }, `${local(s.title)} (${t(`phase_${s.phase}`)})`)),
    );
    if (first) {
      this.dom.pick.value = String(first.survey_id);
      await this.show(first.survey_id);
    } else this.dom.form.replaceChildren(el("p", { class: "muted small" }, t("surveyNone")));
    if (CONFIRMATION && CONFIRMATION.twin === twin.name && !this.confirming) await this.confirm(CONFIRMATION.token);
    this.probe.loads += 1;
  }

  async confirm(token) {
    this.confirming = true;
    this.dom.panel.hidden = false;
    this.setOpen(true);
    this.dom.confirm.hidden = false;
    this.dom.confirm.classList.remove("refusal");
    this.dom.confirm.textContent = t("surveyConfirming");
    try {
      const done = await request("POST", `${base(this.twin.name)}/confirmations`, { body: { token } });
      this.dom.confirm.textContent = t(done.already ? "surveyAlready" : "surveyConfirmed", { title: local(done.title) });
      this.probe.confirmed = done.already ? "already" : "confirmed";
    } catch (error) {
      this.dom.confirm.textContent = error.message;
      this.dom.confirm.classList.add("refusal");
      this.probe.confirmed = error.reason ?? "error";
    }
    this.dom.confirm.focus?.();
  }

  async show(surveyId) {
    this.survey = this.surveys.find((s) => s.survey_id === surveyId) ?? null;
    this.probe.surveyId = surveyId;
    this.dom.status.textContent = "";
    this.dom.status.classList.remove("refusal");
    this.relabel();
    await this.loadResults();
  }

  relabel() {
    const s = this.survey;
    this.dom.intro.textContent = s ? local(s.intro) : "";
    if (s) this.renderForm(s);
    this.renderResults();
    this.renderAdmin();
  }

  renderForm(s) {
    const form = this.dom.form;
    form.hidden = s.phase !== "open";
    if (form.hidden) return form.replaceChildren();
    const nodes = [el("p", { class: "muted small" }, t("surveyOnce"))];
    for (const q of s.questions) nodes.push(this.questionField(q));
    if (s.self_description) {
      const about = el("fieldset", { class: "about-you" });
      about.append(el("legend", {}, t("aboutYou")), el("p", { class: "muted small" }, t("aboutYouNote")));
      about.append(...this.select("survey-age", t("ageBand"), AGE_BANDS, "age_"));
      about.append(...this.select("survey-household", t("householdLabel"), HOUSEHOLDS, "hh_"));
      nodes.push(about);
    }
    const how = el("fieldset", { class: "survey-how" });
    how.append(el("legend", {}, t("surveyHow")));
    const ways = [s.email && ["email", t("surveyByEmail")], s.codes && ["code", t("surveyByCode")]].filter(Boolean);
    for (const [value, label] of ways) {
      const radio = el("input", { type: "radio", name: "survey-way", value });
      radio.checked = value === ways[0][0];
      radio.addEventListener("change", () => this.showWay());
      const row = el("label", {});
      row.append(radio, ` ${label}`);
      how.append(row);
    }
    how.append(
      el("label", { for: "survey-email", class: "survey-email" }, t("surveyEmail")),
      el("input", { id: "survey-email", type: "email", maxlength: "254", autocomplete: "email", class: "survey-email" }),
      el("p", { class: "muted small survey-email" }, t("surveyEmailNote")),
      el("label", { for: "survey-code", class: "survey-code" }, t("surveyCode")),
      el("input", { id: "survey-code", type: "text", maxlength: "40", autocomplete: "off", spellcheck: "false", class: "survey-code" }),
    );
    const trap = el("div", { class: "hp-field", "aria-hidden": "true" });
    trap.append(el("label", { for: "survey-website" }, t("honeypot")), el("input", { id: "survey-website", type: "text", tabindex: "-1", autocomplete: "off" }));
    const actions = el("div", { class: "actions" });
    actions.append(el("button", { id: "survey-submit", type: "submit", class: "primary" }, t("surveySubmit")));
    form.replaceChildren(...nodes, how, trap, actions);
    this.showWay();
  }

  showWay() {
    const way = this.dom.form.querySelector("input[name=survey-way]:checked")?.value;
    for (const node of this.dom.form.querySelectorAll(".survey-email")) node.hidden = way !== "email";
    for (const node of this.dom.form.querySelectorAll(".survey-code")) node.hidden = way !== "code";
  }

  select(id, label, values, prefix) {
    const select = el("select", { id });
    select.append(el("option", { value: "" }, t("notSaid")), ...values.map((v) => el("option", { value: v }, t(`${prefix}${v}`))));
    return [el("label", { for: id }, label), select];
  }

  questionField(q) {
    const box = el("fieldset", { class: "survey-question", "data-question": q.id, "data-kind": q.kind });
    box.append(el("legend", {}, `${local(q.text)}${q.required ? "" : ` ${t("surveyOptional")}`}`));
    const name = `survey-q-${q.id}`;
    if (q.kind === "text") {
      box.append(el("textarea", { name, rows: "3", maxlength: "1000", "aria-label": local(q.text) }));
      return box;
    }
    const choices = q.kind === "scale" ? this.scalePoints(q.scale) : q.options.map((o) => [o.id, local(o.label)]);
    for (const [value, label] of choices) {
      const input = el("input", { type: q.kind === "multiple" ? "checkbox" : "radio", name, value });
      const row = el("label", { class: "survey-choice" });
      row.append(input, ` ${label}`);
      box.append(row);
    }
    return box;
  }

  scalePoints(scale) {
    const points = [];
    for (let v = scale.low; v <= scale.high; v += 1) {
      let label = String(v);
      if (v === scale.low && scale.low_label) label += ` – ${local(scale.low_label)}`;
      if (v === scale.high && scale.high_label) label += ` – ${local(scale.high_label)}`;
      points.push([String(v), label]);
    }
    return points;
  }

  collect() {
    const form = this.dom.form;
    const answers = {};
    let missing = null;
    for (const q of this.survey.questions) {
      const name = `survey-q-${q.id}`;
      let value = null;
      if (q.kind === "text") value = form.querySelector(`textarea[name="${name}"]`).value.trim() || null;
      else if (q.kind === "multiple") value = [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
      else {
        const picked = form.querySelector(`input[name="${name}"]:checked`)?.value;
        value = picked === undefined ? null : q.kind === "scale" ? Number(picked) : picked;
      }
      const empty = value === null || (Array.isArray(value) && !value.length);
      if (!empty) answers[q.id] = value;
      if (empty && q.required && !missing) missing = q;
    }
    return { answers, missing };
  }

  async submit() {
    const { answers, missing } = this.collect();
    const status = this.dom.status;
    status.classList.remove("refusal");
    if (missing) {
      status.textContent = `${local(missing.text)}: ${t("surveyRequired")}`;
      status.classList.add("refusal");
      this.dom.form.querySelector(`[data-question="${missing.id}"] input, [data-question="${missing.id}"] textarea`)?.focus();
      return;
    }
    const form = this.dom.form;
    const way = form.querySelector("input[name=survey-way]:checked")?.value;
    const body = { answers, lang: currentLang(), website: form.querySelector("#survey-website").value };
    if (way === "email") body.email = form.querySelector("#survey-email").value.trim();
    else body.code = form.querySelector("#survey-code").value.trim();
    const age = form.querySelector("#survey-age")?.value;
    const household = form.querySelector("#survey-household")?.value;
    if (age || household) body.self_description = { age_band: age || null, household: household || null };
    const button = form.querySelector("#survey-submit");
    button.disabled = true;
    status.textContent = t("surveySending");
    try {
      const done = await request("POST", `${base(this.twin.name)}/${this.survey.survey_id}/responses`, { body });
      showText(status, done.status === "pending" ? "surveyPending" : "surveyCounted"); // follows the language
      this.probe.submitted = done.status;
      form.hidden = true;
      if (this.admin || this.survey.results) await this.loadResults();
    } catch (error) {
      status.textContent = error.message;
      status.classList.add("refusal");
      this.probe.submitted = error.reason ?? `error ${error.status}`;
    } finally {
      button.disabled = false;
    }
  }

  async loadResults() {
    const s = this.survey;
    this.resultsData = null;
    this.texts = null;
    if (s?.results) {
      const id = s.survey_id;
      this.resultsData = await request("GET", `${base(this.twin.name)}/${id}/results`);
      if (this.admin) this.texts = await request("GET", `${base(this.twin.name)}/${id}/texts`);
      if (this.survey !== s) return;
    }
    this.probe.results = this.resultsData
      ? Object.fromEntries(this.resultsData.questions.map((q) => [q.id, Object.fromEntries(q.answers.map((a) => [a.value, a.count]))]))
      : null;
    this.renderResults();
    this.renderAdmin();
  }

  renderResults() {
    const box = this.dom.results;
    const s = this.survey;
    if (!s) return box.replaceChildren();
    if (!this.resultsData) {
      return box.replaceChildren(...(s.phase === "open" ? [el("p", { class: "muted small" }, t("surveyLater"))] : []));
    }
    const r = this.resultsData;
    const nodes = [el("h3", {}, t("surveyResults"))];
    nodes.push(el("p", { class: "small" }, r.respondents === null ? t("surveyFewNote") : t("surveyRespondents", { n: formatNumber(r.respondents) })));
    let withheld = false;
    for (const q of r.questions) {
      const section = el("section", { class: "survey-result", "data-question": q.id });
      section.append(el("h4", {}, local(q.text)));
      const meta = [t("surveyAnswered", { n: q.answered === null ? t("surveyFew") : formatNumber(q.answered) })];
      if (q.mean !== null && q.mean !== undefined) meta.push(t("surveyMean", { mean: formatNumber(q.mean, 1) }));
      section.append(el("p", { class: "muted small" }, meta.join(" · ")));
      const list = el("ul", { class: "survey-bars" });
      for (const a of q.answers) {
        withheld ||= a.withheld;
        const label = a.label ? local(a.label) : a.value;
        const shown = a.withheld ? t("surveyFew") : formatNumber(a.count);
        const item = el("li", { "data-value": a.value, "data-withheld": String(a.withheld) });
        const bar = el("span", { class: "survey-bar", "aria-hidden": "true" });
        bar.style.width = `${q.answered && !a.withheld ? Math.round((100 * a.count) / q.answered) : 0}%`;
        item.append(el("span", { class: "survey-label" }, q.kind === "scale" && a.label ? `${a.value} – ${label}` : label), el("span", { class: "survey-count" }, shown), bar);
        list.append(item);
      }
      section.append(list);
      const texts = (this.texts ?? []).filter((x) => x.question === q.id);
      if (q.kind === "text" && this.admin) {
        section.append(el("p", { class: "small" }, t("surveyTexts")));
        const ul = el("ul", { class: "survey-texts" });
        ul.append(...(texts.length ? texts.map((x) => el("li", {}, x.text)) : [el("li", { class: "muted" }, t("surveyNoTexts"))]));
        section.append(ul);
      }
      nodes.push(section);
    }
    if (withheld) nodes.push(el("p", { class: "muted small" }, t("surveyFewNote")));
    box.replaceChildren(...nodes);
  }

  renderAdmin() {
    const box = this.dom.admin;
    const s = this.survey;
    box.hidden = !this.admin || !s;
    if (box.hidden) return box.replaceChildren();
    const url = `${base(this.twin.name)}/${s.survey_id}`;
    const nodes = [el("h3", {}, t("surveyAdmin"))];
    const status = this.resultsData?.status;
    if (status) {
      nodes.push(el("p", { class: "muted small", id: "survey-admin-status" }, t("surveyStatus", {
        email: status.confirmed_email, code: status.confirmed_code, pending: status.pending_email, used: status.codes_used, made: status.codes_made,
      })));
    }
    const actions = el("div", { class: "actions" });
    const button = (id, key, run) => {
      const b = el("button", { type: "button", id }, t(key));
      b.addEventListener("click", () => run().catch((error) => this.fail(error)));
      actions.append(b);
    };
    const closing = s.state === "open";
    button("survey-state", closing ? "surveyClose" : "surveyOpen", async () => {
      await request("POST", `${url}/state`, { body: { state: closing ? "closed" : "open" } });
      await this.open(this.twin);
    });
    button("survey-results-csv", "surveyResultsCsv", () => download(`${url}/results.csv`));
    button("survey-responses-csv", "surveyResponsesCsv", () => download(`${url}/responses.csv`));
    nodes.push(actions);
    if (s.codes) {
      const codes = el("div", { class: "mini-form" });
      const count = el("input", { id: "survey-code-count", type: "number", min: "1", max: "5000", value: "50" });
      codes.append(el("label", { for: "survey-code-count" }, t("surveyCodeCount")), count);
      const row = el("div", { class: "actions" });
      for (const format of ["pdf", "csv"]) {
        const b = el("button", { type: "button", id: `survey-codes-${format}` }, t(format === "pdf" ? "surveyCodesPdf" : "surveyCodesCsv"));
        b.addEventListener("click", () =>
          download(`${url}/codes`, "POST", { count: Number(count.value), format })
            .then(() => (this.dom.status.textContent = t("surveyCodesMade", { n: count.value })))
            .catch((error) => this.fail(error)),
        );
        row.append(b);
      }
      codes.append(row);
      nodes.push(codes);
    }
    box.replaceChildren(...nodes);
  }
}
