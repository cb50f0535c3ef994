// The planning measures the noise and sightline models answer, in the scenario panel: "Straße anlegen" draws a new
// road's axis (its class and, optionally, its traffic), "Straßen sperren" draws an area whose roads close, "Hochpunkt
// setzen" places a tower or wind turbine with its height, "Lärmkarte" takes a loaded layer of levels in dB, and a
// hazard may take its area from a loaded polygon layer instead of a drawing. The roads stand on the map as thick
// lines coloured by class, a high point as a column up to its height. The server judges every field (422s naming it);
// the roads' buttons show only where the twin has roads, the layers' only where the catalogue has a fitting layer.
// Texts live here; text is set with textContent only.

import { api } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { pathLength } from "./measure_geo.js";
import { el } from "./panels.js";
import { lonLat, newMeasure, polygonOf } from "./scenario_model.js";

const { ColumnLayer, PathLayer, ScatterplotLayer } = globalThis.deck;

// OSM highway classes a scenario may add (the server's ROAD_CLASSES), biggest first.
const ROAD_CLASSES = ["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service"];
const STRUCTURES = ["tower", "wind_turbine", "other"];
// Tools that draw a line (DrawTool), and the one that places a point (the "point at map centre" button serves it).
export const ROAD_LINE_KINDS = ["add_road"];
export const LANDMARK_TOOL = "landmark";
// Roads in the colours of their class (strong to weak), as wide as such a road is, at least a few pixels.
const ROAD_COLORS = {
  motorway: [196, 30, 80],
  trunk: [214, 70, 40],
  primary: [235, 125, 0],
  secondary: [205, 170, 0],
  tertiary: [110, 160, 40],
  unclassified: [110, 110, 110],
  residential: [70, 110, 170],
  service: [140, 140, 160],
};
const ROAD_WIDTH_M = { motorway: 24, trunk: 18, primary: 14, secondary: 12, tertiary: 10, unclassified: 7, residential: 7, service: 5 };
const STRUCTURE_COLORS = { tower: [140, 50, 170], wind_turbine: [40, 110, 200], other: [90, 90, 90] };
const LANDMARK_DEFAULTS = { height_m: 50, structure: "tower", name: "" };
// Drawn over everything, so that a road stays visible where buildings stand (as the flood walls).
const ON_TOP = { depthCompare: "always", depthWriteEnabled: false };

// A line's length in km (geodesic, as the measuring tool).
function lineKm(line) {
  return pathLength(line.coordinates) / 1000;
}

// The ground a high point stands on (ellipsoidal, as the tiles' heights): kept in `local`, else the twin's ground.
function groundOf(m, twin) {
  if (Number.isFinite(m.local?.ground)) return m.local.ground;
  return Number.isFinite(twin.ground_height) ? twin.ground_height + (twin.geoid_undulation ?? 0) : twin.origin.height;
}

// ---- on the map: drawn after the per-cell result map (as the flood walls), so a road stays visible over it --------

// The new roads as thick lines coloured by class, the high points as columns up to their height with a disc on top.
export function planningLayers(twin, measures, visible) {
  const roads = measures.filter((m) => m.kind === "add_road" && m.line?.coordinates?.length >= 2);
  const points = measures.filter((m) => m.kind === "landmark" && m.location);
  const height = (m) => (Number.isFinite(m.height_m) && m.height_m > 0 ? m.height_m : 1);
  const colour = (m) => STRUCTURE_COLORS[m.structure] ?? STRUCTURE_COLORS.other;
  const columns = points.map((m) => `${m.uid}:${height(m)}:${m.structure}:${groundOf(m, twin)}`).join();
  return [
    new PathLayer({
      id: "scenario-roads",
      data: roads,
      visible,
      pickable: true,
      modelMatrix: liftMatrix(twin.origin.height + 1),
      getPath: (m) => m.line.coordinates,
      getColor: (m) => [...(ROAD_COLORS[m.road_class] ?? ROAD_COLORS.unclassified), 230],
      getWidth: (m) => ROAD_WIDTH_M[m.road_class] ?? 7,
      widthUnits: "meters",
      widthMinPixels: 4,
      capRounded: true,
      jointRounded: true,
      parameters: ON_TOP,
      updateTriggers: { getColor: roads.map((m) => m.road_class).join(), getWidth: roads.map((m) => m.road_class).join() },
    }),
    new ColumnLayer({
      id: "scenario-landmarks",
      data: points,
      visible,
      pickable: true,
      extruded: true,
      diskResolution: 12,
      radius: 4, // pixels: a slim column that stays visible when zoomed out
      radiusUnits: "pixels",
      getPosition: (m) => [...m.location.coordinates, groundOf(m, twin)],
      getElevation: height,
      getFillColor: (m) => [...colour(m), 255],
      material: { ambient: 0.6, diffuse: 0.5, shininess: 8 },
      updateTriggers: { getPosition: columns, getElevation: columns, getFillColor: columns },
    }),
    new ScatterplotLayer({
      id: "scenario-landmark-tops",
      data: points,
      visible,
      pickable: true,
      billboard: true,
      getPosition: (m) => [...m.location.coordinates, groundOf(m, twin) + height(m)],
      getRadius: (m) => (m.structure === "wind_turbine" ? 10 : 7),
      radiusUnits: "pixels",
      getFillColor: (m) => [...colour(m), 255],
      getLineColor: [255, 255, 255, 255],
      stroked: true,
      getLineWidth: 2,
      lineWidthUnits: "pixels",
      updateTriggers: { getPosition: columns, getRadius: columns, getFillColor: columns },
    }),
  ];
}

