// Drawing on the map with deck.gl layers only: the tool that collects clicked points into a polygon (or one
// point), and the layers that show the drawing and the scenario's measures. Positions are lon/lat on the
// twin's ground (the layers are lifted to it like every flat layer).

import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { POLYGON_KINDS } from "./scenario_model.js";
import { LINE_KINDS, floodTooltip, isFloodLayer } from "./flood_tool.js";
import { ROAD_LINE_KINDS, isPlanningLayer, planningTooltip } from "./scenario_planning_tools.js";

const { PathLayer, PolygonLayer, ScatterplotLayer } = globalThis.deck;

export const KIND_COLORS = {
  new_housing: [230, 120, 20],
  green_space: [46, 150, 60],
  hazard: [30, 100, 210],
  flood: [30, 100, 210],
  add_facility: [123, 50, 170],
  remove_facility: [90, 90, 90],
  infill: [189, 0, 38],
  planned_building: [200, 120, 30],
  add_road: [235, 125, 0],
  close_road: [214, 39, 40],
};
const STOREY_M = 3;
// Drawn over everything, so the outline stays visible where buildings stand.
const ON_TOP = { depthCompare: "always", depthWriteEnabled: false };

function metres(a, b) {
  const dx = (b[0] - a[0]) * 111320 * Math.cos((a[1] * Math.PI) / 180);
  const dy = (b[1] - a[1]) * 110540;
  return Math.hypot(dx, dy);
}

// The tool being used: null (none), a polygon kind (new_housing, green_space, hazard), "add_facility" (one
// click places it) or "remove_facility" (one click on an existing facility).
// `prefix` starts the ids of its layers, so that two panels (scenario, proposals) can each have a tool.
export class DrawTool {
  constructor(prefix = "scenario") {
    this.prefix = prefix;
    this.tool = null;
    this.points = [];
    this.hover = null;
  }

  get active() {
    return this.tool !== null;
  }

  // Collects clicked points: a polygon, or a line (a wall; never closed, never filled).
  get drawsPolygon() {
    return POLYGON_KINDS.includes(this.tool) || this.tool === "infill" || this.drawsLine;
  }

  get drawsLine() {
    return LINE_KINDS.includes(this.tool) || ROAD_LINE_KINDS.includes(this.tool);
  }

  // A line ends after two points, a polygon closes after three; the i18n keys of what the drawing says.
  get minPoints() {
    return this.drawsLine ? 2 : 3;
  }

  get texts() {
    if (this.drawsLine) return { hint: "drawLineHint", few: "needTwoPoints", finish: "finishLine" };
    return { hint: "drawPolygonHint", few: "needThreePoints", finish: "closeShape" };
  }

  start(tool) {
    this.tool = tool;
    this.points = [];
    this.hover = null;
  }

  cancel() {
    this.start(null);
  }

  // A vertex; a second click on (almost) the same place, as in a double-click, adds nothing.
  add(lonLat) {
    const last = this.points.at(-1);
    if (last && metres(last, lonLat) < 0.5) return false;
    this.points.push(lonLat);
    return true;
  }

  undo() {
    return this.points.pop() !== undefined;
  }

  layers(twin) {
    if (!this.drawsPolygon || (this.points.length === 0 && !this.hover)) return [];
    const color = KIND_COLORS[this.tool] ?? [120, 70, 30];
    const lift = liftMatrix(twin.origin.height + 1.5);
    const line = this.hover ? [...this.points, this.hover] : this.points;
    const layers = [];
    if (line.length >= 3 && !this.drawsLine) {
      layers.push(
        new PolygonLayer({
          id: `${this.prefix}-draft-area`,
          data: [{ polygon: line }],
          modelMatrix: lift,
          getPolygon: (d) => d.polygon,
          getFillColor: [...color, 70],
          stroked: false,
          parameters: ON_TOP,
        }),
      );
    }
    layers.push(
      new PathLayer({
        id: `${this.prefix}-draft-line`,
        data: [{ path: line.length >= 3 && !this.drawsLine ? [...line, line[0]] : line }],
        modelMatrix: lift,
        getPath: (d) => d.path,
        getColor: [...color, 255],
        getWidth: 3,
        widthUnits: "pixels",
        parameters: ON_TOP,
      }),
      new ScatterplotLayer({
        id: `${this.prefix}-draft-points`,
        data: this.points.map((p, i) => ({ position: p, first: i === 0 })),
        modelMatrix: lift,
        getPosition: (d) => d.position,
        getRadius: (d) => (d.first ? 7 : 5),
        radiusUnits: "pixels",
        getFillColor: [255, 255, 255, 255],
        getLineColor: [...color, 255],
        stroked: true,
        getLineWidth: 2,
        lineWidthUnits: "pixels",
        parameters: ON_TOP,
      }),
    );
    return layers;
  }
}

