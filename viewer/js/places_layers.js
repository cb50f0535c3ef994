// deck.gl layers of the citizens' places: pins (a disc in the kind's colour with a glyph, "+" for happy and
// "!" for improvable, so colour is not the only cue), the clusters the server returns for busy views, and the
// draft pin being placed (pickable, so it can be dragged). No icon atlas: discs and text only (no CDN).
//
// Heights: the 3D tiles and the flat layers sit at ellipsoidal heights. A pin on a building sits at the
// building's ground height + the twin's geoid undulation + its height above the ground (like highlightLayer);
// other pins sit just above the twin's ground (twin.origin.height).

const { LineLayer, ScatterplotLayer, TextLayer } = globalThis.deck;

export const PLACE_COLORS = { happy: [26, 140, 60], improvable: [222, 90, 0] };
const HIDDEN_COLOR = [120, 120, 120];
const GLYPH = { happy: "+", improvable: "!" };
// Drawn over the buildings, so a pin behind a house stays visible.
const ON_TOP = { depthCompare: "always", depthWriteEnabled: false };
export const PIN_LAYER = "places-pins";
export const CLUSTER_LAYER = "places-clusters";
export const DRAFT_LAYER = "places-draft";

// The ellipsoidal height of a pin's tip. `grounds`: building id -> ground height (orthometric), where known.
export function pinZ(twin, location, grounds) {
  if (location.building_id && Number.isFinite(location.height)) {
    const ground = grounds.get(location.building_id);
    const base = Number.isFinite(ground) ? ground + twin.geoid_undulation : twin.origin.height;
    return base + location.height;
  }
  return twin.origin.height + 1;
}

function groundZ(twin, location, grounds) {
  const ground = location.building_id ? grounds.get(location.building_id) : undefined;
  return Number.isFinite(ground) ? ground + twin.geoid_undulation : twin.origin.height;
}

function color(place, alpha = 240) {
  const rgb = place.status === "hidden" || place.status === "new" ? HIDDEN_COLOR : PLACE_COLORS[place.kind];
  return [...(rgb ?? HIDDEN_COLOR), alpha];
}

// The pins of a listing; `selected`: the selected place's id (drawn larger, with a dark ring).
export function pinLayers(twin, places, { grounds, selected, handlers = {} }) {
  const pins = places.map((p) => ({ place: p, position: [p.location.lon, p.location.lat, pinZ(twin, p.location, grounds)] }));
  const onBuildings = pins.filter((d) => d.place.location.building_id);
  const key = `${selected}:${pins.map((d) => `${d.place.place_id}${d.place.status}${d.position[2]}`).join()}`;
  return [
    new LineLayer({
      id: "places-stems",
      data: onBuildings,
      getSourcePosition: (d) => [d.position[0], d.position[1], groundZ(twin, d.place.location, grounds)],
      getTargetPosition: (d) => d.position,
      getColor: [40, 40, 40, 200],
      getWidth: 2,
      widthUnits: "pixels",
      parameters: ON_TOP,
      updateTriggers: { getSourcePosition: key },
    }),
    new ScatterplotLayer({
      id: PIN_LAYER,
      data: pins,
      pickable: true,
      getPosition: (d) => d.position,
      getRadius: (d) => (d.place.place_id === selected ? 11 : 8),
      radiusUnits: "pixels",
      getFillColor: (d) => color(d.place),
      getLineColor: (d) => (d.place.place_id === selected ? [20, 20, 20, 255] : [255, 255, 255, 255]),
      getLineWidth: (d) => (d.place.place_id === selected ? 3 : 2),
      lineWidthUnits: "pixels",
      stroked: true,
      parameters: ON_TOP,
      updateTriggers: { getPosition: key, getRadius: key, getFillColor: key, getLineColor: key, getLineWidth: key },
      ...handlers,
    }),
    new TextLayer({
      id: "places-glyphs",
      data: pins,
      getPosition: (d) => d.position,
      getText: (d) => GLYPH[d.place.kind] ?? "?",
      getSize: (d) => (d.place.place_id === selected ? 15 : 12),
      getColor: [255, 255, 255, 255],
      fontWeight: "bold",
      fontFamily: "system-ui, sans-serif",
      characterSet: "+!?",
      parameters: ON_TOP,
      updateTriggers: { getPosition: key, getSize: key },
    }),
  ];
}

