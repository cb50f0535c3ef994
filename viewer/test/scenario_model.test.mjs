// The scenario as plain data (js/scenario_model.js): measures as edited, the body the API gets, a stored scenario
// read back, the API's 422 answers turned into field errors, and the KPI table as CSV.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  apiMeasure,
  areaHa,
  buildSpec,
  CAPACITY_DEFAULTS,
  CSV_COLUMNS,
  centroid,
  drawnMeasure,
  FIELDS,
  facilityMeasure,
  fromSpec,
  HOUSING_DEFAULTS,
  kpiCsv,
  lonLat,
  newMeasure,
  parseErrors,
  parseNumber,
  polygonOf,
} from "../js/scenario_model.js";

// A square of 100 m x 100 m in Rostock (54.09° N), in lon/lat.
const LAT = 54.09;
const DLON = 100 / (111320 * Math.cos((LAT * Math.PI) / 180));
const DLAT = 100 / 110540;
const SQUARE = [
  [12.1, LAT],
  [12.1 + DLON, LAT],
  [12.1 + DLON, LAT + DLAT],
  [12.1, LAT + DLAT],
];

test("coordinates are rounded to 7 decimals (about 1 cm), polygons are closed", () => {
  assert.deepEqual(lonLat([12.123456789, 54.000000049]), [12.1234568, 54]);
  const polygon = polygonOf(SQUARE);
  assert.equal(polygon.type, "Polygon");
  const ring = polygon.coordinates[0];
  assert.equal(ring.length, 5);
  assert.deepEqual(ring[4], ring[0]);
  assert.deepEqual(ring[1], lonLat(SQUARE[1]));
});

test("the displayed area of a drawn polygon is close to its true area, in hectares", () => {
  const polygon = polygonOf(SQUARE);
  assert.ok(Math.abs(areaHa(polygon) - 1) < 0.001, areaHa(polygon));
  // Nor does the drawing direction (beyond the mean latitude moving with the repeated first point).
  assert.ok(Math.abs(areaHa(polygonOf([...SQUARE].reverse())) - 1) < 0.001);
  const [lon, lat] = centroid(polygon);
  assert.ok(Math.abs(lon - (12.1 + DLON / 2)) < 1e-7);
  assert.ok(Math.abs(lat - (LAT + DLAT / 2)) < 1e-7);
});

test("every new measure gets its own local uid", () => {
  const a = newMeasure("green_space", { name: "Park" });
  const b = newMeasure("green_space", { name: "Park" });
  assert.notEqual(a.uid, b.uid);
  assert.equal(a.kind, "green_space");
  assert.equal(a.name, "Park");
});

test("a drawn area becomes its measure, with the field to fill in next", () => {
  const [housing, housingFocus] = drawnMeasure("new_housing", SQUARE);
  assert.equal(housing.kind, "new_housing");
  assert.equal(housingFocus, "dwellings");
  assert.deepEqual(housing.area, polygonOf(SQUARE));
  for (const [key, value] of Object.entries(HOUSING_DEFAULTS)) assert.equal(housing[key], value);

  const [hazard, hazardFocus] = drawnMeasure("hazard", SQUARE);
  assert.deepEqual([hazard.kind, hazard.hazard, hazard.name, hazardFocus], ["hazard", "flood", "", "hazard"]);

  const [green, greenFocus] = drawnMeasure("green_space", SQUARE);
  assert.deepEqual([green.kind, green.name, greenFocus], ["green_space", "", "name"]);
});

test("a new facility starts with its type's usual capacity, or none", () => {
  const kita = facilityMeasure("kita", [12.123456789, 54.1]);
  assert.equal(kita.capacity, CAPACITY_DEFAULTS.kita);
  assert.deepEqual(kita.location, { type: "Point", coordinates: [12.1234568, 54.1] });
  assert.equal(facilityMeasure("park", [12, 54]).capacity, 0);
});

test("the API gets a measure without the viewer's own fields", () => {
  const m = newMeasure("remove_facility", { facility_id: 42, local: { name: "Kita Sonnenschein" } });
  assert.deepEqual(apiMeasure(m), { kind: "remove_facility", facility_id: 42 });
  assert.ok("uid" in m && "local" in m); // the edited measure keeps them
});

test("the request body lists the measures, then the projection, and says who owns each index", () => {
  const housing = drawnMeasure("new_housing", SQUARE)[0];
  const kita = facilityMeasure("kita", [12.1, 54.1]);
  const { body, owners } = buildSpec({ name: "Nord", description: "", measures: [housing, kita], years: 10 });
  assert.equal(body.name, "Nord");
  assert.equal(body.visibility, "public");
  assert.deepEqual(
    body.measures.map((m) => m.kind),
    ["new_housing", "add_facility", "projection"],
  );
  assert.deepEqual(body.measures[2], { kind: "projection", years: 10 });
  assert.deepEqual(owners, [housing.uid, kita.uid, "projection"]);
  for (const m of body.measures) assert.ok(!("uid" in m) && !("local" in m));
});

test("no projection is sent when the years are left empty; a chosen visibility is kept", () => {
  for (const years of [null, undefined, ""]) {
    const { body, owners } = buildSpec({ name: "x", description: "", measures: [], years, visibility: "private" });
    assert.deepEqual(body.measures, []);
    assert.deepEqual(owners, []);
    assert.equal(body.visibility, "private");
  }
  // Zero years is a value the person typed: the server, the one judge of validity, gets it.
  assert.deepEqual(buildSpec({ name: "x", description: "", measures: [], years: 0 }).body.measures, [
    { kind: "projection", years: 0 },
  ]);
});

