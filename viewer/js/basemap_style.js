// The basemap's MapLibre style: calm, light and low in contrast, so the 3D buildings and the data layers drawn
// over it stay the thing one reads. Pale land use, soft blue water, white roads with thin casings (wider by rank and
// zoom), dashed grey railways; street names along the streets from z14, place names (towns larger), district names
// where a twin has no OSM places. No icons, so no sprite.

// Glyph ranges made by viewer/scripts/make_glyphs.py (vendor/fonts/README.md).
export const FONT = ["Noto Sans Regular"];
export const FONT_BOLD = ["Noto Sans Bold"];

const COLORS = {
  land: "#f3f1ec",
  residential: "#ebe8e2",
  commercial: "#efe7e3",
  industrial: "#e9e7ea",
  farmland: "#f0efe2",
  meadow: "#e6eedb",
  park: "#e0ebd4",
  forest: "#d6e4cc",
  cemetery: "#dce5d6",
  sports: "#dfeadb",
  railwayArea: "#e7e5e2",
  water: "#c6dbea",
  waterway: "#b3cde2",
  waterLabel: "#5d87a8",
  road: "#ffffff",
  roadMinor: "#fbfaf8",
  casing: "#d3cec4",
  path: "#cdc8bf",
  rail: "#b3b0aa",
  district: "#b7abc9",
  text: "#5f5d58",
  placeText: "#3f3e3a",
  halo: "rgba(255, 255, 255, 0.9)",
};

// Land use kinds by fill colour; kinds not listed fall back to the land colour (drawn, but invisible).
const LANDUSE_FILL = [
  "match",
  ["get", "kind"],
  "residential",
  COLORS.residential,
  ["commercial", "retail"],
  COLORS.commercial,
  ["industrial", "quarry", "military"],
  COLORS.industrial,
  ["farmland", "vineyard", "orchard", "farmyard"],
  COLORS.farmland,
  ["meadow", "grass", "heath", "scrub", "wetland", "village_green"],
  COLORS.meadow,
  ["park", "garden", "allotments", "recreation_ground", "playground"],
  COLORS.park,
  ["forest", "wood"],
  COLORS.forest,
  ["cemetery", "grave_yard"],
  COLORS.cemetery,
  ["sports", "pitch", "sports_centre", "stadium"],
  COLORS.sports,
  "railway",
  COLORS.railwayArea,
  COLORS.land,
];

// Road width in pixels at zoom 12 and 18 by rank (1 motorway .. 9 path); between them the width grows
// exponentially, as a street's width in metres does on screen.
const WIDTH_Z12 = ["match", ["get", "rank"], 1, 2.6, 2, 2.4, 3, 2.2, 4, 1.9, 5, 1.6, 6, 1, 7, 0.8, 8, 0.5, 0.4];
const WIDTH_Z18 = ["match", ["get", "rank"], 1, 40, 2, 36, 3, 30, 4, 26, 5, 22, 6, 17, 7, 14, 8, 8, 3];

function roadWidth(extra) {
  const plus = (w) => (extra ? ["+", w, extra] : w);
  return ["interpolate", ["exponential", 1.6], ["zoom"], 12, plus(WIDTH_Z12), 18, plus(WIDTH_Z18)];
}

// Which roads show at a zoom: main roads from afar, every street from z13, paths and tracks from z14.
const ROAD_FILTER = [
  "any",
  ["<=", ["get", "rank"], 5],
  ["all", [">=", ["zoom"], 13], ["<=", ["get", "rank"], 7]],
  [">=", ["zoom"], 14],
];
const IS_PATH = [">=", ["get", "rank"], 9];

// The label text: German names as in OSM; in English the English name where OSM has one.
export function nameField(lang) {
  return lang === "en" ? ["coalesce", ["get", "name_en"], ["get", "name"]] : ["get", "name"];
}

// The ids of the layers whose text follows the language (re-set by basemap.js on a language change).
export const LABEL_LAYERS = ["waterway-labels", "road-labels", "place-labels", "district-labels"];

const HAS_NAME = ["has", "name"];

