// "Stil & Filter" of the catalogue's vector layers: a disclosure per layer to colour its features by one attribute
// (numbers in quantile classes, or up to 12 categories) and to show only some of them (a range, or the categories
// checked). The classes and counts come from the server's summary of the whole layer (GET .../layers/{id}/summary):
// the vector tiles hold only the features on screen. The map applies the style with deck.gl accessors and hides
// filtered features with the DataFilterExtension (hidden features are neither drawn nor picked). Each layer keeps its
// style for the session (by twin and layer), also when the catalogue is drawn again.
// The model (classes, colours, the filter) is layer_style_model.js; texts are set with textContent only.
//
// Page signals for tests: probe.layerStyle[layerId] = { field, kind, classes, loaded, shown } (loaded: distinct
// features in the tiles loaded so far; shown: those the filter lets through).

import { api } from "./api.js";
import { formatNumber, t } from "./i18n.js";
import {
  NO_VALUE_COLOR,
  colorOf,
  countPassing,
  filtering,
  numberOf,
  passes,
  styleFor,
  styleKey,
  withFilter,
} from "./layer_style_model.js";
import { el } from "./panels.js";

const { DataFilterExtension } = globalThis.deck;
const FILL_ALPHA = 220;
const OUTLINE = [35, 35, 35, 255]; // dark edges: light classes still stand out against the basemap