// The scenario's measures on the map: quarters extruded by their storeys, green and hazard areas flat, new
// facilities as purple dots and closed ones as grey dots with a red ring. `prefix` starts the layers' ids (a
// proposal's measures are drawn beside the scenario panel's).
export function measureLayers(twin, measures, visible, prefix = "scenario") {
  const ground = liftMatrix(twin.origin.height + 0.4);
  // A hazard may take its area from a layer instead (no drawn area).
  const areas = measures.filter((m) => m.area && ["green_space", "hazard", "flood", "infill", "close_road"].includes(m.kind));
  const housing = measures.filter((m) => m.kind === "new_housing");
  const points = measures.filter((m) => m.kind === "add_facility" || (m.kind === "remove_facility" && m.local?.at));
  return [
    new PolygonLayer({
      id: `${prefix}-areas`,
      data: areas,
      visible,
      pickable: true,
      modelMatrix: ground,
      getPolygon: (m) => m.area.coordinates,
      getFillColor: (m) => [...KIND_COLORS[m.kind], 90],
      getLineColor: (m) => [...KIND_COLORS[m.kind], 255],
      getLineWidth: 2,
      lineWidthUnits: "pixels",
      updateTriggers: { getFillColor: areas.map((m) => m.uid).join() },
    }),
    new PolygonLayer({
      id: `${prefix}-housing`,
      data: housing,
      visible,
      pickable: true,
      extruded: true,
      wireframe: true,
      modelMatrix: ground,
      getPolygon: (m) => m.area.coordinates,
      getElevation: (m) => (Number.isFinite(m.storeys) ? Math.max(m.storeys, 1) : 1) * STOREY_M,
      getFillColor: [...KIND_COLORS.new_housing, 150],
      getLineColor: [150, 70, 0, 255],
      updateTriggers: { getElevation: housing.map((m) => `${m.uid}:${m.storeys}`).join() },
    }),
    new ScatterplotLayer({
      id: `${prefix}-facilities`,
      data: points,
      visible,
      pickable: true,
      modelMatrix: liftMatrix(twin.origin.height + 2),
      getPosition: (m) => (m.kind === "add_facility" ? m.location.coordinates : m.local.at),
      getRadius: 8,
      radiusUnits: "pixels",
      getFillColor: (m) => [...KIND_COLORS[m.kind], 240],
      getLineColor: (m) => (m.kind === "add_facility" ? [255, 255, 255, 255] : [214, 39, 40, 255]),
      stroked: true,
      getLineWidth: 2,
      lineWidthUnits: "pixels",
      parameters: ON_TOP,
    }),
  ];
}

export function isMeasureLayer(layer, prefix = "scenario") {
  const ids = [`${prefix}-areas`, `${prefix}-housing`, `${prefix}-facilities`];
  return ids.includes(layer?.id) || (prefix === "scenario" && (isFloodLayer(layer) || isPlanningLayer(layer)));
}

// The tooltip of a drawn measure; `local` is what the panel knows of a closed facility (its name).
export function measureTooltip(m, local) {
  const kind = t(`m_${m.kind}`);
  if (m.kind === "new_housing") {
    const size = t("housingTooltip", { dwellings: formatNumber(m.dwellings), storeys: formatNumber(m.storeys) });
    return { text: `${kind}\n${size}` };
  }
  if (m.kind === "add_facility") return { text: `${kind}: ${t(`fac_${m.facility}`)}\n${m.name ?? ""}`.trim() };
  if (m.kind === "remove_facility") return { text: `${kind}: ${local?.name ?? m.facility_id}` };
  if (m.kind === "flood" || m.kind === "flood_wall") return floodTooltip(m);
  const planning = planningTooltip(m);
  if (planning) return planning;
  return { text: `${kind}${m.name ? `: ${m.name}` : ""}` };
}
