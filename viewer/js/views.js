// The map's views: two side by side for a scenario, and the view a twin opens with: the permalink's
// (#twin=<name>&view=<lon>,<lat>,<zoom>,<pitch>,<bearing>[&pop=..][&scenario=..][&proposal=..]), parsed and written
// apart from the viewer's state (main.js keeps the URL current while the user moves), or one fitted to a bounding box.

function params(twin, key) {
  const found = new URLSearchParams(location.hash.slice(1));
  return found.get("twin") === twin.name ? found.get(key) : null;
}

// The view a permalink opens the twin with, or null.
export function viewFromHash(twin) {
  const view = params(twin, "view");
  if (!view) return null;
  const [longitude, latitude, zoom, pitch, bearing] = view.split(",").map(Number);
  if (![longitude, latitude, zoom, pitch, bearing].every(Number.isFinite)) return null;
  return { longitude, latitude, zoom, pitch, bearing, position: [0, 0, twin.origin.height] };
}

// The population layer's state: #...&pop=<persona>,<resolution or auto> while it is shown.
export function populationFromHash(twin) {
  const pop = params(twin, "pop");
  if (!pop) return { visible: false };
  const [persona, choice] = pop.split(",");
  return { visible: true, persona: persona || undefined, choice: choice || undefined };
}

// The proposal whose page the permalink opens: #...&proposal=<id>.
export function proposalFromHash(twin) {
  const id = params(twin, "proposal");
  return id && /^[1-9][0-9]{0,17}$/.test(id) ? Number(id) : null;
}

// The scenario shown by the permalink: #...&scenario=<64 hex digits>.
export function scenarioFromHash(twin) {
  const id = params(twin, "scenario");
  return id && /^[0-9a-f]{64}$/.test(id) ? id : null;
}

// The hash for a view state and what else is shown (each optional).
export function permalinkHash(twinName, v, { pop, scenario, proposal } = {}) {
  const view = [v.longitude.toFixed(6), v.latitude.toFixed(6), v.zoom.toFixed(2), v.pitch.toFixed(0), v.bearing.toFixed(0)];
  let extra = pop ? `&pop=${encodeURIComponent(pop)}` : "";
  if (scenario) extra += `&scenario=${scenario}`;
  if (proposal) extra += `&proposal=${proposal}`;
  return `#twin=${encodeURIComponent(twinName)}&view=${view.join(",")}${extra}`;
}

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
