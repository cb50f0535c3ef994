// The society twin on the map: published persons per H3 cell as extruded hexagons, coloured by persona.
// The server sends each cell's boundary ring, so the viewer needs no H3 library. Only privacy-safe aggregates
// reach the browser: every count here carries the gate's noise.

import { PALETTE, colorFor, legendEntries, quantileBreaks } from "./classify.js";
import { currentLang, formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";

const { PolygonLayer } = globalThis.deck;

export const ALL = "*";
export const RESOLUTIONS = [7, 8, 9, 10];
export const DEFAULT_RESOLUTION = 9;
// Mean hexagon area per H3 resolution in km² (H3's published table). Elevation is persons divided by it: at one
// resolution proportional to persons, and across resolutions it reads as persons per km².
export const MEAN_AREA_KM2 = { 7: 5.161293, 8: 0.737327, 9: 0.105332, 10: 0.015047 };
const METRES_PER_DENSITY = 0.035; // 10,000 persons per km² stand 350 m tall
const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];
const SELECTED = [255, 140, 0, 235];

export function resolutionForZoom(zoom) {
  if (zoom < 11) return 7;
  if (zoom < 12.5) return 8;
  if (zoom < 14.5) return 9;
  return 10;
}

export function elevation(persons, resolution) {
  return (persons / MEAN_AREA_KM2[resolution]) * METRES_PER_DENSITY;
}

export function hexToRgb(hex) {
  const match = /^#?([0-9a-f]{6})$/i.exec(hex ?? "");
  if (!match) return [120, 120, 120];
  const n = parseInt(match[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// Five steps from a pale tint of the persona's colour to a darkened shade, so that classes stay distinguishable.
export function personaRamp(hex) {
  const base = hexToRgb(hex);
  const mix = (other, weight) => base.map((v, i) => Math.round(weight * v + (1 - weight) * other[i]));
  return [mix(WHITE, 0.25), mix(WHITE, 0.5), mix(WHITE, 0.78), base, mix(BLACK, 0.65)];
}

export function personaName(persona) {
  return currentLang() === "en" ? persona.name_en : persona.name;
}

export function personaDescription(persona) {
  return currentLang() === "en" ? persona.description_en : persona.description;
}

export function personaLabel(id, catalogue) {
  if (id === ALL) return t("allPersons");
  const persona = catalogue.find((p) => p.id === id);
  return persona ? personaName(persona) : id;
}

// What is drawn for one persona and resolution: the cells split into full cells (extruded) and merged
// remainders published under a coarser cell (flat and pale, since they overlap finer cells), and the colour scale.
export function prepareView(rows, persona, resolution, catalogue) {
  const values = rows.map((r) => r.persons);
  const breaks = quantileBreaks(values);
  const palette = persona === ALL ? PALETTE : personaRamp(catalogue.find((p) => p.id === persona)?.color);
  return {
    persona,
    resolution,
    rows,
    cells: rows.filter((r) => r.cell_resolution === resolution),
    merged: rows.filter((r) => r.cell_resolution < resolution),
    breaks,
    palette,
    colorOf: (row) => colorFor(row.persons, breaks, palette),
    legend: legendEntries(values, breaks, (v) => formatNumber(v), palette),
  };
}

// The highest column of a view (for tests and for a first look): its centre on top of the column.
export function tallest(view, groundHeight) {
  if (!view || view.cells.length === 0) return null;
  const top = view.cells.reduce((a, b) => (b.persons > a.persons ? b : a));
  return { h3: top.h3, lon: top.lon, lat: top.lat, z: groundHeight + elevation(top.persons, view.resolution) };
}

export function populationLayers(twin, view, visible, selectedH3) {
  if (!view) return [];
  const lift = liftMatrix(twin.origin.height + 0.3);
  const key = `${view.persona}:${view.resolution}`;
  return [
    new PolygonLayer({
      id: `population-merged-${twin.name}`,
      data: view.merged,
      visible,
      pickable: true,
      filled: true,
      stroked: true,
      extruded: false,
      modelMatrix: lift,
      getPolygon: (d) => d.boundary,
      getFillColor: (d) => (d.h3 === selectedH3 ? SELECTED : [...view.colorOf(d), 40]),
      getLineColor: (d) => [...view.colorOf(d), 200],
      getLineWidth: 1.5,
      lineWidthUnits: "pixels",
      updateTriggers: { getFillColor: [key, selectedH3], getLineColor: key },
    }),
    new PolygonLayer({
      id: `population-${twin.name}`,
      data: view.cells,
      visible,
      pickable: true,
      filled: true,
      extruded: true,
      wireframe: false,
      modelMatrix: lift,
      getPolygon: (d) => d.boundary,
      getElevation: (d) => elevation(d.persons, view.resolution),
      getFillColor: (d) => (d.h3 === selectedH3 ? SELECTED : [...view.colorOf(d), 235]),
      updateTriggers: { getFillColor: [key, selectedH3], getElevation: key },
    }),
  ];
}

export function isPopulationLayer(layer) {
  return Boolean(layer?.id.startsWith("population-"));
}
