// The statistics time slider: the choropleth's districts in any year their statistics have (Rostock: 2005-2023),
// with a play button that steps through the years. The server lists the years per level and variable with the
// twin (layers[].variable_years); every year's figures come in one request per variable
// (GET .../districts/{level}/series), fetched once per twin and kept, so moving the slider asks the server nothing.
// The colour classes are fixed over all years, so a colour means the same figure in 2005 as in 2023.
// Hidden where the choropleth's statistic has one year only.
//
// For the share link: year() is the year shown (null: no slider, the latest figures), setYear(y) shows a year (kept
// until the years are known, so a link may set it before the twin has loaded).
// Page signals for tests: probe.timeline = { years, year, ready } (ready: every year's figures are here).

import { api } from "./api.js";
import { quantileBreaks } from "./classify.js";
import { t } from "./i18n.js";
import { localText } from "./names.js";
import { el } from "./panels.js";

const STEP_MS = 1200; // between two years while playing: time to read the map and the list
const MAX_SERIES = 4; // the statistics with a time series fetched beside the choropleth's (the tooltip's population)

// The series values of one year as feature properties, keyed like the districts' GeoJSON.
function yearProperties(series, index, districtId) {
  const out = {};
  for (const [variable, body] of Object.entries(series)) {
    const values = body.values[districtId];
    if (values) out[variable] = values[index] ?? null;
  }
  return out;
}

