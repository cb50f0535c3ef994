// The layer catalogue panel: the GIS layers loaded into the twin (twin3d layers add / sync / upload), each with a
// toggle, an opacity slider and its legend, drawn as vector tiles, raster tiles or 3D tiles. The server answers
// by role, so a council or administration token (sign-in field in the panel) shows the layers only they may see.
// Text is always set with textContent, so titles and attributions from the server are rendered inert.

import { api, authHeaders, authToken, isAdminIn, setAuthToken } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { createLayerStyle } from "./layer_style.js";
import { LayerUpload } from "./layer_upload.js";
import { el } from "./panels.js";
import { serviceDetails, serviceTileLayer } from "./service_layers.js";

// MVTLoader parses on the main thread (with loadOptions' worker: false); deck.gl's default loader needs a CDN worker.
const { MVTLayer, MVTLoader, TileLayer, BitmapLayer, Tile3DLayer, GeoJsonLayer } = globalThis.deck;

const KIND_KEYS = { raster: "kindRaster", terrain: "kindTerrain", tiles3d: "kindTiles3d", pointcloud: "kindPointcloud", service: "kindService" };
const GEOMETRY_KEYS = { points: "kindPoints", lines: "kindLines", polygons: "kindPolygons" };
const VISIBILITY_KEYS = { council: "visCouncil", admin: "visAdmin" };
// Flat layers float just above the twin's ground (an ellipsoidal height, like the 3D tiles), over the basemap.
const LIFT_M = 0.4;

function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

// Features in a loaded vector tile: binary tiles count unique feature ids per geometry family.
function featureCount(content) {
  if (!content) return 0;
  if (Array.isArray(content)) return content.length;
  let n = 0;
  for (const part of ["points", "lines", "polygons"]) {
    const ids = content[part]?.featureIds?.value;
    if (ids?.length) n += new Set(ids).size;
  }
  return n;
}

function legendItem(item) {
  const swatch = el("span", { class: `swatch swatch-${item.symbol}`, "aria-hidden": "true" });
  swatch.style.background = item.color;
  const li = el("li");
  li.append(swatch, document.createTextNode(item.label));
  return li;
}

