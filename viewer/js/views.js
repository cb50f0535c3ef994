// The map's views: two side by side for a scenario, and the view a twin opens with when no link gives one (fitted to
// a bounding box). The permalink's view is read and written by url_state.js (pure) and permalink.js (the page's glue).

// The view that shows a bounding box [west, south, east, north] in `container`, looking down at 45° onto the twin.
export function fitBox(twin, [west, south, east, north], container) {
  // The container's layout size, not the canvas: deck.gl sizes its canvas only after the first frame.
  const { WebMercatorViewport } = globalThis.deck;
  const viewport = new WebMercatorViewport({ width: container.clientWidth || 800, height: container.clientHeight || 600 });
  const bounds = [
    [west, south],
    [east, north],
  ];
  const { longitude, latitude, zoom } = viewport.fitBounds(bounds, { padding: 30 });
  // `position` lifts the camera's focus to the twin's ground so that orbiting pivots on the buildings.
  return { longitude, latitude, zoom: Math.min(zoom + 0.3, 17), pitch: 45, bearing: -15, position: [0, 0, twin.origin.height] };
}

// Side by side: two map views (baseline left, scenario right) that share one view state and `controller`.
export function compareViews(controller) {
  const { MapView } = globalThis.deck;
  return [
    new MapView({ id: "baseline", x: 0, width: "50%", repeat: false, controller }),
    new MapView({ id: "scenario", x: "50%", width: "50%", repeat: false, controller }),
  ];
}

// Side by side, the left view leaves out what only the scenario has (its measures, its cells), the right one the
// baseline's cells.
export function compareFilter({ layer, viewport }) {
  const baselineCells = layer.id.startsWith("scenario-cells-baseline");
  if (viewport.id === "baseline") return !layer.id.startsWith("scenario-") || baselineCells;
  return !baselineCells;
}
