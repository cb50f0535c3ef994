// The 3D planning parts of a scenario's results in the panel: households per persona who lose direct sun at their
// façades, residents per road-noise band before and after, and who will see a planned landmark. Every figure comes
// from the server through the privacy gate: a group it withholds is shown as withheld, never as zero. Text is set
// with textContent only.

import { addStrings, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";

addStrings({
  de: {
    sunTitle: "Sonne an den Fassaden",
    sunNote: "Direkte Sonne an der besten Fassade jedes Wohngebäudes am {day} (Idee der DIN EN 17037: mindestens {threshold} Stunden); neu berechnet für {n} Gebäude im möglichen Schattenwurf der Änderungen.",
    sunLosing: "Fallen unter {threshold} Stunden",
    sunGaining: "Kommen über {threshold} Stunden",
    sunBelowBefore: "Unter {threshold} Stunden vorher",
    sunBelowAfter: "Unter {threshold} Stunden nachher",
    sunNewcomersBelow: "Zugezogene unter {threshold} Stunden",
    sunNone: "Niemand verliert Sonne unter die Schwelle.",
    groupWithheld: "zu wenige Haushalte für eine Zahl (Datenschutz)",
    groupTotal: "{households} Haushalte, {persons} Personen",
    noiseTitle: "Straßenlärm (L_DEN)",
    noiseNoteModel: "Screening-Modell nach RLS-19, vereinfacht (siehe Dokumentation): Pegel an der lautesten Fassade, {n} Gebäude neu berechnet.",
    noiseNoteLayer: "Pegel aus der Lärmkarte „{layer}“ an den Wohnorten.",
    noiseBand: "Pegelklasse",
    noiseBefore: "vorher",
    noiseAfter: "nachher",
    noiseLouder: "Lauter (höhere Klasse)",
    noiseQuieter: "Leiser (niedrigere Klasse)",
    noiseNewcomers: "Zugezogene je Pegelklasse",
    viewsTitle: "Sichtbarkeit",
    viewsNote: "{structure} „{name}“, {height} m hoch: Haushalte, die ihn aus ihrem Gebäude sehen (Sichtlinie über Gebäude und Gelände, bis {distance} km).",
    viewsSee: "Sehen ihn",
    structure_tower: "Turm",
    structure_wind_turbine: "Windrad",
    structure_other: "Bauwerk",
    colHouseholdsPersons: "Haushalte / Personen",
  },
  en: {
    sunTitle: "Sun at the façades",
    sunNote: "Direct sun at the best façade of each residential building on {day} (the DIN EN 17037 idea: at least {threshold} hours); recomputed for {n} buildings within the shadows the changes can cast.",
    sunLosing: "Fall below {threshold} hours",
    sunGaining: "Rise above {threshold} hours",
    sunBelowBefore: "Below {threshold} hours before",
    sunBelowAfter: "Below {threshold} hours after",
    sunNewcomersBelow: "Newcomers below {threshold} hours",
    sunNone: "Nobody loses sun below the threshold.",
    groupWithheld: "too few households for a figure (privacy)",
    groupTotal: "{households} households, {persons} persons",
    noiseTitle: "Road noise (L_DEN)",
    noiseNoteModel: "Screening model after RLS-19, simplified (see the documentation): level at the loudest façade, {n} buildings recomputed.",
    noiseNoteLayer: "Levels from the noise map “{layer}” at the homes.",
    noiseBand: "Level band",
    noiseBefore: "before",
    noiseAfter: "after",
    noiseLouder: "Louder (a higher band)",
    noiseQuieter: "Quieter (a lower band)",
    noiseNewcomers: "Newcomers per level band",
    viewsTitle: "Visibility",
    viewsNote: "{structure} “{name}”, {height} m high: households who see it from their building (line of sight over buildings and terrain, up to {distance} km).",
    viewsSee: "See it",
    structure_tower: "Tower",
    structure_wind_turbine: "Wind turbine",
    structure_other: "Structure",
    colHouseholdsPersons: "Households / persons",
  },
});

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
    el("h4", { id: "scenario-sun" }, t("sunTitle")),
    el("p", { class: "note small" }, t("sunNote", { day, threshold, n: formatNumber(sun.buildings_checked) })),
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