export class LayerCatalogue {
  // probe: the test probe (window.__twin3d); onChange: redraw the map; onError: report a failure;
  // attribution: the page's attribution footer, where the sources of the layers shown are added.
  constructor({ probe, onChange, onError, attribution }) {
    Object.assign(this, { probe, onChange, onError, footer: attribution });
    this.dom = {
      list: document.getElementById("catalogue-list"),
      empty: document.getElementById("catalogue-empty"),
      form: document.getElementById("token-form"),
      input: document.getElementById("token-input"),
      signOut: document.getElementById("token-signout"),
      status: document.getElementById("token-status"),
    };
    this.dom.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn(this.dom.input.value.trim()).catch(this.onError);
    });
    this.dom.signOut.addEventListener("click", () => this.signIn(null).catch(this.onError));
    this.twin = null;
    this.entries = [];
    this.on = new Map(); // layer id -> opacity (0..1) of the layers shown
    this.probe.catalogue = { ids: [], shown: [], tiles: {}, features: {}, errors: 0 };
    this.showSignedIn(authToken() !== null);
    // Administrators upload and delete layers (the server checks again on every request).
    this.upload = new LayerUpload({
      probe,
      twin: () => this.twin,
      reload: () => this.reload(),
      rerender: () => this.renderList(),
      focusLayer: (layerId) => document.getElementById(`catalogue-${layerId}`)?.focus(),
      onError: (error) => this.onError(error),
    });
    // "Stil & Filter" of vector layers: colour and filter by an attribute (layer_style.js).
    this.styles = createLayerStyle({ probe, onChange: () => this.onChange(), onError: (error) => this.onError(error) });
  }

  async open(twin) {
    this.twin = twin;
    this.on.clear();
    Object.assign(this.probe.catalogue, { ids: [], shown: [], tiles: {}, features: {} });
    await this.reload();
  }

  // Only the newest reload is applied: an older answer arriving late (sign-in, upload and delete each reload)
  // would put a stale catalogue on screen. A superseded call resolves when the newest one is on screen.
  reload() {
    this.reloads = (this.reloads ?? 0) + 1;
    this.latestReload = this.loadCatalogue(this.reloads);
    return this.latestReload;
  }

  async loadCatalogue(generation) {
    const twin = this.twin;
    if (!twin) return;
    const [entries, admin] = await Promise.all([api.catalogue(twin.name), isAdminIn(twin.name)]);
    if (this.twin !== twin) return; // another twin was chosen meanwhile
    if (generation !== this.reloads) return this.latestReload;
    this.entries = entries;
    this.upload.setAdmin(admin);
    for (const id of [...this.on.keys()]) if (!entries.some((e) => e.id === id)) this.on.delete(id);
    this.probe.catalogue.ids = entries.map((e) => e.id);
    this.renderList();
    this.changed();
  }

  // A token is tried before it is kept: a wrong one would otherwise turn every request of the viewer into a 401.
  async signIn(token) {
    if (token) {
      try {
        await api.catalogueWith(this.twin?.name ?? "", token);
      } catch (error) {
        if (error.status !== 401 && error.status !== 403) throw error;
        this.dom.status.textContent = t("tokenInvalid");
        this.dom.input.focus();
        return;
      }
    }
    setAuthToken(token);
    this.dom.input.value = "";
    this.showSignedIn(Boolean(token));
    this.dom.status.textContent = t(token ? "tokenSignedIn" : "tokenSignedOut");
    await this.reload();
  }

  showSignedIn(signedIn) {
    this.dom.signOut.hidden = !signedIn;
    this.dom.form.dataset.signedIn = String(signedIn);
  }

  relabel() {
    this.renderList();
    this.renderAttribution();
  }

  renderList() {
    this.dom.list.replaceChildren(...this.entries.map((entry) => this.renderEntry(entry)));
    this.dom.empty.hidden = this.entries.length > 0;
  }

  describe(entry) {
    const kind = entry.kind === "vector" ? GEOMETRY_KEYS[entry.geometry_type] : KIND_KEYS[entry.kind];
    const parts = [t(kind ?? "kindVector")];
    if (!["raster", "terrain", "service"].includes(entry.kind)) {
      parts.push(t("featureCount", { count: formatNumber(entry.feature_count) }));
    }
    return parts.join(" · ");
  }

  renderEntry(entry) {
    const id = `catalogue-${entry.id}`;
    const item = el("li", { class: "catalogue-layer", "data-layer-id": entry.id });
    const toggle = el("div", { class: "toggle" });
    const box = el("input", { type: "checkbox", id });
    box.checked = this.on.has(entry.id);
    box.addEventListener("change", () => this.setShown(entry, box.checked));
    toggle.append(box, el("label", { for: id }, entry.title));
    if (VISIBILITY_KEYS[entry.visibility]) {
      toggle.append(el("span", { class: "badge" }, t(VISIBILITY_KEYS[entry.visibility])));
    }
    item.append(toggle, el("p", { class: "muted small layer-meta" }, this.describe(entry)), ...serviceDetails(entry, this.onError));

    const opacity = Math.round((this.on.get(entry.id) ?? entry.style.opacity) * 100);
    const slider = el("input", {
      type: "range",
      id: `${id}-opacity`,
      min: "0",
      max: "100",
      step: "5",
      value: String(opacity),
      "aria-label": t("opacityOf", { title: entry.title }),
      "aria-valuetext": `${opacity} %`,
    });
    const output = el("output", { for: `${id}-opacity`, class: "small" }, `${opacity} %`);
    slider.addEventListener("input", () => {
      const value = Number(slider.value);
      slider.setAttribute("aria-valuetext", `${value} %`);
      output.textContent = `${value} %`;
      if (this.on.has(entry.id)) {
        this.on.set(entry.id, value / 100);
        this.onChange();
      } else {
        entry.style = { ...entry.style, opacity: value / 100 }; // used when the layer is switched on
      }
    });
    const row = el("div", { class: "opacity-row" });
    row.append(el("label", { for: `${id}-opacity`, class: "small" }, t("opacity")), slider, output);
    item.append(row);
    if (entry.legend.length > 0) {
      item.append(el("ol", { class: "legend", "aria-label": t("legendOf", { title: entry.title }) }));
      item.lastElementChild.append(...entry.legend.map(legendItem));
    }
    item.append(...this.styles.controls(this.twin, entry));
    if (entry.description) item.append(el("p", { class: "muted small" }, entry.description));
    const remove = this.upload.deleteControl(entry);
    if (remove) item.append(remove);
    return item;
  }

  setShown(entry, shown) {
    if (shown) this.on.set(entry.id, entry.style.opacity);
    else this.on.delete(entry.id);
    this.changed();
  }

  changed() {
    this.probe.catalogue.shown = [...this.on.keys()];
    this.renderAttribution();
    this.onChange();
  }

  // The page's attribution lists the source of every layer on the map, as its licence asks.
  renderAttribution() {
    for (const node of this.footer.querySelectorAll("[data-layer-attribution]")) node.remove();
    for (const entry of this.entries) {
      if (!this.on.has(entry.id) || !(entry.attribution || entry.licence)) continue;
      const text = [entry.attribution, entry.licence].filter(Boolean).join(", ");
      this.footer.append(el("span", { "data-layer-attribution": entry.id }, `${entry.title}: ${text}`));
    }
  }

  loadOptions() {
    // No loader workers (they would come from a CDN); the token goes with every tile request.
    return { worker: false, fetch: { headers: authHeaders() } };
  }

  counted(entry, tile) {
    const c = this.probe.catalogue;
    c.tiles[entry.id] = (c.tiles[entry.id] ?? 0) + 1;
    c.features[entry.id] = (c.features[entry.id] ?? 0) + featureCount(tile?.content);
    if (entry.mvt) this.styles.tileLoaded(this.twin, entry, tile);
  }

  failed(error) {
    this.probe.catalogue.errors += 1;
    this.onError(error);
  }

  layers() {
    const twin = this.twin;
    if (!twin) return [];
    const out = [];
    for (const entry of this.entries) {
      const opacity = this.on.get(entry.id);
      if (opacity === undefined) continue;
      const layer = this.layerFor(twin, entry, opacity);
      if (layer) out.push(layer);
    }
    return out;
  }

  layerFor(twin, entry, opacity) {
    const id = `catalogue-${twin.name}-${entry.id}`;
    const common = { id, opacity, loadOptions: this.loadOptions(), onTileError: (error) => this.failed(error) };
    if (entry.mvt) return this.vectorLayer(twin, entry, common);
    const lift = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, twin.origin.height + LIFT_M - 0.2, 1];
    if (entry.kind === "service") return serviceTileLayer(entry, common, lift, () => this.counted(entry, null));
    if (entry.tiles) {
      return new TileLayer({
        ...common,
        data: entry.tiles,
        extent: entry.extent,
        tileSize: 256,
        maxZoom: entry.maxzoom ?? null,
        onTileLoad: () => this.counted(entry, null),
        renderSubLayers: (props) => {
          const { west, south, east, north } = props.tile.bbox;
          return new BitmapLayer(props, { data: null, image: props.data, bounds: [west, south, east, north], modelMatrix: lift });
        },
      });
    }
    if (entry.tileset) {
      return new Tile3DLayer({
        ...common,
        data: entry.tileset,
        pointSize: 2,
        loadOptions: { ...common.loadOptions, tileset: { throttleRequests: true } },
        onTileLoad: (tile) => this.counted(entry, tile),
      });
    }
    return null;
  }

  vectorLayer(twin, entry, common) {
    const style = entry.style;
    const extrusion = style.extrusion_property;
    const lift = twin.origin.height + LIFT_M;
    return new MVTLayer({
      ...common,
      data: entry.mvt,
      loaders: [MVTLoader],
      binary: false,
      extent: entry.extent,
      maxZoom: 16,
      uniqueIdProperty: "id",
      pickable: true,
      autoHighlight: true,
      highlightColor: [255, 140, 0, 180],
      filled: true,
      stroked: true,
      extruded: Boolean(extrusion),
      getElevation: extrusion ? (f) => Number(f.properties?.[extrusion]) || 0 : 0,
      getFillColor: [...rgb(style.fill_color), 200],
      getLineColor: [...rgb(style.line_color), 255],
      getLineWidth: style.line_width,
      lineWidthUnits: "pixels",
      getPointRadius: style.point_radius,
      pointRadiusUnits: "pixels",
      pointType: "circle",
      ...this.styles.layerProps(twin, entry), // colour and filter by an attribute, if chosen
      onTileLoad: (tile) => this.counted(entry, tile),
      // MVTLayer draws each tile in tile-local coordinates with its own model matrix, whose z stays in metres:
      // raise it to the twin's ground, as the flat layers of layers.js are.
      renderSubLayers: (props) => {
        const matrix = Array.from(props.modelMatrix ?? [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
        matrix[14] += lift;
        return new GeoJsonLayer({ ...props, modelMatrix: matrix });
      },
    });
  }

  // The catalogue entry a map layer draws (the info popup names its features' fields from the entry's `fields`).
  entryOf(layerId) {
    const prefix = `catalogue-${this.twin?.name}-`;
    if (!layerId?.startsWith(prefix)) return null;
    return this.entries.find((e) => layerId === prefix + e.id) ?? this.entries.find((e) => layerId.startsWith(prefix + e.id)) ?? null;
  }
}
