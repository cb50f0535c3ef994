// "Messen": distances (a polyline: each segment and the total), areas (a polygon: area and perimeter) and heights
// (a clicked building's height from the data, the clicked 3D point's height above its ground, the vertical
// difference between two points). The tool's bar lies on the map (modes, the live value, "Fertig" for touch instead
// of a double click); the list of measurements sits in the sidebar (delete one, delete all, copy as text).
// Lengths are horizontal and geodesic (measure_geo.js). Heights: the tiles carry heights above the ellipsoid and
// stand unshifted (layers.js lifts only the flat layers, views.js only the camera's pivot), so a picked point's z
// minus its ground's ellipsoidal height (a building's ground plus the geoid undulation, else the twin's ground) is
// its height above the ground. Text is set with textContent only.

import { t } from "./i18n.js";
import { fixed, formatArea, formatLength, geodesicDistance, pathLength, polygonArea } from "./measure_geo.js";
import { buildingTypeName } from "./names.js";
import { el } from "./panels.js";

const MODES = ["distance", "area", "height"];
const MIN_POINTS = { distance: 2, area: 3, height: 1 };
const COLOR = [196, 0, 110];
const DRAFT = [230, 90, 0];
// Lines, points and labels are drawn over everything, so they stay visible where buildings stand.
const ON_TOP = { depthCompare: "always", depthWriteEnabled: false };
const lonLat = (p) => p.position;

// What a finished (or drafted) measurement amounts to, in metres and square metres.
export function measurementValues(kind, points) {
  const at = points.map(lonLat);
  if (kind === "distance") {
    const segments = at.slice(1).map((p, i) => geodesicDistance(at[i], p));
    return { total: segments.reduce((s, v) => s + v, 0), segments };
  }
  if (kind === "area") return { area: polygonArea(at), perimeter: at.length > 1 ? pathLength([...at, at[0]]) : 0 };
  const heights = points.map((p) => p.position[2] - p.base);
  const values = { point_height: heights[0] };
  if (points.length > 1) {
    const horizontal = geodesicDistance(at[0], at[1]);
    const rise = points[1].position[2] - points[0].position[2];
    Object.assign(values, { point_height_2: heights[1], rise, horizontal, slant: Math.hypot(horizontal, rise) });
  }
  return values;
}

/**
 * The measuring tool of the page.
 *
 * @param {object} host {probe, onChange() (redraw), onStart() (the other tools stop),
 *   onTool(active) (double-click zoom off while measuring), onError(error), unproject(x, y) -> ground [lon, lat],
 *   roofAt(x, y) -> the seen 3D point [lon, lat, z] (or the ground's [lon, lat]), pickBuilding(x, y) -> the 3D point on
 *   a building or null, buildingAt([lon, lat]) -> the API's building (rejects with status 404 where none)}.
 * @returns {object} open(twin), layers(), click(info), hover(info), cursor(), cancelTool(), relabel(); `active`.
 */
