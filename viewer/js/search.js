// The search box in the top bar: streets, addresses, districts, parcels and named places of the open twin.
// Keyboard first (the ARIA combobox pattern): "/" or Ctrl+K focuses the box, typing asks the server (debounced,
// a newer query aborts the older request), ArrowUp/ArrowDown move through the results, Enter flies to the active
// result (the first if none is active), Escape closes the list and gives the focus back.

import { api } from "./api.js";
import { currentLang, t } from "./i18n.js";

const DEBOUNCE_MS = 150;
const LIMIT = 8;
const MIN_ZOOM = 14;
const MAX_ZOOM = 18;

// The zoom that shows a result's box on the map (deck's own fit), kept between a district and a house.
function zoomFor(bbox, width, height) {
  const [west, south, east, north] = bbox;
  const { WebMercatorViewport } = globalThis.deck;
  const viewport = new WebMercatorViewport({ width: width || 800, height: height || 600 });
  const { zoom } = viewport.fitBounds(
    [
      [west, south],
      [east, north],
    ],
    { padding: Math.min(60, Math.floor(Math.min(width || 800, height || 600) / 5)) },
  );
  return Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, zoom));
}

// Binds the box of index.html. `flyTo(lon, lat, zoom)` moves the map, `mapSize()` gives its [width, height],
// `status(text)` shows a short message, `focusMap()` takes the focus back when nothing else should have it,
// `showBuilding(building)` selects the building of an address or a named building (its API record).
export function createSearch({ probe, flyTo, mapSize, status, focusMap, showBuilding }) {
  const input = document.getElementById("search-input");
  const popup = document.getElementById("search-popup");
  const list = document.getElementById("search-results");
  const note = document.getElementById("search-note");
  const announce = document.getElementById("search-status"); // read out where the flight goes
  const found = { results: [], picked: null, queries: 0, fuzzy: false };
  probe.search = found;
  let twin = null;
  let timer = null;
  let request = null; // the AbortController of the request in flight
  let results = [];
  let shownFor = null; // the text whose results are shown
  let active = -1;
  let returnTo = null; // what had the focus before the box

  function setOpen(open) {
    popup.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    if (!open) setActive(-1);
  }

  function setActive(index) {
    active = index;
    for (const [i, item] of [...list.children].entries()) item.setAttribute("aria-selected", String(i === index));
    if (index >= 0 && list.children[index]) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(answer, text = shownFor) {
    shownFor = text;
    results = answer.results;
    found.results = results;
    found.fuzzy = answer.fuzzy;
    list.replaceChildren(
      ...results.map((hit, i) => {
        const item = document.createElement("li");
        item.id = `search-option-${i}`;
        item.className = "search-option";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        const name = document.createElement("span");
        name.className = "search-name";
        name.textContent = hit.name;
        const detail = document.createElement("span");
        detail.className = "search-detail";
        detail.textContent = `${t(`searchKind_${hit.kind}`)} · ${hit.detail}`;
        item.dataset.index = String(i);
        item.append(name, detail);
        return item;
      }),
    );
    note.textContent = results.length === 0 ? t("searchNone") : answer.fuzzy ? t("searchFuzzy") : t("searchCount", { count: results.length });
    setOpen(true);
    setActive(-1);
  }

  async function run(text) {
    request?.abort();
    clearTimeout(timer);
    if (!twin || text.trim() === "") {
      shownFor = text;
      results = [];
      found.results = [];
      list.replaceChildren();
      setOpen(false);
      return;
    }
    const controller = new AbortController();
    request = controller;
    const url = `/api/twins/${encodeURIComponent(twin.name)}/search?q=${encodeURIComponent(text)}&limit=${LIMIT}&lang=${currentLang()}`;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      const answer = await response.json();
      if (request !== controller) return; // a newer query was typed meanwhile
      found.queries += 1;
      show(answer, text);
    } catch (error) {
      if (error.name === "AbortError") return;
      note.textContent = t("searchFailed", { message: error.message });
      list.replaceChildren();
      results = [];
      setOpen(true);
    } finally {
      if (request === controller) request = null;
    }
  }

  function pick(index) {
    const hit = results[index];
    if (!hit) return;
    const [width, height] = mapSize();
    const zoom = zoomFor(hit.bbox, width, height);
    found.picked = { ...hit, zoom };
    input.value = hit.name;
    setOpen(false);
    const where = t("searchFlying", { name: `${hit.name}, ${hit.detail}` });
    announce.textContent = where;
    status(where); // the map's status line, until the tiles there report
    flyTo(hit.lon, hit.lat, zoom);
    if ((hit.kind === "address" || hit.kind === "place") && hit.ref) selectBuilding(twin, hit.ref);
  }

  // The building an address or a name belongs to, selected as a click on it would (its id in the index).
  async function selectBuilding(forTwin, ref) {
    try {
      const building = await api.building(forTwin.name, ref);
      if (twin === forTwin) showBuilding(building);
    } catch {
      // the flight has happened; the details are a bonus
    }
  }

  function close() {
    setOpen(false);
    const target = returnTo && returnTo !== input && returnTo !== document.body && document.contains(returnTo) ? returnTo : null;
    returnTo = null;
    if (target) target.focus();
    else focusMap();
  }

  // pointerdown, not click: the box keeps the focus (its blur would close the list before the pick).
  popup.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    const item = event.target instanceof Element ? event.target.closest("[role=option]") : null;
    if (item) pick(Number(item.dataset.index));
  });

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value;
    timer = setTimeout(() => run(text), DEBOUNCE_MS);
  });

  input.addEventListener("keydown", async (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (popup.hidden && results.length) setOpen(true);
      if (!results.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive(active < 0 ? (step > 0 ? 0 : results.length - 1) : (active + step + results.length) % results.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      // Enter right after typing: ask now instead of waiting for the pause.
      if (input.value !== shownFor) await run(input.value);
      pick(Math.max(active, 0));
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("focus", (event) => {
    if (!returnTo) returnTo = event.relatedTarget instanceof HTMLElement ? event.relatedTarget : null;
    if (results.length && input.value.trim() !== "") setOpen(true);
  });
  // The list closes when the focus goes elsewhere (Tab, a click on the map).
  input.addEventListener("blur", () => {
    setOpen(false);
    returnTo = null;
  });

  // "/" (outside any field) or Ctrl+K / Cmd+K from anywhere focuses the box.
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, [contenteditable]");
    const slash = event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey;
    const ctrlK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
    if (!slash && !ctrlK) return;
    event.preventDefault();
    if (document.activeElement !== input) returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    input.focus();
    input.select();
  });

  function relabel() {
    input.placeholder = t("searchPlaceholder");
    if (!popup.hidden) show({ results, fuzzy: found.fuzzy });
  }
  relabel();
  setOpen(false);

  return {
    // A twin was opened: forget the last one's query and results.
    open(next) {
      twin = next;
      request?.abort();
      clearTimeout(timer);
      Object.assign(found, { results: [], picked: null, fuzzy: false });
      results = [];
      shownFor = null;
      input.value = "";
      list.replaceChildren();
      setOpen(false);
    },
    relabel,
  };
}