export function isPlanningLayer(layer) {
  return ["scenario-roads", "scenario-landmarks", "scenario-landmark-tops"].includes(layer?.id);
}

// The tooltip of a road, a closure or a high point; null for the other kinds.
export function planningTooltip(m) {
  const name = m.name ? `: ${m.name}` : "";
  if (m.kind === "add_road") {
    const given = [m.vehicles_per_day, m.speed_kmh, m.heavy_share].some((v) => v !== null && v !== undefined);
    const shown = (v, scale = 1) => (v === null || v === undefined ? t("unset") : formatNumber(v * scale, 1));
    const traffic = given
      ? t("roadTraffic", { vehicles: shown(m.vehicles_per_day), speed: shown(m.speed_kmh), heavy: shown(m.heavy_share, 100) })
      : t("roadTrafficDefault");
    return { text: t("roadTooltip", { kind: t("m_add_road"), name, class: t(`road_${m.road_class}`), traffic }) };
  }
  if (m.kind === "landmark") {
    return { text: t("landmarkTooltip", { structure: t(`structure_${m.structure}`), name, height: formatNumber(m.height_m, 1) }) };
  }
  if (m.kind === "close_road") return { text: t("closeTooltip", { kind: t("m_close_road"), name }) };
  return null;
}

// Why the server refused a measure's layer ("... cannot serve here (layer_no_levels)"), in the page's language; null
// for other errors.
export function layerErrorText(error) {
  const code = error.type === "twin" && error.field === "layer" ? /\((layer_[a-z_]+)\)/.exec(error.message)?.[1] : null;
  return code && t(code) !== code ? t(code) : null;
}

// ---- the tools ----------------------------------------------------------------------------------------------------

// The tools of one scenario panel; `panel` is the ScenarioPanel (its host, tool, measures, add(), ...).
export class PlanningTools {
  constructor(panel) {
    this.panel = panel;
    this.layers = { noise: [], polygons: [] }; // the catalogue's layers a measure can take
    this.install();
    // The catalogue changes with a sign-in and with layers loaded meanwhile: asked again when the panel opens.
    panel.dom.toggle.addEventListener("click", () => {
      if (!panel.dom.body.hidden && panel.twin) this.loadLayers(panel.twin);
    });
    globalThis.addEventListener?.("twin3d-auth", () => panel.twin && this.loadLayers(panel.twin));
  }

  // The tool buttons after the flood tools (before the panel wires [data-tool]); hidden until a twin shows they fit.
  install() {
    const after = document.querySelector('[data-tool="flood_wall"]');
    if (!after || document.getElementById("scenario-noise-map")) return;
    const tool = (name, key) => el("button", { type: "button", "data-tool": name, "aria-pressed": "false", "data-i18n": key, hidden: "" }, t(key));
    const noise = el("button", { type: "button", id: "scenario-noise-map", "data-i18n": "toolNoiseMap", hidden: "" }, t("toolNoiseMap"));
    const hazard = el("button", { type: "button", id: "scenario-hazard-layer", "data-i18n": "toolHazardLayer", hidden: "" }, t("toolHazardLayer"));
    noise.addEventListener("click", () => this.addFromLayer("noise_map"));
    hazard.addEventListener("click", () => this.addFromLayer("hazard"));
    after.after(tool("add_road", "toolRoad"), tool("close_road", "toolCloseRoads"), tool(LANDMARK_TOOL, "toolLandmark"), noise, hazard);
  }

