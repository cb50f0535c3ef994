// The basemap: MapLibre GL JS draws the twin's vector tiles (streets, water, land use, names) in a div behind
// deck.gl's canvas and follows deck.gl's camera. It takes no input: deck.gl's controller moves both. Both use the
// same Web Mercator camera (zoom, pitch, bearing, a 36.87° field of view), so a point on MapLibre's ground plane
// lands on the same pixel as deck.gl's twin ground: the view state's `position` lifts deck.gl's focus to the twin's
// ground height, where the flat layers and the buildings' feet are. Side by side (two deck.gl views) each view gets
// a map of its own, placed under it.

import { addStrings, currentLang } from "./i18n.js";
import { basemapStyle, LABEL_LAYERS, nameField } from "./basemap_style.js";

addStrings({
  de: { layerBasemap: "Grundkarte" },
  en: { layerBasemap: "Basemap" },
});

// URL templates must keep their braces: `new URL()` would percent-encode them.
const base = () => `${location.origin}${new URL(".", location.href).pathname}`;
const glyphsUrl = () => `${base()}vendor/fonts/{fontstack}/{range}.pbf`;
const tilesUrl = (url) => (url ? (/^\//.test(url) ? `${location.origin}${url}` : `${base()}${url}`) : null);

// deck.gl's controller stops at pitch 60; MapLibre 5 draws up to 85, so it never clamps a view deck.gl draws.
const MAX_PITCH = 85;

function camera(view) {
  return {
    center: [view.longitude, view.latitude],
    zoom: view.zoom,
    pitch: view.pitch ?? 0,
    bearing: view.bearing ?? 0,
  };
}

function sameCamera(map, cam) {
  const c = map.getCenter();
  const close = (a, b) => Math.abs(a - b) < 1e-9;
  return (
    close(c.lng, cam.center[0]) &&
    close(c.lat, cam.center[1]) &&
    close(map.getZoom(), cam.zoom) &&
    close(map.getPitch(), cam.pitch) &&
    close((((map.getBearing() - cam.bearing) % 360) + 540) % 360, 180) // MapLibre keeps bearings in -180..180
  );
}

/**
 * The basemap behind the deck.gl canvas.
 *
 * @param {object} options
 * @param {HTMLElement} options.container the element behind deck.gl's canvas, the size of the map.
 * @param {object} options.probe the page's test probe: gets `basemap` (ready, tilesLoaded, errors, queries).
 * @returns {object} open(twin, view), follow(viewState), sync(viewports), setVisible(on), relabel().
 */
export function createBasemap({ container, probe }) {
  const maplibregl = globalThis.maplibregl;
  const maps = []; // one per deck.gl view: [main] or [baseline, scenario]
  let style = null;
  let view = null;
  let visible = true;
  let layoutKey = "";

  const info = (probe.basemap = {
    ready: false,
    idles: 0,
    tilesLoaded: 0,
    errors: [],
    // How many features of these style layers are drawn in the (first) view now.
    renderedFeatures: (layerIds) => {
      const map = maps[0];
      const ids = (layerIds ?? []).filter((id) => map?.getLayer(id));
      return ids.length ? map.queryRenderedFeatures({ layers: ids }).length : 0;
    },
    // Where each map lies, [left, width] in CSS pixels: one, or one under each half side by side.
    views: () => maps.map((m) => [m.getContainer().offsetLeft, m.getContainer().offsetWidth]),
    // The street names drawn now, in the language shown.
    labels: () => {
      const map = maps[0];
      if (!map?.getLayer("road-labels")) return [];
      const en = currentLang() === "en";
      const names = map
        .queryRenderedFeatures({ layers: ["road-labels"] })
        .map((f) => (en ? (f.properties.name_en ?? f.properties.name) : f.properties.name));
      return [...new Set(names)].sort();
    },
  });

  function makeMap() {
    if (!maplibregl.getWorkerUrl?.()) maplibregl.setWorkerUrl(`${base()}vendor/maplibre-gl/maplibre-gl-csp-worker.js`);
    const el = document.createElement("div");
    el.className = "basemap-view";
    container.append(el);
    const first = maps.length === 0;
    const map = new maplibregl.Map({
      container: el,
      style,
      interactive: false,
      attributionControl: false, // the page's footer names the sources
      renderWorldCopies: false, // deck.gl's MapView does not repeat the world either
      maxPitch: MAX_PITCH,
      ...(view ? camera(view) : {}),
    });
    // Errors (a tile or a glyph range that failed) are the probe's and the console's warnings: a missing
    // basemap tile must not stop the twin, and MapLibre without a listener would report them as errors.
    map.on("error", (event) => {
      const message = String(event.error?.message ?? event.error ?? "basemap error");
      if (first) info.errors.push(message);
      console.warn(`basemap: ${message}`);
    });
    if (first) {
      map.on("sourcedata", (event) => {
        if (event.sourceId === "basemap" && event.tile && event.dataType === "source") info.tilesLoaded += 1;
      });
      map.on("idle", () => {
        info.ready = true;
        info.idles += 1;
      });
    }
    maps.push(map);
    return map;
  }

  // Move a map to a camera; the probe is not ready until the first map has drawn it (its next `idle`).
  function jump(map, cam) {
    if (sameCamera(map, cam)) return;
    if (map === maps[0]) info.ready = false;
    map.jumpTo(cam);
  }

  return {
    // Show this twin's basemap (a plain background if it has none), looking at `initialView`.
    open(twin, initialView) {
      style = basemapStyle(twin.basemap ?? null, tilesUrl(twin.basemap_url), glyphsUrl(), currentLang());
      view = initialView;
      Object.assign(info, { ready: false, tilesLoaded: 0, errors: [] });
      if (maps.length === 0) makeMap();
      else for (const map of maps) map.setStyle(style);
      for (const map of maps) jump(map, camera(view));
    },

    // Every deck.gl view state change, before deck.gl draws it: both views share it side by side.
    follow(viewState) {
      view = viewState;
      if (!visible) return;
      const cam = camera(viewState);
      for (const map of maps) jump(map, cam);
    },

    // After each deck.gl frame: one map under each view, where deck.gl placed it, looking where it looks.
    sync(viewports) {
      if (!style || viewports.length === 0) return;
      const key = viewports.map((v) => `${v.x},${v.y},${v.width},${v.height}`).join(";");
      if (key !== layoutKey) {
        layoutKey = key;
        while (maps.length < viewports.length) makeMap();
        while (maps.length > viewports.length) {
          const map = maps.pop();
          map.getContainer().remove();
          map.remove();
        }
        const single = viewports.length === 1;
        viewports.forEach((v, i) => {
          const el = maps[i].getContainer();
          Object.assign(el.style, single ? { left: "0", top: "0", width: "100%", height: "100%" } : {
            left: `${v.x}px`,
            top: `${v.y}px`,
            width: `${v.width}px`,
            height: `${v.height}px`,
          });
          maps[i].resize();
        });
      }
      if (!visible) return;
      viewports.forEach((v, i) => jump(maps[i], camera(v)));
    },

    setVisible(on) {
      if (on === visible) return;
      visible = on;
      container.style.visibility = on ? "" : "hidden";
      if (on && view) for (const map of maps) jump(map, camera(view));
    },

    // The language changed: labels in German (OSM's name) or English (its English name where there is one).
    relabel() {
      const field = nameField(currentLang());
      for (const layer of style?.layers ?? []) {
        if (LABEL_LAYERS.includes(layer.id)) layer.layout["text-field"] = field;
      }
      for (const map of maps) {
        for (const id of LABEL_LAYERS) if (map.getLayer(id)) map.setLayoutProperty(id, "text-field", field);
      }
    },
  };
}
