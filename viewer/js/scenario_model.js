// A scenario as plain data, without the page: the measures being edited, the JSON the API expects, the API's
// 422 answers turned into field errors, and the KPI table as CSV. The server is the one judge of validity; the
// viewer sends what the person entered and shows what the server says, next to the field it names.

export const FACILITY_TYPES = [
  "kita",
  "school",
  "care_home",
  "stop",
  "park",
  "playground",
  "doctor",
  "pharmacy",
  "supermarket",
  "sports",
  "culture",
];
export const HAZARDS = ["flood", "heavy_rain", "heat", "other"];
export const POLYGON_KINDS = ["new_housing", "green_space", "hazard", "flood", "planned_building", "close_road"];
export const HOUSING_DEFAULTS = { storeys: 4, dwellings: 100, occupancy: 1.0, mix: "new_build" };
export const CAPACITY_DEFAULTS = { kita: 75, school: 400, care_home: 80 };

// The fields a person edits per kind, in the order of the form; `type` picks the input.
export const FIELDS = {
  new_housing: [
    { name: "storeys", type: "int", min: 1, max: 40 },
    { name: "dwellings", type: "int", min: 1, max: 50000 },
    { name: "occupancy", type: "float", min: 0.05, max: 1, step: 0.05, percent: true },
    { name: "mix", type: "mix" },
  ],
  add_facility: [
    { name: "facility", type: "facility" },
    { name: "capacity", type: "int", min: 0, max: 100000 },
    { name: "name", type: "text", maxlength: 200 },
  ],
  remove_facility: [],
  add_storeys: [
    { name: "storeys", type: "int", min: 1, max: 10 },
    { name: "occupancy", type: "float", min: 0.05, max: 1, step: 0.05, percent: true },
    { name: "mix", type: "mix" },
  ],
  green_space: [{ name: "name", type: "text", maxlength: 200 }],
  hazard: [
    { name: "hazard", type: "hazard" },
    { name: "name", type: "text", maxlength: 200 },
  ],
  // Heights in metres above NHN, as the twin's terrain; the server checks them against it.
  flood: [
    { name: "level_m", type: "float", step: 0.1 },
    { name: "name", type: "text", maxlength: 200 },
  ],
  flood_wall: [
    { name: "crest_m", type: "float", step: 0.1 },
    { name: "name", type: "text", maxlength: 200 },
  ],
};

const round7 = (v) => Math.round(v * 1e7) / 1e7;

export function lonLat(coordinate) {
  return [round7(coordinate[0]), round7(coordinate[1])];
}

// A closed GeoJSON polygon from the drawn points (first point repeated at the end).
export function polygonOf(points) {
  const ring = points.map(lonLat);
  return { type: "Polygon", coordinates: [[...ring, ring[0]]] };
}

// Approximate area in hectares of a lon/lat ring (equirectangular at the ring's latitude; for display only).
export function areaHa(polygon) {
  const ring = polygon.coordinates[0];
  const lat0 = (ring.reduce((s, p) => s + p[1], 0) / ring.length) * (Math.PI / 180);
  const mx = 111320 * Math.cos(lat0);
  const my = 110540;
  let twice = 0;
  for (let i = 0; i < ring.length - 1; i += 1) {
    twice += ring[i][0] * mx * ring[i + 1][1] * my - ring[i + 1][0] * mx * ring[i][1] * my;
  }
  return Math.abs(twice) / 2 / 10000;
}

