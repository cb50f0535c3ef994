// "Nachverdichtung" in the scenario panel: the measure (for the whole twin, or an area drawn on the map), its form
// fields (a loaded Bebauungsplan, the default GFZ, the take-up), its results (totals, newcomers, the parcels with
// potential) and the parcels on the map coloured by their unused floor area. Parcels are cadastre data, not
// persons; the server lists at most the 2,000 with the most unused floor area, with their outlines.
// Text is set with textContent only; the texts live here.

import { api } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { el } from "./panels.js";
import { newMeasure, polygonOf } from "./scenario_model.js";

const { PolygonLayer } = globalThis.deck;

export const INFILL_DEFAULTS = { plan_layer: null, default_gfz: 0.8, take_up: 0.3, dwelling_m2: 80, occupancy: 1.0, mix: "new_build" };
export const INFILL_FIELDS = {
  infill: [
    { name: "plan_layer", type: "plan" },
    { name: "default_gfz", type: "float", min: 0.1, max: 4, step: 0.1 },
    { name: "take_up", type: "float", min: 0.05, max: 1, step: 0.05, percent: true },
    { name: "dwelling_m2", type: "float", min: 20, max: 400, step: 5 },
    { name: "occupancy", type: "float", min: 0.05, max: 1, step: 0.05, percent: true },
    { name: "mix", type: "mix" },
  ],
};
const LOW = [254, 237, 160];
const HIGH = [189, 0, 38];
const EMPTY = [120, 120, 120];
let plans = { twin: null, list: [] };

// The measure: for an area drawn with the "infill" tool (points), or for the whole twin (no points); null for the
// other tools.
export function infillMeasure(kind, points = null) {
  if (kind !== "infill") return null;
  const area = points ? { area: polygonOf(points) } : {};
  return newMeasure("infill", { ...area, ...INFILL_DEFAULTS, plan_layer: plans.list[0]?.id ?? null });
}

// The two tool buttons, after "Gebäude aufstocken": drawing an area (a data-tool the panel wires up) and the whole
// twin at once (`onWhole`).
export function installInfill(onWhole) {
  const storeys = document.querySelector('[data-tool="add_storeys"]');
  if (!storeys || document.getElementById("scenario-infill-all")) return;
  // Hidden until a twin with parcels is open (loadPlans).
  const draw = el("button", { type: "button", "data-tool": "infill", "aria-pressed": "false", "data-i18n": "toolInfill", hidden: "" }, t("toolInfill"));
  const all = el("button", { type: "button", id: "scenario-infill-all", "data-i18n": "toolInfillAll", hidden: "" }, t("toolInfillAll"));
  all.addEventListener("click", onWhole);
  storeys.after(draw, all);
}

// The twin's loaded Bebauungspläne (XPlanGML layers the caller may see); the tools show only where it has parcels.
export async function loadPlans(twin) {
  const parcels = Boolean(twin.counts?.parcels);
  for (const button of document.querySelectorAll('[data-tool="infill"], #scenario-infill-all')) button.hidden = !parcels;
  plans = { twin: twin.name, list: [] };
  if (!parcels) return;
  const catalogue = await api.catalogue(twin.name);
  if (plans.twin !== twin.name) return;
  const layers = Array.isArray(catalogue) ? catalogue : (catalogue.layers ?? []);
  plans.list = layers.filter((layer) => layer.format === "xplangml").map((layer) => ({ id: layer.id, title: layer.title }));
}

export function planOptions(current) {
  const options = [el("option", { value: "" }, t("planNone"))];
  for (const plan of plans.list) options.push(el("option", { value: plan.id }, plan.title));
  if (current && !plans.list.some((p) => p.id === current)) options.push(el("option", { value: current }, current));
  return options;
}

function colour(unused, max) {
  const s = Math.sqrt(Math.min(unused / Math.max(max, 1), 1)); // square root: small potentials stay visible
  return LOW.map((c, i) => Math.round(c + (HIGH[i] - c) * s));
}

// The listed parcels of every infill measure, coloured by their unused floor area: flat, just above the per-cell
// result map (which lies up to 3 m above the ground), so that they stay visible over it.
export function infillLayers(twin, results, visible) {
  const rows = (results?.infill ?? []).flatMap((r) => r.parcels.filter((p) => p.outline));
  if (!rows.length) return [];
  const max = Math.max(...rows.map((p) => p.unused_m2));
  const rings = (g) => (g.type === "Polygon" ? [g.coordinates] : g.coordinates);
  const data = rows.flatMap((p) => rings(p.outline).map((polygon) => ({ polygon, parcel: p })));
  return [
    new PolygonLayer({
      id: "scenario-infill-parcels",
      data,
      visible,
      pickable: true,
      modelMatrix: liftMatrix(twin.origin.height + 3.2),
      getPolygon: (d) => d.polygon,
      getFillColor: (d) => (d.parcel.needs_sealing ? [...EMPTY, 60] : [...colour(d.parcel.unused_m2, max), 170]),
      getLineColor: (d) => (d.parcel.needs_sealing ? [...EMPTY, 255] : [120, 40, 20, 200]),
      getLineWidth: 1,
      lineWidthUnits: "pixels",
      updateTriggers: { getFillColor: max },
    }),
  ];
}

