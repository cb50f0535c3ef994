// What the places panel asks of the map, kept out of main.js: the 3D point on a building under a pixel, and
// the current view's bounds at the twin's ground height.

const { WebMercatorViewport } = globalThis.deck;

// The [lon, lat, z] (z: metres above the ellipsoid) where a building is under canvas pixel (x, y), or null.
// Several objects are picked, so a pin drawn over the building does not hide it.
export function buildingPoint(deckgl, x, y) {
  const hits = deckgl.pickMultipleObjects({ x, y, radius: 2, depth: 6, unproject3D: true }) ?? [];
  const hit = hits.find((h) => h.layer?.id.startsWith("buildings-") && h.coordinate);
  return hit ? [...hit.coordinate] : null;
}

// {bbox: [west, south, east, north], zoom} of a view state on a canvas of `width` x `height`, at the twin's
// ground (an ellipsoidal height): at z = 0 a tilted view would be off by hundreds of metres.
export function viewBounds(viewState, width, height, twin) {
  if (!viewState || !twin || !width || !height) return null;
  const viewport = new WebMercatorViewport({ ...viewState, width, height });
  const [west, south, east, north] = viewport.getBounds({ z: twin.origin.height });
  if (![west, south, east, north].every(Number.isFinite)) return null;
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  return {
    bbox: [clamp(west, -180, 180), clamp(south, -85, 85), clamp(east, -180, 180), clamp(north, -85, 85)],
    zoom: viewState.zoom,
  };
}