export function createLayerStyle({ probe, onChange, onError }) {
  const kept = new Map(); // `${twin}/${layer}` -> { open, field, style, summary }
  const features = new Map(); // `${twin}/${layer}` -> Map(feature id -> properties) of the tiles loaded
  const summaries = new Map(); // layer url -> promise of its summary
  const filterExtension = new DataFilterExtension({ filterSize: 1 });
  probe.layerStyle = {};

  const keyOf = (twin, entry) => `${twin.name}/${entry.id}`;
  const stateOf = (twin, entry) => {
    const key = keyOf(twin, entry);
    if (!kept.has(key)) kept.set(key, { open: false, field: "", style: null, summary: null });
    return kept.get(key);
  };

  function summaryOf(entry) {
    if (!summaries.has(entry.url)) {
      const loading = api.layer(`${entry.url}/summary`);
      summaries.set(entry.url, loading);
      loading.catch(() => summaries.delete(entry.url)); // asked again on the next opening
    }
    return summaries.get(entry.url);
  }

  // The figures the tests and the status line read: the loaded features and those the filter lets through.
  function count(twin, entry) {
    const st = stateOf(twin, entry);
    const loaded = [...(features.get(keyOf(twin, entry))?.values() ?? [])];
    const report = {
      field: st.style?.field ?? null,
      kind: st.style?.kind ?? null,
      classes: st.style?.classes.length ?? 0,
      loaded: loaded.length,
      shown: countPassing(st.style, loaded.map((properties) => ({ properties }))),
    };
    probe.layerStyle[entry.id] = report;
    return report;
  }

  // The props of the layer's MVTLayer: always the filter extension (adding it later would rebuild the layer).
  function layerProps(twin, entry) {
    const style = stateOf(twin, entry).style;
    const key = styleKey(style);
    const props = {
      extensions: [filterExtension],
      filterRange: [1, 1],
      getFilterValue: style && filtering(style) ? (f) => (passes(style, f.properties?.[style.field]) ? 1 : 0) : 1,
      updateTriggers: { getFillColor: key, getLineColor: key, getFilterValue: key },
    };
    if (style) {
      props.getFillColor = (f) => [...colorOf(style, f.properties?.[style.field]), FILL_ALPHA];
      props.getLineColor = OUTLINE;
    }
    return props;
  }

  function tileLoaded(twin, entry, tile) {
    const content = tile?.content;
    if (!Array.isArray(content)) return;
    const key = keyOf(twin, entry);
    if (!features.has(key)) features.set(key, new Map());
    const known = features.get(key);
    for (const f of content) known.set(f.properties?.id ?? f.id ?? known.size, f.properties ?? {});
    count(twin, entry);
  }

  // The disclosure for one catalogue entry ([] for layers that are not vector layers with attributes).
  function controls(twin, entry) {
    if (!twin || !entry.mvt || Object.keys(entry.fields ?? {}).length === 0) return [];
    const st = stateOf(twin, entry);
    const base = `layer-style-${entry.id}`;
    const details = el("details", { class: "layer-style", id: base });
    details.open = st.open;
    details.append(el("summary", {}, t("styleTitle")));
    const body = el("div", { class: "layer-style-body" });
    const status = el("p", { class: "muted small layer-style-status", "aria-live": "polite" });
    details.append(body, status);
    const fill = () => render(twin, entry, body, status, base).catch(onError);
    details.addEventListener("toggle", () => {
      st.open = details.open;
      if (details.open && !body.hasChildNodes()) fill();
    });
    if (st.open) fill();
    return [details];
  }

  async function render(twin, entry, body, status, base) {
    const st = stateOf(twin, entry);
    if (!st.summary) {
      status.textContent = t("styleLoading");
      st.summary = await summaryOf(entry);
    }
    const fields = Object.entries(st.summary.fields).filter(([, s]) => s.count > 0);
    if (fields.length === 0) {
      status.textContent = t("styleNoFields");
      return;
    }
    const select = el("select", { id: `${base}-field` });
    select.append(el("option", { value: "" }, t("styleNone")));
    for (const [name] of fields) select.append(el("option", { value: name }, name));
    select.value = st.field;
    const row = el("div", { class: "layer-style-field" });
    row.append(el("label", { for: `${base}-field`, class: "small" }, t("styleAttribute")), select);
    const part = el("div", { class: "layer-style-part" });
    body.replaceChildren(row, part);
    select.addEventListener("change", () => {
      st.field = select.value;
      st.style = st.field ? styleFor(st.field, st.summary.fields[st.field]) : null;
      showStyle(twin, entry, part, status, base);
      onChange();
    });
    showStyle(twin, entry, part, status, base);
  }

  // The legend (classes with counts; for categories each with its checkbox) and the range filter of numbers.
  function showStyle(twin, entry, part, status, base) {
    const st = stateOf(twin, entry);
    const style = st.style;
    part.replaceChildren();
    const update = () => {
      const { loaded, shown } = count(twin, entry);
      status.textContent = style && filtering(st.style) ? t("styleShown", { shown: formatNumber(shown), total: formatNumber(loaded) }) : "";
    };
    if (!style) return update();
    const summary = st.summary.fields[style.field];
    const described =
      style.kind === "numeric"
        ? t("styleNumeric", { field: style.field, classes: style.classes.length })
        : t("styleCategorical", { field: style.field, count: formatNumber(summary.distinct) });
    part.append(el("p", { class: "muted small" }, described));
    const legend = el("ol", { class: "legend layer-style-legend", "aria-label": t("styleLegendOf", { field: style.field }) });
    style.classes.forEach((c, i) => {
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = `rgb(${c.color.join(",")})`;
      const name = style.kind === "numeric" ? `${formatNumber(c.from, 2)} – ${formatNumber(c.to, 2)}` : (c.value ?? t("styleOther"));
      const counted = c.count === 1 ? t("styleCountOne") : t("styleCount", { count: formatNumber(c.count) });
      const text = `${name} · ${counted}`;
      const item = el("li", { "data-class": String(i) });
      if (style.kind === "categorical") {
        const id = `${base}-class-${i}`;
        const box = el("input", { type: "checkbox", id });
        box.checked = !st.style.filter.hidden.includes(c.value);
        box.addEventListener("change", () => {
          const hidden = st.style.filter.hidden.filter((v) => v !== c.value);
          if (!box.checked) hidden.push(c.value);
          st.style = withFilter(st.style, { hidden });
          update();
          onChange();
        });
        const label = el("label", { for: id });
        label.append(swatch, document.createTextNode(text));
        item.append(box, label);
      } else {
        item.append(swatch, document.createTextNode(text));
      }
      legend.append(item);
    });
    // Features without a value stay grey; the filter hides them while it asks for values.
    const missing = (st.summary.feature_count ?? 0) - summary.count;
    if (missing > 0) {
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = `rgb(${NO_VALUE_COLOR.join(",")})`;
      const item = el("li", { "data-class": "none" });
      item.append(swatch, document.createTextNode(`${t("styleNoValue")} · ${t("styleCount", { count: formatNumber(missing) })}`));
      legend.append(item);
    }
    if (style.kind === "categorical") {
      const group = el("fieldset", { class: "layer-style-filter" });
      group.append(el("legend", { class: "small" }, t("styleFilterCategories")), legend);
      part.append(group);
    } else {
      part.append(legend, rangeFilter(twin, entry, base, summary, update));
    }
    update();
  }

  function rangeFilter(twin, entry, base, summary, update) {
    const st = stateOf(twin, entry);
    const group = el("fieldset", { class: "layer-style-filter layer-style-range" });
    group.append(el("legend", { class: "small" }, t("styleFilterRange")));
    for (const end of ["min", "max"]) {
      const id = `${base}-${end}`;
      const input = el("input", { type: "number", id, step: "any", inputmode: "decimal", placeholder: formatNumber(summary[end], 2) });
      if (st.style.filter[end] !== null) input.value = String(st.style.filter[end]);
      input.addEventListener("change", () => {
        st.style = withFilter(st.style, { [end]: numberOf(input.value) });
        update();
        onChange();
      });
      group.append(el("label", { for: id, class: "small" }, t(end === "min" ? "styleFilterMin" : "styleFilterMax")), input);
    }
    return group;
  }

  return { controls, layerProps, tileLoaded };
}