// H3 clusters: a dark disc whose area grows with the count, ringed in the colour of the kind that prevails.
export function clusterLayers(twin, clusters) {
  const ring = (c) => (c.happy === c.improvable ? [255, 255, 255] : PLACE_COLORS[c.happy > c.improvable ? "happy" : "improvable"]);
  return clusterDiscs(twin, clusters, { id: CLUSTER_LAYER, fill: [22, 50, 79, 220], ring });
}

// The server's H3 clusters of any listing (places, proposals): a disc whose area grows with the count, the count on
// it, ringed in ring(cluster) (white without one). Layer ids: `id` and `${id}-counts`.
export function clusterDiscs(twin, clusters, { id, fill, ring = null }) {
  const max = Math.max(1, ...clusters.map((c) => c.count));
  const z = twin.origin.height + 2;
  const key = clusters.map((c) => `${c.h3}:${c.count}`).join();
  return [
    new ScatterplotLayer({
      id,
      data: clusters,
      pickable: true,
      getPosition: (c) => [c.lon, c.lat, z],
      getRadius: (c) => 12 + 22 * Math.sqrt(c.count / max),
      radiusUnits: "pixels",
      getFillColor: fill,
      getLineColor: ring ? (c) => [...ring(c), 255] : [255, 255, 255, 255],
      getLineWidth: 3,
      lineWidthUnits: "pixels",
      stroked: true,
      parameters: ON_TOP,
      updateTriggers: { getPosition: key, getRadius: key, getLineColor: key },
    }),
    new TextLayer({
      id: `${id}-counts`,
      data: clusters,
      getPosition: (c) => [c.lon, c.lat, z],
      getText: (c) => String(c.count),
      getSize: 13,
      getColor: [255, 255, 255, 255],
      fontWeight: "bold",
      fontFamily: "system-ui, sans-serif",
      characterSet: "0123456789",
      parameters: ON_TOP,
      updateTriggers: { getText: key, getPosition: key },
    }),
  ];
}

// The pin being placed: larger, white with a ring in the kind's colour; pickable so that it can be dragged.
export function draftLayers(twin, draft, { kind, grounds, handlers }) {
  if (!draft) return [];
  const position = [draft.lon, draft.lat, pinZ(twin, draft, grounds)];
  const ring = PLACE_COLORS[kind] ?? [30, 30, 30];
  const key = position.join();
  const layers = [
    new ScatterplotLayer({
      id: DRAFT_LAYER,
      data: [{ position }],
      pickable: true,
      getPosition: (d) => d.position,
      getRadius: 12,
      radiusUnits: "pixels",
      getFillColor: [255, 255, 255, 245],
      getLineColor: [...ring, 255],
      getLineWidth: 4,
      lineWidthUnits: "pixels",
      stroked: true,
      parameters: ON_TOP,
      updateTriggers: { getPosition: key, getLineColor: kind },
      ...handlers,
    }),
  ];
  if (draft.building_id) {
    layers.unshift(
      new LineLayer({
        id: "places-draft-stem",
        data: [{ position }],
        getSourcePosition: (d) => [d.position[0], d.position[1], groundZ(twin, draft, grounds)],
        getTargetPosition: (d) => d.position,
        getColor: [20, 20, 20, 230],
        getWidth: 2,
        widthUnits: "pixels",
        parameters: ON_TOP,
        updateTriggers: { getSourcePosition: key, getTargetPosition: key },
      }),
    );
  }
  return layers;
}

export function isPlacesLayer(layer) {
  return Boolean(layer?.id?.startsWith("places-"));
}