test("a stored scenario reads back into the same request body", () => {
  const spec = {
    name: "Süd",
    description: "Mehr Wohnungen",
    visibility: "public",
    measures: [
      { kind: "new_housing", area: polygonOf(SQUARE), storeys: 5, dwellings: 80, occupancy: 0.9, mix: "new_build" },
      { kind: "green_space", area: polygonOf(SQUARE), name: "Wiese" },
      { kind: "projection", years: 5 },
    ],
  };
  const read = fromSpec(spec);
  assert.equal(read.years, 5);
  assert.equal(read.measures.length, 2);
  assert.ok(read.measures.every((m) => Number.isInteger(m.uid)));
  assert.deepEqual(buildSpec({ ...read, visibility: spec.visibility }).body, spec);
  // The measures are copies: editing them leaves the stored spec alone.
  read.measures[0].area.coordinates[0][0][0] = 0;
  assert.notEqual(spec.measures[0].area.coordinates[0][0][0], 0);
  assert.deepEqual(fromSpec({ name: "n", measures: [] }), { name: "n", description: "", measures: [], years: null });
});

test("a number field reads what was typed, with a decimal comma, or null", () => {
  assert.equal(parseNumber("12"), 12);
  assert.equal(parseNumber(" 3,5 "), 3.5);
  assert.equal(parseNumber("0.25"), 0.25);
  assert.equal(parseNumber(""), null);
  assert.equal(parseNumber("   "), null);
  assert.equal(parseNumber("viele"), null);
});

test("FastAPI's 422 details name the measure's index and field", () => {
  const errors = parseErrors({
    detail: [
      {
        loc: ["body", "measures", 1, "new_housing", "dwellings"],
        msg: "Input should be greater than or equal to 1",
        type: "greater_than_equal",
        ctx: { ge: 1 },
      },
      { loc: ["body", "measures", 0], msg: "Input tag 'x' does not match", type: "union_tag_invalid" },
      { loc: ["body", "name"], msg: "Field required", type: "missing" },
    ],
  });
  assert.deepEqual(errors, [
    {
      index: 1,
      field: "dwellings",
      type: "greater_than_equal",
      ctx: { ge: 1 },
      message: "Input should be greater than or equal to 1",
    },
    { index: 0, field: "kind", type: "union_tag_invalid", ctx: {}, message: "Input tag 'x' does not match" },
    { index: null, field: "name", type: "missing", ctx: {}, message: "Field required" },
  ]);
});

test("the twin's own checks name the measure in their text; anything else is one error for the whole body", () => {
  assert.deepEqual(parseErrors({ error: "measures.2.area lies outside the twin", hint: "draw inside the town" }), [
    {
      index: 2,
      field: "area",
      type: "twin",
      ctx: {},
      message: "measures.2.area lies outside the twin (draw inside the town)",
    },
  ]);
  assert.deepEqual(parseErrors({ error: "too many measures" }), [
    { index: null, field: "body", type: "twin", ctx: {}, message: "too many measures" },
  ]);
  assert.deepEqual(parseErrors("Bad Gateway"), [
    { index: null, field: "body", type: "unknown", ctx: {}, message: '"Bad Gateway"' },
  ]);
});

test("every field of the form has a kind of input the form knows", () => {
  const types = new Set(["int", "float", "text", "mix", "facility", "hazard"]);
  for (const [kind, fields] of Object.entries(FIELDS)) {
    for (const field of fields) {
      assert.ok(types.has(field.type), `${kind}.${field.name}: ${field.type}`);
      if (field.min !== undefined && field.max !== undefined) assert.ok(field.min < field.max, `${kind}.${field.name}`);
    }
  }
});

test("the KPI table as CSV: one header line, dot decimals, quoted text, empty for missing", () => {
  const results = {
    kpis: [
      { group: "all", persona: "*", facility: "kita", max_distance_m: 500, persons_baseline: 120, mean_distance_m_delta: -12.3456789 },
      { group: "p1", persona: "p1", facility: "school", coverage_share_scenario: 0.5, mean_distance_m_verdict: "better" },
    ],
  };
  const names = { "*": "Alle Personen", p1: 'Familie "mit Kindern", jung' };
  const csv = kpiCsv(results, (id) => names[id]);
  assert.ok(csv.endsWith("\n"));
  const lines = csv.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[0], CSV_COLUMNS.join(","));
  const row = (line) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, splitCsv(line)[i]]));
  const first = row(lines[1]);
  assert.equal(first.persona_name, "Alle Personen");
  assert.equal(first.max_distance_m, "500");
  assert.equal(first.mean_distance_m_delta, "-12.345679");
  assert.equal(first.coverage_share_scenario, "");
  const second = row(lines[2]);
  assert.equal(second.persona_name, 'Familie "mit Kindern", jung');
  assert.equal(second.coverage_share_scenario, "0.5");
  assert.equal(second.mean_distance_m_verdict, "better");
});

// A minimal CSV line reader for the test: quoted cells with doubled quotes.
function splitCsv(line) {
  const cells = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i += 1;
    } else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      cells.push(cell);
      cell = "";
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
