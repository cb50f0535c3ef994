// The flood part of a scenario's results in the panel: the terrain it used, each water level and wall, the
// buildings in the water by depth, the residents in it (through the privacy gate) and the facilities and paths it
// cuts off. Text is set with textContent only; the texts live in flood_tool.js.

import { formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";

function terrainLine(terrain) {
  if (terrain.kind === "dem") {
    return t("floodTerrainDem", {
      source: terrain.source,
      resolution: formatNumber(terrain.resolution_m, 1),
      low: formatNumber(terrain.min_m, 1),
      high: formatNumber(terrain.max_m, 1),
    });
  }
  return t("floodTerrainGround", { ground: formatNumber(terrain.ground_m, 2) });
}

function levelLines(flood) {
  const lines = flood.levels.map((lv) => {
    const vars = { measure: lv.measure + 1, level: formatNumber(lv.level_m, 2) };
    if (!lv.source) return t("floodLevelDry", vars);
    return t("floodLevel", { ...vars, area: formatNumber(lv.area_m2 / 10000, 1), max: formatNumber(lv.max_depth_m, 2) });
  });
  for (const w of flood.walls) {
    const vars = { measure: w.measure + 1, crest: formatNumber(w.crest_m, 2) };
    const kept = flood.levels.filter((lv) => w.holds.includes(lv.measure)).map((lv) => lv.buildings_protected ?? 0);
    lines.push(w.holds.length ? t("floodWallHolds", { ...vars, buildings: formatNumber(Math.max(...kept)) }) : t("floodWallOver", vars));
  }
  return lines;
}

function bandLabel(band) {
  const low = formatNumber(band.from_m, 1);
  return band.to_m === null ? t("floodBandOpen", { low }) : t("floodBandRange", { low, high: formatNumber(band.to_m, 1) });
}

// helpers: {catalogue, table(caption, heads, rows, attrs, textColumns), personaRows(list, catalogue, cells)} of the
// results panel, so the tables look and read like its others.
export function floodSection(flood, { catalogue, table, personaRows }) {
  if (!flood) return [];
  const b = flood.buildings;
  const nodes = [
    el("h4", { id: "scenario-flood" }, t("floodTitle")),
    el("p", { class: "note", "data-field": "flood-terrain", "data-kind": flood.terrain.kind }, terrainLine(flood.terrain)),
  ];
  const list = el("ul", { class: "small" });
  for (const line of levelLines(flood)) list.append(el("li", {}, line));
  nodes.push(list);
  const max = formatNumber(b.max_depth_m, 2);
  nodes.push(el("p", { "data-field": "flood-buildings" }, t("floodBuildings", { flooded: formatNumber(b.flooded), total: formatNumber(b.total), max })));
  if (b.flooded) {
    const rows = b.by_depth.map((band) => {
      const tr = el("tr");
      tr.append(el("td", {}, bandLabel(band)), el("td", { class: "num" }, formatNumber(band.buildings)));
      return tr;
    });
    nodes.push(table(t("floodBand"), [t("floodBand"), t("floodBuildingsCol")], rows, { id: "scenario-flood-depths" }));
  }
  nodes.push(el("h5", {}, t("floodExposed")));
  const x = flood.exposed;
  if (x.withheld) nodes.push(el("p", { class: "muted", "data-field": "flood-exposed" }, t("floodExposedWithheld")));
  else if (!x.persons) nodes.push(el("p", { class: "muted", "data-field": "flood-exposed" }, t("floodExposedNone")));
  else {
    const total = t("floodExposedTotal", { persons: formatNumber(x.persons), households: formatNumber(x.households) });
    const rows = personaRows(x.personas, catalogue, (r) => [formatNumber(r.households), formatNumber(r.persons)]);
    nodes.push(
      el("p", { "data-field": "flood-exposed" }, total),
      table(t("floodExposed"), [t("colPersona"), t("households"), t("persons")], rows, { id: "scenario-flood-exposed" }),
    );
  }
  nodes.push(el("h5", {}, t("floodCutOff")));
  if (!flood.facilities_cut_off.length) nodes.push(el("p", { class: "muted" }, t("floodCutOffNone")));
  else {
    const rows = flood.facilities_cut_off.map((f) => {
      const tr = el("tr", { "data-facility": f.facility_id });
      tr.append(
        el("td", {}, `${f.name || f.facility_id} (${t(`fac_${f.facility}`)})`),
        el("td", {}, t(`floodReason_${f.reason}`)),
        el("td", { class: "num" }, formatNumber(f.depth_m, 2)),
      );
      return tr;
    });
    const heads = [t("floodColFacility"), t("floodColReason"), t("floodColDepth")];
    nodes.push(table(t("floodCutOff"), heads, rows, { id: "scenario-flood-facilities" }, 2));
  }
  if (flood.paths.segments_removed) {
    const km = formatNumber(flood.paths.length_removed_km, 2);
    nodes.push(el("p", { class: "muted small" }, t("floodPaths", { n: formatNumber(flood.paths.segments_removed), km })));
  }
  return nodes;
}