export function centroid(polygon) {
  const ring = polygon.coordinates[0].slice(0, -1);
  return [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
}

let nextUid = 1;

// A measure as edited in the viewer: the API's fields plus a local `uid` and `local` (what the viewer alone
// needs, such as a closed facility's name and place).
export function newMeasure(kind, fields) {
  return { uid: nextUid++, kind, ...fields };
}

// A polygon drawn with one of the area tools as its measure, and the field to focus next.
export function drawnMeasure(kind, points) {
  const area = polygonOf(points);
  if (kind === "new_housing") return [housingMeasure(area), "dwellings"];
  if (kind === "hazard") return [newMeasure("hazard", { area, hazard: "flood", name: "" }), "hazard"];
  return [newMeasure("green_space", { area, name: "" }), "name"];
}

export function housingMeasure(area) {
  return newMeasure("new_housing", { area, ...HOUSING_DEFAULTS });
}

export function facilityMeasure(facility, coordinate) {
  return newMeasure("add_facility", {
    facility,
    location: { type: "Point", coordinates: lonLat(coordinate) },
    capacity: CAPACITY_DEFAULTS[facility] ?? 0,
    name: "",
  });
}

// What the API gets for one measure: its fields without the viewer's own.
export function apiMeasure(measure) {
  const { uid, local, ...rest } = measure;
  return rest;
}

// The POST body and, per index of its `measures`, who owns that index (a measure's uid or "projection").
export function buildSpec({ name, description, measures, years, visibility = "public" }) {
  const body = { name, description, measures: measures.map(apiMeasure), visibility };
  const owners = measures.map((m) => m.uid);
  if (years !== null && years !== undefined && years !== "") {
    body.measures.push({ kind: "projection", years });
    owners.push("projection");
  }
  return { body, owners };
}

// Measures from a stored spec (a permalink): projection years go to their own field.
export function fromSpec(spec) {
  const measures = [];
  let years = null;
  for (const m of spec.measures) {
    if (m.kind === "projection") years = m.years;
    else measures.push(newMeasure(m.kind, structuredClone(m)));
  }
  return { name: spec.name, description: spec.description ?? "", measures, years };
}

// A number input's value as typed, or null when empty or not a number: the server says what is wrong with it.
export function parseNumber(text) {
  if (text.trim() === "") return null;
  const value = Number(text.replace(",", "."));
  return Number.isFinite(value) ? value : null;
}

// The API's 422 answer as a list of {index, field, type, ctx, message}: `index` is the position in `measures`
// (null for the scenario's own fields), `field` the first field name after the measure kind.
// FastAPI: {"detail": [{"loc": ["body", "measures", 0, "new_housing", "dwellings"], "msg", "type", "ctx"}]};
// the twin's checks: {"error": "measures.0.area lies outside the twin", "hint": "..."}.
export function parseErrors(body) {
  if (Array.isArray(body?.detail)) {
    return body.detail.map((d) => {
      const loc = (d.loc ?? []).filter((part) => part !== "body");
      if (loc[0] === "measures" && Number.isInteger(loc[1])) {
        const rest = loc.slice(2).filter((p) => typeof p === "string");
        // loc[2] is the measure's kind (the discriminator), then the field.
        const field = rest.length > 1 ? rest[1] : (rest[0] ?? "kind");
        return { index: loc[1], field, type: d.type, ctx: d.ctx ?? {}, message: d.msg };
      }
      return { index: null, field: String(loc[0] ?? "body"), type: d.type, ctx: d.ctx ?? {}, message: d.msg };
    });
  }
  if (typeof body?.error === "string") {
    const match = /measures\.(\d+)\.(\w+)/.exec(body.error);
    const message = body.hint ? `${body.error} (${body.hint})` : body.error;
    if (match) return [{ index: Number(match[1]), field: match[2], type: "twin", ctx: {}, message }];
    return [{ index: null, field: "body", type: "twin", ctx: {}, message }];
  }
  return [{ index: null, field: "body", type: "unknown", ctx: {}, message: JSON.stringify(body) }];
}

function csvCell(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" ? String(Math.round(value * 1e6) / 1e6) : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  "group",
  "persona",
  "persona_name",
  "facility",
  "max_distance_m",
  "persons_baseline",
  "persons_scenario",
  "mean_distance_m_baseline",
  "mean_distance_m_scenario",
  "mean_distance_m_delta",
  "mean_distance_m_verdict",
  "median_distance_m_baseline",
  "median_distance_m_scenario",
  "median_distance_m_delta",
  "median_distance_m_verdict",
  "coverage_share_baseline",
  "coverage_share_scenario",
  "coverage_share_delta",
  "coverage_share_verdict",
  "supply_per_demand_baseline",
  "supply_per_demand_scenario",
  "supply_per_demand_delta",
  "supply_per_demand_verdict",
];

// The KPI table as CSV (comma-separated, dot decimals, one header line); `personaName(id)` names the persona.
export function kpiCsv(results, personaName) {
  const lines = [CSV_COLUMNS.join(",")];
  for (const k of results.kpis) {
    const row = { ...k, persona_name: personaName(k.persona) };
    lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(","));
  }
  return `${lines.join("\n")}\n`;
}

// A download of `text` as a file, made in the page (no request leaves it).
export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Download the results as JSON, or the KPI table as CSV; `personaName(id)` names a persona in the page's language
// (passed in, so that this module needs no map code and imports in Node for its unit tests).
export function exportResults(base, results, personaName, format) {
  if (format === "json") {
    download(`${base}.json`, JSON.stringify(results, null, 2), "application/json");
    return;
  }
  download(`${base}-kpis.csv`, kpiCsv(results, personaName), "text/csv");
}
