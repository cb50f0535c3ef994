// The flood tools of the scenario panel: "Hochwasser" draws the area a water level (m above NHN) may flood, and
// "Schutzmauer" draws a wall line with its crest height. The server floods the twin's terrain from the river;
// this module makes the measures, draws the walls and the flooded cells the result returns, and keeps its texts.

import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { lonLat, newMeasure, polygonOf } from "./scenario_model.js";

const { GeoJsonLayer, PathLayer } = globalThis.deck;

export const FLOOD_KINDS = ["flood", "flood_wall"];
export const LINE_KINDS = ["flood_wall"];
// The field a new measure's form focuses.
export const FLOOD_FOCUS = { flood: "level_m", flood_wall: "crest_m" };
const WATER = [30, 100, 210];
const WALL = [120, 70, 30];
// Depth bands as the server counts them (0, 0.5, 1, 2, 4 m): deeper is darker.
const BANDS = [
  [158, 202, 225],
  [107, 174, 214],
  [49, 130, 189],
  [8, 81, 156],
  [8, 48, 107],
];

// A measure from the drawn points: a flood area with a water level 1 m above the twin's ground to start from, or a
// wall 2 m above it; null for the other tools.
export function floodMeasure(kind, points, twin) {
  const ground = Number.isFinite(twin?.ground_height) ? twin.ground_height : 0;
  if (kind === "flood") return newMeasure("flood", { level_m: Math.round((ground + 1) * 10) / 10, area: polygonOf(points), name: "" });
  if (kind === "flood_wall") {
    const line = { type: "LineString", coordinates: points.map(lonLat) };
    return newMeasure("flood_wall", { crest_m: Math.round((ground + 2) * 10) / 10, line, name: "" });
  }
  return null;
}

export function floodTooltip(m) {
  const kind = t(`m_${m.kind}`);
  if (m.kind === "flood") return { text: `${kind}\n${t("floodTooltip", { level: formatNumber(m.level_m, 2) })}` };
  return { text: `${kind}\n${t("wallTooltip", { crest: formatNumber(m.crest_m, 2) })}` };
}

// The walls of the scenario (drawn lines) and, once computed, the flooded cells by depth band: drawn just above
// the per-cell result map (which lies up to 3 m above the ground), so the water stays visible over it; its colour,
// not its height, says how deep it is. The page draws them after the cell map.
export function floodLayers(twin, measures, results, visible) {
  const walls = measures.filter((m) => m.kind === "flood_wall");
  const extent = results?.flood?.extent;
  const layers = [
    new PathLayer({
      id: "scenario-walls",
      data: walls,
      visible,
      pickable: true,
      modelMatrix: liftMatrix(twin.origin.height + 1),
      getPath: (m) => m.line.coordinates,
      getColor: [...WALL, 255],
      getWidth: 5,
      widthUnits: "pixels",
      parameters: { depthCompare: "always", depthWriteEnabled: false },
    }),
  ];
  if (extent?.features?.length) {
    layers.unshift(
      new GeoJsonLayer({
        id: "scenario-flood-extent",
        data: extent,
        visible,
        modelMatrix: liftMatrix(twin.origin.height + 3.2),
        filled: true,
        stroked: false,
        getFillColor: (f) => [...(BANDS[f.properties.band - 1] ?? WATER), 150],
      }),
    );
  }
  return layers;
}

export function isFloodLayer(layer) {
  return layer?.id === "scenario-walls";
}
