// deck.gl layers of one twin. The tiles carry heights above the ellipsoid; the flat layers are lifted to the
// twin's ground (also an ellipsoidal height) with a model matrix, so buildings stand on the map.

import { colorFor } from "./classify.js";

const { Tile3DLayer, GeoJsonLayer, MaskExtension, TextLayer } = globalThis.deck;

// The mask that hides buildings a scenario replaces or removes: the scenario panel draws a layer of this id with
// their footprints (scenario_buildings.js); the building tiles keep only what lies outside it.
export const BUILDING_MASK_ID = "scenario-building-mask";

export function liftMatrix(height) {
  // Column-major 4x4 translation by `height` metres along z (deck.gl applies it to [lng, lat, z]).
  return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, height, 1];
}

// deck.gl 9.4 skips, when picking, every tile whose content origin projects more than a quarter screen away
// from the cursor. Our tiles span a neighbourhood, so zoomed in on one building its tile's origin is off screen
// and the building could not be clicked. Keep only the visibility test.
class BuildingTilesLayer extends Tile3DLayer {
  filterSubLayer({ layer, viewport }) {
    const { tile } = layer.props;
    return tile.selected && tile.viewportIds.includes(viewport.id);
  }
}
BuildingTilesLayer.layerName = "BuildingTilesLayer";

export function buildingsLayer(twin, handlers) {
  return new BuildingTilesLayer({
    id: `buildings-${twin.name}`,
    data: twin.tileset,
    pickable: true,
    // No loader workers: they would be fetched from a CDN. Parsing on the main thread is fast for our tiles.
    loadOptions: { worker: false, tileset: { throttleRequests: true } },
    onTilesetLoad: handlers.onTilesetLoad,
    onTileLoad: handlers.onTileLoad,
    onTileError: handlers.onTileError,
    // Per fragment, not per instance: a tile is one instance, and a building must go, not its whole tile.
    extensions: [new MaskExtension()],
    maskId: BUILDING_MASK_ID,
    maskInverted: true,
    maskByInstance: false,
  });
}

export function choroplethLayer(twin, data, variable, breaks, visible, selectedId) {
  return new GeoJsonLayer({
    id: `choropleth-${twin.name}`,
    data,
    visible,
    pickable: true,
    stroked: true,
    filled: true,
    modelMatrix: liftMatrix(twin.origin.height - 0.5),
    getFillColor: (f) => [...colorFor(f.properties[variable], breaks), 150],
    getLineColor: (f) => (areaId(f) === selectedId ? [230, 90, 0, 255] : [60, 60, 60, 200]),
    getLineWidth: (f) => (areaId(f) === selectedId ? 4 : 1),
    lineWidthUnits: "pixels",
    updateTriggers: { getFillColor: [variable, breaks], getLineColor: selectedId, getLineWidth: selectedId },
  });
}

export function outlineLayer(twin, id, data, visible) {
  return new GeoJsonLayer({
    id: `outline-${id}-${twin.name}`,
    data,
    visible,
    stroked: true,
    filled: false,
    modelMatrix: liftMatrix(twin.origin.height - 0.3),
    getLineColor: [90, 60, 140, 220],
    getLineWidth: 1.5,
    lineWidthUnits: "pixels",
  });
}

export function pathsLayer(twin, data, visible) {
  return new GeoJsonLayer({
    id: `paths-${twin.name}`,
    data,
    visible,
    stroked: true,
    filled: false,
    modelMatrix: liftMatrix(twin.origin.height - 0.2),
    getLineColor: (f) => (/footway|path|pedestrian|steps|living_street/.test(f.properties.path_class || "")
      ? [120, 120, 120, 200]
      : [255, 255, 255, 230]),
    getLineWidth: 1,
    lineWidthUnits: "pixels",
  });
}

// A facility's point: a point's own, else the mean of its outline's corners (parks and schools may be areas).
function facilityPoint(feature) {
  const g = feature.geometry;
  if (g?.type === "Point") return g.coordinates;
  const ring = g?.type === "Polygon" ? g.coordinates[0] : g?.type === "MultiPolygon" ? g.coordinates[0][0] : null;
  if (!ring?.length) return null;
  return [0, 1].map((i) => ring.reduce((sum, p) => sum + p[i], 0) / ring.length);
}

// The facilities in their category's colour (facility_style.js) with its letter on the disc, so that colour is not
// the only cue. `style`: {classOf(properties) -> {color, letter}, key (changes when the classes do)}.
export function facilitiesLayer(twin, data, visible, style) {
  const z = twin.origin.height + 1;
  const points = data.features
    .map((f) => ({ position: facilityPoint(f), letter: style.classOf(f.properties).letter }))
    .filter((d) => d.position && d.letter);
  const characters = [...new Set(points.map((d) => d.letter))].join("");
  return [
    new GeoJsonLayer({
      id: `facilities-${twin.name}`,
      data,
      visible,
      pickable: true,
      pointType: "circle",
      modelMatrix: liftMatrix(z),
      getFillColor: (f) => [...style.classOf(f.properties).color, 235],
      getLineColor: [255, 255, 255, 255],
      stroked: true,
      getPointRadius: 8,
      pointRadiusUnits: "pixels",
      getLineWidth: 1.5,
      lineWidthUnits: "pixels",
      updateTriggers: { getFillColor: style.key },
    }),
    new TextLayer({
      id: `facilities-letters-${twin.name}`,
      data: points,
      visible,
      getPosition: (d) => [d.position[0], d.position[1], z],
      getText: (d) => d.letter,
      getSize: 11,
      getColor: [255, 255, 255, 255],
      fontWeight: "bold",
      fontFamily: "system-ui, sans-serif",
      characterSet: characters,
      updateTriggers: { getText: style.key },
    }),
  ];
}

export function highlightLayer(twin, building) {
  if (!building) return null;
  const base = building.ground_height + twin.geoid_undulation;
  return new GeoJsonLayer({
    id: `highlight-${twin.name}`,
    data: { type: "Feature", geometry: building.geometry, properties: {} },
    extruded: true,
    wireframe: true,
    filled: true,
    modelMatrix: liftMatrix(base - 0.3),
    getElevation: building.height + 0.6,
    getFillColor: [255, 140, 0, 140],
    getLineColor: [200, 80, 0, 255],
  });
}

export function areaId(feature) {
  return feature.properties.district_id || feature.properties.cell_id;
}