  // A twin is open: the roads' tools where it has roads, the high point's where it has buildings; then its layers.
  open(twin) {
    const show = (selector, on) => {
      for (const button of document.querySelectorAll(selector)) button.hidden = !on;
    };
    show('[data-tool="add_road"], [data-tool="close_road"]', Boolean(twin.counts?.roads));
    show(`[data-tool="${LANDMARK_TOOL}"]`, Boolean(twin.counts?.buildings));
    this.layers = { noise: [], polygons: [] };
    this.showLayerTools();
    return this.loadLayers(twin);
  }

  // The loaded layers a noise map (rasters, polygons) or a hazard (polygons) can take, as the caller may see them.
  async loadLayers(twin) {
    const asked = (this.asked = (this.asked ?? 0) + 1); // only the newest answer counts
    let entries;
    try {
      entries = await api.catalogue(twin.name);
    } catch (error) {
      this.panel.host.onError(error);
      return;
    }
    if (this.panel.twin !== twin || asked !== this.asked) return;
    const list = Array.isArray(entries) ? entries : (entries.layers ?? []);
    const polygons = list.filter((l) => l.kind === "vector" && l.geometry_type === "polygons");
    const noise = [...list.filter((l) => l.kind === "raster"), ...polygons];
    const brief = (l) => ({ id: l.id, title: l.title || l.id });
    this.layers = { noise: noise.map(brief), polygons: polygons.map(brief) };
    this.panel.probe.scenarioLayerChoices = { noise: noise.map((l) => l.id), hazard: polygons.map((l) => l.id) };
    this.showLayerTools();
    this.panel.renderMeasures(); // the items' layer choices
  }

  showLayerTools() {
    document.getElementById("scenario-noise-map").hidden = !this.layers.noise.length;
    document.getElementById("scenario-hazard-layer").hidden = !this.layers.polygons.length;
  }

  // "Lärmkarte verwenden" and "Gefahrenbereich aus Ebene": a measure on the first fitting layer, its choice focused.
  addFromLayer(kind) {
    const first = (kind === "noise_map" ? this.layers.noise : this.layers.polygons)[0];
    if (!first) return;
    const fields = kind === "noise_map" ? { layer: first.id, name: "" } : { layer: first.id, hazard: "flood", name: "" };
    this.panel.cancelTool();
    this.panel.add(newMeasure(kind, fields), "layer");
  }

  // A line or an area drawn with this module's tools: the measure and the field to focus next; null for the others.
  finish(kind, points) {
    if (kind === "add_road") {
      const line = { type: "LineString", coordinates: points.map(lonLat) };
      const fields = { line, road_class: "residential", vehicles_per_day: null, speed_kmh: null, heavy_share: null, name: "" };
      return [newMeasure("add_road", fields), "road_class"];
    }
    if (kind === "close_road") return [newMeasure("close_road", { area: polygonOf(points), name: "" }), "name"];
    return null;
  }

  // A point on the map while "Hochpunkt setzen" is on: the high point stands there; true when used.
  point(lonLatValue) {
    if (this.panel.tool.tool !== LANDMARK_TOOL) return false;
    const m = newMeasure("landmark", { location: { type: "Point", coordinates: lonLat(lonLatValue) }, ...LANDMARK_DEFAULTS });
    this.panel.tool.cancel();
    this.ground(m);
    this.panel.add(m, "height_m");
    return true;
  }

  // On a twin with terrain, the ground of the building at the high point (the twin's ground elsewhere): kept in
  // `local`, which the API never sees.
  ground(m) {
    const twin = this.panel.twin;
    if (!twin?.counts?.terrain) return;
    this.panel.host.buildingAt(m.location.coordinates).then(
      (b) => {
        m.local = { ...m.local, ground: b.ground_height + (twin.geoid_undulation ?? 0) };
        this.panel.host.onChange({});
      },
      () => {}, // no building there: the twin's ground
    );
  }

