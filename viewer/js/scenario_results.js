// A scenario's results in the panel: the summary line, the KPI table per persona and need (baseline or
// scenario values beside the change), the people in hazard areas, green space per resident and the demand
// outlook. Text is set with textContent only.

import { currentLang, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";
import { ALL, hexToRgb, personaLabel } from "./population.js";
import { floodSection } from "./flood_results.js";
import { infillSection } from "./scenario_infill.js";
import { planningSections } from "./planning_results.js";

export const MODES = ["baseline", "scenario", "compare", "swipe"];
const MODE_LABEL = { baseline: "modeBaseline", scenario: "modeScenario", compare: "modeCompare", swipe: "modeSwipe" };

function locale() {
  return currentLang() === "de" ? "de-DE" : "en-GB";
}

// A change with its sign ("+3,0", "−22", "±0"), rounded to `digits`.
export function signed(value, digits = 0) {
  const factor = 10 ** digits;
  const rounded = Math.round(value * factor) / factor;
  if (!Number.isFinite(rounded)) return t("noData");
  if (rounded === 0) return "±0";
  const text = new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(
    Math.abs(rounded),
  );
  return `${rounded > 0 ? "+" : "−"}${text}`;
}

// The server's verdict (better / worse / unchanged within the stated tolerance) as the cell's tone.
const TONE = { better: "delta-good", worse: "delta-bad", unchanged: "delta-none" };

function percent(share) {
  if (share === null || share === undefined) return t("noData");
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(share * 100);
}

// A change, toned and labelled by its verdict (screen readers hear "besser", "schlechter", "unverändert").
function deltaCell(value, digits, verdict, field) {
  const cell = el("td", { class: `num ${TONE[verdict] ?? "delta-none"}`, "data-field": field });
  cell.dataset.value = String(value);
  if (verdict) cell.dataset.verdict = verdict;
  cell.textContent = value === null || value === undefined ? t("noData") : signed(value, digits);
  if (verdict) cell.append(el("span", { class: "sr-only" }, ` (${t(`verdict_${verdict}`)})`));
  return cell;
}

// Walking metres also as minutes (at the result's walking speed), the unit residents think in.
function walk(metres, results) {
  if (metres === null || metres === undefined) return t("noData");
  const perMinute = results.assessment?.walking_m_per_min ?? 80;
  return t("walkValue", { m: formatNumber(metres), min: formatNumber(metres / perMinute, 1) });
}

// Places per 100 persons of the demand group (supply per demand x 100).
function per100(value) {
  return value === null || value === undefined ? t("noData") : formatNumber(value * 100, 1);
}

function personaCell(id, catalogue) {
  const cell = el("td", { class: "persona-cell" });
  const persona = catalogue.find((p) => p.id === id);
  const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
  swatch.style.background = persona ? `rgb(${hexToRgb(persona.color).join(",")})` : "#fff";
  cell.append(swatch, el("span", {}, id === ALL ? t("allPersons") : personaLabel(id, catalogue)));
  return cell;
}

function needText(k) {
  const facility = t(`fac_${k.facility}`);
  return k.max_distance_m ? t("needLimit", { facility, distance: formatNumber(k.max_distance_m) }) : facility;
}

// A table; `textColumns` columns from the left hold text, the others numbers.
function table(caption, heads, rows, attrs = {}, textColumns = 1) {
  const node = el("table", { class: "area-list kpi-table", ...attrs });
  node.append(el("caption", { class: "sr-only" }, caption));
  const head = el("tr");
  heads.forEach((h, i) => head.append(el("th", { scope: "col", class: i < textColumns ? "" : "num" }, h)));
  node.append(el("thead"), el("tbody"));
  node.tHead.append(head);
  node.tBodies[0].append(...rows);
  // A table that scrolls is a region the keyboard can reach and scroll (axe: scrollable-region-focusable).
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption });
  wrap.append(node);
  return wrap;
}

