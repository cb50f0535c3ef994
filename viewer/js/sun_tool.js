// "Sonne & Schatten": a date, a time slider from sunrise to sunset in 10-minute steps (arrow keys move it), a play
// button, the sun's position as text, and the buildings' shadows on the ground as a flat translucent layer: the
// server computes them (POST .../shadows) for the view, with the draft's planned buildings and without its removed
// ones; the planned buildings' added shadow has a colour of its own. While the panel is open, deck.gl's light is a
// sun at that moment, so the buildings' faces are lit from the sun's side. Texts are set with textContent only.
//
// Why computed shadows and not deck.gl's shadow effect: deck.gl 9.4's SunLight with `_shadow` does shade the 3D
// tiles and the ground (checked in headless Chromium), but it renders its shadow map for the first view only (the
// side-by-side comparison would show the plan's shadow on neither side), needs a ground layer to fall on, doubles
// the drawing work of every frame, and gives no figure to check. The computed polygons are exact for prisms on flat
// ground (twin3d/simulation/shadows.py states the simplifications).
//
// Page signals for tests: document.body.dataset.sunShadows counts the shadow sets drawn; probe.sun holds the
// moment, the sun and the planned buildings' shadow.

import { authHeaders } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import { liftMatrix } from "./layers.js";
import { el } from "./panels.js";
import { plannedBuildings } from "./scenario_buildings.js";

const { GeoJsonLayer, LightingEffect, AmbientLight, _SunLight: SunLight } = globalThis.deck;

const EXISTING = [35, 45, 80, 105];
const PLANNED = [125, 35, 150, 135];
const LIFT_M = 0.25; // above the flat layers at the ground (choropleth, parcels), below the drawn measures
const OVER_CELLS_M = 3.1; // just above a scenario's cell map (up to 3 m), below the flood's water (3.2 m)
const MAX_SIDE_M = 2400; // the server computes at most 2.5 km a side
const PAD = 0.3; // the box asked for reaches this share beyond the view, so small moves need no new shadows
const PLAY_PAUSE_MS = 400; // between a drawn step and the next while playing

// The draft's buildings as the shadows need them: the planned ones (footprint and height, a placed model once its
// outline is known) and the ids of the removed ones.
export function draftBuildings(measures) {
  const removed = (measures ?? []).filter((m) => m.kind === "remove_buildings").flatMap((m) => m.building_ids ?? []);
  return { planned: plannedBuildings(measures), removed };
}

// The area-weighted centroid [lon, lat] of polygon features (outer rings, planar in degrees: fine for a building's
// shadow), or null. Relative to the first position: the products of whole degrees would cancel away the digits.
export function centroidOf(features) {
  if (!features.length) return null;
  const [ox, oy] = features[0].geometry.coordinates[0][0];
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (const f of features) {
    const ring = f.geometry.coordinates[0];
    for (let i = 0; i < ring.length - 1; i += 1) {
      const [x0, y0] = [ring[i][0] - ox, ring[i][1] - oy];
      const [x1, y1] = [ring[i + 1][0] - ox, ring[i + 1][1] - oy];
      const cross = x0 * y1 - x1 * y0;
      area += cross;
      cx += (x0 + x1) * cross;
      cy += (y0 + y1) * cross;
    }
  }
  return area === 0 ? null : [ox + cx / (3 * area), oy + cy / (3 * area)];
}

function isoDate(day) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

const clock = (iso) => (iso ? iso.slice(11, 16) : "–"); // the twin's wall clock, as the server wrote it
const direction = (azimuth) => t(`dir_${Math.round(azimuth / 45) % 8}`);

