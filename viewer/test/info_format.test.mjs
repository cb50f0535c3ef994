// The info popup's texts (js/info_format.js) and the facilities' colours (js/facility_style.js), without a page:
// names and units instead of raw tags and codes, numbers in the page's language, a layer's own field names without
// its internal ids first, and facility colours that carry a white letter legibly (WCAG AA, 4.5:1).

import assert from "node:assert/strict";
import { test } from "node:test";

import { FACILITY_COLORS, OTHER_COLOR, contrast, facilityClasses } from "../js/facility_style.js";
import { currentLang, toggleLang } from "../js/i18n.js";
import { buildingRows, describe, formatRow, layerRows, parcelRows } from "../js/info_format.js";

// A building as /api/twins/<twin>/buildings/at sends it (Lauf, OSM).
const BUILDING = {
  building_id: "osm-way-123",
  name: null,
  building_type: "house",
  building_type_name: "Einfamilienhaus",
  building_type_name_en: "Detached house",
  height: 8.25,
  height_source: "levels",
  levels: 2,
  footprint_m2: 1234.4,
  district: "Altstadt",
  source: "osm",
  lat: 49.51,
  lon: 11.28,
  attributes: { "addr:street": "Marktplatz", "addr:housenumber": "3", "addr:postcode": "91207", "addr:city": "Lauf" },
  parcels: [],
};

// A facility as /api/twins/<twin>/facilities.geojson sends its properties, with the OSM tags a store may keep.
const FACILITY = {
  facility_id: "f-7",
  category: "amenity=kindergarten",
  category_name: "Kindergarten",
  category_name_en: "Kindergarten (en)",
  name: "Kita Sonnenschein",
  attributes: JSON.stringify({ operator: "Stadt Lauf", capacity: "75", wheelchair: "limited", osm_id: "node/1" }),
};

const PARCEL = {
  parcel_id: "p1",
  label: "Monzel, Flur 2, 17/3",
  number: "17/3",
  flur: "2",
  gemarkung: "Monzel",
  area_m2: 812.6,
  official_area_m2: null,
  land_use_name: "Wohnbaufläche",
  land_use_name_en: "Residential area",
  buildings: 1,
  built_m2: 140,
  floor_area_m2: 280,
  grz: 0.1723,
  gfz: 0.345,
  cadastral_id: "071234-002-00017/003",
};

const text = (rows) => Object.fromEntries(rows.map(formatRow).map((r) => [r.field, `${r.label}: ${r.text}`]));

test("the page starts in German", () => {
  assert.equal(currentLang(), "de");
});

test("a building without a name is titled by its type and address, with units and German numbers", () => {
  const shown = describe("building", BUILDING);
  assert.equal(shown.title, "Einfamilienhaus, Marktplatz 3, 91207 Lauf");
  const rows = text(shown.rows);
  assert.equal(rows.height, "Höhe: 8,3 m");
  assert.equal(rows.footprint, "Grundfläche: 1.234 m²");
  assert.equal(rows.heightSource, "Höhe aus: Geschosszahl × Geschosshöhe");
  assert.equal(rows.source, "Datenquelle: OpenStreetMap");
  // The popup leaves out the id and the position; the side panel lists them.
  assert.equal(rows.id, undefined);
  assert.deepEqual(
    buildingRows(BUILDING).map((r) => r.key),
    ["id", "type", "height", "heightSource", "levels", "footprint", "address", "district", "source", "position"],
  );
  assert.equal(describe("building", { ...BUILDING, name: "Rathaus" }).title, "Rathaus");
});

test("a facility reads its category by name and its OSM tags as labelled values", () => {
  const shown = describe("facility", FACILITY);
  assert.equal(shown.title, "Kita Sonnenschein");
  const rows = text(shown.rows);
  assert.equal(rows.info_category, "Art: Kindergarten");
  assert.equal(rows.info_operator, "Betreiber: Stadt Lauf");
  assert.equal(rows.info_capacity, "Plätze: 75");
  assert.equal(rows.info_wheelchair, "Rollstuhlgerecht: eingeschränkt");
  const all = JSON.stringify(shown);
  assert.ok(!all.includes("amenity="), "no raw OSM tag in what the popup shows");
  assert.ok(!all.includes("osm_id"), "no internal id");
  // Without a name: its category and address.
  const nameless = describe("facility", { ...FACILITY, name: "", attributes: { "addr:street": "Bahnhofstraße", "addr:housenumber": "1" } });
  assert.equal(nameless.title, "Kindergarten, Bahnhofstraße 1");
});

test("a parcel has the side panel's rows, GRZ and GFZ with two decimals and their explanation", () => {
  const rows = parcelRows(PARCEL).map(formatRow);
  const grz = rows.find((r) => r.field === "grz");
  assert.equal(grz.text, "0,17");
  assert.match(grz.hint, /Grundflächenzahl/);
  assert.equal(rows.find((r) => r.field === "area").text, "813 m²");
  assert.equal(rows.find((r) => r.field === "landUse").text, "Wohnbaufläche");
  assert.ok(!rows.some((r) => r.field === "official"), "no row for what the parcel lacks");
  assert.equal(describe("parcel", PARCEL).title, "Monzel, Flur 2, 17/3");
});

