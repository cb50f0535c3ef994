// Planned buildings in 3D, in the scenario panel: "Gebäude planen" draws a footprint raised to a height in metres (or
// storeys x 3 m); "Modell platzieren" uploads a glTF model (.glb, checked by the server), places it with a click,
// scales and turns it; "Gebäude entfernen" collects clicked buildings into one remove_buildings measure (the picking
// "Gebäude aufstocken" uses too). The existing buildings under planned footprints and the removed ones are hidden:
// the building tiles carry deck.gl's MaskExtension (layers.js), and the mask layer made here holds those footprints.
// plannedBuildings(measures) gives the draft's planned buildings as footprints and heights (for the sun tool).
// Texts live here; text is set with textContent only.

import { api, authHeaders } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { BUILDING_MASK_ID } from "./layers.js";
import { el } from "./panels.js";
import { areaHa, centroid, lonLat, newMeasure, polygonOf } from "./scenario_model.js";

const { PolygonLayer, ScenegraphLayer, WebMercatorViewport } = globalThis.deck;

export const STOREY_M = 3; // as the server's STOREY_M
export const USES = ["residential", "mixed", "non_residential"];
// Tools whose clicks pick an existing building (on its roof), and tools the "point at map centre" button serves.
export const PICK_TOOLS = ["add_storeys", "remove_buildings"];
export const POINT_TOOLS = [...PICK_TOOLS, "add_facility", "place_model"];
const PLANNED = [236, 190, 110];
const PLANNED_LINE = [150, 95, 20];
// A square of 1 cm at lon 0, lat 0, far from every twin: the mask while nothing is hidden, so that the buildings'
// mask always finds its layer (deck.gl warns of a missing one) and the mask is not drawn again on every move.
const NOTHING = [[[0, 0], [1e-7, 0], [1e-7, 1e-7], [0, 1e-7], [0, 0]]];
const MASK_MARGIN_M = 1; // the mask's outline, in metres: walls on the footprint's edge go too

const models = new Map(); // model id -> metadata (the server's, with its URLs)
const buildings = new Map(); // "<twin>|<building id>" -> the building's details (geometry, ground, name)
const pending = new Set(); // what is being fetched

// deck.gl's ScenegraphLayer says nothing when its model has loaded: this one tells `onModelLoad` (a probe signal).
class PlacedModelLayer extends ScenegraphLayer {
  _updateScenegraph() {
    super._updateScenegraph();
    if (this.state.scenegraph) this.props.onModelLoad?.();
  }
}
PlacedModelLayer.layerName = "PlacedModelLayer";

function buildingUrl(twin, id) {
  return `/api/twins/${encodeURIComponent(twin)}/buildings/${encodeURIComponent(id).replaceAll("%2F", "/")}`;
}

