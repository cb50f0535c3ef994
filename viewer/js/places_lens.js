// The representation lens (GET .../lens): which groups and areas are not heard, for outreach. Small counts are
// withheld by the server (null); they are shown as "too few", never guessed.

import { currentLang, formatNumber, t } from "./i18n.js";
import { el } from "./panels.js";

function percent(share) {
  return share === null || share === undefined ? t("lensWithheld") : `${formatNumber(share * 100, 1)} %`;
}

// Point in (multi)polygon, for naming an area by the district it lies in.
function inRing(ring, [x, y]) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function contains(geometry, point) {
  const polygons = geometry?.type === "Polygon" ? [geometry.coordinates] : geometry?.type === "MultiPolygon" ? geometry.coordinates : [];
  return polygons.some((rings) => inRing(rings[0], point) && !rings.slice(1).some((hole) => inRing(hole, point)));
}

// `districts`: GeoJSON features with a name (or null); `onShow(lon, lat)` flies the map to an area.
export function renderLens(container, lens, { districts = [], onShow, maxAreas = 5 }) {
  container.replaceChildren();
  if (!lens) return;
  if (lens.unavailable) {
    container.append(el("p", { class: "muted small" }, t("lensUnavailable")));
    return;
  }
  container.append(el("p", { class: "muted small" }, t("lensIntro")));
  if (lens.contributions === null || lens.described === null || !lens.described) {
    container.append(el("p", { class: "small", "data-lens": "too-few" }, t("lensTooFew", { n: lens.min_count })));
    return;
  }
  container.append(
    el("p", { class: "small" }, t("lensDescribed", { described: formatNumber(lens.described), total: formatNumber(lens.contributions) })),
  );
  const en = currentLang() === "en";
  const groups = new Map(lens.groups.map((g) => [g.id, g]));
  container.append(el("h4", {}, t("lensGroups")));
  const groupList = el("ul", { class: "lens-list", "data-lens": "groups" });
  for (const id of lens.under_heard.groups) {
    const g = groups.get(id);
    if (!g) continue;
    const item = el("li", { "data-group": id });
    item.append(el("strong", {}, en ? g.name_en : g.name), document.createTextNode(": "));
    item.append(document.createTextNode(t("lensShare", { contrib: percent(g.contribution_share), pop: percent(g.population_share) })));
    groupList.append(item);
  }
  if (!groupList.children.length) container.append(el("p", { class: "muted small" }, t("lensNoGroups")));
  else container.append(groupList);

  const cells = new Map(lens.cells.map((c) => [c.h3, c]));
  container.append(el("h4", {}, t("lensAreas")));
  const areaList = el("ul", { class: "lens-list", "data-lens": "areas" });
  for (const h3 of lens.under_heard.cells.slice(0, maxAreas)) {
    const c = cells.get(h3);
    if (!c) continue;
    const district = districts.find((d) => contains(d.geometry, [c.lon, c.lat]));
    const name = district?.name ?? `${c.lat.toFixed(3)}° N, ${c.lon.toFixed(3)}° E`;
    const item = el("li", { "data-h3": h3 });
    item.append(
      el("strong", {}, t("lensArea", { name })),
      document.createTextNode(`: ${t("lensShare", { contrib: percent(c.contribution_share), pop: percent(c.population_share) })} `),
    );
    const show = el("button", { type: "button", class: "link small" }, t("lensShow"));
    show.setAttribute("aria-label", `${t("lensArea", { name })}: ${t("lensShow")}`);
    show.addEventListener("click", () => onShow(c.lon, c.lat));
    item.append(show);
    areaList.append(item);
  }
  if (!areaList.children.length) container.append(el("p", { class: "muted small" }, t("lensNoAreas")));
  else container.append(areaList);
}