function summaryLine(summary) {
  const p = el("p", { class: "scenario-summary", "data-field": "summary" });
  const part = (field, key, vars) => {
    const span = el("span", { "data-field": field }, t(key, vars));
    span.dataset.value = String(summary[field]);
    return span;
  };
  const parts = [
    part("households_added", "summaryHouseholds", { n: formatNumber(summary.households_added) }),
    part("persons_added", "summaryPersons", { n: formatNumber(summary.persons_added) }),
  ];
  if (summary.households_removed) {
    parts.push(part("households_removed", "summaryRemoved", { n: formatNumber(summary.households_removed) }));
  }
  if (summary.dwellings_added) parts.unshift(part("dwellings_added", "summaryDwellings", { n: formatNumber(summary.dwellings_added) }));
  parts.push(part("sealed_m2", "summarySealed", { n: formatNumber(summary.sealed_m2) }));
  if (summary.residents_per_sealed_ha !== null && summary.residents_per_sealed_ha !== undefined) {
    const n = formatNumber(summary.residents_per_sealed_ha); // planners say "23 EW/ha", whole residents
    parts.push(part("residents_per_sealed_ha", "summaryDensity", { n }));
  }
  if (summary.no_new_sealing) parts.push(part("no_new_sealing", "summaryNoSealing", {}));
  parts.push(part("facilities", "summaryFacilities", { n: formatNumber(summary.facilities) }));
  parts.forEach((span, i) => p.append(...(i ? [document.createTextNode(" · "), span] : [span])));
  return p;
}

// The residents' table: the same households under the baseline's and the scenario's facilities.
function kpiTable(results, catalogue, mode) {
  const which = mode === "baseline" ? "baseline" : "scenario";
  const rows = results.kpis
    .filter((k) => (k.group ?? "residents") === "residents")
    .map((k) => {
      const tr = el("tr", { "data-persona": k.persona, "data-facility": k.facility });
      tr.append(
        personaCell(k.persona, catalogue),
        el("td", {}, needText(k)),
        el("td", { class: "num", "data-field": "distance" }, walk(k[`mean_distance_m_${which}`], results)),
        deltaCell(k.mean_distance_m_delta, 0, k.mean_distance_m_verdict, "distance_delta"),
        el("td", { class: "num", "data-field": "coverage" }, percent(k[`coverage_share_${which}`])),
        deltaCell(k.coverage_share_delta * 100, 1, k.coverage_share_verdict, "coverage_delta"),
        el("td", { class: "num", "data-field": "supply" }, per100(k[`supply_per_demand_${which}`])),
        deltaCell(k.supply_per_demand_delta * 100, 1, k.supply_per_demand_verdict, "supply_delta"),
      );
      return tr;
    });
  const columns = [
    "colPersona",
    "colNeed",
    "colDistance",
    "colDistanceDelta",
    "colCoverage",
    "colCoverageDelta",
    "colSupply",
    "colSupplyDelta",
  ];
  const heads = columns.map((key) => t(key));
  const caption = t("kpiCaption", { mode: t(mode === "baseline" ? "modeBaseline" : "modeScenario") });
  return table(caption, heads, rows, { id: "scenario-kpis", "data-mode": mode }, 2);
}

// Newcomers have no baseline: their values in the scenario.
function newcomerTable(results, catalogue) {
  const rows = results.kpis
    .filter((k) => k.group === "newcomers")
    .map((k) => {
      const tr = el("tr", { "data-persona": k.persona, "data-facility": k.facility });
      tr.append(
        personaCell(k.persona, catalogue),
        el("td", {}, needText(k)),
        el("td", { class: "num" }, walk(k.mean_distance_m_scenario, results)),
        el("td", { class: "num" }, percent(k.coverage_share_scenario)),
        el("td", { class: "num" }, per100(k.supply_per_demand_scenario)),
      );
      return tr;
    });
  if (!rows.length) return null;
  const heads = ["colPersona", "colNeed", "colDistance", "colCoverage", "colSupply"].map((key) => t(key));
  return table(t("newcomersTitle"), heads, rows, { id: "scenario-newcomers" }, 2);
}