async function uploadModel(twin, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(`/api/twins/${encodeURIComponent(twin)}/models`, {
    method: "POST",
    headers: { Accept: "application/json", ...authHeaders() },
    body: form,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const said = body?.error ?? (typeof body?.detail === "string" ? body.detail : `${response.status} ${response.statusText}`);
    const error = new Error(body?.hint ? `${said} (${body.hint})` : said);
    error.status = response.status;
    throw error;
  }
  return body;
}

// A building's name, else its address, else nothing (the list then shows its id).
function buildingLabel(found) {
  const address = found?.attributes?.["addr:street"];
  return found?.name || (address ? `${address} ${found.attributes["addr:housenumber"] ?? ""}`.trim() : null);
}

// ---- geometry ------------------------------------------------------------------------------------------------

export const isModel = (m) => m.kind === "planned_building" && Boolean(m.model);
const isDrawn = (m) => m.kind === "planned_building" && Boolean(m.footprint);

// A drawn building's height: given in metres, else storeys x 3 m (at least one storey while the fields are empty).
export function heightOf(m) {
  if (isModel(m)) {
    const meta = models.get(m.model.model_id);
    return meta ? meta.height_m * (m.model.scale ?? 1) : 0;
  }
  if (Number.isFinite(m.height_m) && m.height_m > 0) return m.height_m;
  return (Number.isFinite(m.storeys) && m.storeys > 0 ? m.storeys : 1) * STOREY_M;
}

// A placed model's footprint rings in lon/lat: its outline in model metres, scaled, turned clockwise from north and
// laid out as deck.gl's ScenegraphLayer lays out metres at the model's place.
function modelRings(m) {
  const meta = models.get(m.model.model_id);
  if (!meta) return null;
  const [lon, lat] = m.model.location.coordinates;
  const viewport = new WebMercatorViewport({ longitude: lon, latitude: lat, zoom: 0, width: 1, height: 1 });
  const turn = ((m.model.rotation_deg ?? 0) * Math.PI) / 180;
  const [cos, sin, scale] = [Math.cos(turn), Math.sin(turn), m.model.scale ?? 1];
  return meta.footprint.coordinates.map((ring) =>
    ring.map(([e, n]) => {
      const [x, y] = [e * scale, n * scale];
      const [lng, latitude] = viewport.addMetersToLngLat([lon, lat], [x * cos + y * sin, -x * sin + y * cos]);
      return [lng, latitude];
    }),
  );
}

function ringsOf(m) {
  return isModel(m) ? modelRings(m) : m.footprint.coordinates;
}

// The draft's planned buildings as GeoJSON footprints (lon/lat) with their heights; a placed model counts once its
// metadata is here. For the sun tool.
export function plannedBuildings(measures) {
  const found = [];
  for (const m of measures ?? []) {
    if (m.kind !== "planned_building") continue;
    const rings = ringsOf(m);
    if (rings) found.push({ footprint: { type: "Polygon", coordinates: rings }, height_m: heightOf(m) });
  }
  return found;
}

// ---- the tools -------------------------------------------------------------------------------------------------

// The tools of one scenario panel; `panel` is the ScenarioPanel (its host, tool, measures, add(), ...).
export class BuildingTools {
  constructor(panel) {
    this.panel = panel;
    this.pickUid = {}; // per picking tool: the uid of the measure its clicks fill
    this.model = null; // the model uploaded last: the one "Modell platzieren" places
    this.install();
    panel.probe.scenarioDraft = () => panel.spec().body.measures; // what "Berechnen" would send (for tests)
  }

  // The tool buttons and the model's file input, after "Gebäude aufstocken" (before the panel wires [data-tool]).
  install() {
    const storeys = document.querySelector('[data-tool="add_storeys"]');
    if (!storeys || document.getElementById("scenario-model-file")) return;
    const button = (tool, key) => el("button", { type: "button", "data-tool": tool, "aria-pressed": "false", "data-i18n": key }, t(key));
    const row = el("div", { class: "tool-row model-row" });
    const file = el("input", { type: "file", id: "scenario-model-file", accept: ".glb,model/gltf-binary" });
    file.addEventListener("change", () => this.upload(file).catch((error) => this.panel.host.onError(error)));
    this.status = el("p", { id: "scenario-model-status", class: "small", role: "status", "aria-live": "polite" });
    const label = el("label", { for: file.id, "data-i18n": "modelFile" }, t("modelFile"));
    row.append(label, file, button("place_model", "toolPlaceModel"), this.status);
    storeys.before(button("planned_building", "toolPlanned"));
    storeys.after(button("remove_buildings", "toolRemoveBuildings"), row);
  }

  async upload(input) {
    const file = input.files?.[0];
    const twin = this.panel.twin;
    if (!file || !twin) return;
    this.say("modelChecking", { name: file.name });
    let meta;
    try {
      meta = await uploadModel(twin.name, file);
    } catch (error) {
      if (!error.status || error.status >= 500) throw error;
      this.say("modelRefused", { name: file.name, message: error.message }, true);
      return;
    }
    input.value = ""; // choosing the same file again uploads it again
    models.set(meta.model_id, meta);
    this.model = { ...meta, twin: twin.name };
    const [low, high] = [meta.bbox.min, meta.bbox.max];
    const size = (i) => formatNumber(high[i] - low[i], 1);
    this.say("modelReady", { name: meta.name, width: size(0), depth: size(1), height: formatNumber(meta.height_m, 1) });
    this.panel.probe.uploadedModel = meta.model_id;
    this.panel.startTool("place_model");
  }

  say(key, vars, refused = false) {
    this.status.textContent = t(key, vars);
    this.status.classList.toggle("field-error", refused);
    this.status.setAttribute("role", refused ? "alert" : "status");
  }

  // A polygon drawn with "Gebäude planen": the measure and the field to focus next; null for the other tools.
  finish(kind, points) {
    if (kind !== "planned_building") return null;
    const m = newMeasure("planned_building", { footprint: polygonOf(points), height_m: null, storeys: 4, use: "residential", name: "" });
    this.ground(m);
    return [m, "height_m"];
  }

  // The model "Modell platzieren" places: the one uploaded last, to this twin.
  get current() {
    return this.model?.twin === this.panel.twin?.name ? this.model : null;
  }

  // A point on the map for a picking tool or "Modell platzieren"; true when used.
  point(lonLatValue) {
    const tool = this.panel.tool.tool;
    if (PICK_TOOLS.includes(tool)) {
      this.pick(tool, lonLatValue).catch((error) => this.panel.host.onError(error));
      return true;
    }
    if (tool !== "place_model") return false;
    const current = this.current;
    if (!current) {
      this.panel.dom.hint.textContent = t("needModelFirst");
      return true;
    }
    const model = { model_id: current.model_id, location: { type: "Point", coordinates: lonLat(lonLatValue) }, scale: 1, rotation_deg: 0 };
    const m = newMeasure("planned_building", { model, use: "residential", name: current.name.replace(/\.glb$/i, "") });
    this.panel.tool.cancel();
    this.ground(m);
    this.panel.add(m, "scale");
    return true;
  }

  // "Gebäude aufstocken" and "Gebäude entfernen": each building clicked (or at the map centre, by keyboard) joins
  // the measure the tool started; a second click on a building takes it out again.
  async pick(tool, lonLatValue) {
    const { panel } = this;
    let building;
    try {
      building = await panel.host.buildingAt(lonLatValue);
    } catch (error) {
      if (error.status !== 404) throw error;
      panel.dom.hint.textContent = t("noBuildingPicked");
      return;
    }
    if (panel.tool.tool !== tool) return;
    const id = building.building_id;
    buildings.set(`${panel.twin.name}|${id}`, building);
    let m = panel.measures.find((x) => x.uid === this.pickUid[tool]);
    if (!m) {
      const start = tool === "add_storeys" ? { storeys: 2, occupancy: 1.0, mix: "new_build" } : {};
      m = newMeasure(tool, { building_ids: [], ...start });
      this.pickUid[tool] = m.uid;
      panel.measures.push(m);
    }
    this.toggle(m, id);
    panel.updateDrawing();
  }

  toggle(m, id) {
    const { panel } = this;
    m.building_ids = m.building_ids.includes(id) ? m.building_ids.filter((b) => b !== id) : [...m.building_ids, id];
    if (!m.building_ids.length) panel.measures = panel.measures.filter((x) => x.uid !== m.uid);
    panel.probe[m.kind === "add_storeys" ? "storeysBuildings" : "removedBuildings"] = [...m.building_ids];
    panel.edited();
    panel.renderMeasures();
    panel.syncProbe();
    panel.host.onChange({});
  }

  // The hint while a tool of this module is on; null for the others.
  hint(tool) {
    if (PICK_TOOLS.includes(tool)) {
      const n = this.panel.measures.find((m) => m.uid === this.pickUid[tool])?.building_ids.length ?? 0;
      return t(tool === "add_storeys" ? "pickBuildingsHint" : "removeBuildingsHint", { n });
    }
    if (tool === "place_model") return this.current ? t("placeModelHint", { name: this.current.name }) : t("needModelFirst");
    return null;
  }

  // The ground a planned building stands on (ellipsoidal, as the tiles' heights): the twin's ground, or on a twin
  // with terrain that of the building at its centre; kept in `local`, which the API never sees.
  ground(m) {
    const twin = this.panel.twin;
    const fallback = Number.isFinite(twin.ground_height) ? twin.ground_height + (twin.geoid_undulation ?? 0) : twin.origin.height;
    m.local = { ...m.local, ground: m.local?.ground ?? fallback };
    if (!twin.counts?.terrain) return; // every building stands on the twin's one ground
    const at = isModel(m) ? m.model.location.coordinates : centroid(m.footprint);
    this.panel.host.buildingAt(at).then(
      (b) => {
        m.local.ground = b.ground_height + (twin.geoid_undulation ?? 0);
        this.panel.host.onChange({});
      },
      () => {}, // no building there: the twin's ground
    );
  }

  // What a restored scenario needs besides its measures: the models' metadata, the removed buildings' outlines and
  // the ground of each planned building.
  restore(measures) {
    const twin = encodeURIComponent(this.panel.twin.name);
    for (const m of measures) {
      if (m.kind === "planned_building") this.ground(m);
      if (isModel(m)) this.fetch(models, m.model.model_id, `/api/twins/${twin}/models/${m.model.model_id}`);
      for (const id of m.kind === "remove_buildings" ? m.building_ids : []) {
        this.fetch(buildings, `${this.panel.twin.name}|${id}`, buildingUrl(this.panel.twin.name, id));
      }
    }
  }

  // GET `url` into `cache` under `key`, once; the list and the map are drawn again when it is there.
  fetch(cache, key, url) {
    if (cache.has(key) || pending.has(key)) return;
    pending.add(key);
    api
      .layer(url)
      .then((found) => {
        cache.set(key, found);
        this.panel.renderMeasures();
        this.panel.host.onChange({});
      }, (error) => this.panel.host.onError(error))
      .finally(() => pending.delete(key));
  }

  // ---- the measure list ----------------------------------------------------------------------------------------

  // What a measure's title adds after its kind (what its fields do not change: the title is drawn once).
  title(m) {
    if (m.kind === "remove_buildings") return `: ${t("buildingsPicked", { n: m.building_ids.length })}`;
    if (isDrawn(m)) return ` (${formatNumber(areaHa(m.footprint) * 10000)} m²)`;
    return isModel(m) ? `: ${models.get(m.model.model_id)?.name ?? ""}` : "";
  }

  // The form fields of this module's kinds (scenario_form.js draws them); null for the others.
  fields(m) {
    if (m.kind === "remove_buildings") return [];
    if (m.kind !== "planned_building") return null;
    const use = { name: "use", type: "choice", choices: USES, label: (v) => t(`use_${v}`) };
    const name = { name: "name", type: "text", maxlength: 200 };
    if (isModel(m)) return [use, name];
    return [
      { name: "height_m", type: "float", min: 1, max: 400, step: 0.5 },
      { name: "storeys", type: "int", min: 1, max: 100 },
      use,
      { name: "dwellings", type: "int", min: 1, max: 5000 },
      name,
    ];
  }

  // What a measure's item shows besides its fields: a model's scale and rotation (slider and number, both by
  // keyboard), the removed buildings with a button each to take one back.
  extras(m, ctx) {
    if (isModel(m)) return this.modelControls(m, ctx);
    if (m.kind !== "remove_buildings") return [];
    const list = el("ul", { class: "picked-buildings", "aria-label": t("removedList") });
    for (const id of m.building_ids) {
      const label = buildingLabel(buildings.get(`${this.panel.twin?.name}|${id}`)) ?? id;
      const back = el("button", { type: "button", class: "link", "aria-label": t("takeBackLabel", { name: label }) }, t("takeBack"));
      back.addEventListener("click", () => {
        this.toggle(m, id);
        document.querySelector(`li.measure[data-uid="${m.uid}"] .picked-buildings button`)?.focus();
      });
      const item = el("li", { "data-building": id });
      item.append(el("span", {}, label), back);
      list.append(item);
    }
    return [list];
  }

  modelControls(m, ctx) {
    const meta = models.get(m.model.model_id);
    const nodes = [];
    if (meta) nodes.push(el("p", { class: "muted small model-info" }, t("modelInfo", { name: meta.name, m2: formatNumber(meta.footprint_m2), height: formatNumber(meta.height_m, 1) })));
    for (const [key, min, max, step] of [["scale", 0.1, 10, 0.1], ["rotation_deg", -180, 180, 1]]) {
      const id = `m${m.uid}-${key}`;
      const wrap = el("div", { class: "field wide slider" });
      const range = el("input", { type: "range", id: `${id}-range`, min: String(min), max: String(max), step: String(step), "aria-label": t(`f_${key}`) });
      const number = el("input", { type: "number", id, min: key === "scale" ? "0.01" : "-360", max: key === "scale" ? "100" : "360", step: String(step), inputmode: "decimal" });
      range.value = number.value = String(m.model[key]);
      const set = (value, from) => {
        if (!Number.isFinite(value)) return;
        m.model[key] = value;
        if (from !== range) range.value = String(value);
        if (from !== number) number.value = String(value);
        ctx.onEdit({ redraw: true });
      };
      range.addEventListener("input", () => set(Number(range.value), range));
      number.addEventListener("input", () => set(Number(number.value.replace(",", ".")), number));
      wrap.append(el("label", { for: id }, t(`f_${key}`)), range, number);
      nodes.push(wrap);
    }
    return nodes;
  }

  // ---- on the map -----------------------------------------------------------------------------------------------

  // The planned buildings (drawn: extruded on their ground; placed models: the model itself) and the mask that
  // hides the buildings under them and the removed ones.
  layers(twin, measures, visible) {
    const drawn = measures.filter(isDrawn);
    const placed = measures.filter((m) => isModel(m) && models.has(m.model.model_id));
    const layers = [
      new PolygonLayer({
        id: "scenario-planned",
        data: drawn,
        visible,
        pickable: true,
        extruded: true,
        wireframe: true,
        // Vertices at the building's ground (ellipsoidal, as the tiles), so it stands where its neighbours stand.
        getPolygon: (m) => m.footprint.coordinates.map((ring) => ring.map(([x, y]) => [x, y, m.local?.ground ?? twin.origin.height])),
        getElevation: (m) => heightOf(m),
        getFillColor: [...PLANNED, 245],
        getLineColor: [...PLANNED_LINE, 255],
        material: { ambient: 0.5, diffuse: 0.6, shininess: 8 },
        updateTriggers: { getPolygon: drawn.map((m) => `${m.uid}:${m.local?.ground}`).join(), getElevation: drawn.map((m) => `${m.uid}:${heightOf(m)}`).join() },
      }),
    ];
    const ids = [...new Set(placed.map((m) => m.model.model_id))];
    for (const modelId of ids) {
      const meta = models.get(modelId);
      const data = placed.filter((m) => m.model.model_id === modelId);
      layers.push(
        new PlacedModelLayer({
          id: `scenario-model-${modelId.slice(0, 16)}`,
          data,
          visible,
          pickable: true,
          scenegraph: meta.glb,
          loadOptions: { worker: false },
          _lighting: "pbr",
          sizeScale: 1,
          // The model's lowest point on the ground: deck.gl puts its origin at the position.
          getPosition: (m) => [...m.model.location.coordinates, (m.local?.ground ?? twin.origin.height) - meta.bbox.min[2] * (m.model.scale ?? 1)],
          // Roll 90 stands glTF's y-up model upright; deck.gl's yaw turns anticlockwise, the measure's clockwise.
          getOrientation: (m) => [0, -(m.model.rotation_deg ?? 0), 90],
          getScale: (m) => Array(3).fill(m.model.scale ?? 1),
          onModelLoad: () => {
            this.panel.probe.modelsLoaded = (this.panel.probe.modelsLoaded ?? 0) + 1;
          },
          updateTriggers: { getPosition: data.map((m) => `${m.model.location.coordinates}:${m.local?.ground}:${m.model.scale}`).join(), getOrientation: data.map((m) => m.model.rotation_deg).join(), getScale: data.map((m) => m.model.scale).join() },
        }),
      );
    }
    layers.push(this.mask(twin, measures, visible));
    return layers;
  }

  // The footprints whose buildings are hidden: planned ones and removed ones. Never absent (see NOTHING).
  mask(twin, measures, visible) {
    const rings = [];
    if (twin && visible) {
      for (const m of measures) {
        if (m.kind === "planned_building") {
          const found = ringsOf(m);
          if (found) rings.push(found);
        } else if (m.kind === "remove_buildings") {
          for (const id of m.building_ids) {
            const g = buildings.get(`${twin.name}|${id}`)?.geometry;
            const geometry = typeof g === "string" ? JSON.parse(g) : g;
            if (geometry?.type === "Polygon") rings.push(geometry.coordinates);
            else if (geometry?.type === "MultiPolygon") rings.push(...geometry.coordinates);
          }
        }
      }
    }
    this.panel.probe.maskedFootprints = rings.length;
    return new PolygonLayer({
      id: BUILDING_MASK_ID,
      operation: "mask",
      data: rings.length ? rings : [NOTHING],
      getPolygon: (r) => r,
      stroked: true,
      getLineWidth: MASK_MARGIN_M * 2,
      lineWidthUnits: "meters",
      getFillColor: [255, 255, 255, 255],
      getLineColor: [255, 255, 255, 255],
    });
  }

  tooltip(info) {
    const m = info.object;
    const id = info.layer?.id ?? "";
    if (!m || !(id === "scenario-planned" || id.startsWith("scenario-model-"))) return null;
    const rings = ringsOf(m);
    const size = t("plannedSize", { m2: rings ? formatNumber(areaHa({ coordinates: rings }) * 10000) : "…", height: formatNumber(heightOf(m), 1) });
    return { text: t("plannedTooltip", { kind: m.name || t("m_planned_building"), size }) };
  }

  relabel() {
    if (this.current && this.status.getAttribute("role") !== "alert") this.say("placeModelHint", { name: this.current.name });
  }
}
