// "Wie betrifft mich das?": a citizen picks a persona (or answers two questions), clicks a home point on the map
// and reads what a scenario changes for people like them nearby. The point goes to the server in a POST body
// only; nothing is kept in the browser (no localStorage, no URL, no permalink) and the panel forgets the point
// when it closes. Any element `button.for-me-open[data-scenario]` opens the panel for that scenario.

import { authHeaders } from "./api.js";
import { currentLang, t } from "./i18n.js";
import { el } from "./panels.js";

const { ScatterplotLayer } = globalThis.deck;

const AGE_BANDS = ["under_18", "18_29", "30_44", "45_64", "65_79", "80_plus"];
const HOUSEHOLDS = ["alone", "couple", "family_young_children", "family_school_children", "single_parent", "shared"];
export const HOME_LAYER = "for-me-home";

function option(value, text) {
  const node = el("option", { value }, text);
  return node;
}

function labelled(id, key, control) {
  const row = el("div", { class: "controls" });
  row.append(el("label", { for: id, "data-key": key }, t(key)), control);
  return row;
}

// host: { probe, twin: () => twin | null, personas: (twin) => Promise<[{id, name, name_en}]>,
//         unproject: (x, y) => [lon, lat] | null, onChange: () => void, onArm: () => void, parent?: Element }
export function createForMe(host) {
  const probe = host.probe ?? (globalThis.__twin3d ??= {});
  probe.forMeRuns = 0;
  probe.forMeState = "closed";
  const state = { scenarioId: null, title: "", home: null, armed: false, personas: [], twinName: null, result: null };

  const section = el("section", { id: "for-me-panel", class: "panel for-me", "aria-labelledby": "for-me-title" });
  section.hidden = true;
  const heading = el("h2", { id: "for-me-title", class: "panel-heading", tabindex: "-1" });
  const scenarioLine = el("p", { class: "muted small", id: "for-me-scenario" });
  const intro = el("p", { class: "small", id: "for-me-intro" });
  const persona = el("select", { id: "for-me-persona" });
  const age = el("select", { id: "for-me-age" });
  const household = el("select", { id: "for-me-household" });
  const questions = el("div", { id: "for-me-questions", class: "for-me-questions" });
  questions.append(labelled("for-me-age", "forMeAge", age), labelled("for-me-household", "forMeHousehold", household));
  const homeButton = el("button", { type: "button", id: "for-me-home", "aria-pressed": "false" });
  const homeState = el("p", { class: "small", id: "for-me-home-state", role: "status" });
  const run = el("button", { type: "button", id: "for-me-run", class: "primary" });
  const close = el("button", { type: "button", id: "for-me-close" });
  const message = el("p", { class: "errors", id: "for-me-message", role: "alert" });
  const result = el("div", { id: "for-me-result", "data-verdict": "none", "aria-live": "polite" });
  const actions = el("div", { class: "actions" });
  actions.append(run, close);
  section.append(
    heading,
    scenarioLine,
    intro,
    labelled("for-me-persona", "forMePersona", persona),
    questions,
    homeButton,
    homeState,
    actions,
    message,
    result,
  );
  const parent = host.parent ?? document.getElementById("sidebar") ?? document.body;
  parent.prepend(section);

  function fillPersonas() {
    const chosen = persona.value;
    const en = currentLang() === "en";
    persona.replaceChildren(
      option("", t("forMeAnswer")),
      ...state.personas.map((p) => option(p.id, (en ? p.name_en : p.name) ?? p.id)),
    );
    persona.value = state.personas.some((p) => p.id === chosen) ? chosen : "";
  }

  function fillQuestions() {
    const [a, h] = [age.value, household.value];
    age.replaceChildren(option("", t("forMeChoose")), ...AGE_BANDS.map((b) => option(b, t(`age_${b}`))));
    household.replaceChildren(option("", t("forMeChoose")), ...HOUSEHOLDS.map((k) => option(k, t(`hh_${k}`))));
    age.value = a;
    household.value = h;
  }

  function syncQuestions() {
    questions.hidden = persona.value !== "";
  }

  function syncHome() {
    homeButton.setAttribute("aria-pressed", String(state.armed));
    homeState.textContent = t(state.armed ? "forMeHomeArmed" : state.home ? "forMeHomeSet" : "forMeHomeNone");
    probe.forMeArmed = state.armed;
    probe.forMeHome = Boolean(state.home);
  }

  function relabel() {
    heading.textContent = t("forMeTitle");
    intro.textContent = t("forMeIntro");
    scenarioLine.textContent = state.title ? t("forMeScenario", { title: state.title }) : "";
    homeButton.textContent = t("forMeHome");
    run.textContent = t("forMeRun");
    close.textContent = t("forMeClose");
    for (const label of section.querySelectorAll("label[data-key]")) label.textContent = t(label.dataset.key);
    fillPersonas();
    fillQuestions();
    syncQuestions();
    syncHome();
  }

  function showResult(answer) {
    result.replaceChildren();
    result.dataset.verdict = answer?.verdict ?? "none";
    if (!answer) return;
    const summary = el("p", { id: "for-me-summary", class: "for-me-summary" }, answer.summary);
    const list = el("ul", { class: "for-me-lines" });
    for (const line of answer.lines) {
      const item = el("li", {
        "data-indicator": line.indicator,
        "data-facility": line.facility,
        "data-verdict": line.verdict ?? "none",
        class: `delta-${line.verdict === "better" ? "good" : line.verdict === "worse" ? "bad" : "none"}`,
      });
      item.textContent = line.text;
      if (line.verdict) item.append(el("span", { class: "sr-only" }, ` (${t(`verdict_${line.verdict}`)})`));
      list.append(item);
    }
    result.append(summary, list);
  }

  async function ask() {
    message.textContent = "";
    const twin = host.twin();
    if (!twin || !state.scenarioId) return;
    if (!state.home) {
      message.textContent = t("forMeNeedHome");
      return;
    }
    const body = { home: { lon: state.home[0], lat: state.home[1] }, lang: currentLang() };
    if (persona.value) body.persona = persona.value;
    else if (age.value && household.value) Object.assign(body, { age_band: age.value, household: household.value });
    else {
      message.textContent = t("forMeNeedWho");
      return;
    }
    probe.forMeState = "running";
    run.disabled = true;
    run.textContent = t("forMeRunning");
    try {
      const response = await fetch(`/api/twins/${encodeURIComponent(twin.name)}/scenarios/${state.scenarioId}/for-me`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders() },
        body: JSON.stringify(body),
        cache: "no-store",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
      state.result = answer;
      showResult(answer);
      probe.forMeState = "done";
    } catch (error) {
      state.result = null;
      showResult(null);
      message.textContent = t("forMeFailed", { message: error.message });
      probe.forMeState = "error";
    } finally {
      run.disabled = false;
      run.textContent = t("forMeRun");
      probe.forMeRuns += 1;
    }
  }

  function disarm() {
    if (!state.armed) return;
    state.armed = false;
    syncHome();
  }

  persona.addEventListener("change", syncQuestions);
  homeButton.addEventListener("click", () => {
    state.armed = !state.armed;
    if (state.armed) host.onArm?.();
    syncHome();
    host.onChange?.();
  });
  run.addEventListener("click", () => ask());
  close.addEventListener("click", () => panel.close());
  section.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.armed) disarm();
  });
  // Buttons anywhere on the page (a proposal, the scenario results) open the panel for their scenario.
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("button.for-me-open");
    if (!button?.dataset.scenario) return;
    panel.open({ scenarioId: button.dataset.scenario, title: button.dataset.title ?? "" });
  });

  const panel = {
    // Open the panel for a scenario the caller may see (a stored one: the server checks its visibility).
    async open({ scenarioId, title = "" }) {
      if (!/^[0-9a-f]{64}$/.test(scenarioId ?? "")) return;
      const changed = state.scenarioId !== scenarioId;
      Object.assign(state, { scenarioId, title });
      if (changed) showResult(null);
      section.hidden = false;
      probe.forMeState = "open";
      probe.forMeScenario = scenarioId;
      relabel();
      section.scrollIntoView?.({ block: "nearest" });
      heading.focus({ preventScroll: true });
      const twin = host.twin();
      if (twin && state.twinName !== twin.name) {
        state.twinName = twin.name;
        state.personas = await host.personas(twin).catch(() => []);
        fillPersonas();
      }
      probe.forMeState = "ready";
    },
    close() {
      Object.assign(state, { scenarioId: null, title: "", home: null, armed: false, result: null });
      section.hidden = true;
      showResult(null);
      message.textContent = "";
      probe.forMeState = "closed";
      syncHome();
      host.onChange?.();
    },
    // A new twin: forget everything of the old one.
    reset() {
      Object.assign(state, { scenarioId: null, title: "", home: null, armed: false, result: null });
      Object.assign(state, { twinName: null, personas: [] });
      section.hidden = true;
      showResult(null);
      probe.forMeState = "closed";
      syncHome();
    },
    // A map click: taken only while armed, it sets the home point.
    click(info) {
      if (!state.armed) return false;
      const point = host.unproject?.(info.x, info.y) ?? info.coordinate;
      if (!point) return true;
      state.home = [point[0], point[1]];
      state.armed = false;
      syncHome();
      host.onChange?.();
      return true;
    },
    get armed() {
      return state.armed;
    },
    cursor() {
      return state.armed ? "crosshair" : null;
    },
    layers() {
      const twin = host.twin();
      if (!state.home || !twin || section.hidden) return [];
      return [
        new ScatterplotLayer({
          id: HOME_LAYER,
          data: [{ position: [state.home[0], state.home[1], twin.origin.height + 1] }],
          getPosition: (d) => d.position,
          getRadius: 9,
          radiusUnits: "pixels",
          getFillColor: [30, 90, 200, 230],
          getLineColor: [255, 255, 255, 255],
          getLineWidth: 3,
          lineWidthUnits: "pixels",
          stroked: true,
          parameters: { depthCompare: "always", depthWriteEnabled: false },
          updateTriggers: { getPosition: state.home.join(",") },
        }),
      ];
    },
    relabel() {
      relabel();
      if (state.result && !section.hidden) ask();
    },
  };
  probe.forMe = panel;
  relabel();
  return panel;
}