// A box of at most MAX_SIDE_M a side: the view's box padded, or one around its centre; [bbox, cut].
function requestBox(bounds) {
  const [w, s, e, n] = bounds.bbox;
  const lat = (s + n) / 2;
  const mx = 111320 * Math.cos((lat * Math.PI) / 180);
  const my = 110540;
  const padX = (e - w) * PAD;
  const padY = (n - s) * PAD;
  let box = [w - padX, s - padY, e + padX, n + padY];
  const half = MAX_SIDE_M / 2;
  const cut = (box[2] - box[0]) * mx > MAX_SIDE_M || (box[3] - box[1]) * my > MAX_SIDE_M;
  if (cut) {
    const [cx, cy] = [(w + e) / 2, (s + n) / 2];
    const hx = Math.min((box[2] - box[0]) / 2, half / mx);
    const hy = Math.min((box[3] - box[1]) / 2, half / my);
    box = [cx - hx, cy - hy, cx + hx, cy + hy];
  }
  return [box.map((v) => Math.round(v * 1e6) / 1e6), cut];
}

const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
const inside = (inner, outer) => inner[0] >= outer[0] && inner[1] >= outer[1] && inner[2] <= outer[2] && inner[3] <= outer[3];

// host: {probe, onChange(), onError(error), bounds() -> {bbox, zoom} | null, draft() -> {planned, removed},
// setEffects(effects)}: what the tool needs from the page.
export function createSunTool(host) {
  const panel = document.getElementById("sun-panel");
  const s = {
    twin: null,
    open: false,
    date: isoDate(new Date()),
    path: null, // the server's answer for the date
    steps: [], // the path's steps with the sun above the horizon
    index: 0,
    shadows: null,
    asked: null, // {bbox, draftKey, time} of the shadows shown or coming
    cut: false,
    loading: null, // AbortController of the request under way
    playing: false,
    drawn: 0,
    version: 0, // of the shadow set shown
    error: null,
    outside: false, // the view shows no part of the twin
  };
  const timers = { shadows: null, view: null, play: null };
  const dom = build();
  host.probe.sun = null;

  function build() {
    const title = el("h2", { id: "sun-title", class: "panel-heading" });
    const toggle = el("button", { type: "button", id: "sun-toggle", class: "panel-toggle", "aria-expanded": "false", "aria-controls": "sun-body" });
    const label = el("span");
    toggle.append(el("span", { class: "chevron", "aria-hidden": "true" }), label);
    title.append(toggle);
    const body = el("div", { id: "sun-body" });
    body.hidden = true;
    const intro = el("p", { class: "muted small" });
    const dateLabel = el("label", { for: "sun-date" });
    const date = el("input", { id: "sun-date", type: "date", required: "" });
    const quick = el("div", { class: "tools sun-quick", role: "group" });
    const quickButtons = ["03-21", "06-21", "12-21"].map((md) => el("button", { type: "button", "data-day": md }));
    quick.append(...quickButtons);
    const timeLabel = el("label", { for: "sun-time" });
    const time = el("input", { id: "sun-time", type: "range", min: "0", max: "0", step: "1", value: "0" });
    const clockOut = el("output", { id: "sun-clock", for: "sun-time", class: "sun-clock" });
    const play = el("button", { type: "button", id: "sun-play", "aria-pressed": "false" });
    const position = el("p", { id: "sun-position", class: "small", "aria-live": "polite" });
    const day = el("p", { id: "sun-day", class: "small muted" });
    const status = el("p", { id: "sun-status", class: "small", role: "status", "aria-live": "polite" });
    const legend = el("ul", { class: "legend sun-legend" });
    const note = el("p", { class: "muted small" });
    const controls = el("div", { class: "controls" });
    controls.append(dateLabel, date);
    const slider = el("div", { class: "sun-slider" });
    slider.append(time, clockOut);
    const actions = el("div", { class: "actions" });
    actions.append(play);
    body.append(intro, controls, quick, timeLabel, slider, actions, position, day, status, legend, note);
    panel.replaceChildren(title, body);
    toggle.addEventListener("click", () => setOpen(body.hidden));
    date.addEventListener("change", () => {
      if (/^\d{4}-\d{2}-\d{2}$/.test(date.value)) setDate(date.value).catch(fail);
    });
    for (const button of quickButtons) {
      button.addEventListener("click", () => {
        date.value = `${s.date.slice(0, 4)}-${button.dataset.day}`;
        setDate(date.value).catch(fail);
      });
    }
    time.addEventListener("input", () => setIndex(Number(time.value)));
    play.addEventListener("click", () => setPlaying(!s.playing));
    return { toggle, label, body, intro, dateLabel, date, quick: quickButtons, timeLabel, time, clockOut, play, position, day, status, legend, note };
  }

  function relabel() {
    dom.label.textContent = t("sunTitle");
    dom.intro.textContent = t("sunIntro");
    dom.dateLabel.textContent = t("sunDate");
    dom.quick[0].parentElement.setAttribute("aria-label", t("sunQuick"));
    ["sunMarch", "sunJune", "sunDecember"].forEach((key, i) => (dom.quick[i].textContent = t(key)));
    dom.timeLabel.textContent = t("sunTime");
    dom.play.textContent = t(s.playing ? "sunPause" : "sunPlay");
    dom.note.textContent = t("sunNote");
    dom.legend.replaceChildren(
      ...[
        [EXISTING, "sunExisting"],
        [PLANNED, "sunPlanned"],
      ].map(([color, key]) => {
        const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
        swatch.style.background = `rgba(${color.slice(0, 3).join(",")},${(color[3] / 255).toFixed(2)})`;
        const item = el("li");
        item.append(swatch, document.createTextNode(t(key)));
        return item;
      }),
    );
    showMoment();
    showStatus();
  }

  function fail(error) {
    if (error?.name === "AbortError") return;
    s.error = error;
    showStatus();
    host.onError(error);
  }

  function setOpen(open) {
    s.open = open;
    dom.body.hidden = !open;
    dom.toggle.setAttribute("aria-expanded", String(open));
    if (!open) {
      setPlaying(false);
      s.loading?.abort();
      Object.assign(s, { shadows: null, asked: null, loading: null });
      host.setEffects([]);
      host.onChange();
      return;
    }
    const ready = s.path?.date === s.date ? Promise.resolve() : setDate(s.date);
    ready.then(() => refresh()).catch(fail);
  }

  async function setDate(date) {
    const previous = s.steps[s.index]?.time;
    s.date = date;
    dom.date.value = date;
    const twin = s.twin;
    const path = await getJson(`/api/twins/${encodeURIComponent(twin.name)}/sun?date=${date}`);
    if (s.twin !== twin || s.date !== date) return;
    s.path = path;
    s.steps = path.path.filter((step) => step.elevation > 0);
    s.index = startIndex(previous);
    dom.time.max = String(Math.max(s.steps.length - 1, 0));
    dom.time.value = String(s.index);
    dom.time.disabled = s.steps.length === 0;
    dom.play.disabled = s.steps.length === 0;
    showMoment();
    scheduleShadows(0);
  }

  // The step to start a day at: the wall-clock time shown before, else now (today, while the sun is up), else the
  // sun's highest.
  function startIndex(previous) {
    const steps = s.steps;
    if (!steps.length) return 0;
    const wanted = previous ? clock(previous) : s.date === isoDate(new Date()) ? localClock() : null;
    if (wanted && wanted >= clock(steps[0].time) && wanted <= clock(steps[steps.length - 1].time)) {
      return steps.findIndex((step) => clock(step.time) >= wanted);
    }
    let best = 0;
    steps.forEach((step, i) => {
      if (step.elevation > steps[best].elevation) best = i;
    });
    return best;
  }

  // The browser's wall clock, HH:MM (the twin's zone is the server's business; a German town's viewer is in it).
  function localClock() {
    const now = new Date();
    return `${String(now.getHours()).padStart(2, "0")}:${String(now.getMinutes()).padStart(2, "0")}`;
  }

  function setIndex(index) {
    if (!s.steps.length) return;
    s.index = Math.max(0, Math.min(index, s.steps.length - 1));
    dom.time.value = String(s.index);
    showMoment();
    scheduleShadows(120);
  }

  function showMoment() {
    const step = s.steps[s.index];
    const text = step ? t("sunClock", { time: clock(step.time) }) : "–";
    dom.clockOut.textContent = text;
    dom.time.setAttribute("aria-valuetext", text);
    dom.position.textContent = step
      ? t("sunPosition", {
          azimuth: formatNumber(step.azimuth, 0),
          direction: direction(step.azimuth),
          elevation: formatNumber(step.elevation, 1),
        })
      : "";
    dom.day.textContent = !s.path ? "" : s.steps.length ? t("sunDay", { sunrise: clock(s.path.sunrise), sunset: clock(s.path.sunset) }) : t("sunNoDay");
    if (s.open && step) setLight(step);
  }

  function showStatus() {
    const lines = [];
    if (s.error) lines.push(t("sunFailed", { message: s.error.message ?? String(s.error) }));
    else if (s.loading) lines.push(t("sunLoading"));
    else if (s.outside) lines.push(t("sunOutside"));
    const fc = s.shadows;
    if (!s.error && fc?.shadow_per_metre) lines.push(t("sunLength", { length: formatNumber(10 * fc.shadow_per_metre, 1) }));
    if (!s.error && fc?.capped) lines.push(t("sunCapped", { n: formatNumber(fc.capped), max: formatNumber(fc.max_length_m) }));
    if (!s.error && s.cut) lines.push(t("sunCentre", { km: formatNumber(MAX_SIDE_M / 1000, 1) }));
    dom.status.textContent = lines.join(" ");
  }

  // deck.gl's light: the ambient light and a sun at the moment shown, so faces towards the sun are lit.
  function setLight(step) {
    const sun = new SunLight({ timestamp: Date.parse(step.time), color: [255, 255, 255], intensity: 1.0 });
    host.setEffects([new LightingEffect({ ambient: new AmbientLight({ color: [255, 255, 255], intensity: 1.0 }), sun })]);
  }

  function setPlaying(on) {
    s.playing = on && s.steps.length > 0;
    clearTimeout(timers.play);
    dom.play.setAttribute("aria-pressed", String(s.playing));
    dom.play.textContent = t(s.playing ? "sunPause" : "sunPlay");
    if (s.playing && s.index >= s.steps.length - 1) setIndex(0);
    else if (s.playing && !s.loading) timers.play = setTimeout(advance, PLAY_PAUSE_MS);
  }

  function advance() {
    if (!s.playing) return;
    if (s.index >= s.steps.length - 1) return setPlaying(false);
    setIndex(s.index + 1);
  }

  function scheduleShadows(delay) {
    clearTimeout(timers.shadows);
    timers.shadows = setTimeout(() => refresh().catch(fail), delay);
  }

  // Ask for the shadows of the moment, the view and the draft, unless those shown (or coming) are for them.
  async function refresh() {
    const twin = s.twin;
    const step = s.steps[s.index];
    const bounds = host.bounds();
    if (!s.open || !twin || !step || !bounds) return;
    const draft = host.draft();
    const draftKey = JSON.stringify(draft);
    const [bbox, cut] = requestBox(bounds);
    const asked = s.asked;
    // What is shown or coming fits: the same moment and draft, and the view inside the box asked for (a view cut to
    // its centre: the same centre box). Opening the panel refreshes twice in a row; this keeps that one request.
    const covered = asked && (asked.cut ? bbox.every((v, i) => v === asked.bbox[i]) : inside(bounds.bbox, asked.bbox));
    if (covered && asked.time === step.time && asked.draftKey === draftKey) return;
    s.loading?.abort();
    if (twin.bbox && !overlaps(bbox, twin.bbox)) {
      // The map shows no part of the twin: the server would refuse the box, so the panel says so instead of asking.
      Object.assign(s, { shadows: null, asked: null, loading: null, error: null, outside: true });
      showStatus();
      host.onChange();
      return;
    }
    s.outside = false;
    const controller = new AbortController();
    Object.assign(s, { asked: { bbox, draftKey, time: step.time, cut }, loading: controller, error: null });
    showStatus();
    let fc;
    try {
      fc = await postJson(
        `/api/twins/${encodeURIComponent(twin.name)}/shadows`,
        { time: step.time, bbox, planned: draft.planned, removed: draft.removed },
        controller.signal,
      );
    } catch (error) {
      if (s.loading === controller) s.loading = null;
      if (error.name !== "AbortError") s.asked = null; // asked again on the next change
      throw error;
    }
    if (s.loading !== controller || s.twin !== twin) return;
    Object.assign(s, { shadows: fc, cut, loading: null, changesBuildings: draft.planned.length > 0 || draft.removed.length > 0 });
    s.version += 1;
    showStatus();
    host.onChange();
    // deck.gl draws in its next animation frame; the one after it has the new shadows on screen.
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    if (s.shadows !== fc) return;
    s.drawn += 1;
    const planned = fc.features.filter((f) => f.properties.source === "planned");
    host.probe.sun = {
      date: s.date,
      time: fc.time,
      azimuth: fc.sun.azimuth,
      elevation: fc.sun.elevation,
      shadowPerMetre: fc.shadow_per_metre,
      capped: fc.capped,
      features: fc.features.length,
      planned,
      shadowCentroid: centroidOf(planned),
      drawn: s.drawn,
    };
    document.body.dataset.sunShadows = String(s.drawn);
    if (s.playing) timers.play = setTimeout(advance, PLAY_PAUSE_MS);
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json", ...authHeaders() } });
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  async function postJson(url, body, signal) {
    const response = await fetch(url, {
      method: "POST",
      headers: { Accept: "application/geo+json, application/json", "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  async function failure(response) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body.error) message = body.hint ? `${body.error} (${body.hint})` : body.error;
    } catch {
      // not JSON: keep the status line
    }
    return Object.assign(new Error(message), { status: response.status });
  }

  return {
    open(twin) {
      setPlaying(false);
      s.loading?.abort();
      Object.assign(s, { twin, path: null, steps: [], index: 0, shadows: null, asked: null, loading: null, error: null, outside: false });
      panel.hidden = !twin?.tileset;
      if (s.open) setOpen(!panel.hidden); // a twin without buildings gets its light back
      relabel();
    },
    relabel,
    // The map moved: new shadows once it rests, if the view left the box asked for.
    onView() {
      if (!s.open) return;
      clearTimeout(timers.view);
      timers.view = setTimeout(() => refresh().catch(fail), 400);
    },
    // The shadow layer, drawn after `below` (the layers drawn so far): on the ground, or just above a scenario's cell
    // map where one is shown, which would hide shadows under it.
    layers(below = []) {
      if (!s.open || !s.twin) return [];
      if (s.asked && s.asked.draftKey !== JSON.stringify(host.draft())) scheduleShadows(250); // the draft changed
      if (!s.shadows) return [];
      return [
        new GeoJsonLayer({
          // Side by side, a plan's shadows belong to the scenario's view only (views.js filters on the prefix). A new
          // layer per shadow set: deck.gl 9.4 updating the polygons of one in place left stray triangles on screen.
          id: `${s.changesBuildings ? "scenario-sun-shadows" : "sun-shadows"}-${s.version}`,
          data: s.shadows,
          filled: true,
          stroked: false,
          pickable: false,
          // The positions carry the ground's ellipsoidal height.
          modelMatrix: liftMatrix(below.some((l) => l?.id?.startsWith("scenario-cells")) ? OVER_CELLS_M : LIFT_M),
          getFillColor: (f) => (f.properties.source === "planned" ? PLANNED : EXISTING),
          parameters: { depthWriteEnabled: false },
        }),
      ];
    },
  };
}
