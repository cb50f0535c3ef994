// The committed deck.gl bundle (vendor/deck.gl/dist.min.js, built by scripts/build_deck.mjs): it defines the
// global `deck` with what the viewer takes from it, and its MVTLoader decodes a vector tile on the main thread
// (parseSync: no worker, no request), into the GeoJSON features in tile-local coordinates that MVTLayer draws.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const bundle = readFileSync(new URL("../vendor/deck.gl/dist.min.js", import.meta.url), "utf8");
// A classic script: its top-level `var deck` is the page's global. Evaluated once, in this test's own process.
const deck = new Function(`${bundle}\nreturn deck;`)();

// --- a vector tile written by hand (the Mapbox Vector Tile 2.1 protobuf), independent of the code under test ---
const varint = (n) => {
  const out = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const zigzag = (n) => (n >= 0 ? 2 * n : -2 * n - 1);
const key = (field, wireType) => varint((field << 3) | wireType);
const int = (field, n) => [...key(field, 0), ...varint(n)];
const bytes = (field, data) => [...key(field, 2), ...varint(data.length), ...data];
const text = (field, s) => bytes(field, [...new TextEncoder().encode(s)]);
const packed = (field, values) => bytes(field, values.flatMap(varint));

// Geometry commands for rings/points given in absolute tile units (the cursor carries over between parts).
function geometry(parts, closed) {
  const commands = [];
  let [x, y] = [0, 0];
  const moveBy = ([px, py]) => {
    commands.push(zigzag(px - x), zigzag(py - y));
    [x, y] = [px, py];
  };
  for (const part of parts) {
    commands.push((1 & 7) | (1 << 3)); // MoveTo, 1 point
    moveBy(part[0]);
    if (part.length > 1) {
      commands.push((2 & 7) | ((part.length - 1) << 3)); // LineTo
      part.slice(1).forEach(moveBy);
    }
    if (closed) commands.push((7 & 7) | (1 << 3)); // ClosePath
  }
  return commands;
}

const EXTENT = 4096;
// A square block with a courtyard (exterior clockwise in tile coordinates, y down; the hole counter-clockwise),
// and a point: what an uploaded layer or a parcel tile holds.
const OUTER = [
  [1024, 1024],
  [3072, 1024],
  [3072, 3072],
  [1024, 3072],
];
const HOLE = [
  [1536, 1536],
  [1536, 2560],
  [2560, 2560],
  [2560, 1536],
];
const layer = [
  ...int(15, 2), // version
  ...text(1, "zensus"),
  ...bytes(2, [...int(1, 7), ...packed(2, [0, 0, 1, 1]), ...int(3, 3), ...packed(4, geometry([OUTER, HOLE], true))]),
  ...bytes(2, [...int(1, 8), ...packed(2, [0, 2]), ...int(3, 1), ...packed(4, geometry([[[512, 3584]]], false))]),
  ...text(3, "name"),
  ...text(3, "persons"),
  ...bytes(4, text(1, "Block Nord")),
  ...bytes(4, int(4, 1234)), // uint value
  ...bytes(4, text(1, "Haltestelle")),
  ...int(5, EXTENT),
];
const TILE = new Uint8Array(bytes(3, layer)).buffer;

const local = ([x, y]) => [x / EXTENT, y / EXTENT];
const closedRing = (ring) => [...ring, ring[0]].map(local);

test("the bundle defines the global deck with what the viewer and the scenario report use", () => {
  const used = ["Deck", "MapView", "FlyToInterpolator", "WebMercatorViewport", "LightingEffect", "AmbientLight"];
  used.push("_SunLight", "LayerExtension", "MaskExtension", "GeoJsonLayer", "PolygonLayer", "ScatterplotLayer");
  used.push("PathLayer", "TextLayer", "LineLayer", "ColumnLayer", "BitmapLayer", "ScenegraphLayer");
  used.push("MVTLayer", "TileLayer", "Tile3DLayer", "MVTLoader");
  for (const name of used) assert.ok(deck[name], name);
  assert.equal(deck.VERSION, "9.4.0");
});

test("the bundle can be inlined into the scenario report's HTML page", () => {
  assert.ok(!bundle.includes("<!--"));
  assert.ok(!/<\/script/i.test(bundle));
});

test("MVTLoader parses a vector tile synchronously into GeoJSON in tile-local coordinates", () => {
  const { MVTLoader } = deck;
  assert.equal(typeof MVTLoader.parseSync, "function");
  assert.equal(typeof MVTLoader.parse, "function");
  // The options MVTLayer passes with `binary: false` on a web-mercator map.
  const features = MVTLoader.parseSync(TILE, { mvt: { shape: "geojson", coordinates: "local", layerProperty: "layerName" } });
  assert.equal(features.length, 2);
  const [block, stop] = features;
  assert.equal(block.id, 7);
  assert.deepEqual(block.properties, { name: "Block Nord", persons: 1234, layerName: "zensus" });
  assert.equal(block.geometry.type, "Polygon");
  assert.deepEqual(block.geometry.coordinates, [closedRing(OUTER), closedRing(HOLE)]);
  assert.deepEqual(stop.properties, { name: "Haltestelle", layerName: "zensus" });
  assert.deepEqual(stop.geometry, { type: "Point", coordinates: local([512, 3584]) });
});

test("an empty tile gives no features", () => {
  const features = deck.MVTLoader.parseSync(new ArrayBuffer(0), { mvt: { shape: "geojson", coordinates: "local" } });
  assert.deepEqual(features, []);
});
