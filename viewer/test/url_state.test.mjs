// The URL state (viewer/js/url_state.js): what a permalink or share link holds, read and written without a page.

import assert from "node:assert/strict";
import { test } from "node:test";

import { emptyState, format, forTwin, parse, popFrom } from "../js/url_state.js";

const FULL = {
  twin: "lauf",
  view: { longitude: 11.282211, latitude: 49.510437, zoom: 17.25, pitch: 52, bearing: -31 },
  layers: ["basemap", "buildings", "facilities"],
  catalogue: ["baumkataster", "laerm:2022"],
  pop: { persona: "*", choice: "auto" },
  building: "way/23777857",
  scenario: "a".repeat(64),
  proposal: 42,
  year: 2005,
  panel: "places",
  lang: "en",
};

test("a full state survives format() and parse()", () => {
  const hash = format(FULL);
  assert.ok(hash.startsWith("#twin=lauf&view=11.282211,49.510437,17.25,52,-31&"));
  assert.match(hash, /building=way\/23777857/); // readable: "/" needs no escape in a fragment
  assert.deepEqual(parse(hash), FULL);
  assert.deepEqual(parse(hash.slice(1)), FULL); // with or without "#"
});

test("a view is rounded to what the map needs", () => {
  const state = { twin: "rostock", view: { longitude: 12.1234567891, latitude: 54.0876543219, zoom: 13.456, pitch: 44.6, bearing: -0.2 } };
  const back = parse(format(state)).view;
  assert.deepEqual(back, { longitude: 12.123457, latitude: 54.087654, zoom: 13.46, pitch: 45, bearing: 0 });
  assert.doesNotMatch(format(state), /-0(,|&|$)/);
});

test("layers=<empty> means every toggle off, no layers parameter means the defaults", () => {
  assert.deepEqual(parse("#twin=lauf&layers=").layers, []);
  assert.equal(parse("#twin=lauf").layers, null);
  assert.match(format({ twin: "lauf", layers: [] }), /&layers=$/);
});

test("the old permalink (twin, view, pop, scenario, proposal) still opens", () => {
  const state = parse(`#twin=rostock&view=12.1,54.08,14,45,-15&pop=*,9&scenario=${"0f".repeat(32)}&proposal=7`);
  assert.deepEqual(state.view, { longitude: 12.1, latitude: 54.08, zoom: 14, pitch: 45, bearing: -15 });
  assert.deepEqual(state.pop, { persona: "*", choice: "9" });
  assert.equal(state.scenario, "0f".repeat(32));
  assert.equal(state.proposal, 7);
  // A fragment written by URLSearchParams (the survey's confirmation link does) has its commas escaped.
  assert.deepEqual(parse("#twin=rostock&view=12.1%2C54.08%2C14%2C45%2C-15").view, state.view);
});

test("bad values are left out, never thrown", () => {
  const bad = [
    "view=11,49,17,45", // four numbers
    "view=11,49,17,45,x",
    "view=11,49,17,45,1e3",
    "view=200,49,17,45,0", // longitude out of range
    "view=11,89,17,45,0", // beyond Web Mercator
    "view=11,49,30,45,0", // zoom
    "view=11,49,17,90,0", // pitch
    "view=NaN,49,17,45,0",
    "layers=buildings,<script>",
    "cat=a b",
    "pop=*",
    "pop=*,9,extra",
    "pop=;drop,9",
    "building=../../etc/passwd%00",
    `building=${"x".repeat(201)}`,
    "scenario=1234",
    `scenario=${"A".repeat(64)}`,
    "proposal=0",
    "proposal=-3",
    "proposal=1e5",
    "year=99",
    "year=20050",
    "year=2005.5",
    "panel=moderation",
    "lang=fr",
    "twin=",
    "twin=../x",
  ];
  for (const part of bad) {
    const state = parse(`#${part}`);
    const field = part.split("=")[0];
    const key = { cat: "catalogue" }[field] ?? field;
    assert.equal(state[key], null, part);
  }
  // One bad value leaves the others standing.
  const mixed = parse("#twin=lauf&view=11,49,17,45,0&year=abc&lang=en&panel=nope");
  assert.deepEqual(mixed, { ...emptyState(), twin: "lauf", view: { longitude: 11, latitude: 49, zoom: 17, pitch: 45, bearing: 0 }, lang: "en" });
});

test("garbage of any kind gives the empty state", () => {
  for (const hash of [undefined, null, "", "#", "#%", "#&&&", "#twin", "#=lauf", "%E0%A4%A", "#view=%zz", 42, {}]) {
    assert.deepEqual(parse(hash), emptyState(), String(hash));
  }
});

test("a link to another or an unknown twin brings only its language", () => {
  const state = parse(format(FULL));
  assert.equal(forTwin(state, "lauf"), state);
  assert.deepEqual(forTwin(state, "rostock"), { ...emptyState(), lang: "en" });
  assert.deepEqual(forTwin(parse("#twin=nowhere&view=11,49,17,45,0"), "lauf"), emptyState());
});

test("format() leaves out what fails its check and needs a twin", () => {
  assert.equal(format({}), "");
  assert.equal(format({ twin: "../etc" }), "");
  const hash = format({
    twin: "lauf",
    view: { longitude: Number.NaN, latitude: 49, zoom: 1, pitch: 0, bearing: 0 },
    building: "a b",
    scenario: "xyz",
    proposal: -1,
    year: 12345,
    panel: "admin",
    lang: "fr",
    catalogue: ["ok", "not ok"],
  });
  assert.equal(hash, "#twin=lauf&cat=ok");
});

test("the population panel's hash parameter becomes the state's pop", () => {
  assert.deepEqual(popFrom("*,auto"), { persona: "*", choice: "auto" });
  assert.deepEqual(popFrom("family_young,10"), { persona: "family_young", choice: "10" });
  assert.equal(popFrom(null), null);
  assert.equal(popFrom("bad persona,9"), null);
});
