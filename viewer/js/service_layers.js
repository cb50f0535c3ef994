// Layers from web map services (WMS, WMTS) in the layer catalogue: drawn as map tiles that the twin's own server
// asks the service for and caches (GET .../layers/{id}/tiles/{z}/{x}/{y}.png), so the page never talks to
// another origin; the service's legend comes the same way (GET .../layers/{id}/legend). The catalogue also says
// where a layer read from a service (including WFS and OGC API Features imports) comes from.
// Text is set with textContent; the legend image is fetched with the caller's token and shown from a blob URL.

import { authHeaders } from "./api.js";
import { t } from "./i18n.js";
import { el } from "./panels.js";

const { TileLayer, BitmapLayer } = globalThis.deck;

// A tile of the service, through the twin's server: 204 (outside the layer) is no tile, not an error.
async function tileImage({ url, signal }) {
  const response = await fetch(url, { signal, headers: authHeaders() });
  if (response.status === 204) return null;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return createImageBitmap(await response.blob());
}

// The map tiles of a service layer. common: id, opacity and the error handler of the catalogue; lift: the model
// matrix that raises flat layers to the twin's ground; onImage: called for every tile that brought an image.
export function serviceTileLayer(entry, common, lift, onImage) {
  return new TileLayer({
    id: common.id,
    opacity: common.opacity,
    onTileError: common.onTileError,
    data: entry.tiles,
    extent: entry.extent,
    tileSize: 256,
    maxZoom: entry.maxzoom ?? null,
    getTileData: tileImage,
    onTileLoad: (tile) => {
      if (tile.content) onImage(tile);
    },
    renderSubLayers: (props) => {
      if (!props.data) return null;
      const { west, south, east, north } = props.tile.bbox;
      return new BitmapLayer(props, { data: null, image: props.data, bounds: [west, south, east, north], modelMatrix: lift });
    },
  });
}

// Where a layer read from a service comes from, and the service's legend image (if it names one).
export function serviceDetails(entry, onError) {
  if (!entry.service) return [];
  const { kind, host, layer } = entry.service;
  const line = el("p", { class: "muted small layer-meta", "data-service": kind }, t("serviceFrom", { kind: t(`serviceKind_${kind}`), host, layer }));
  if (!entry.legend_image) return [line];
  const image = el("img", { class: "service-legend", alt: t("serviceLegendOf", { title: entry.title }) });
  image.style.maxWidth = "calc(100% - 26px)";
  image.style.margin = "2px 0 0 26px";
  image.hidden = true;
  fetch(entry.legend_image, { headers: authHeaders() })
    .then((response) => (response.ok ? response.blob() : null))
    .then((blob) => {
      if (!blob) return;
      image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
      image.src = URL.createObjectURL(blob);
      image.hidden = false;
    })
    .catch(onError);
  return [line, image];
}
