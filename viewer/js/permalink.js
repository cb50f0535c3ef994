// The permalink's glue to the page: reads the link a twin is opened with (url_state.js parses it), restores what it
// shows once the twin's panels are loaded, and keeps the address bar's fragment current while the user works, so
// that the address bar and the share button (share.js) both give a link that opens this view again.

import { api } from "./api.js";
import { currentLang } from "./i18n.js";
import { emptyState, format, forTwin, PANELS, parse, popFrom } from "./url_state.js";

const WRITE_DELAY_MS = 300;

/**
 * @param {object} host what the permalink reads from and restores into the page:
 *   probe: the test probe (gets `permalink`: {state(), restored}),
 *   twin() -> the open twin or null, view() -> the map's view state,
 *   visible() -> the layer toggles' on/off by key (the page's own object, changed in place on restore),
 *   shown() -> {pop, scenario, proposal}: the panels' hashParam(),
 *   catalogue: the LayerCatalogue (its entries, `on` map, setShown(), renderList()),
 *   building() -> the selected building's id or null, showBuilding(record) selects a building as a click does,
 *   year (optional): the statistics time slider, {year(), setYear(y)} (stats_timeline.js), or later useYear().
 * @returns {object} take(twin), restore(twin, link), schedule(), link(), useYear(source), startTwin().
 */
export function createPermalink(host) {
  let timer = null;
  let yearSource = host.year ?? null; // the statistics time slider: {year(), setYear(y)}
  let pendingYear = null; // a link's year, for a slider that registers after the twin opened

  // The state of the page now, in url_state's terms.
  function current() {
    const twin = host.twin();
    const view = host.view();
    if (!twin) return emptyState();
    const shown = host.shown();
    const visible = host.visible();
    const panel = PANELS.find((name) => document.getElementById(`${name}-toggle`)?.getAttribute("aria-expanded") === "true");
    return {
      ...emptyState(),
      twin: twin.name,
      view: view ? { longitude: view.longitude, latitude: view.latitude, zoom: view.zoom, pitch: view.pitch ?? 0, bearing: view.bearing ?? 0 } : null,
      // The population layer is `pop` (with its persona and resolution), not one of the plain toggles.
      layers: Object.keys(visible).filter((key) => visible[key] && key !== "population"),
      catalogue: [...host.catalogue.on.keys()],
      pop: popFrom(shown.pop),
      building: host.building(),
      scenario: shown.scenario ?? null,
      proposal: shown.proposal ?? null,
      year: yearSource?.year() ?? pendingYear ?? null,
      panel: panel ?? null,
      lang: currentLang(),
    };
  }

  function write() {
    clearTimeout(timer);
    timer = null;
    const hash = format(current());
    if (hash && hash !== location.hash) history.replaceState(null, "", hash);
  }

  // Any change the user makes (a toggle, a panel opened, a choice) is worth a new fragment; so is a building
  // selected, whose details arrive after the click (by a click, the search or a link).
  for (const type of ["change", "click"]) document.addEventListener(type, () => schedule(), { passive: true });
  const details = document.getElementById("building-details");
  if (details) new MutationObserver(() => schedule()).observe(details, { childList: true });

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(write, WRITE_DELAY_MS);
  }

  const info = { state: current, restored: 0, link: () => link() };
  host.probe.permalink = info;

  function link() {
    return `${location.origin}${location.pathname}${location.search}${format(current())}`;
  }

  return {
    schedule,
    link,

    // The twin the page opens first: the link's, if any.
    startTwin() {
      return parse(location.hash).twin;
    },

    /**
     * What the link in the address bar asks of `twin` (nothing if it names another twin), with the view and the
     * population layer as the viewer opens them. The layer toggles of the link are set in `host.visible()` now,
     * before the twin's toggles are drawn. The fragment is then reset to the twin alone: what the link asked
     * for is written again once it is on screen.
     */
    take(twin) {
      const link = forTwin(parse(location.hash), twin.name);
      history.replaceState(null, "", format({ twin: twin.name, lang: link.lang ?? currentLang() }));
      if (link.layers) {
        const visible = host.visible();
        for (const key of Object.keys(visible)) if (key !== "population") visible[key] = false;
        for (const key of link.layers) if (key !== "population") visible[key] = true;
      }
      pendingYear = link.year;
      return {
        ...link,
        // `position` lifts the camera's pivot to the twin's ground, as views.fitBox does.
        view: link.view ? { ...link.view, position: [0, 0, twin.origin.height] } : null,
        population: link.pop ? { visible: true, ...link.pop } : { visible: false },
      };
    },

    /**
     * Restore what needs the twin's panels loaded: the language, the catalogue's layers, the selected building,
     * the statistics year and the open panel. Call once the twin's panels have opened.
     */
    async restore(twin, link) {
      if (host.twin() !== twin) return;
      if (link.lang && link.lang !== currentLang()) document.getElementById("lang-toggle")?.click();
      const entries = (link.catalogue ?? []).map((id) => host.catalogue.entries.find((e) => e.id === id)).filter(Boolean);
      for (const entry of entries) if (!host.catalogue.on.has(entry.id)) host.catalogue.setShown(entry, true);
      if (entries.length) host.catalogue.renderList();
      if (link.year && yearSource) {
        yearSource.setYear(link.year);
        pendingYear = null;
      }
      if (link.panel) {
        const toggle = document.getElementById(`${link.panel}-toggle`);
        if (toggle && toggle.getAttribute("aria-expanded") !== "true" && !toggle.closest("[hidden]")) toggle.click();
      }
      if (link.building) await selectBuilding(twin, link.building);
      info.restored += 1;
      schedule();
    },

    // The statistics time slider registers here ({year(), setYear(y)}); it calls schedule() when the year changes.
    useYear(source) {
      yearSource = source;
      if (pendingYear !== null && host.twin()) {
        source.setYear(pendingYear);
        pendingYear = null;
      }
    },
  };

  // A building of the link, selected as a click on it would; a building that is gone is simply not selected.
  async function selectBuilding(twin, id) {
    try {
      const building = await api.building(twin.name, id);
      if (host.twin() === twin) host.showBuilding(building);
    } catch {
      // the view is restored; the building's details are a bonus
    }
  }
}
