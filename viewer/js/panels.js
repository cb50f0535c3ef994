// Side panels: layer toggles, legend, building details and the area list. Text is always set with
// textContent (never innerHTML), so data from the server is rendered inert.

import { legendEntries } from "./classify.js";
import { formatNumber, t } from "./i18n.js";
import { areaId } from "./layers.js";
import { buildingRows, formatRow } from "./info_format.js";
import { areaName, localText } from "./names.js";

export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

export function renderToggles(container, toggles, onChange) {
  container.replaceChildren();
  for (const toggle of toggles) {
    const id = `toggle-${toggle.key}`;
    const input = el("input", { type: "checkbox", id });
    input.checked = toggle.checked;
    input.addEventListener("change", () => onChange(toggle.key, input.checked));
    const label = el("label", { for: id }, t(toggle.label));
    container.append(el("div", { class: "toggle" }), "");
    container.lastElementChild.append(input, label);
  }
}

export function renderLegend(list, labelEl, label, values, breaks) {
  labelEl.textContent = label;
  list.replaceChildren();
  for (const entry of legendEntries(values, breaks, (v) => formatNumber(v))) {
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = `rgb(${entry.color.join(",")})`;
    const item = el("li");
    item.append(swatch, document.createTextNode(entry.label ?? t("noData")));
    list.append(item);
  }
}

// Rows of info_format.js as a definition list: the label (its explanation as a tooltip), the value with its unit,
// and the field's name in data-field. The side panels and the info popup show objects this one way.
export function definitionList(rows, attrs = {}) {
  const dl = el("dl", { ...attrs, class: ["building-attributes", attrs.class].filter(Boolean).join(" ") });
  for (const r of rows) {
    const { label, text, hint, field } = formatRow(r);
    const dt = el("dt", {}, label);
    if (hint) dt.title = hint;
    dl.append(dt, el("dd", { "data-field": field }, text));
  }
  return dl;
}

export function renderBuilding(container, building, message = null) {
  container.replaceChildren();
  if (!building) {
    container.append(el("p", { class: "muted" }, message ?? t("clickBuilding")));
    return;
  }
  container.append(definitionList(buildingRows(building), { "data-building-id": building.building_id }));
}

export function renderAreaList(table, caption, valueHead, features, variable, label, onSelect) {
  valueHead.textContent = label;
  caption.textContent = t("listCaption", { label });
  const body = table.tBodies[0];
  body.replaceChildren();
  const rows = [...features].sort(
    (a, b) => (b.properties[variable] ?? -Infinity) - (a.properties[variable] ?? -Infinity),
  );
  for (const feature of rows) {
    const p = feature.properties;
    const name = areaName(p);
    const button = el("button", { type: "button", class: "link", "data-area": areaId(feature) }, name);
    button.setAttribute("aria-label", `${name}: ${t("showOnMap")}`);
    button.addEventListener("click", () => onSelect(feature));
    const tr = el("tr");
    const nameCell = el("td");
    nameCell.append(button);
    // A named grid cell keeps its INSPIRE id as a second line, for whoever looks it up in the census tables.
    if (p.cell_id && p.name) nameCell.append(el("span", { class: "area-id muted" }, p.cell_id));
    tr.append(nameCell, el("td", { class: "num" }, formatNumber(p[variable])));
    body.append(tr);
  }
}

export function renderAttribution(footer, twin) {
  footer.replaceChildren();
  for (const line of localText(twin, "attribution") || []) footer.append(el("span", {}, line));
  // The basemap's sources (OpenStreetMap), unless the twin already names them in the same words.
  const basemap = twin.basemap?.attribution;
  if (basemap && !(twin.attribution || []).includes(basemap)) footer.append(el("span", {}, basemap));
}

// Re-rendering the results replaces their nodes: the panel and the page must stay where the reader is (a plain
// click on "Nebeneinander" used to scroll the panel far away, to wherever the new nodes put the focus).
export function keepingScroll(node, render) {
  const kept = [];
  for (let el = node; el; el = el.parentElement) kept.push([el, el.scrollTop, el.scrollLeft]);
  const page = document.scrollingElement;
  const pageAt = page ? [page.scrollTop, page.scrollLeft] : null;
  render();
  for (const [el, top, left] of kept) {
    el.scrollTop = top;
    el.scrollLeft = left;
  }
  if (page && pageAt) [page.scrollTop, page.scrollLeft] = pageAt;
}
