// The 3D planning parts of a scenario's results in the panel: households per persona who lose direct sun at their
// façades, residents per road-noise band before and after, and who will see a planned landmark. Every figure comes
// from the server through the privacy gate: a group it withholds is shown as withheld, never as zero. Text is set
// with textContent only.

import { formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";

function groupTotal(group) {
  if (!group || group.withheld) return t("groupWithheld");
  return t("groupTotal", { households: formatNumber(group.households), persons: formatNumber(group.persons) });
}

// One group (a total and its persona rows) under its heading; `field` names it for tests and the list view.
function groupBlock(title, group, field, { catalogue, table, personaRows }) {
  const nodes = [el("h5", {}, title)];
  const total = el("p", { "data-field": field }, groupTotal(group));
  total.dataset.households = group && !group.withheld ? String(group.households) : "";
  total.dataset.withheld = String(Boolean(!group || group.withheld));
  nodes.push(total);
  if (group && !group.withheld && group.by_persona.length) {
    const rows = personaRows(group.by_persona, catalogue, (r) => [formatNumber(r.households), formatNumber(r.persons)]);
    nodes.push(table(title, [t("colPersona"), t("households"), t("persons")], rows, { id: `scenario-${field}` }));
  }
  return nodes;
}

function sunSection(sun, helpers) {
  const threshold = formatNumber(sun.threshold_h, 1);
  const day = new Date(`${sun.day}T12:00:00`).toLocaleDateString(document.documentElement.lang || "de", { day: "numeric", month: "long" });
  const nodes = [
    el("h4", { id: "scenario-sun" }, t("facadeSunTitle")),
    el("p", { class: "note small" }, t("facadeSunNote", { day, threshold, n: formatNumber(sun.buildings_checked) })),
  ];
  nodes.push(...groupBlock(t("sunLosing", { threshold }), sun.losing, "sun-losing", helpers));
  if (sun.gaining && (sun.gaining.withheld || sun.gaining.households)) {
    nodes.push(...groupBlock(t("sunGaining", { threshold }), sun.gaining, "sun-gaining", helpers));
  }
  nodes.push(...groupBlock(t("sunBelowBefore", { threshold }), sun.below_before, "sun-below-before", helpers));
  nodes.push(...groupBlock(t("sunBelowAfter", { threshold }), sun.below_after, "sun-below-after", helpers));
  if (sun.newcomers_below) nodes.push(...groupBlock(t("sunNewcomersBelow", { threshold }), sun.newcomers_below, "sun-newcomers-below", helpers));
  return nodes;
}

function bandLabel(band, bands) {
  const next = bands[bands.indexOf(band) + 1];
  return next === undefined ? `≥ ${band} dB` : `${band}–${next - 1} dB`;
}

function noiseSection(noise, helpers) {
  const { table } = helpers;
  const note = noise.source === "layer" ? t("noiseNoteLayer", { layer: noise.layer_title ?? noise.layer }) : t("noiseNoteModel", { n: formatNumber(noise.buildings_checked) });
  const nodes = [el("h4", { id: "scenario-noise" }, t("noiseTitle")), el("p", { class: "note small" }, note)];
  const rows = noise.residents.map((r) => {
    const tr = el("tr", { "data-band": String(r.band) });
    tr.append(el("td", {}, bandLabel(r.band, noise.bands)), el("td", { class: "num" }, groupTotal(r.before)), el("td", { class: "num" }, groupTotal(r.after)));
    return tr;
  });
  nodes.push(table(t("noiseTitle"), [t("noiseBand"), t("noiseBefore"), t("noiseAfter")], rows, { id: "scenario-noise-bands" }));
  if (noise.louder) nodes.push(...groupBlock(t("noiseLouder"), noise.louder, "noise-louder", helpers));
  if (noise.quieter) nodes.push(...groupBlock(t("noiseQuieter"), noise.quieter, "noise-quieter", helpers));
  if (noise.newcomers?.length) {
    const rows = noise.newcomers.map((r) => {
      const tr = el("tr", { "data-band": String(r.band) });
      tr.append(el("td", {}, bandLabel(r.band, noise.bands)), el("td", { class: "num" }, groupTotal(r.group)));
      return tr;
    });
    nodes.push(el("h5", {}, t("noiseNewcomers")), table(t("noiseNewcomers"), [t("noiseBand"), t("colHouseholdsPersons")], rows, { id: "scenario-noise-newcomers" }));
  }
  return nodes;
}

function viewsSection(views, helpers) {
  const nodes = [el("h4", { id: "scenario-views" }, t("viewsTitle"))];
  for (const v of views) {
    const vars = {
      structure: t(`structure_${v.structure}`),
      name: v.name || t(`structure_${v.structure}`),
      height: formatNumber(v.height_m, 0),
      distance: formatNumber(v.max_distance_m / 1000, 1),
    };
    nodes.push(el("p", { class: "note small" }, t("viewsNote", vars)));
    nodes.push(...groupBlock(t("viewsSee"), v.see, `views-see-${v.measure}`, helpers));
  }
  return nodes;
}

// helpers: {catalogue, table, personaRows} of the results panel, so the tables look and read like its others.
export function planningSections(results, helpers) {
  const nodes = [];
  if (results.sun) nodes.push(...sunSection(results.sun, helpers));
  if (results.noise) nodes.push(...noiseSection(results.noise, helpers));
  if (results.views?.length) nodes.push(...viewsSection(results.views, helpers));
  return nodes;
}