export function createMeasure(host) {
  const bar = document.getElementById("map-tools");
  const panel = document.getElementById("measure-panel");
  const map = document.getElementById("deck-container");
  const info = (host.probe.measure = { open: false, mode: "distance", draft: 0, count: 0, pending: 0, items: [] });
  const s = { twin: null, open: false, mode: "distance", draft: [], hover: null, items: [], next: 1, generation: 0 };
  let note = null; // an i18n key said once under the live value (too few points)
  let cache = null; // the layers' data, rebuilt when a measurement changes (not on every frame)

  // The bar on the map.
  const toggle = el("button", { type: "button", id: "measure-toggle", "aria-pressed": "false", "aria-controls": "measure-tool measure-panel" });
  const tool = el("div", { id: "measure-tool", class: "measure-tool", role: "group", "aria-labelledby": "measure-toggle", hidden: "" });
  const modes = el("div", { class: "measure-modes", role: "group" });
  const modeButtons = MODES.map((m) => el("button", { type: "button", "data-measure-mode": m, "aria-pressed": "false" }));
  modes.append(...modeButtons);
  const readout = el("p", { id: "measure-readout", class: "measure-readout", role: "status", "aria-live": "polite" });
  const actions = el("div", { class: "measure-actions" });
  const centre = el("button", { type: "button", id: "measure-centre" });
  const undo = el("button", { type: "button", id: "measure-undo" });
  const finishButton = el("button", { type: "button", id: "measure-finish", class: "primary" });
  actions.append(centre, undo, finishButton);
  tool.append(modes, readout, actions);
  bar.append(toggle, tool);

  // The list beside the map.
  const heading = el("h2", { id: "measure-title", tabindex: "-1" });
  const intro = el("p", { class: "muted small" });
  const list = el("ol", { id: "measure-list", class: "measure-list", "data-count": "0" });
  const empty = el("p", { id: "measure-empty", class: "muted small" });
  const listActions = el("div", { class: "actions" });
  const copy = el("button", { type: "button", id: "measure-copy" });
  const clear = el("button", { type: "button", id: "measure-clear" });
  listActions.append(copy, clear);
  const copyText = el("textarea", { id: "measure-copy-text", class: "measure-copy-text", readonly: "", rows: "4", hidden: "" });
  const status = el("p", { id: "measure-status", class: "small", role: "status", "aria-live": "polite" });
  panel.append(heading, intro, list, empty, listActions, copyText, status);

  const ground = () => s.twin.origin.height;
  const changed = () => {
    cache = null;
    render();
    host.onChange();
  };

  function setOpen(open) {
    if (open === s.open) return;
    if (open) host.onStart();
    s.open = open;
    s.draft = [];
    s.hover = null;
    note = null;
    if (!open) copyText.hidden = true;
    host.onTool(open);
    changed();
  }

  function setMode(mode) {
    s.mode = mode;
    s.draft = [];
    s.hover = null;
    note = null;
    changed();
  }

  // A point under canvas pixel (x, y): the surface seen there (a roof, else the ground), with its ground height.
  function addAt(x, y) {
    if (!s.open || !s.twin) return;
    note = null;
    const onBuilding = s.mode === "height" ? host.pickBuilding(x, y) : null;
    const seen = onBuilding ?? host.roofAt(x, y);
    if (!seen) return;
    const z = Number.isFinite(seen[2]) ? seen[2] : ground();
    const point = { position: [seen[0], seen[1], z], base: ground(), building: onBuilding ? undefined : null };
    const last = s.draft.at(-1);
    // A second click on (almost) the same place, as in a double-click, adds nothing.
    if (last && geodesicDistance(last.position, point.position) < 0.5 && Math.abs(last.position[2] - z) < 0.5) return;
    s.draft.push(point);
    if (onBuilding) lookUp(point);
    if (s.mode === "height" && s.draft.length === 2) finish();
    else changed();
  }

  // The building under a height point, from the API: its height, and its ground as the point's reference (the
  // tiles carry ellipsoidal heights: the ground above the geoid plus the twin's geoid undulation).
  function lookUp(point) {
    const generation = s.generation;
    info.pending += 1;
    host
      .buildingAt(point.position)
      .then((building) => {
        point.building = building;
        point.base = building.ground_height + (s.twin.geoid_undulation ?? 0);
      })
      .catch((error) => {
        point.building = null;
        if (error.status !== 404) host.onError(error);
      })
      .finally(() => {
        info.pending -= 1;
        if (generation === s.generation) changed();
      });
  }

  function finish() {
    if (s.draft.length < MIN_POINTS[s.mode]) {
      note = `measureFew_${s.mode}`;
      return render();
    }
    s.items.push({ id: s.next, kind: s.mode, points: s.draft });
    s.next += 1;
    s.draft = [];
    s.hover = null;
    changed();
  }

  // Esc ends the measurement in progress: kept when it has its points, else dropped; with none, the tool closes.
  function onEscape() {
    if (s.draft.length === 0) return setOpen(false);
    if (s.draft.length < MIN_POINTS[s.mode]) {
      s.draft = [];
      s.hover = null;
      return changed();
    }
    finish();
  }

  function removeItem(id) {
    s.items = s.items.filter((item) => item.id !== id);
    changed();
    heading.focus(); // the button pressed is gone: the keyboard goes on from the list's heading
  }

  // --- text -------------------------------------------------------------------------------------------------

  function buildingName(building) {
    if (building === undefined) return t("mv_looking");
    if (!building) return t("mv_ground");
    return [building.name, buildingTypeName(building)].filter(Boolean).join(" · ") || building.building_id;
  }

  // The rows of one measurement: [field, label key, text, value in metres (or m²) or null].
  function rows(kind, points) {
    const v = measurementValues(kind, points);
    if (kind === "distance") {
      return [
        ["total", "mv_total", formatLength(v.total), v.total],
        ["segments", "mv_segments", v.segments.map((d) => formatLength(d)).join(" · "), null],
      ];
    }
    if (kind === "area") {
      const square = v.area >= 10_000 ? ` (${fixed(v.area, 0)} m²)` : "";
      return [
        ["area", "mv_area", `${formatArea(v.area)}${square}`, v.area],
        ["perimeter", "mv_perimeter", formatLength(v.perimeter), v.perimeter],
      ];
    }
    const out = [];
    points.forEach((p, i) => {
      const suffix = i === 0 ? "" : "_2";
      out.push([`building${suffix}`, `mv_building${suffix}`, buildingName(p.building), null]);
      if (p.building) out.push([`building_height${suffix}`, `mv_building_height${suffix}`, formatLength(p.building.height), p.building.height]);
      const above = i === 0 ? v.point_height : v.point_height_2;
      out.push([`point_height${suffix}`, `mv_point_height${suffix}`, formatLength(above), above]);
    });
    if (points.length > 1) {
      out.push(["rise", "mv_rise", formatLength(v.rise, true), v.rise]);
      out.push(["horizontal", "mv_horizontal", formatLength(v.horizontal), v.horizontal]);
      out.push(["slant", "mv_slant", formatLength(v.slant), v.slant]);
    }
    return out;
  }

  function itemNode(item, n) {
    const node = el("li", { class: "measure-item", "data-kind": item.kind, "data-id": String(item.id) });
    const head = el("div", { class: "measure-item-head" });
    head.append(el("span", { class: "measure-item-title" }, t("measureItem", { n, kind: t(`measure_${item.kind}`) })));
    const remove = el("button", { type: "button", class: "link", "aria-label": t("measureDeleteLabel", { n }) }, t("measureDelete"));
    remove.addEventListener("click", () => removeItem(item.id));
    head.append(remove);
    const dl = el("dl", { class: "measure-values" });
    for (const [field, key, text, value] of rows(item.kind, item.points)) {
      const dd = el("dd", { "data-field": field }, text);
      if (value !== null) dd.dataset.value = String(value);
      dl.append(el("dt", {}, t(key)), dd);
    }
    node.append(head, dl);
    return node;
  }

  // All measurements as plain text, one paragraph each, with the points' coordinates.
  function asText() {
    return s.items
      .map((item, i) => {
        const lines = [t("measureItem", { n: i + 1, kind: t(`measure_${item.kind}`) })];
        for (const [, key, text] of rows(item.kind, item.points)) lines.push(`  ${t(key)}: ${text}`);
        const coordinates = item.points.map((p) => `${p.position[1].toFixed(6)}, ${p.position[0].toFixed(6)}`);
        lines.push(`  ${t("mv_points")}: ${coordinates.join("; ")}`);
        return lines.join("\n");
      })
      .join("\n\n");
  }

  async function copyAll() {
    const text = asText();
    info.copied = text;
    try {
      await navigator.clipboard.writeText(text);
      copyText.hidden = true;
      status.textContent = t("measureCopied", { n: s.items.length });
    } catch {
      // No clipboard (an insecure origin, a refused permission): the text to copy by hand, selected.
      copyText.value = text;
      copyText.hidden = false;
      copyText.select();
      status.textContent = t("measureCopyManual");
    }
  }

  // The value of the measurement in progress (once it has its points), or what to do next.
  function liveText() {
    if (note || s.draft.length === 0) return t(note ?? `measureHint_${s.mode}`);
    const brief = ["segments", "perimeter", "horizontal", "slant", "building", "building_2"];
    const parts = s.draft.length < MIN_POINTS[s.mode] ? [] : rows(s.mode, s.draft).filter(([field]) => !brief.includes(field));
    const texts = parts.map(([, key, text]) => `${t(key)}: ${text}`);
    if (s.mode !== "height") texts.push(s.draft.length === 1 ? t("measurePoint") : t("measurePoints", { n: s.draft.length }));
    return texts.join(" · ");
  }

  function render() {
    toggle.textContent = t("measureTool");
    toggle.title = t("measureToolTitle");
    toggle.setAttribute("aria-pressed", String(s.open));
    tool.hidden = !s.open;
    panel.hidden = !s.open;
    modes.setAttribute("aria-label", t("measureModes"));
    for (const button of modeButtons) {
      button.textContent = t(`measure_${button.dataset.measureMode}`);
      button.setAttribute("aria-pressed", String(button.dataset.measureMode === s.mode));
    }
    readout.textContent = liveText();
    readout.classList.toggle("muted", Boolean(note) || s.draft.length === 0);
    for (const [button, key] of [[centre, "measureCentre"], [undo, "measureUndo"], [finishButton, "measureFinish"]]) {
      button.textContent = t(key);
      button.title = t(`${key}Title`);
    }
    undo.disabled = s.draft.length === 0;
    heading.textContent = t("measurePanel");
    intro.textContent = t("measureIntro");
    list.replaceChildren(...s.items.map((item, i) => itemNode(item, i + 1)));
    list.dataset.count = String(s.items.length);
    empty.textContent = t("measureEmpty");
    empty.hidden = s.items.length > 0;
    copy.textContent = t("measureCopy");
    clear.textContent = t("measureClear");
    copy.disabled = clear.disabled = s.items.length === 0;
    Object.assign(info, {
      open: s.open,
      mode: s.mode,
      draft: s.draft.length,
      draftPoints: s.draft.map((p) => [...p.position]),
      count: s.items.length,
      items: s.items.map((item) => ({ kind: item.kind, positions: item.points.map((p) => [...p.position]), ...measurementValues(item.kind, item.points) })),
    });
  }

  // --- map layers ---------------------------------------------------------------------------------------------

  function shapes() {
    const out = { paths: [], areas: [], points: [], verticals: [], labels: [] };
    const label = (position, text, color) => out.labels.push({ position, text, color });
    const mid = (a, b) => a.map((v, i) => (v + b[i]) / 2);
    const add = (kind, points, color, hover = null) => {
      const at = points.map((p) => p.position);
      for (const p of points) out.points.push({ position: p.position, color });
      if (kind === "height") {
        for (const p of points) {
          out.verticals.push({ path: [p.position, [p.position[0], p.position[1], p.base]], color });
          label(p.position, formatLength(p.position[2] - p.base), color);
        }
        if (points.length === 2) {
          out.paths.push({ path: at, color });
          label(mid(at[0], at[1]), `Δh ${formatLength(at[1][2] - at[0][2], true)}`, color);
        }
        return;
      }
      const line = hover ? [...at, hover] : at;
      if (line.length < 2) return;
      const closed = kind === "area" && line.length >= 3;
      out.paths.push({ path: closed ? [...line, line[0]] : line, color });
      if (closed) out.areas.push({ polygon: line, color });
      if (kind === "distance") {
        for (let i = 1; i < line.length; i += 1) label(mid(line[i - 1], line[i]), formatLength(geodesicDistance(line[i - 1], line[i])), color);
        if (line.length > 2) label(line.at(-1), `Σ ${formatLength(pathLength(line))}`, color);
      } else if (closed) {
        const centroid = [0, 1, 2].map((k) => line.reduce((sum, p) => sum + p[k], 0) / line.length);
        label(centroid, formatArea(polygonArea(line)), color);
      }
    };
    for (const item of s.items) add(item.kind, item.points, COLOR);
    if (s.draft.length) add(s.mode, s.draft, DRAFT, s.mode === "height" ? null : s.hover);
    return out;
  }

  function layers() {
    if (!s.open || !s.twin) return [];
    const { PathLayer, PolygonLayer, ScatterplotLayer, TextLayer } = globalThis.deck;
    const data = (cache ??= shapes()); // new arrays: deck.gl recomputes every attribute
    info.labels = data.labels.map((label) => label.text);
    const color = (d) => [...d.color, 255];
    return [
      new PolygonLayer({
        id: "measure-areas",
        data: data.areas,
        getPolygon: (d) => d.polygon,
        getFillColor: (d) => [...d.color, 50],
        stroked: false,
        // Depth-tested, unlike the lines: drawn over everything, deck.gl 9.4 blended one of its triangles twice.
      }),
      new PathLayer({
        id: "measure-lines",
        data: [...data.paths, ...data.verticals.map((v) => ({ ...v, thin: true }))],
        getPath: (d) => d.path,
        getColor: color,
        getWidth: (d) => (d.thin ? 2 : 3),
        widthUnits: "pixels",
        parameters: ON_TOP,
      }),
      new ScatterplotLayer({
        id: "measure-points",
        data: data.points,
        getPosition: (d) => d.position,
        getRadius: 5,
        radiusUnits: "pixels",
        getFillColor: [255, 255, 255, 255],
        getLineColor: color,
        stroked: true,
        getLineWidth: 2,
        lineWidthUnits: "pixels",
        parameters: ON_TOP,
      }),
      new TextLayer({
        id: "measure-labels",
        data: data.labels,
        getPosition: (d) => d.position,
        getText: (d) => d.text,
        getSize: 13,
        getColor: [20, 20, 20, 255],
        background: true,
        getBackgroundColor: [255, 255, 255, 235],
        getBorderColor: color,
        getBorderWidth: 1,
        backgroundPadding: [4, 2],
        getPixelOffset: [0, -12],
        fontFamily: "system-ui, sans-serif",
        characterSet: "auto", // the digits, units and letters of both languages, from the labels themselves
        parameters: ON_TOP,
      }),
    ];
  }

  // --- wiring ------------------------------------------------------------------------------------------------

  toggle.addEventListener("click", () => setOpen(!s.open));
  for (const button of modeButtons) button.addEventListener("click", () => setMode(button.dataset.measureMode));
  centre.addEventListener("click", () => addAt(map.clientWidth / 2, map.clientHeight / 2));
  undo.addEventListener("click", () => {
    if (s.draft.pop()) changed();
  });
  finishButton.addEventListener("click", () => finish());
  clear.addEventListener("click", () => {
    s.items = [];
    copyText.hidden = true;
    status.textContent = "";
    changed();
  });
  copy.addEventListener("click", () => copyAll());
  map.addEventListener("dblclick", () => {
    if (s.open) finish();
  });
  document.addEventListener("keydown", (event) => {
    if (!s.open || event.target.closest?.("input, select, textarea")) return;
    if (event.key === "Escape") onEscape();
    else if (event.target.closest?.("button, a, summary")) return;
    else if (event.key === "Enter") finish();
    else if (event.key === "Backspace" && s.draft.pop()) changed();
    else return;
    event.preventDefault();
  });
  render();

  return {
    get active() {
      return s.open;
    },
    open(twin) {
      Object.assign(s, { twin, items: [], next: 1, generation: s.generation + 1 });
      info.pending = 0;
      if (s.open) setOpen(false);
      else changed();
    },
    layers,
    // A click while measuring is a point (true: taken).
    click(clicked) {
      if (!s.open) return false;
      addAt(clicked.x, clicked.y);
      return true;
    },
    // The line follows the pointer on the ground (true: redraw).
    hover(hovered) {
      if (!s.open || s.mode === "height" || s.draft.length === 0) return false;
      const at = hovered.x >= 0 && hovered.y >= 0 ? host.unproject(hovered.x, hovered.y) : null;
      s.hover = at ? [at[0], at[1], ground()] : null;
      cache = null;
      return true;
    },
    cursor: () => (s.open ? "crosshair" : null),
    cancelTool: () => setOpen(false),
    relabel: () => changed(),
  };
}
