// The map's answer to "what is this?": a popup at the clicked object (a building, a facility, a parcel, a feature of
// a loaded layer, a citizen's place or proposal, an area of the statistics) with its name and labelled values, by
// mouse click, touch tap, or the keyboard (Enter or Space on the focused map: the object under the crosshair at the
// map's centre). The popup follows the map as it moves and flips below the object where there is no room above; on
// a phone it docks over the map just above the bottom sheet. Several objects under one click: the topmost one
// (info_format.js KINDS), with an "also here" list to switch. It is a non-modal dialog: Escape or its close button
// close it and give the focus back to the map. The map tools (measuring, drawing, pinning, choosing a home) keep
// the clicks they want; the page's hover tooltips are answered here too. Text is set with textContent only.

import { api } from "./api.js";
import { PHONE_QUERY } from "./bottom_sheet.js";
import { facilityClasses } from "./facility_style.js";
import { currentLang, t } from "./i18n.js";
import { KINDS, describe, formatRow } from "./info_format.js";
import { facilitiesLayer } from "./layers.js";
import { categoryName } from "./names.js";
import { definitionList, el } from "./panels.js";
import { PIN_LAYER as PLACE_PIN } from "./places_layers.js";
import { AREA_LAYER as PROPOSAL_AREA, PIN_LAYER as PROPOSAL_PIN } from "./proposals_layers.js";

const GAP = 14; // px between the object and the popup's edge (room for its arrow)
const MARGIN = 6; // px the popup keeps from the map's edges

/**
 * The info popup and the facilities layer with its legend.
 *
 * @param {object} host {deckgl() -> the Deck, probe, twin() -> the twin shown, facilities() -> its facilities'
 *   GeoJSON, visible() -> the page's layer visibility, choropleth() -> {variable, label} of the area statistics,
 *   tools: the map tools in the order they take clicks (each click(info) -> true when used), tooltips: panels
 *   whose tooltip(info) answers hovers first, population (pick(info)), parcels (at(click), afterBuilding(lonLat)),
 *   places ({selected, categoryName(id)}), proposals ({selected, topicName(id)}), catalogue (entryOf(layerId)),
 *   groundAt(x, y) -> [lon, lat], showBuilding(building, message) (the side panel and the highlight),
 *   busy() -> true while a map tool takes the map's keys, onError}.
 * @returns {object} click(info), tooltip(info), layers(), follow() (after each frame), relabel(), close().
 */