function layersFor(present, lang) {
  const layers = [];
  const add = (sourceLayer, layer) => {
    if (present.has(sourceLayer)) layers.push({ source: "basemap", "source-layer": sourceLayer, ...layer });
  };
  add("landuse", { id: "landuse", type: "fill", paint: { "fill-color": LANDUSE_FILL, "fill-antialias": false } });
  add("water", { id: "water", type: "fill", paint: { "fill-color": COLORS.water } });
  add("waterway", {
    id: "waterway",
    type: "line",
    layout: { "line-cap": "round", "line-join": "round" },
    paint: {
      "line-color": COLORS.waterway,
      "line-width": [
        "interpolate",
        ["exponential", 1.5],
        ["zoom"],
        12,
        ["match", ["get", "kind"], ["river", "canal"], 1.5, 0.6],
        18,
        ["match", ["get", "kind"], ["river", "canal"], 12, 3],
      ],
    },
  });
  add("districts", {
    id: "district-lines",
    type: "line",
    paint: { "line-color": COLORS.district, "line-width": 1, "line-dasharray": [3, 2], "line-opacity": 0.8 },
  });
  add("railways", {
    id: "railways",
    type: "line",
    minzoom: 11,
    paint: {
      "line-color": COLORS.rail,
      "line-width": ["interpolate", ["linear"], ["zoom"], 12, 1, 18, 2.5],
      "line-dasharray": [4, 3],
    },
  });
  // Casings first, then fills, so crossings join; paths have no casing, just a thin dashed line.
  add("roads", {
    id: "road-casing",
    type: "line",
    filter: ["all", ROAD_FILTER, ["!", IS_PATH]],
    layout: { "line-cap": "round", "line-join": "round" },
    paint: { "line-color": COLORS.casing, "line-width": roadWidth(1.5), "line-opacity": ["case", ["has", "tunnel"], 0.4, 1] },
  });
  add("roads", {
    id: "paths",
    type: "line",
    minzoom: 14,
    filter: IS_PATH,
    paint: { "line-color": COLORS.path, "line-width": roadWidth(0), "line-dasharray": [2, 1.5] },
  });
  add("roads", {
    id: "roads",
    type: "line",
    filter: ["all", ROAD_FILTER, ["!", IS_PATH]],
    layout: { "line-cap": "round", "line-join": "round" },
    paint: {
      "line-color": ["case", ["<=", ["get", "rank"], 5], COLORS.road, COLORS.roadMinor],
      "line-width": roadWidth(0),
      "line-opacity": ["case", ["has", "tunnel"], 0.5, 1],
    },
  });
  const halo = { "text-halo-color": COLORS.halo, "text-halo-width": 1.4, "text-halo-blur": 0.5 };
  add("waterway", {
    id: "waterway-labels",
    type: "symbol",
    minzoom: 13,
    filter: ["all", HAS_NAME, ["match", ["get", "kind"], ["river", "canal", "stream"], true, false]],
    layout: {
      "symbol-placement": "line",
      "text-field": nameField(lang),
      "text-font": FONT,
      "text-size": ["interpolate", ["linear"], ["zoom"], 13, 11, 18, 14],
      "text-letter-spacing": 0.1,
      "symbol-spacing": 400,
    },
    paint: { "text-color": COLORS.waterLabel, ...halo },
  });
  add("roads", {
    id: "road-labels",
    type: "symbol",
    minzoom: 14,
    filter: ["all", HAS_NAME, ["<=", ["get", "rank"], 8]],
    layout: {
      "symbol-placement": "line",
      "text-field": nameField(lang),
      "text-font": FONT,
      "text-size": ["interpolate", ["linear"], ["zoom"], 14, 10.5, 18, 14],
      "text-max-angle": 35,
      "symbol-spacing": 300,
    },
    paint: { "text-color": COLORS.text, ...halo },
  });
  // Where OSM gives no place names (a twin made without OSM), the districts name the town's parts.
  add(present.has("places") ? "" : "district_labels", {
    id: "district-labels",
    type: "symbol",
    filter: HAS_NAME,
    layout: {
      "text-field": nameField(lang),
      "text-font": FONT,
      "text-size": ["interpolate", ["linear"], ["zoom"], 10, 11, 16, 15],
      "text-max-width": 8,
      "text-transform": "uppercase",
      "text-letter-spacing": 0.08,
    },
    paint: { "text-color": "#7a6f8c", ...halo },
  });
  add("places", {
    id: "place-labels",
    type: "symbol",
    // Towns from afar, their quarters closer in, hamlets and localities only near.
    filter: [
      "all",
      HAS_NAME,
      ["any", ["<=", ["get", "rank"], 3], ["all", [">=", ["zoom"], 12], ["<=", ["get", "rank"], 6]], [">=", ["zoom"], 14]],
    ],
    layout: {
      "text-field": nameField(lang),
      "text-font": ["case", ["<=", ["get", "rank"], 2], ["literal", FONT_BOLD], ["literal", FONT]],
      "text-size": [
        "interpolate",
        ["linear"],
        ["zoom"],
        10,
        ["match", ["get", "rank"], [1, 2], 15, 3, 12, 10],
        16,
        ["match", ["get", "rank"], [1, 2], 22, 3, 17, 13],
      ],
      "text-max-width": 8,
      "symbol-sort-key": ["get", "rank"],
    },
    paint: { "text-color": COLORS.placeText, ...halo, "text-halo-width": 1.8 },
  });
  return layers;
}

/**
 * The style of one twin's basemap.
 *
 * @param {object|null} meta the twin's `basemap` metadata (minzoom, maxzoom, bounds, layers, attribution), or null.
 * @param {string|null} tiles the absolute URL template of its tiles (`.../{z}/{x}/{y}.pbf`), or null.
 * @param {string} glyphs the absolute URL template of the glyph ranges (`.../{fontstack}/{range}.pbf`).
 * @param {string} lang "de" or "en": the language of the labels.
 * @returns {object} a MapLibre style: only a plain background when the twin has no basemap.
 */
export function basemapStyle(meta, tiles, glyphs, lang) {
  const style = {
    version: 8,
    glyphs,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": COLORS.land } }],
  };
  if (!meta || !tiles) return style;
  style.sources.basemap = {
    type: "vector",
    tiles: [tiles],
    minzoom: meta.minzoom ?? 8,
    maxzoom: meta.maxzoom ?? 14,
    ...(Array.isArray(meta.bounds) && meta.bounds.length === 4 ? { bounds: meta.bounds } : {}),
    ...(meta.attribution ? { attribution: meta.attribution } : {}),
  };
  style.layers.push(...layersFor(new Set(meta.layers ?? []), lang));
  return style;
}
