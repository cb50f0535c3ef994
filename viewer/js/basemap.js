// The basemap: MapLibre GL JS draws the twin's vector tiles (streets, water, land use, names) in a div behind
// deck.gl's canvas and follows deck.gl's camera. It takes no input: deck.gl's controller moves both. Both use the
// same Web Mercator camera (zoom, pitch, bearing, a 36.87° field of view), so a point on MapLibre's ground plane
// lands on the same pixel as deck.gl's twin ground: the view state's `position` lifts deck.gl's focus to the twin's
// ground height, where the flat layers and the buildings' feet are. Side by side (two deck.gl views) each view gets
// a map of its own, placed under it. The names (streets, places, water) are a second map of their own ABOVE
// deck.gl's canvas, so that the 3D buildings never hide them; it draws only the style's symbol layers on a
// transparent canvas.

import { currentLang } from "./i18n.js";
import { basemapStyle, LABEL_LAYERS, nameField } from "./basemap_style.js";

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
 * @param {HTMLElement} options.labelsContainer the element above deck.gl's canvas, for the names.
 * @param {object} options.probe the page's test probe: gets `basemap` (ready, tilesLoaded, errors, queries).
 * @returns {object} open(twin, view), follow(viewState), sync(viewports), setVisible(on), relabel().
 */
export function createBasemap({ container, labelsContainer, probe }) {
  const maplibregl = globalThis.maplibregl;
  const views = []; // per deck.gl view ([main] or [baseline, scenario]): { base, names }, each a MapLibre map
  let style = null;
  let view = null;
  let visible = true;
  let layoutKey = "";
  const waiting = new Set(); // the first view's maps that have not drawn their last camera yet

  const firstMaps = () => (views[0] ? [views[0].base, views[0].names] : []);
  // The first view's map that draws a style layer (ground layers below, names above).
  const mapWith = (id) => firstMaps().find((m) => m.getLayer(id));
  const info = (probe.basemap = {
    ready: false,
    idles: 0,
    tilesLoaded: 0,
    errors: [],
    // How many features of these style layers are drawn in the (first) view now.
    renderedFeatures: (layerIds) => {
      let n = 0;
      for (const id of layerIds ?? []) {
        const map = mapWith(id);
        if (map) n += map.queryRenderedFeatures({ layers: [id] }).length;
      }
      return n;
    },
    // Where each map lies, [left, width] in CSS pixels: one, or one under each half side by side.
    views: () => views.map(({ base }) => [base.getContainer().offsetLeft, base.getContainer().offsetWidth]),
    // The street names drawn now, in the language shown.
    labels: () => {
      const map = mapWith("road-labels");
      if (!map) return [];
      const en = currentLang() === "en";
      const names = map
        .queryRenderedFeatures({ layers: ["road-labels"] })
        .map((f) => (en ? (f.properties.name_en ?? f.properties.name) : f.properties.name));
      return [...new Set(names)].sort();
    },
  });

  // The style split in two: the ground (every layer but the names) and the names (symbol layers only).
  const part = (names) => ({ ...style, layers: style.layers.filter((l) => (l.type === "symbol") === names) });

  function makeMap(parent, names, first) {
    const el = document.createElement("div");
    el.className = "basemap-view";
    parent.append(el);
    const map = new maplibregl.Map({
      container: el,
      style: part(names),
      interactive: false,
      attributionControl: false, // the page's footer names the sources
      renderWorldCopies: false, // deck.gl's MapView does not repeat the world either
      maxPitch: MAX_PITCH,
      // Kept after each frame, so that the print view (print.js) can read the map at any time.
      canvasContextAttributes: { preserveDrawingBuffer: true },
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
      waiting.add(map);
      if (!names) {
        map.on("sourcedata", (event) => {
          if (event.sourceId === "basemap" && event.tile && event.dataType === "source") info.tilesLoaded += 1;
        });
      }
      // Ready once both maps of the first view have drawn the camera they were last given.
      map.on("idle", () => {
        waiting.delete(map);
        if (waiting.size === 0) {
          info.ready = true;
          info.idles += 1;
        }
      });
    }
    return map;
  }

  function addView() {
    if (!maplibregl.getWorkerUrl?.()) maplibregl.setWorkerUrl(`${base()}vendor/maplibre-gl/maplibre-gl-csp-worker.js`);
    const first = views.length === 0;
    views.push({ base: makeMap(container, false, first), names: makeMap(labelsContainer, true, first) });
  }

  // Move a view's maps to a camera; the probe is not ready until the first view has drawn it (its next `idle`).
  function jump(pair, cam) {
    for (const map of [pair.base, pair.names]) {
      if (sameCamera(map, cam)) continue;
      if (pair === views[0]) {
        waiting.add(map);
        info.ready = false;
      }
      map.jumpTo(cam);
    }
  }

  return {
    // Show this twin's basemap (a plain background if it has none), looking at `initialView`.
    open(twin, initialView) {
      style = basemapStyle(twin.basemap ?? null, tilesUrl(twin.basemap_url), glyphsUrl(), currentLang());
      view = initialView;
      Object.assign(info, { ready: false, tilesLoaded: 0, errors: [] });
      if (views.length === 0) addView();
      else {
        for (const pair of views) {
          pair.base.setStyle(part(false));
          pair.names.setStyle(part(true));
        }
        for (const map of firstMaps()) waiting.add(map);
      }
      for (const pair of views) jump(pair, camera(view));
    },

    // Every deck.gl view state change, before deck.gl draws it: both views share it side by side.
    follow(viewState) {
      view = viewState;
      if (!visible) return;
      const cam = camera(viewState);
      for (const pair of views) jump(pair, cam);
    },

    // After each deck.gl frame: one map under each view, where deck.gl placed it, looking where it looks.
    sync(viewports) {
      if (!style || viewports.length === 0) return;
      const key = viewports.map((v) => `${v.x},${v.y},${v.width},${v.height}`).join(";");
      if (key !== layoutKey) {
        layoutKey = key;
        while (views.length < viewports.length) addView();
        while (views.length > viewports.length) {
          for (const map of Object.values(views.pop())) {
            map.getContainer().remove();
            map.remove();
          }
        }
        const single = viewports.length === 1;
        viewports.forEach((v, i) => {
          for (const map of [views[i].base, views[i].names]) {
            Object.assign(map.getContainer().style, single ? { left: "0", top: "0", width: "100%", height: "100%" } : {
              left: `${v.x}px`,
              top: `${v.y}px`,
              width: `${v.width}px`,
              height: `${v.height}px`,
            });
            map.resize();
          }
        });
      }
      if (!visible) return;
      viewports.forEach((v, i) => jump(views[i], camera(v)));
    },

    setVisible(on) {
      if (on === visible) return;
      visible = on;
      for (const el of [container, labelsContainer]) el.style.visibility = on ? "" : "hidden";
      if (on && view) for (const pair of views) jump(pair, camera(view));
    },

    // The language changed: labels in German (OSM's name) or English (its English name where there is one).
    relabel() {
      const field = nameField(currentLang());
      for (const layer of style?.layers ?? []) {
        if (LABEL_LAYERS.includes(layer.id)) layer.layout["text-field"] = field;
      }
      for (const { names } of views) {
        for (const id of LABEL_LAYERS) if (names.getLayer(id)) names.setLayoutProperty(id, "text-field", field);
      }
    },
  };
}
