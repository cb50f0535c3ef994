// The flood tools of the scenario panel: "Hochwasser" draws the area a water level (m above NHN) may flood, and
// "Schutzmauer" draws a wall line with its crest height. The server floods the twin's terrain from the river;
// this module makes the measures, draws the walls and the flooded cells the result returns, and keeps its texts.

import { addStrings, formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { lonLat, newMeasure, polygonOf } from "./scenario_model.js";

const { GeoJsonLayer, PathLayer } = globalThis.deck;

addStrings({
  de: {
    toolFlood: "Hochwasser zeichnen (Wasserstand)",
    toolFloodWall: "Schutzmauer zeichnen",
    m_flood: "Hochwasser",
    m_flood_wall: "Schutzmauer",
    f_level_m: "Wasserstand (m ü. NHN)",
    f_crest_m: "Mauerkrone (m ü. NHN)",
    f_line: "Linie",
    f_source: "Quelle",
    drawLineHint: "{what}: Punkte der Linie auf die Karte klicken ({count} gesetzt); Doppelklick oder Eingabetaste beendet sie.",
    needTwoPoints: "Eine Linie braucht mindestens zwei Punkte.",
    finishLine: "Linie beenden",
    floodTooltip: "Wasserstand {level} m ü. NHN",
    wallTooltip: "Krone {crest} m ü. NHN",
    cause_flood: "Hochwasser (Einrichtungen und Wege unter Wasser)",
    privacy_flood_whole_units: "Hochwasser (Maßnahme {measure}): zählt ganze Einheiten; {units} Einheit(en) im Wasser, {kept} nur teilweise berührte nicht gezählt.",
    privacy_flood_area_too_small: "Hochwasser (Maßnahme {measure}): zu wenige Bewohnende im Wasser für eine Zahl; nicht ausgewertet.",
    privacy_flood_no_homes: "Hochwasser (Maßnahme {measure}): keine Wohnung im Wasser.",
    floodTitle: "Hochwasser",
    floodTerrainDem: "Gelände: Geländemodell {source}, Raster {resolution} m ({low} bis {high} m ü. NHN).",
    floodTerrainGround: "Gelände: kein Geländemodell, eine einheitliche Geländehöhe von {ground} m ü. NHN – jedes erreichte Gebäude steht gleich tief im Wasser, oder keines.",
    floodLevel: "Maßnahme {measure}: Wasserstand {level} m – {area} ha überflutet, bis {max} m tief.",
    floodLevelDry: "Maßnahme {measure}: Wasserstand {level} m – das Wasser erreicht keine tiefere Zelle.",
    floodWallHolds: "Schutzmauer (Maßnahme {measure}, Krone {crest} m) hält: {buildings} Gebäude bleiben trocken.",
    floodWallOver: "Schutzmauer (Maßnahme {measure}, Krone {crest} m) wird überströmt.",
    floodBuildings: "{flooded} von {total} Gebäuden im Wasser, bis {max} m tief (je Gebäude die tiefste Rasterzelle unter dem Grundriss).",
    floodBand: "Wassertiefe",
    floodBandRange: "{low}–{high} m",
    floodBandOpen: "ab {low} m",
    floodBuildingsCol: "Gebäude",
    floodExposed: "Bewohnende im Wasser",
    floodExposedTotal: "{persons} Personen in {households} Haushalten.",
    floodExposedNone: "Keine Wohnung liegt im Wasser.",
    floodExposedWithheld: "Zu wenige Bewohnende im Wasser für eine Zahl (Datenschutz).",
    floodCutOff: "Abgeschnittene Einrichtungen",
    floodCutOffNone: "Keine Einrichtung ist abgeschnitten.",
    floodReason_flooded: "im Wasser",
    floodReason_access_flooded: "Zugang überflutet",
    floodColFacility: "Einrichtung",
    floodColReason: "Grund",
    floodColDepth: "Tiefe (m)",
    floodPaths: "{n} Wegabschnitte ({km} km) unter Wasser; die Erreichbarkeit ist ohne sie berechnet.",
  },
  en: {
    toolFlood: "Draw a flood (water level)",
    toolFloodWall: "Draw a protective wall",
    m_flood: "Flood",
    m_flood_wall: "Protective wall",
    f_level_m: "Water level (m above NHN)",
    f_crest_m: "Wall crest (m above NHN)",
    f_line: "Line",
    f_source: "Source",
    drawLineHint: "{what}: click the line's points on the map ({count} set); double-click or Enter ends it.",
    needTwoPoints: "A line needs at least two points.",
    finishLine: "End the line",
    floodTooltip: "Water level {level} m above NHN",
    wallTooltip: "Crest {crest} m above NHN",
    cause_flood: "flood (facilities and paths under water)",
    privacy_flood_whole_units: "Flood (measure {measure}): counts whole units; {units} unit(s) in the water, {kept} only partly touched not counted.",
    privacy_flood_area_too_small: "Flood (measure {measure}): too few residents in the water for a figure; not evaluated.",
    privacy_flood_no_homes: "Flood (measure {measure}): no home in the water.",
    floodTitle: "Flood",
    floodTerrainDem: "Terrain: elevation model {source}, {resolution} m grid ({low} to {high} m above NHN).",
    floodTerrainGround: "Terrain: no elevation model, one twin-wide ground of {ground} m above NHN – every building the water reaches stands equally deep in it, or none does.",
    floodLevel: "Measure {measure}: water level {level} m – {area} ha flooded, up to {max} m deep.",
    floodLevelDry: "Measure {measure}: water level {level} m – the water reaches no lower cell.",
    floodWallHolds: "Protective wall (measure {measure}, crest {crest} m) holds: {buildings} buildings stay dry.",
    floodWallOver: "Protective wall (measure {measure}, crest {crest} m) is overtopped.",
    floodBuildings: "{flooded} of {total} buildings in the water, up to {max} m deep (per building the deepest grid cell under its footprint).",
    floodBand: "Water depth",
    floodBandRange: "{low}–{high} m",
    floodBandOpen: "{low} m and more",
    floodBuildingsCol: "Buildings",
    floodExposed: "Residents in the water",
    floodExposedTotal: "{persons} persons in {households} households.",
    floodExposedNone: "No home lies in the water.",
    floodExposedWithheld: "Too few residents in the water for a figure (privacy).",
    floodCutOff: "Facilities cut off",
    floodCutOffNone: "No facility is cut off.",
    floodReason_flooded: "in the water",
    floodReason_access_flooded: "access flooded",
    floodColFacility: "Facility",
    floodColReason: "Reason",
    floodColDepth: "Depth (m)",
    floodPaths: "{n} path segments ({km} km) under water; accessibility is computed without them.",
  },
});

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
