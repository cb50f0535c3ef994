// deck.gl layers of the citizens' proposals: a disc per proposal in its stage's colour with a glyph (so colour is
// not the only cue), the areas of proposals drawn as polygons, the server's clusters for busy views, and the
// proposal being drafted (its place and area). The measures of a draft or of the selected proposal are drawn with
// the scenario panel's measureLayers (scenario_draw.js). No icon atlas: discs and text only (no CDN).

import { liftMatrix } from "./layers.js";
import { clusterDiscs } from "./places_layers.js";

const { PolygonLayer, ScatterplotLayer, TextLayer } = globalThis.deck;

export const STAGES = ["under_review", "simulated", "adopted", "rejected"];
export const STAGE_COLORS = {
  under_review: [86, 104, 132],
  simulated: [30, 96, 190],
  adopted: [26, 140, 60],
  rejected: [160, 50, 50],
};
export const STAGE_GLYPHS = { under_review: "?", simulated: "~", adopted: "+", rejected: "x" };
const UNPUBLISHED = [120, 120, 120];
// Drawn over the buildings, so a proposal behind a house stays visible.
const ON_TOP = { depthCompare: "always", depthWriteEnabled: false };
export const PIN_LAYER = "proposals-pins";
export const AREA_LAYER = "proposals-areas";
export const CLUSTER_LAYER = "proposals-clusters";
export const DRAFT_LAYER = "proposals-draft-point";

export function stageColor(proposal) {
  if (proposal.status === "new" || proposal.status === "hidden") return UNPUBLISHED;
  return STAGE_COLORS[proposal.stage] ?? UNPUBLISHED;
}

function pinZ(twin) {
  return twin.origin.height + 1.5;
}

// The proposals of a listing: their areas (the selected one stronger), then the discs and glyphs on top.
export function pinLayers(twin, proposals, selected) {
  const z = pinZ(twin);
  const withArea = proposals.filter((p) => p.area?.coordinates?.length);
  const key = `${selected}:${proposals.map((p) => `${p.proposal_id}${p.status}${p.stage}`).join()}`;
  return [
    new PolygonLayer({
      id: AREA_LAYER,
      data: withArea,
      pickable: true,
      modelMatrix: liftMatrix(twin.origin.height + 0.6),
      getPolygon: (p) => p.area.coordinates,
      getFillColor: (p) => [...stageColor(p), p.proposal_id === selected ? 70 : 35],
      getLineColor: (p) => [...stageColor(p), 255],
      getLineWidth: (p) => (p.proposal_id === selected ? 4 : 2),
      lineWidthUnits: "pixels",
      parameters: ON_TOP,
      updateTriggers: { getFillColor: key, getLineColor: key, getLineWidth: key },
    }),
    new ScatterplotLayer({
      id: PIN_LAYER,
      data: proposals,
      pickable: true,
      getPosition: (p) => [p.location.lon, p.location.lat, z],
      getRadius: (p) => (p.proposal_id === selected ? 12 : 9),
      radiusUnits: "pixels",
      getFillColor: (p) => [...stageColor(p), 240],
      getLineColor: (p) => (p.proposal_id === selected ? [20, 20, 20, 255] : [255, 255, 255, 255]),
      getLineWidth: (p) => (p.proposal_id === selected ? 3 : 2),
      lineWidthUnits: "pixels",
      stroked: true,
      parameters: ON_TOP,
      updateTriggers: { getPosition: key, getRadius: key, getFillColor: key, getLineColor: key, getLineWidth: key },
    }),
    new TextLayer({
      id: "proposals-glyphs",
      data: proposals,
      getPosition: (p) => [p.location.lon, p.location.lat, z],
      getText: (p) => STAGE_GLYPHS[p.stage] ?? "?",
      getSize: (p) => (p.proposal_id === selected ? 15 : 12),
      getColor: [255, 255, 255, 255],
      fontWeight: "bold",
      fontFamily: "system-ui, sans-serif",
      characterSet: "?~+x",
      parameters: ON_TOP,
      updateTriggers: { getText: key, getSize: key },
    }),
  ];
}

// The server's H3 clusters: a dark disc whose area grows with the count, with the count on it.
export function clusterLayers(twin, clusters) {
  return clusterDiscs(twin, clusters, { id: CLUSTER_LAYER, fill: [30, 60, 120, 220] });
}

// The draft's place (a white disc with a dark ring) and area (dashed-looking outline in the accent colour).
export function draftLayers(twin, { location, area }) {
  const layers = [];
  if (area) {
    layers.push(
      new PolygonLayer({
        id: "proposals-draft-area",
        data: [area],
        modelMatrix: liftMatrix(twin.origin.height + 0.8),
        getPolygon: (a) => a.coordinates,
        getFillColor: [30, 96, 190, 45],
        getLineColor: [30, 96, 190, 255],
        getLineWidth: 3,
        lineWidthUnits: "pixels",
        parameters: ON_TOP,
        updateTriggers: { getPolygon: JSON.stringify(area.coordinates) },
      }),
    );
  }
  if (location) {
    layers.push(
      new ScatterplotLayer({
        id: DRAFT_LAYER,
        data: [location],
        getPosition: (l) => [l.lon, l.lat, pinZ(twin)],
        getRadius: 11,
        radiusUnits: "pixels",
        getFillColor: [255, 255, 255, 245],
        getLineColor: [30, 96, 190, 255],
        getLineWidth: 4,
        lineWidthUnits: "pixels",
        stroked: true,
        parameters: ON_TOP,
        updateTriggers: { getPosition: `${location.lon},${location.lat}` },
      }),
    );
  }
  return layers;
}