export function infillTooltip(info) {
  const p = info.layer?.id === "scenario-infill-parcels" ? info.object?.parcel : null;
  if (!p) return null;
  const vars = { label: p.label, unused: formatNumber(p.unused_m2), realisable: formatNumber(p.realisable_m2) };
  if (p.needs_sealing) return { text: t("infillTooltipSealing", vars) };
  const limit = t(`infillLimit_${p.limit}`);
  return { text: t("infillTooltip", { ...vars, now: formatNumber(p.gfz_now, 2), allowed: formatNumber(p.gfz_allowed, 2), limit }) };
}

const SHOWN_ROWS = 15;

// One result section per infill measure; helpers: {catalogue, table, personaRows} of the results panel.
export function infillSection(infill, { catalogue, table, personaRows }) {
  const nodes = [];
  for (const r of infill ?? []) {
    const section = el("section", { class: "infill", "data-measure": String(r.measure) });
    section.append(el("h4", {}, t("infillTitle", { n: r.measure + 1 })));
    for (const note of r.notes ?? []) {
      section.append(el("p", { class: "note", "data-code": note.code }, t(`infillNote_${note.code}`, { layer: note.layer ?? "" })));
    }
    const gfz = formatNumber(r.default_gfz, 2);
    const parcels = r.plan_layer
      ? t("infillParcels", { n: formatNumber(r.parcels_considered), plan: formatNumber(r.parcels_with_plan), title: r.plan_layer.title, other: formatNumber(r.parcels_default), gfz })
      : t("infillParcelsNoPlan", { n: formatNumber(r.parcels_considered), gfz });
    const potential = t("infillPotential", {
      unused: formatNumber(r.unused_m2),
      realisable: formatNumber(r.realisable_m2),
      share: formatNumber(r.take_up * 100),
      realised: formatNumber(r.realised_m2),
      dwellings: formatNumber(r.dwellings),
    });
    section.append(el("p", { "data-field": "infill-parcels" }, parcels), el("p", { "data-field": "infill-potential" }, potential));
    if (r.capped_by_storeys) section.append(el("p", { class: "muted small" }, t("infillCapped", { n: formatNumber(r.capped_by_storeys) })));
    const sealing = r.needs_sealing;
    if (sealing.parcels) {
      const vars = { parcels: formatNumber(sealing.parcels), area: formatNumber(sealing.area_m2), unused: formatNumber(sealing.unused_m2) };
      section.append(el("p", { class: "note", "data-field": "infill-sealing" }, t("infillSealing", vars)));
    }
    const newcomers = r.newcomers;
    if (newcomers?.households) {
      section.append(el("p", { class: "small" }, t("infillNewcomers", { households: formatNumber(newcomers.households), persons: formatNumber(newcomers.persons) })));
      const rows = personaRows(newcomers.by_persona, catalogue, (row) => [formatNumber(row.households), formatNumber(row.persons)]);
      if (rows.length) section.append(table(t("m_infill"), [t("colPersona"), t("households"), t("persons")], rows, { "data-table": "infill-newcomers" }));
    }
    if (r.parcels.length) {
      section.append(el("p", { class: "muted small" }, `${t("infillListed", { n: formatNumber(r.listed), max: formatNumber(r.listed_max) })} ${t("infillLegend", { max: formatNumber(r.parcels[0].unused_m2) })}`));
      const rows = r.parcels.slice(0, SHOWN_ROWS).map((p) => {
        const tr = el("tr", { "data-parcel": p.parcel_id });
        tr.append(
          el("td", {}, p.label),
          el("td", { class: "num" }, formatNumber(p.gfz_now, 2)),
          el("td", { class: "num" }, `${formatNumber(p.gfz_allowed, 2)} (${t(`infillLimit_${p.limit}`)})`),
          el("td", { class: "num" }, formatNumber(p.unused_m2)),
          el("td", { class: "num" }, p.needs_sealing ? "–" : formatNumber(p.realisable_m2)),
        );
        return tr;
      });
      const heads = ["infillColParcel", "infillColNow", "infillColAllowed", "infillColUnused", "infillColRealisable"].map((k) => t(k));
      section.append(table(t("m_infill"), heads, rows, { "data-table": "infill-parcels" }));
    }
    nodes.push(section);
  }
  return nodes;
}
