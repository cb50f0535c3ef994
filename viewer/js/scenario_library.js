// The scenario library in the scenario panel: the stored scenarios the caller may see (newest first, with version,
// visibility and date), each opened with one button; and who may see a scenario when it is saved: the council and
// the administration save drafts for the council by default, the public saves public scenarios.

import { api, whoami } from "./api.js";
import { currentLang, t } from "./i18n.js";
import { el } from "./panels.js";

const LEVELS = ["public", "council", "admin"];

export class ScenarioLibrary {
  // host: {twin() (the open twin), open(id) (loads a stored scenario), probe}
  constructor(host) {
    this.host = host;
    this.role = "public";
    this.entries = [];
    this.dom = {
      list: document.getElementById("scenario-library-list"),
      visibility: document.getElementById("scenario-visibility"),
      visibilityRow: document.getElementById("scenario-visibility-row"),
    };
    host.probe.library = { ids: [], role: "public" };
    globalThis.addEventListener?.("twin3d-auth", () => this.refresh().catch(() => {}));
  }

  // The visibility a new scenario is saved with.
  get visibility() {
    return this.dom.visibilityRow.hidden ? "public" : this.dom.visibility.value;
  }

  async refresh() {
    const twin = this.host.twin();
    if (!twin) return;
    const [me, entries] = await Promise.all([whoami(), api.scenarios(twin.name)]);
    if (this.host.twin() !== twin) return;
    const changed = (me.role ?? "public") !== this.role;
    this.role = me.role ?? "public";
    this.entries = entries;
    this.renderVisibility(changed);
    this.render();
    Object.assign(this.host.probe.library, { ids: entries.map((e) => e.scenario_id), role: this.role });
  }

  // The visibility of a stored scenario opened again, where the caller may save with it.
  choose(visibility) {
    if ([...this.dom.visibility.options].some((o) => o.value === visibility)) this.dom.visibility.value = visibility;
  }

  relabel() {
    this.renderVisibility();
    this.render();
  }

  // `reset`: the role changed, so its default applies again.
  renderVisibility(reset = false) {
    const allowed = LEVELS.slice(0, LEVELS.indexOf(this.role) + 1);
    this.dom.visibilityRow.hidden = allowed.length < 2;
    const current = this.dom.visibility.value;
    this.dom.visibility.replaceChildren(...allowed.map((v) => el("option", { value: v }, t(`vis_${v}`))));
    // The council's and the administration's drafts stay with the council until they choose otherwise.
    const fallback = allowed.includes("council") ? "council" : "public";
    this.dom.visibility.value = allowed.includes(current) && !reset ? current : fallback;
  }

  render() {
    const items = this.entries.map((entry) => {
      const li = el("li", { "data-scenario": entry.scenario_id });
      const when = entry.created_at ? new Date(`${entry.created_at}Z`) : null;
      const date = when && !Number.isNaN(when.getTime()) ? when.toLocaleDateString(currentLang() === "de" ? "de-DE" : "en-GB") : "";
      const meta = [t("libraryVersion", { n: entry.version }), t(`vis_${entry.visibility ?? "public"}`), date].filter(Boolean);
      const open = el("button", { type: "button", "aria-label": t("libraryOpenOf", { name: entry.name }) }, t("libraryOpen"));
      open.addEventListener("click", () => this.host.open(entry.scenario_id));
      li.append(el("span", { class: "library-name" }, entry.name), el("span", { class: "muted small" }, ` ${meta.join(" · ")} `), open);
      return li;
    });
    if (!items.length) items.push(el("li", { class: "muted small" }, t("libraryEmpty")));
    this.dom.list.replaceChildren(...items);
  }
}

// "Verglichen mit" above the results: today, or any other stored scenario the caller may see (`onChange(id |
// null)`), and the note saying what "baseline" means when another scenario stands in for it.
export function againstBox(entries, currentId, against, results, onChange) {
  const box = el("div", { id: "scenario-against-box" });
  if (entries.length > 1 || against) {
    const select = el("select", { id: "scenario-against" });
    select.append(el("option", { value: "" }, t("againstBaseline")));
    for (const entry of entries) {
      if (entry.scenario_id !== currentId) select.append(el("option", { value: entry.scenario_id }, entry.name));
    }
    select.value = against ?? "";
    select.addEventListener("change", () => onChange(select.value || null));
    const row = el("div", { class: "controls" });
    row.append(el("label", { for: "scenario-against" }, t("againstLabel")), select);
    box.append(row);
  }
  if (results?.against) box.append(el("p", { class: "note", "data-field": "against" }, t("againstNote", { name: results.against.name })));
  return box.children.length ? box : null;
}