// Green space per resident within walking distance: residents before and after with the verdict, newcomers after.
function greenTable(green, catalogue) {
  if (!green?.rows?.length) return null;
  const m2 = (v) => (v === null || v === undefined ? t("noData") : formatNumber(v, 1));
  const rows = green.rows.map((r) => {
    const tr = el("tr", { "data-persona": r.persona, "data-group": r.group });
    tr.append(
      personaCell(r.persona, catalogue),
      el("td", {}, t(r.group === "newcomers" ? "groupNewcomers" : "groupResidents")),
      el("td", { class: "num", "data-field": "green_baseline" }, m2(r.m2_baseline)),
      el("td", { class: "num", "data-field": "green_scenario" }, m2(r.m2_scenario)),
      r.group === "newcomers" ? el("td", { class: "num" }, "") : deltaCell(r.m2_delta, 1, r.verdict, "green_delta"),
    );
    return tr;
  });
  const heads = ["colPersona", "colGroup", "modeBaseline", "modeScenario", "colChange"].map((key) => t(key));
  const note = el("p", { class: "muted small", "data-field": "green-method" }, t("greenNote", {
    reach: formatNumber(green.reach_m),
    tolerance: formatNumber(green.tolerance_m2, 1),
    n: formatNumber(green.greens),
  }));
  return { note, table: table(t("greenTitle"), heads, rows, { id: "scenario-green" }, 2) };
}

// One line of the assessment: "Schulfamilien, Schule: Plätze je 100 Personen 129,7 → 127,9 (−1,8), wegen: Zuzug".
function assessmentItem(item, catalogue) {
  const who = item.persona === ALL ? t("allPersons") : personaLabel(item.persona, catalogue);
  const scaled = (v) => (item.indicator === "supply_per_demand" || item.indicator === "coverage_share" ? v * 100 : v);
  const digits = item.indicator.endsWith("distance_m") ? 0 : 1;
  const text = t("assessmentLine", {
    who,
    facility: t(`fac_${item.facility}`),
    indicator: t(`ind_${item.indicator}`),
    from: formatNumber(scaled(item.baseline), digits),
    to: formatNumber(scaled(item.scenario), digits),
    change: signed(scaled(item.delta), digits),
  });
  const li = el("li", { "data-persona": item.persona, "data-facility": item.facility, "data-indicator": item.indicator });
  li.append(document.createTextNode(text));
  if (item.causes?.length) {
    const why = item.causes.map((c) => t(`cause_${c}`)).join(", ");
    li.append(el("span", { class: "muted" }, ` ${t("assessmentBecause", { why })}`));
  }
  return li;
}

// "Who loses most, and why" on top of the results, and what gains; how much stays unchanged.
function assessmentBox(results, catalogue) {
  const a = results.assessment;
  if (!a) return null;
  const box = el("section", { class: "assessment", id: "scenario-assessment", "aria-labelledby": "scenario-assessment-title" });
  box.append(el("h4", { id: "scenario-assessment-title" }, t("assessmentTitle")));
  const losses = el("ul", { "data-assessment": "losses" });
  a.losses.forEach((item) => losses.append(assessmentItem(item, catalogue)));
  box.append(a.losses.length ? losses : el("p", { class: "small", "data-assessment": "no-losses" }, t("assessmentNoLosses")));
  if (a.gains.length) {
    box.append(el("h5", {}, t("assessmentGains")));
    const gains = el("ul", { "data-assessment": "gains" });
    a.gains.forEach((item) => gains.append(assessmentItem(item, catalogue)));
    box.append(gains);
  }
  const tolerance = t("assessmentTolerance", {
    m: formatNumber(a.tolerances.mean_distance_m),
    pp: formatNumber(a.tolerances.coverage_share * 100, 1),
    places: formatNumber(a.tolerances.supply_per_demand * 100, 1),
  });
  box.append(el("p", { class: "muted small" }, `${t("assessmentUnchanged", { n: a.unchanged, of: a.compared })} ${tolerance}`));
  return box;
}