test("a layer feature keeps its fields' names and order, formats numbers, puts ids last and hides bookkeeping", () => {
  const fields = { grd_id: "string", einwohner: "int64", dichte: "double", name: "string" };
  const props = { id: 17, fid: 3, layerName: "x", grd_id: "CRS3035RES1000mN1", einwohner: 12345, dichte: "1234.5678", name: "Zelle Nord" };
  const rows = layerRows(props, fields).map(formatRow);
  assert.deepEqual(rows.map((r) => r.label), ["einwohner", "dichte", "name", "grd_id"]);
  assert.equal(rows[0].text, "12.345");
  assert.equal(rows[1].text, "1.234,57");
  const shown = describe("layer", props, { entry: { title: "Zensus 2021", fields } });
  assert.equal(shown.title, "Zelle Nord");
  assert.equal(formatRow(shown.rows[0]).text, "Zensus 2021");
  assert.equal(describe("layer", { einwohner: 3 }, { entry: { title: "Zensus 2021", fields } }).title, "Zensus 2021");
});

test("places and proposals show their kind, topic, stage and votes by name", () => {
  const place = { place_id: 4, title: "Schöner Platz", kind: "happy", category: "green", votes: { score: 3 }, comments: 0 };
  const shown = describe("place", place, { categoryName: (id) => (id === "green" ? "Grün" : id) });
  assert.equal(shown.title, "Schöner Platz");
  assert.deepEqual(shown.rows.map(formatRow).map((r) => r.text), ["Hier bin ich gern", "Grün", "3", "0"]);
  const proposal = { proposal_id: 9, title: "Mehr Bänke", topic: "mobility", stage: "adopted", votes: { score: 12 } };
  const rows = describe("proposal", proposal, { topicName: () => "Verkehr" }).rows.map(formatRow);
  assert.deepEqual(rows.map((r) => r.text), ["Verkehr", "STAGE", "12"].map((x) => (x === "STAGE" ? rows[1].text : x)));
  assert.ok(!rows[1].text.includes("stage_") && !rows[1].text.includes("adopted"), rows[1].text);
});

test("facility classes: the most frequent categories, each a colour and its own letter, the rest grey", () => {
  const categories = ["a=bus", "a=bus", "a=bus", "a=school", "a=school", "a=kita", "b=1", "b=2", "b=3", "b=4", "b=5", "b=6"];
  const features = categories.map((category) => ({ properties: { category } }));
  const names = { "a=bus": "Bushaltestelle", "a=school": "Schule", "a=kita": "Kindergarten" };
  const { classes, classOf } = facilityClasses(features, (c) => names[c] ?? `Sport ${c}`, "Sonstige");
  assert.equal(classes.length, FACILITY_COLORS.length);
  assert.deepEqual(classes.slice(0, 3).map((c) => [c.name, c.count]), [["Bushaltestelle", 3], ["Schule", 2], ["Kindergarten", 1]]);
  const letters = classes.filter((c) => c.category).map((c) => c.letter);
  assert.equal(new Set(letters).size, letters.length, `letters must differ: ${letters}`);
  assert.deepEqual(letters.slice(0, 3), ["B", "S", "K"]);
  const other = classes.at(-1);
  assert.deepEqual([other.category, other.name, other.color, other.count], [null, "Sonstige", OTHER_COLOR, 2]);
  assert.equal(classOf({ category: "a=school" }).name, "Schule");
  assert.equal(classOf({ category: "unknown" }), other);
});

test("every facility colour carries a white letter at WCAG AA contrast, and the colours differ", () => {
  for (const color of [...FACILITY_COLORS, OTHER_COLOR]) {
    const ratio = contrast(color, [255, 255, 255]);
    assert.ok(ratio >= 4.5, `white on rgb(${color}) is only ${ratio.toFixed(2)}:1`);
  }
  const distance = (a, b) => Math.hypot(...a.map((v, i) => v - b[i]));
  for (const [i, a] of FACILITY_COLORS.entries()) {
    for (const b of FACILITY_COLORS.slice(i + 1)) assert.ok(distance(a, b) > 60, `rgb(${a}) and rgb(${b}) look alike`);
  }
});

test("in English the same rows read in English, with English number formats", () => {
  // toggleLang() relabels the page: a document with nothing to relabel stands in for it here.
  globalThis.document = { documentElement: {}, querySelectorAll: () => [], getElementById: () => null };
  toggleLang();
  try {
    assert.equal(currentLang(), "en");
    const rows = text(describe("building", BUILDING).rows);
    assert.equal(rows.height, "Height: 8.3 m");
    assert.equal(rows.footprint, "Footprint: 1,234 m²");
    assert.equal(describe("building", BUILDING).title, "Detached house, Marktplatz 3, 91207 Lauf");
    assert.equal(text(describe("facility", FACILITY).rows).info_wheelchair, "Wheelchair access: limited");
    assert.equal(parcelRows(PARCEL).map(formatRow).find((r) => r.field === "landUse").text, "Residential area");
  } finally {
    toggleLang();
    delete globalThis.document;
  }
});