export function createInfo(host) {
  const dom = {
    map: document.getElementById("map"),
    container: document.getElementById("deck-container"),
    popup: document.getElementById("info-popup"),
  };
  const probe = { opened: 0, closed: 0, open: false, kind: null, title: null, also: [] };
  host.probe.info = probe; // what the browser tests wait on
  let current = null; // {twin, candidates, index, anchor}
  let generation = 0; // the newest request: an older answer arriving late is dropped
  let placedAt = "";
  let facilityStyle = null;

  // ---- the popup's parts ---------------------------------------------------------------------------------------
  const title = el("h2", { id: "info-title", class: "info-title" });
  const kindLine = el("p", { class: "info-kind" });
  const closeButton = el("button", { type: "button", class: "info-close" }, "×");
  const body = el("div", { class: "info-body" });
  const arrow = el("span", { class: "info-arrow", "aria-hidden": "true" });
  const head = el("div", { class: "info-head" });
  head.append(title, closeButton);
  dom.popup.replaceChildren(head, kindLine, body, arrow);
  dom.popup.setAttribute("role", "dialog");
  dom.popup.setAttribute("aria-labelledby", "info-title");
  dom.popup.setAttribute("tabindex", "-1");
  closeButton.addEventListener("click", () => close({ focusMap: true }));
  dom.popup.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    close({ focusMap: true });
  });

  // The keyboard on the focused map: Enter or Space asks about the centre (under the crosshair), Escape closes.
  dom.container.addEventListener("keydown", (event) => {
    if (event.target.tagName !== "CANVAS" || event.altKey || event.ctrlKey || event.metaKey) return;
    // While a map tool draws or places, Enter is its key (closing a shape ...), not a question about the centre.
    if ((event.key === "Enter" || event.key === " ") && !host.busy()) {
      event.preventDefault();
      atCentre();
    } else if (event.key === "Escape" && current) {
      event.preventDefault();
      close();
    }
  });
  let pointer = "mouse"; // the kind of the last pointer pressed on the map (mouse, pen, touch)
  dom.container.addEventListener("pointerdown", (event) => (pointer = event.pointerType), { capture: true });
  dom.container.addEventListener("focusin", (event) => {
    if (event.target.tagName === "CANVAS") event.target.setAttribute("aria-describedby", "info-key-hint");
  });

  const deck = () => host.deckgl();
  const canvas = () => deck().getCanvas();

  // ---- what lies under a click ---------------------------------------------------------------------------------
  function candidateOf(pick, twin) {
    const id = pick.layer?.id ?? "";
    const object = pick.object;
    if (id === PLACE_PIN && object?.place) {
      const place = object.place;
      return { kind: "place", key: place.place_id, record: place, more: `place-${place.place_id}-head` };
    }
    if ((id === PROPOSAL_PIN || id === PROPOSAL_AREA) && object) {
      return { kind: "proposal", key: object.proposal_id, record: object, more: `proposal-${object.proposal_id}-head` };
    }
    if (id === `facilities-${twin.name}` && object?.properties) {
      return { kind: "facility", key: object.properties.facility_id, record: object.properties };
    }
    if (id.startsWith(`catalogue-${twin.name}-`) && object?.properties) {
      const entry = host.catalogue.entryOf(id);
      if (!entry) return null;
      return { kind: "layer", key: `${entry.id}:${object.properties.id ?? pick.index}`, record: object.properties, entry };
    }
    if (id.startsWith("buildings-")) {
      const coordinate = pick.coordinate;
      return coordinate ? { kind: "building", key: "building", resolve: () => buildingAt(twin, coordinate), more: "details-title" } : null;
    }
    if (id.startsWith("parcels-") || id.startsWith("land-use-")) {
      return { kind: "parcel", key: "parcel", resolve: () => host.parcels.at({ x: pick.x, y: pick.y, layer: pick.layer }), more: "parcel-title" };
    }
    if (id.startsWith("choropleth-") && object?.properties) {
      return { kind: "area", key: object.properties.district_id ?? object.properties.cell_id, record: object.properties };
    }
    return null;
  }

  function candidatesAt(info, twin) {
    let picks = [];
    try {
      picks = deck().pickMultipleObjects({ x: info.x, y: info.y, radius: 3, depth: 6, unproject3D: true });
    } catch (error) {
      host.onError(error);
    }
    const found = [];
    const seen = new Set();
    // The 3D picks first: their coordinates lie on the roof or wall clicked, the click's own on the ground plane.
    for (const pick of info.layer ? [...picks, info] : picks) {
      const candidate = candidateOf(pick, twin);
      if (!candidate || seen.has(`${candidate.kind}:${candidate.key}`)) continue;
      seen.add(`${candidate.kind}:${candidate.key}`);
      found.push(candidate);
    }
    // Nothing drawn here: on a twin with a cadastre, the parcel on the ground under the click.
    if (found.length === 0 && twin.counts?.parcels) {
      found.push({ kind: "parcel", key: "parcel", resolve: () => host.parcels.at({ x: info.x, y: info.y, layer: null }), more: "parcel-title" });
    }
    found.sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind));
    const anchor = [...picks, info].find((p) => p?.coordinate)?.coordinate ?? host.groundAt(info.x, info.y);
    return { found, anchor };
  }

  // deck.gl picks a tile, not a building: the server says which building stands at the picked 3D point.
  async function buildingAt(twin, coordinate) {
    try {
      const building = await api.buildingAt(twin.name, coordinate[0], coordinate[1]);
      host.parcels.afterBuilding(coordinate);
      host.showBuilding(building);
      return building;
    } catch (error) {
      if (error.status !== 404) host.onError(error);
      else host.showBuilding(null, t("noBuildingHere"));
      return null;
    }
  }

  // ---- opening, drawing, closing -------------------------------------------------------------------------------
  async function show(candidates, index, anchor, { focus = false } = {}) {
    const twin = host.twin();
    const mine = ++generation;
    const candidate = candidates[index];
    if (!candidate.record) {
      current = { twin, candidates, index, anchor, loading: true };
      draw();
      const record = await Promise.resolve(candidate.resolve()).catch((error) => {
        host.onError(error);
        return null;
      });
      if (mine !== generation) return;
      if (!record) {
        // Nothing there after all (no building at the point): the next object under the click, if any.
        const rest = candidates.filter((_, i) => i !== index);
        if (rest.length) return show(rest, 0, anchor, { focus });
        return close();
      }
      candidate.record = record;
    }
    current = { twin, candidates, index, anchor };
    draw();
    Object.assign(probe, {
      opened: probe.opened + 1,
      open: true,
      kind: candidate.kind,
      title: candidate.kind === "nothing" ? t("info_nothing") : describe(candidate.kind, candidate.record, contextOf(candidate)).title,
      also: candidates.filter((_, i) => i !== index).map((c) => c.kind),
    });
    if (focus) dom.popup.focus();
  }

  function contextOf(candidate) {
    if (candidate.kind === "layer") return { entry: candidate.entry };
    if (candidate.kind === "place") return { categoryName: (id) => host.places.categoryName(id) };
    if (candidate.kind === "proposal") return { topicName: (id) => host.proposals.topicName(id) };
    if (candidate.kind === "area") return { choropleth: host.choropleth() };
    return {};
  }

  // A short name of a candidate for the "also here" list: its kind, and its name where it is known already.
  function shortName(candidate) {
    const kind = t(`info_kind_${candidate.kind}`);
    if (!candidate.record) return kind;
    const name = describe(candidate.kind, candidate.record, contextOf(candidate)).title;
    return name && name !== kind ? `${kind}: ${name}` : kind;
  }

  function draw() {
    if (!current) return;
    const { candidates, index, loading } = current;
    const candidate = candidates[index];
    dom.popup.hidden = false;
    closeButton.setAttribute("aria-label", t("info_closeLabel"));
    closeButton.title = t("info_close");
    if (loading) {
      title.textContent = t(`info_kind_${candidate.kind}`);
      kindLine.textContent = "";
      body.replaceChildren(el("p", { class: "info-loading" }, t("info_loading")));
    } else if (candidate.kind === "nothing") {
      title.textContent = t("info_nothing");
      kindLine.textContent = "";
      body.replaceChildren();
    } else {
      const shown = describe(candidate.kind, candidate.record, contextOf(candidate));
      title.textContent = shown.title;
      const kind = t(`info_kind_${candidate.kind}`);
      kindLine.textContent = kind === shown.title ? "" : kind; // an unnamed building is titled by its kind already
      body.replaceChildren(definitionList(shown.rows, { class: "info-rows", "data-kind": candidate.kind }));
      if (candidate.more) body.append(moreButton(candidate));
    }
    const others = candidates.map((c, i) => [c, i]).filter(([, i]) => i !== index);
    if (others.length) {
      const list = el("ul", { class: "info-also-list" });
      for (const [other, i] of others) {
        const button = el("button", { type: "button", class: "link" }, shortName(other));
        button.addEventListener("click", () => show(candidates, i, current.anchor, { focus: true }));
        list.append(el("li"));
        list.lastElementChild.append(button);
      }
      const also = el("div", { class: "info-also" });
      also.append(el("h3", {}, t("info_alsoHere")), list);
      body.append(also);
    }
    placedAt = "";
    follow();
  }

  // The link to the full item: the side panel's building or parcel details, the place's or proposal's entry.
  function moreButton(candidate) {
    const key = { place: "info_openPlace", proposal: "info_openProposal" }[candidate.kind] ?? "info_more";
    const button = el("button", { type: "button", class: "link info-more" }, t(key));
    button.addEventListener("click", () => {
      const target = document.getElementById(candidate.more);
      if (!target) return;
      if (!target.matches("button, a, input, select, textarea, [tabindex]")) target.setAttribute("tabindex", "-1");
      target.scrollIntoView({ block: "nearest" });
      target.focus();
    });
    const line = el("p", { class: "info-more-row" });
    line.append(button);
    return line;
  }

  function close({ focusMap = false } = {}) {
    generation += 1;
    if (current) Object.assign(probe, { closed: probe.closed + 1, open: false });
    current = null;
    dom.popup.hidden = true;
    if (focusMap) canvas()?.focus();
  }

  // Where the popup sits: above the object's point on screen (below where there is no room), inside the map; on
  // a phone docked at the bottom of the map, above the sheet (style.css).
  function follow() {
    if (!current || dom.popup.hidden) return;
    const docked = matchMedia(PHONE_QUERY).matches;
    dom.popup.classList.toggle("docked", docked);
    const viewport = deck().getViewports()[0];
    const point = current.anchor && viewport ? viewport.project(current.anchor) : null;
    const key = `${docked}:${point?.[0]?.toFixed(1)}:${point?.[1]?.toFixed(1)}:${dom.popup.offsetHeight}`;
    if (key === placedAt) return;
    placedAt = key;
    if (docked || !point) {
      dom.popup.style.left = "";
      dom.popup.style.top = "";
      arrow.hidden = true;
      return;
    }
    const mapBox = dom.map.getBoundingClientRect();
    const canvasBox = dom.container.getBoundingClientRect();
    const x = point[0] + canvasBox.left - mapBox.left;
    const y = point[1] + canvasBox.top - mapBox.top;
    const width = dom.popup.offsetWidth;
    const height = dom.popup.offsetHeight;
    const above = y - GAP - height >= MARGIN;
    const room = mapBox.height - height - MARGIN;
    const top = Math.max(MARGIN, Math.min(above ? y - GAP - height : y + GAP, room));
    const left = Math.max(MARGIN, Math.min(x - width / 2, mapBox.width - width - MARGIN));
    dom.popup.style.left = `${Math.round(left)}px`;
    dom.popup.style.top = `${Math.round(top)}px`;
    dom.popup.dataset.side = above ? "above" : "below";
    const inside = x >= 0 && y >= 0 && x <= mapBox.width && y <= mapBox.height;
    const pointsAt = above ? y - GAP - height === top : y + GAP === top;
    arrow.hidden = !inside || !pointsAt;
    arrow.style.left = `${Math.round(Math.max(14, Math.min(x - left, width - 14)))}px`;
  }

  // Enter on the focused map: what is under the crosshair at its centre.
  function atCentre() {
    const c = canvas();
    if (!c || !host.twin()) return;
    const x = c.clientWidth / 2;
    const y = c.clientHeight / 2;
    const pick = deck().pickObject({ x, y, radius: 3, unproject3D: true });
    const info = pick ?? { x, y, coordinate: host.groundAt(x, y), layer: null, object: null };
    click({ ...info, x, y }, { keyboard: true });
  }

  async function click(info, { keyboard = false } = {}) {
    const twin = host.twin();
    if (!twin) return;
    const toolTook = host.tools.some((tool) => tool.click(info));
    const pin = toolTook ? candidateOf(info, twin) : null;
    // A pin the places or proposals panel has just selected gets its popup too; any other tool's click closes it.
    const selected =
      (pin?.kind === "place" && host.places.selected === pin.key) ||
      (pin?.kind === "proposal" && host.proposals.selected === pin.key);
    if (toolTook && !selected) return close();
    if (!toolTook && info.layer && host.population.pick(info)) return close();
    const { found, anchor } = candidatesAt(info, twin);
    if (found.length === 0) {
      if (!keyboard) return close();
      return show([{ kind: "nothing", key: "nothing", record: {} }], 0, anchor, { focus: true });
    }
    await show(found, 0, anchor, { focus: keyboard });
  }

  // ---- hover tooltips (mouse users; the popup is the way for everyone) ------------------------------------------
  function tooltip(info) {
    // Hovering is a mouse's; a finger's tap would leave a tooltip beside the popup.
    if (pointer === "touch") return null;
    const twin = host.twin();
    const candidate = twin && info.layer ? candidateOf(info, twin) : null;
    // What the popup shows already needs no tooltip beside it.
    const shown = current?.candidates[current.index];
    if (candidate?.record && shown && candidate.kind === shown.kind && candidate.key === shown.key) return null;
    for (const panel of host.tooltips) {
      const tip = panel.tooltip(info);
      if (tip) return tip;
    }
    if (!candidate?.record || !["facility", "layer", "area"].includes(candidate.kind)) return null;
    const described = describe(candidate.kind, candidate.record, contextOf(candidate));
    const lines = described.rows.filter((r) => r.key !== "info_layer").slice(0, 3).map(formatRow);
    return { text: [described.title, ...lines.map((r) => `${r.label}: ${r.text}`)].join("\n") };
  }

  // ---- the facilities in their categories' colours, and their legend under the layer's toggle -----------------
  function styleOf(data) {
    const lang = currentLang();
    if (facilityStyle?.data === data && facilityStyle.lang === lang) return facilityStyle;
    const sample = new Map(data.features.map((f) => [f.properties?.category, f.properties]));
    const { classes, classOf } = facilityClasses(data.features, (c) => categoryName(sample.get(c)), t("info_otherFacilities"));
    facilityStyle = { data, lang, classes, classOf, key: `${lang}:${data.features.length}:${classes.length}` };
    facilityStyle.legend = null;
    return facilityStyle;
  }

  function syncLegend(style, visible) {
    const toggle = document.getElementById("toggle-facilities")?.parentElement;
    let legend = document.getElementById("facility-legend");
    if (!toggle) return;
    if (!legend || legend.previousElementSibling !== toggle || style.legend !== legend) {
      legend?.remove();
      legend = el("ul", { id: "facility-legend", class: "facility-legend", "aria-label": t("info_facilityLegend") });
      for (const c of style.classes) {
        const mark = el("span", { class: "facility-mark", "aria-hidden": "true" }, c.letter);
        mark.style.background = `rgb(${c.color.join(",")})`;
        const item = el("li");
        item.append(mark, document.createTextNode(c.name));
        legend.append(item);
      }
      toggle.after(legend);
      style.legend = legend;
    }
    legend.hidden = !visible;
  }

  function layers() {
    const twin = host.twin();
    if (current && current.twin !== twin) close();
    const data = host.facilities();
    if (!twin || !data?.features) return [];
    const style = styleOf(data);
    const visible = Boolean(host.visible().facilities);
    syncLegend(style, visible);
    return facilitiesLayer(twin, data, visible, style);
  }

  function relabel() {
    if (current) draw();
  }

  return { click, tooltip, layers, follow, relabel, close };
}