function outlookTable(outlook) {
  const rows = outlook.years.map((year, i) => {
    const tr = el("tr", { "data-year": String(year) });
    tr.append(
      el("td", {}, year === 0 ? t("outlookNow") : t("outlookYear", { n: year })),
      el("td", { class: "num" }, formatNumber(outlook.kita_0_5[i])),
      el("td", { class: "num" }, formatNumber(outlook.primary_6_9[i])),
      el("td", { class: "num" }, formatNumber(outlook.care_80_plus[i])),
    );
    return tr;
  });
  const heads = [t("outlookWhen"), t("outlookKita"), t("outlookPrimary"), t("outlookCare")];
  return table(t("outlookTitle"), heads, rows, { id: "scenario-outlook" });
}

// What the outlook projected with: the town's own history or the prior with its assumed migration, and year one.
function outlookNote(outlook) {
  const m = outlook.method ?? {};
  const parts = [];
  if (m.migration === "history") {
    parts.push(t("outlookHistory", { town: m.calibrated_on, years: (m.migration_years ?? []).join("-") }));
  } else if (m.migration === "prior") {
    parts.push(t("outlookPrior", { rates: m.rates, rate: formatNumber(100 * m.migration_rate, 1) }));
  }
  const flows = outlook.flows;
  if (flows?.births?.length) {
    const [births, deaths, migration] = [flows.births[0], flows.deaths[0], flows.net_migration[0]].map((v) => formatNumber(v));
    parts.push(t("outlookFlows", { births, deaths, migration }));
  }
  return parts.length ? el("p", { class: "muted small", id: "scenario-outlook-method" }, parts.join(" ")) : null;
}

function personaRows(list, catalogue, cells) {
  return list.map((row) => {
    const tr = el("tr", { "data-persona": row.persona });
    tr.append(personaCell(row.persona, catalogue), ...cells(row).map((text) => el("td", { class: "num" }, text)));
    return tr;
  });
}

// What the privacy gate did to this result: area measures act on whole published units, small areas get no figure.
function privacyNote(results) {
  const privacy = results.privacy;
  if (!privacy) return null;
  const box = el("div", { class: "small privacy-notes", id: "scenario-privacy", role: "note" });
  box.append(el("h4", {}, t("privacyTitle")));
  box.append(el("p", { class: "muted" }, t("privacyUnits", { persons: privacy.min_persons, households: privacy.min_households })));
  const list = el("ul", {});
  for (const note of privacy.notes ?? []) {
    const vars = { measure: note.measure + 1, units: formatNumber(note.units ?? 0), kept: formatNumber(note.kept ?? 0) };
    list.append(el("li", { "data-code": note.code }, t(`privacy_${note.code}`, vars)));
  }
  if (list.children.length) box.append(list);
  return box;
}

function methodNote(results) {
  const details = el("details", { class: "small method" });
  const method = t(results.distance_method === "network" ? "methodNetwork" : "methodOther");
  details.append(el("summary", {}, t("methodLabel", { method })));
  details.append(el("p", { class: "muted" }, results.distance_description));
  return details;
}