export function createStatsTimeline({ probe, onChange, onError }) {
  const root = document.getElementById("stats-timeline");
  const s = {
    twin: null,
    choropleth: null,
    years: [],
    index: -1,
    wanted: null, // a year asked for before the years were known (share link)
    series: null, // variable -> { years, source, unit, values: {district_id: [...]} }
    breaks: null,
    allValues: null,
    shown: null, // { data, index, collection }: the last year's collection, so deck.gl keeps its buffers
    playing: false,
    timer: null,
  };
  const cache = new Map(); // `${twin}/${level}/${variable}` -> the series body (a promise while it loads)
  probe.timeline = { years: [], year: null, ready: false };

  const title = el("h3", { id: "stats-timeline-title", class: "timeline-title" });
  const slider = el("input", { type: "range", id: "stats-timeline-year", min: "0", max: "0", step: "1", value: "0" });
  slider.setAttribute("aria-labelledby", "stats-timeline-title");
  const output = el("output", { for: "stats-timeline-year", class: "timeline-year" });
  const play = el("button", { type: "button", id: "stats-timeline-play", "aria-pressed": "false" });
  const caption = el("p", { id: "stats-timeline-caption", class: "muted small", "aria-live": "polite" });
  const row = el("div", { class: "timeline-slider" });
  row.append(slider, output, play);
  root.replaceChildren(title, row, caption);
  root.hidden = true;

  slider.addEventListener("input", () => select(Number(slider.value)));
  play.addEventListener("click", () => setPlaying(!s.playing));

  function year() {
    return s.index >= 0 && s.series ? s.years[s.index] : null;
  }

  function setYear(y) {
    const wanted = Number(y);
    if (!Number.isInteger(wanted)) return;
    if (!s.series) {
      s.wanted = wanted;
      return;
    }
    // The nearest year the statistic has (a link from a later build may name one that has gone).
    let best = 0;
    for (let i = 1; i < s.years.length; i += 1) {
      if (Math.abs(s.years[i] - wanted) < Math.abs(s.years[best] - wanted)) best = i;
    }
    select(best);
  }

  function select(index) {
    if (index === s.index || index < 0 || index >= s.years.length) return;
    s.index = index;
    probe.timeline.year = s.years[index];
    showYear();
    onChange();
  }

  function setPlaying(on) {
    s.playing = on && s.years.length > 1;
    clearTimeout(s.timer);
    play.setAttribute("aria-pressed", String(s.playing));
    play.textContent = t(s.playing ? "timelinePause" : "timelinePlay");
    if (!s.playing) return;
    if (s.index >= s.years.length - 1) select(0); // from the start again
    s.timer = setTimeout(step, STEP_MS);
  }

  // One year on; stops at the last. The map's colours change at once (no animated transition: nothing moves on its
  // own but the year the user started, which also suits prefers-reduced-motion).
  function step() {
    if (!s.playing) return;
    select(s.index + 1);
    if (s.index >= s.years.length - 1) setPlaying(false);
    else s.timer = setTimeout(step, STEP_MS);
  }

  function source() {
    const body = s.series?.[s.choropleth.variable];
    const layer = s.twin.layers.find((l) => l.id === s.choropleth.layerId);
    // The twin's attribution line for its districts (it names the level), else its first line; else the source's name.
    const lines = s.twin.attribution ?? [];
    const shown = localText(s.twin, "attribution") ?? lines; // the same lines in the page's language
    const at = Math.max(0, lines.findIndex((line) => layer && line.includes(layer.title)));
    return shown[at] ?? body?.source ?? "";
  }

  function showYear() {
    const y = year();
    if (y === null) return;
    slider.value = String(s.index);
    slider.setAttribute("aria-valuetext", String(y));
    output.textContent = String(y);
    const first = s.years[0];
    const last = s.years[s.years.length - 1];
    caption.textContent = `${t("timelineCaption", { year: y, first, last })} ${t("timelineSource", { source: source() })}`;
  }

  function relabel() {
    title.textContent = t("timelineTitle");
    play.textContent = t(s.playing ? "timelinePause" : "timelinePlay");
    showYear();
  }

  function reset() {
    setPlaying(false);
    Object.assign(s, { years: [], index: -1, series: null, breaks: null, allValues: null, shown: null });
    Object.assign(probe.timeline, { years: [], year: null, ready: false });
    root.hidden = true;
  }

  // The slider for the twin's choropleth, if its statistic has more than one year.
  async function open(twin, choropleth) {
    reset();
    Object.assign(s, { twin, choropleth });
    const layer = choropleth && twin.layers.find((l) => l.id === choropleth.layerId);
    const perVariable = layer?.variable_years ?? {};
    const years = perVariable[choropleth?.variable] ?? [];
    if (!layer?.series_url || years.length < 2) return;
    // The choropleth's statistic and a few others with the same years (the tooltip shows the population).
    const variables = [
      choropleth.variable,
      ...Object.keys(perVariable)
        .filter((v) => v !== choropleth.variable && perVariable[v].join() === years.join())
        .sort((a, b) => (a === "population" ? -1 : b === "population" ? 1 : a.localeCompare(b)))
        .slice(0, MAX_SERIES - 1),
    ];
    const bodies = await Promise.all(variables.map((v) => fetchSeries(twin, layer, v)));
    if (s.twin !== twin || s.choropleth !== choropleth) return; // another twin was opened meanwhile
    s.series = Object.fromEntries(variables.map((v, i) => [v, bodies[i]]));
    const main = s.series[choropleth.variable];
    s.years = main.years;
    s.allValues = Object.values(main.values).flat();
    s.breaks = quantileBreaks(s.allValues);
    slider.max = String(s.years.length - 1);
    const start = s.wanted ?? choropleth.year ?? s.years[s.years.length - 1];
    s.wanted = null;
    root.hidden = false;
    relabel();
    setYear(start); // draws the map and the list in that year
    Object.assign(probe.timeline, { years: [...s.years], ready: true });
  }

  function fetchSeries(twin, layer, variable) {
    const key = `${twin.name}/${layer.id}/${variable}`;
    if (!cache.has(key)) {
      const loading = api.layer(`${layer.series_url}?variable=${encodeURIComponent(variable)}`);
      cache.set(key, loading);
      loading.catch((error) => {
        cache.delete(key); // tried again on the next open
        onError(error);
      });
    }
    return cache.get(key);
  }

  // The choropleth layer's GeoJSON with the chosen year's figures (the same object while the year stays, so deck.gl
  // keeps its buffers); `data` itself where there is no slider.
  function shown(data) {
    if (!data || !s.series || s.index < 0) return data;
    if (s.shown?.data === data && s.shown.index === s.index) return s.shown.collection;
    const index = s.index;
    const y = s.years[index];
    const features = data.features.map((f) => ({
      ...f,
      properties: { ...f.properties, ...yearProperties(s.series, index, f.properties.district_id), year: y },
    }));
    const collection = { ...data, features };
    s.shown = { data, index, collection };
    return collection;
  }

  // The choropleth's label naming the year shown instead of the build's (the label speaks of its year).
  function label(text) {
    const y = year();
    const own = s.choropleth?.year;
    if (y === null || !text) return text;
    return own && text.includes(String(own)) ? text.replaceAll(String(own), String(y)) : `${text}, ${y}`;
  }

  return {
    open,
    year,
    setYear,
    shown,
    label,
    relabel,
    // Colour classes over all years, and all years' values for the legend's range; null without a slider.
    breaks: () => (s.series ? s.breaks : null),
    legendValues: () => (s.series ? s.allValues : null),
  };
}