  restore(measures) {
    for (const m of measures) if (m.kind === "landmark") this.ground(m);
  }

  hint(tool) {
    return tool === LANDMARK_TOOL ? t("placeLandmarkHint") : null;
  }

  // ---- the measure list ---------------------------------------------------------------------------------------------

  // What a measure's title adds after its kind (only what its fields do not change: the title is drawn once).
  title(m) {
    if (m.kind === "add_road") return ` (${t("roadLength", { km: formatNumber(lineKm(m.line), 2) })})`;
    return "";
  }

  // The form fields of this module's kinds (scenario_form.js draws them); null for the others.
  fields(m) {
    const name = { name: "name", type: "text", maxlength: 200 };
    if (m.kind === "add_road") {
      return [
        { name: "road_class", type: "choice", choices: ROAD_CLASSES, label: (v) => t(`road_${v}`) },
        { name: "vehicles_per_day", type: "int", min: 0, max: 200000, step: 100 },
        { name: "speed_kmh", type: "int", min: 10, max: 130, step: 10 },
        { name: "heavy_share", type: "float", min: 0, max: 0.6, step: 0.01 },
        name,
      ];
    }
    if (m.kind === "landmark") {
      return [
        { name: "height_m", type: "float", min: 1, max: 400, step: 1 },
        // structure_* are the results' names of the structures (planning_results.js): one name in form and result.
        { name: "structure", type: "choice", choices: STRUCTURES, label: (v) => t(`structure_${v}`) },
        name,
      ];
    }
    if (m.kind === "close_road") return [name];
    if (m.kind === "noise_map") {
      const known = this.layers.noise;
      const ids = known.map((l) => l.id);
      if (m.layer && !ids.includes(m.layer)) ids.push(m.layer); // a stored map's layer not (or no longer) listed
      const title = (id) => known.find((l) => l.id === id)?.title ?? id;
      return [{ name: "layer", type: "choice", choices: ids, label: title }, name];
    }
    return null;
  }

  // What an item shows besides its fields: notes on traffic and closures, a hazard's choice of its area.
  extras(m, ctx) {
    if (m.kind === "add_road") return [el("p", { class: "muted small field-note" }, t("roadTrafficNote"))];
    if (m.kind === "noise_map") return [el("p", { class: "muted small field-note" }, t("noiseLayerNote"))];
    if (m.kind === "close_road") {
      const text = m.road_ids ? t("closeRoadIds", { n: formatNumber(m.road_ids.length) }) : t("closeRoadNote");
      return [el("p", { class: "note field-note", "data-field": "close-road-note" }, text)];
    }
    if (m.kind === "hazard") return this.hazardSource(m, ctx);
    return [];
  }

  // A hazard's area: the one drawn, or the polygons of a loaded layer ("Fläche aus Ebene"). The drawn area is kept
  // in `local` while a layer is chosen, so that choosing it again brings it back.
  hazardSource(m, ctx) {
    const drawn = m.area ?? m.local?.area ?? null;
    const layers = [...this.layers.polygons];
    if (m.layer && !layers.some((l) => l.id === m.layer)) layers.push({ id: m.layer, title: m.layer });
    if (!layers.length) return [];
    const id = `m${m.uid}-layer`;
    const select = el("select", { id });
    if (drawn) select.append(el("option", { value: "" }, t("hazardDrawn")));
    for (const l of layers) select.append(el("option", { value: l.id }, t("hazardFromLayer", { title: l.title })));
    select.value = m.layer ?? "";
    select.addEventListener("change", () => {
      if (select.value) {
        if (m.area) m.local = { ...m.local, area: m.area };
        delete m.area;
        m.layer = select.value;
      } else {
        m.area = drawn;
        delete m.layer;
      }
      ctx.onEdit({ redraw: true, rerender: id }); // the title (its hectares) and the map change
    });
    const wrap = el("div", { class: "field wide" });
    wrap.append(el("label", { for: id }, t("f_area")), select);
    const error = ctx.errorFor(m.uid, "layer");
    if (error) {
      select.setAttribute("aria-invalid", "true");
      select.setAttribute("aria-describedby", `${id}-error`);
      wrap.append(el("p", { class: "field-error", id: `${id}-error` }, error));
    }
    return [wrap];
  }
}
