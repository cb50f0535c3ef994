// Parcels (Flurstücke) and land use of a twin with a cadastre: two layers one switches on, drawn from the
// server's vector tiles (the OGC collections `parcels` and `land_use`), and the parcel under a click with its
// figures (areas, land use, GRZ, GFZ, floor area) and the buildings on it, in a panel of its own. Text is set
// with textContent only, so data from the server is rendered inert.

import { authHeaders } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { parcelLabel, parcelRows } from "./info_format.js";
import { buildingTypeName } from "./names.js";
import { definitionList, el } from "./panels.js";

// MVTLoader parses on the main thread (with loadOptions' worker: false); deck.gl's default loader needs a CDN worker.
const { MVTLayer, MVTLoader, GeoJsonLayer } = globalThis.deck;

// Pale fills per land-use group (ALKIS: settlement, traffic, vegetation, water), under everything else.
const GROUP_FILL = {
  Siedlung: [226, 190, 160, 110],
  Verkehr: [190, 190, 190, 110],
  Vegetation: [175, 215, 150, 110],
  Gewässer: [150, 195, 235, 130],
};
const OTHER_FILL = [210, 210, 210, 90];

// A parcel of the vector tiles as the API sends one, for parcelLabel(): the tiles carry the number as "6/2".
function tileParcel(p) {
  const [numerator, denominator] = String(p.number ?? "").split("/");
  const parts = { gemarkung_name: p.gemarkung_name, gemarkung: p.gemarkung, flur: p.flur, numerator, denominator };
  return { label: p.label, label_parts: parts };
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json", ...authHeaders() } });
  if (!response.ok) {
    const error = new Error(`${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

export function renderParcel(container, parcel) {
  container.replaceChildren();
  container.append(el("p", { class: "parcel-label" }, parcelLabel(parcel)));
  container.append(definitionList(parcelRows(parcel), { "data-parcel-id": parcel.parcel_id }));
  if (parcel.storeys_estimated && parcel.buildings > 0) container.append(el("p", { class: "muted small" }, t("p_estimated")));
  if (!parcel.building_list?.length) {
    container.append(el("p", { class: "muted small" }, t("p_none")));
    return;
  }
  container.append(el("h3", {}, t("p_onParcel")));
  const list = el("ul", { class: "parcel-buildings" });
  for (const b of parcel.building_list) {
    const item = el("li", { "data-building-id": b.building_id });
    item.append(el("span", {}, [b.name, buildingTypeName(b)].filter(Boolean).join(" · ")));
    const share = t("p_share", { area: formatNumber(b.area_m2, 0), share: formatNumber(b.share * 100, 0) });
    item.append(el("span", { class: "muted small" }, ` – ${share}`));
    list.append(item);
  }
  container.append(list);
}

/**
 * The cadastre of the twin shown: layer toggles, the layers, and the parcel picked by a click.
 *
 * @param {object} host {probe, onChange() (redraw), onError(error), visible() -> the page's layer visibility,
 *   groundAt(x, y) -> [lon, lat] on the twin's ground under a canvas pixel}.
 * @returns {object} open(twin), toggles(twin), layers(), at(click), afterBuilding(lonLat), tooltip(info),
 *   relabel().
 */
export function createParcels(host) {
  const { probe } = host;
  const dom = { panel: document.getElementById("parcel-panel"), details: document.getElementById("parcel-details") };
  const info = (probe.parcels = { tiles: 0, landUseTiles: 0, errors: 0, loads: 0, selected: null, missed: 0 });
  let twin = null;
  let parcel = null;
  let request = 0;

  function show(found, redraw = true) {
    parcel = found;
    info.selected = found ? { parcel_id: found.parcel_id, label: found.label, grz: found.grz, gfz: found.gfz } : null;
    if (dom.panel) dom.panel.hidden = !found;
    if (found && dom.details) renderParcel(dom.details, found);
    if (redraw) host.onChange();
  }

  async function showAt(lonLat) {
    const mine = ++request;
    const url = `/api/twins/${encodeURIComponent(twin.name)}/parcels/at?lon=${lonLat[0].toFixed(8)}&lat=${lonLat[1].toFixed(8)}`;
    try {
      const found = await getJson(url);
      if (mine !== request) return null;
      info.loads += 1;
      show(found);
      return found;
    } catch (error) {
      if (mine !== request) return null;
      if (error.status !== 404) host.onError(error);
      else {
        info.missed += 1;
        show(null);
      }
      return null;
    }
  }

  const hasParcels = () => Boolean(twin?.counts?.parcels);

  function tileLayer(kind, props) {
    return new MVTLayer({
      id: `${kind}-${twin.name}`,
      data: `/api/twins/${encodeURIComponent(twin.name)}/mvt/${kind === "parcels" ? "parcels" : "land_use"}/{z}/{x}/{y}.pbf`,
      loaders: [MVTLoader],
      loadOptions: { worker: false, fetch: { headers: authHeaders() } },
      binary: false,
      minZoom: 12,
      maxZoom: 16,
      uniqueIdProperty: "id",
      pickable: true,
      lineWidthUnits: "pixels",
      onTileLoad: () => {
        if (kind === "parcels") info.tiles += 1;
        else info.landUseTiles += 1;
      },
      onTileError: (error) => {
        info.errors += 1;
        host.onError(error);
      },
      // Each tile is drawn in tile-local coordinates with its own model matrix: raise it to the twin's ground.
      renderSubLayers: (sub) => {
        const matrix = Array.from(sub.modelMatrix ?? liftMatrix(0));
        matrix[14] += twin.origin.height + props.lift;
        return new GeoJsonLayer({ ...sub, modelMatrix: matrix });
      },
      ...props.style,
    });
  }

  return {
    open(next) {
      twin = next;
      request += 1;
      Object.assign(info, { tiles: 0, landUseTiles: 0, errors: 0, selected: null });
      show(null, false); // the page draws the new twin itself
    },

    toggles(current) {
      if (!current?.counts?.parcels) return [];
      const list = [{ key: "parcels", label: "layerParcels" }];
      if (current.counts.land_use) list.push({ key: "landUse", label: "layerLandUse" });
      return list;
    },

    layers() {
      if (!hasParcels()) return [];
      const visible = host.visible();
      const out = [];
      if (twin.counts.land_use) {
        out.push(
          tileLayer("land-use", {
            lift: -0.45,
            style: {
              visible: Boolean(visible.landUse),
              filled: true,
              stroked: false,
              getFillColor: (f) => GROUP_FILL[f.properties?.land_use_group] ?? OTHER_FILL,
            },
          }),
        );
      }
      out.push(
        tileLayer("parcels", {
          lift: -0.25,
          style: {
            visible: Boolean(visible.parcels),
            // Filled, nearly transparent: a hover anywhere on a parcel names it; the lines stay thin and calm.
            filled: true,
            stroked: true,
            getFillColor: [255, 255, 255, 1],
            getLineColor: [95, 80, 70, 170],
            getLineWidth: 1,
          },
        }),
      );
      if (parcel) {
        out.push(
          new GeoJsonLayer({
            id: `parcel-selected-${twin.name}`,
            data: { type: "Feature", geometry: parcel.geometry, properties: {} },
            stroked: true,
            filled: true,
            modelMatrix: liftMatrix(twin.origin.height - 0.2),
            getFillColor: [255, 140, 0, 40],
            getLineColor: [210, 90, 0, 255],
            getLineWidth: 3,
            lineWidthUnits: "pixels",
          }),
        );
      }
      return out;
    },

    // A click on the parcel or land-use layer, or on the bare ground of a twin with a cadastre: the parcel there,
    // shown in the panel and outlined; a promise of it (null where there is none), or null for other clicks.
    at(clicked) {
      if (!hasParcels()) return null;
      const id = clicked.layer?.id ?? "";
      if (clicked.layer && !id.startsWith("parcels-") && !id.startsWith("land-use-")) return null;
      const lonLat = host.groundAt(clicked.x, clicked.y);
      return lonLat ? showAt(lonLat) : null;
    },

    // A building was clicked: with the parcels shown, the parcel under the click too; otherwise none.
    afterBuilding(lonLat) {
      if (!hasParcels()) return;
      if (host.visible().parcels && lonLat) showAt(lonLat);
      else {
        request += 1;
        show(null);
      }
    },

    tooltip(hovered) {
      const id = hovered.layer?.id ?? "";
      const p = hovered.object?.properties;
      if (!p) return null;
      if (id.startsWith("parcels-")) return { text: [parcelLabel(tileParcel(p)), p.land_use_name].filter(Boolean).join("\n") };
      if (id.startsWith("land-use-")) return { text: [p.name, p.label].filter(Boolean).join("\n") };
      return null;
    },

    relabel() {
      if (parcel && dom.details) renderParcel(dom.details, parcel);
    },
  };
}