// Everything under the panel's results heading; `onMode(mode)` switches the table between baseline and scenario.
export function renderResults(container, { results, catalogue, mode, stale, onMode, onExport, renderCells, reportUrl, against }) {
  container.replaceChildren();
  if (!results) return;
  const heading = el("h3", { id: "scenario-results-title" }, t("resultsTitle", { name: results.name }));
  container.append(heading);
  if (against) container.append(against);
  if (stale) container.append(el("p", { class: "note", "data-field": "stale" }, t("resultsStale")));
  container.append(summaryLine(results.summary));
  const gaps = results.data_gaps?.facility_types ?? [];
  if (gaps.length) {
    // A twin without facility data says so, instead of showing 0 % coverage for everyone.
    const types = gaps.map((f) => t(`fac_${f}`)).join(", ");
    container.append(el("p", { class: "note", id: "scenario-gaps", role: "note" }, t("dataGaps", { types })));
  }
  const edge = (results.data_gaps?.facility_edge ?? []).filter((g) => g.share >= 0.05);
  if (edge.length) {
    // Homes near the edge of the facility data may have a nearer facility beyond it: their walks may be overstated.
    const types = edge.map((g) => `${t(`fac_${g.facility}`)} ${formatNumber(g.share * 100, 0)} %`).join(", ");
    container.append(el("p", { class: "note muted small", id: "scenario-edge", role: "note" }, t("dataEdge", { types })));
  }
  const verdicts = assessmentBox(results, catalogue);
  if (verdicts) container.append(verdicts);

  const group = el("fieldset", { class: "segmented", id: "scenario-mode" });
  group.append(el("legend", {}, t("showValues")));
  for (const m of MODES) {
    const id = `scenario-mode-${m}`;
    const input = el("input", { type: "radio", name: "scenario-mode", id, value: m });
    input.checked = m === mode;
    input.addEventListener("change", () => input.checked && onMode(m));
    group.append(input, el("label", { for: id }, t(MODE_LABEL[m])));
  }
  container.append(el("h4", {}, t("residentsTitle")), group, kpiTable(results, catalogue, mode), methodNote(results));
  const newcomers = newcomerTable(results, catalogue);
  if (newcomers) container.append(el("h4", {}, t("newcomersTitle")), newcomers);
  const privacy = privacyNote(results);
  if (privacy) container.append(privacy);

  if (results.hazard_exposed?.length) {
    container.append(el("h4", {}, t("exposedTitle")));
    const counts = (r) => [formatNumber(r.households), formatNumber(r.persons)];
    const rows = personaRows(results.hazard_exposed, catalogue, counts);
    const heads = [t("colPersona"), t("households"), t("persons")];
    container.append(table(t("exposedTitle"), heads, rows, { id: "scenario-exposed" }));
  }
  container.append(...floodSection(results.flood, { catalogue, table, personaRows }));
  container.append(...infillSection(results.infill, { catalogue, table, personaRows }));
  container.append(...planningSections(results, { catalogue, table, personaRows }));
  const green = greenTable(results.green_space, catalogue);
  if (green) container.append(el("h4", {}, t("greenTitle")), green.note, green.table);
  else if (results.data_gaps?.greens) container.append(el("p", { class: "muted small", id: "scenario-green-gap" }, t("greenGap")));
  if (results.demand_outlook) {
    container.append(el("h4", {}, t("outlookTitle")), outlookTable(results.demand_outlook));
    const note = outlookNote(results.demand_outlook);
    if (note) container.append(note);
  }
  const cells = el("div", { id: "scenario-cells", class: "scenario-cells" });
  container.append(cells);
  renderCells?.(cells);
  const actions = el("div", { class: "actions" });
  const json = el("button", { type: "button", id: "scenario-export-json" }, t("exportJson"));
  const csv = el("button", { type: "button", id: "scenario-export-csv" }, t("exportCsv"));
  json.addEventListener("click", () => onExport("json"));
  csv.addEventListener("click", () => onExport("csv"));
  actions.append(json, csv);
  if (results.scenario_id) {
    // "Wie betrifft mich das?" for this scenario (viewer/js/for_me_panel.js opens on any such button).
    const attrs = { type: "button", id: "scenario-for-me", class: "for-me-open", "data-scenario": results.scenario_id };
    actions.append(el("button", { ...attrs, "data-title": results.name ?? "" }, t("forMeOpen")));
  }
  if (reportUrl) {
    // A plain link: the server sends the report as an attachment, one self-contained file that works offline.
    const href = `${reportUrl}?lang=${currentLang()}`;
    actions.append(el("a", { id: "scenario-export-report", class: "button", href, download: "" }, t("exportReport")));
  }
  container.append(actions);
}
