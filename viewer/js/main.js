// The twin3d viewer: picks a twin, shows its 3D buildings and population, and answers clicks on buildings.

import { api } from "./api.js";
import { quantileBreaks } from "./classify.js";
import { applyStaticTexts, t, toggleLang } from "./i18n.js";
import {
  areaId,
  buildingsLayer,
  choroplethLayer,
  highlightLayer,
  outlineLayer,
  pathsLayer,
} from "./layers.js";
import { renderAreaList, renderAttribution, renderBuilding, renderLegend, renderToggles } from "./panels.js";
import { LayerCatalogue } from "./layer_catalogue.js";
import { PopulationPanel } from "./population_panel.js";
import { ScenarioPanel } from "./scenario_panel.js";
import { ModerationPanel } from "./moderation_panel.js";
import { PlacesPanel } from "./places_panel.js";
import { SurveyPanel } from "./survey_panel.js";
import { ProposalsPanel } from "./proposals_panel.js";
import { createForMe } from "./for_me_panel.js";
import { choroplethFor, districtChoices, districtShapes, layerToggles } from "./districts.js";
import { buildingPoint, viewBounds } from "./places_map.js";
import { mountDivider, swipe } from "./swipe.js";
import { createParcels } from "./parcels.js";
import { localText, twinLabel } from "./names.js";
import { createSearch } from "./search.js";
import { createBasemap } from "./basemap.js";
import * as views from "./views.js";
import { createPermalink } from "./permalink.js";
import { createShare } from "./share.js";
import { createPrint } from "./print.js";
import { createMeasure } from "./measure.js";
import { createSunTool, draftBuildings } from "./sun_tool.js";
import { createStatsTimeline } from "./stats_timeline.js";
import { createBottomSheet, createMapHint } from "./bottom_sheet.js";
import { createTileWatch } from "./tiles_status.js";
import { createInfo } from "./info_popup.js";

const { Deck, MapView, FlyToInterpolator } = globalThis.deck;

// State the browser tests read: they wait on these signals instead of sleeping.
const probe = (globalThis.__twin3d = {
  swipe: null, // the divider's share of the map width while the scenario is swiped
  twin: null,
  frames: 0,
  tilesLoaded: 0,
  tileErrors: 0,
  tilesetReady: false,
  allTilesLoaded: false,
  lastBuilding: null,
  errors: [],
  // Screen position of a geographic point (lon, lat, metres above the ellipsoid), for tests that click on things.
  project: (lon, lat, z) => deckgl.getViewports()[0]?.project([lon, lat, z]) ?? null,
  // The point on the twin's ground under canvas pixel (x, y), as [lon, lat].
  groundAt: (x, y) => groundAt(x, y),
  // The layer a click at canvas pixel (x, y) would hit, so tests click only once the target is there.
  pickLayer: (x, y) => deckgl.pickObject({ x, y, radius: 2 })?.layer?.id ?? null,
  // The ids of the map views on screen: one, or "baseline" and "scenario" side by side.
  viewports: () => deckgl.getViewports().map((v) => v.id),
  // Where each map view looks: [longitude, latitude, zoom] per view.
  views: () => deckgl.getViewports().map((v) => [v.longitude, v.latitude, v.zoom]),
});

const state = {
  twins: [],
  twin: null,
  tileset: null,
  layersData: {},
  // The population layer starts hidden: its columns would stand in front of the buildings one clicks on.
  // The census colouring is a layer one switches on; the basemap (streets, water, names) is on, and draws the
  // streets the path network (the walking graph of the analyses) would draw again.
  visible: { basemap: true, buildings: true, choropleth: false, facilities: false, paths: false, districts: false,
    population: false },
  choropleth: null,
  breaks: [],
  building: null,
  selectedArea: null,
  viewState: null,
  compare: false,
};

const dom = {
  select: document.getElementById("twin-select"),
  description: document.getElementById("twin-description"),
  status: document.getElementById("status"),
  toggles: document.getElementById("layer-toggles"),
  legend: document.getElementById("legend"),
  legendLabel: document.getElementById("legend-label"),
  details: document.getElementById("building-details"),
  areaTable: document.getElementById("area-list"),
  areaCaption: document.getElementById("area-caption"),
  areaValueHead: document.getElementById("area-value-head"),
  attribution: document.getElementById("attribution"),
};

function setStatus(text) {
  dom.status.textContent = text;
}

function fail(error) {
  probe.errors.push(String(error?.message ?? error));
  setStatus(t("loadError", { message: error?.message ?? String(error) }));
}

// The society twin's layer and panel; it asks for a redraw when its data or selection change.
const population = new PopulationPanel({
  probe,
  onChange: ({ toggles = false } = {}) => {
    state.visible.population = population.visible;
    if (toggles && state.twin) showToggles(state.twin);
    render();
    hashLink.schedule();
  },
  onError: (error) => fail(error),
});

// The catalogue of loaded GIS layers (vector, raster, 3D), shown by the caller's role.
const catalogue = new LayerCatalogue({
  probe,
  onChange: () => render(),
  onError: (error) => fail(error),
  attribution: dom.attribution,
});

// What the panels that work on the map may ask of it: ground and roof points, the building there, the view.
const mapTools = {
  unproject: (x, y) => groundAt(x, y),
  // The point on a roof (3D) under the cursor, else on the ground: buildings are picked where they are seen.
  roofAt: (x, y) => deckgl.pickObject({ x, y, radius: 2, unproject3D: true })?.coordinate ?? groundAt(x, y),
  buildingAt: (lonLat) => api.buildingAt(state.twin.name, lonLat[0], lonLat[1]),
  centre: () => {
    const canvas = deckgl.getCanvas();
    return canvas ? groundAt(canvas.clientWidth / 2, canvas.clientHeight / 2) : null;
  },
  bounds: () => {
    const container = document.getElementById("deck-container");
    return viewBounds(state.viewState, container.clientWidth, container.clientHeight, state.twin);
  },
  flyTo: (longitude, latitude, zoom) => flyTo({ ...state.viewState, longitude, latitude, zoom }),
};

// One map tool at a time: the one that starts ends the others' (drawing, pinning, measuring, choosing a home).
function toolStarted(owner) {
  for (const tool of [scenario, places, proposals, measure]) if (tool !== owner) tool.cancelTool();
}

// "Messen" (distances, areas, heights): while it is on, map clicks are its points and the other tools stop.
const measure = createMeasure({
  probe, ...mapTools, pickBuilding: (x, y) => buildingPoint(deckgl, x, y), onChange: () => render(), onError: fail,
  onStart: () => toolStarted(measure),
  onTool: (on) => setDrawing(on || scenario.drawing || proposals.drawing),
});

// The scenario panel: measures drawn on the map, their results per persona.
const scenario = new ScenarioPanel({
  probe,
  onChange: ({ permalink = false, tool = false } = {}) => {
    if (tool) setDrawing(scenario.drawing || proposals.drawing);
    if (tool && scenario.drawing) toolStarted(scenario);
    render();
    if (permalink) hashLink.schedule();
  },
  onError: (error) => fail(error),
  showLayer: (key) => {
    if (state.visible[key]) return;
    state.visible[key] = true;
    if (state.twin) showToggles(state.twin);
  },
  ...mapTools,
  facilities: () => state.layersData.facilities ?? null,
  districts: () => districtChoices(state.twin, state.layersData),
});

// "Sonne & Schatten": the time slider, the buildings' shadows on the ground with the draft's planned buildings,
// and deck.gl's light from the sun while it is open.
const sun = createSunTool({
  probe,
  onChange: () => render(),
  onError: (error) => fail(error),
  bounds: () => mapTools.bounds(),
  draft: () => draftBuildings(scenario.measures),
  setEffects: (effects) => deckgl.setProps({ effects }),
});
// The statistics time slider over the choropleth's years (stats_timeline.js; the share link uses year()/setYear()).
const timeline = createStatsTimeline({ probe, onChange: () => { updateChoropleth(); render(); hashLink.schedule(); }, onError: fail });

// Citizens' places (pin, form, list, lens) and the administration's moderation view.
const places = new PlacesPanel({
  probe,
  onChange: () => render(),
  onError: (error) => fail(error),
  onToolStart: () => toolStarted(places),
  onData: () => moderation.refresh().catch(fail),
  ...mapTools,
  pickBuilding: (x, y) => buildingPoint(deckgl, x, y),
  setPanLock: (locked) => {
    panLocked = locked;
    deckgl.setProps({ controller: { ...CONTROLLER, doubleClickZoom: !drawingMode, dragPan: !locked } });
  },
  districts: () => districtShapes(state.layersData),
});
// The administration's survey: answered once per person (e-mail with confirmation, or a code), results gated.
const survey = new SurveyPanel({ probe, onError: (error) => fail(error) });
const moderation = new ModerationPanel({
  probe,
  onSelect: (place) => places.focusPlace(place),
  onProposal: (id) => proposals.openProposal(id),
  onData: () => places.reload(),
  onError: (error) => fail(error),
});
window.addEventListener("twin3d-auth", () => places.reload());
// "Wie betrifft mich das?": opened by any button.for-me-open; takes map clicks only while choosing a home.
const forMe = createForMe({
  probe,
  twin: () => state.twin,
  personas: (twin) => api.personas(twin.name),
  unproject: mapTools.unproject,
  onChange: () => render(),
  onArm: () => toolStarted(null),
});

// The cadastre (twins with parcels): parcel and land-use layers, and the parcel under a click.
const parcels = createParcels({
  probe,
  onChange: () => render(),
  onError: (e) => fail(e),
  visible: () => state.visible,
  groundAt: (x, y) => groundAt(x, y),
});

// Citizens' proposals: drafted with the scenario's drawing tools, listed and on the map, each with its page.
const proposals = new ProposalsPanel({
  probe,
  onChange: ({ permalink = false, tool = false } = {}) => {
    if (tool) setDrawing(scenario.drawing || proposals.drawing);
    render();
    if (permalink) hashLink.schedule();
  },
  onError: (error) => fail(error),
  onToolStart: () => toolStarted(proposals),
  onData: () => moderation.refresh().catch(fail),
  ...mapTools,
  districts: () => districtChoices(state.twin, state.layersData),
  openScenario: (id) => scenario.load(id).catch(fail),
});

// The point on the twin's ground under canvas pixel (x, y), as [lon, lat].
function groundAt(x, y) {
  const viewport = deckgl.getViewports()[0];
  if (!viewport || !state.twin) return null;
  const [lon, lat] = viewport.unproject([x, y], { targetZ: state.twin.origin.height });
  return Number.isFinite(lon) && Number.isFinite(lat) ? [lon, lat] : null;
}

const CONTROLLER = { keyboard: true, dragRotate: true, touchRotate: true };
let drawingMode = false;
let panLocked = false; // while the pointer is on the places panel's pin, dragging moves the pin, not the map
// While drawing, a double-click closes the area instead of zooming.
function setDrawing(drawing) {
  if (drawing === drawingMode) return;
  drawingMode = drawing;
  deckgl.setProps({ controller: { ...CONTROLLER, doubleClickZoom: !drawing, dragPan: !panLocked } });
}

function setCompare(on) {
  state.compare = on;
  document.getElementById("compare-labels").hidden = !on;
  if (on) {
    const controller = { ...CONTROLLER, doubleClickZoom: !drawingMode };
    deckgl.setProps({
      views: views.compareViews(controller),
      viewState: state.viewState,
      layerFilter: views.compareFilter,
    });
  } else {
    deckgl.setProps({
      views: new MapView({ repeat: false }),
      viewState: null,
      initialViewState: { ...state.viewState, transitionDuration: 0 },
      layerFilter: null,
    });
  }
  probe.compare = on;
}

const divider = mountDivider(document.getElementById("deck-container").parentElement, () => render());
// The basemap behind deck.gl's canvas, following its camera.
const basemap = createBasemap({
  container: document.getElementById("basemap"),
  labelsContainer: document.getElementById("basemap-labels"),
  probe,
});

const deckgl = new Deck({
  parent: document.getElementById("deck-container"),
  views: new MapView({ repeat: false }),
  initialViewState: { longitude: 10.45, latitude: 51.16, zoom: 5, pitch: 0, bearing: 0 },
  controller: CONTROLLER,
  // A click is a press released within this many ms. deck.gl's 250 ms counts the time its own picking on
  // pointer-down blocks the page, so on a slow device (or software rendering) clicks on busy maps were lost.
  eventRecognizerOptions: { click: { time: 1000 } },
  onViewStateChange: ({ viewState }) => {
    state.viewState = viewState;
    basemap.follow(viewState);
    if (state.compare) deckgl.setProps({ viewState });
    population.onZoom(viewState.zoom);
    places.onView();
    sun.onView();
    proposals.onView();
    hashLink.schedule();
    return viewState;
  },
  getTooltip: (info) => infoPopup.tooltip(info),
  getCursor: ({ isDragging }) =>
    measure.cursor() ?? places.cursor() ?? forMe.cursor() ?? proposals.cursor() ?? (drawingMode ? "crosshair" : isDragging ? "grabbing" : "grab"),
  onHover: (info) => {
    places.hover(info);
    if (measure.hover(info) || scenario.hover(info) || proposals.hover(info)) render();
  },
  onClick: (info) => infoPopup.click(info),
  onAfterRender: () => {
    probe.frames += 1;
    basemap.sync(deckgl.getViewports());
    infoPopup.follow(); // the popup stays at its object while the map moves
    probe.populationDrawn = probe.populationLoads; // a frame with the latest population data is on screen
    if (tiles.ready()) probe.allTilesLoaded = true; // drawn: the frame after the tileset had all it needs
  },
  onError: (error) => fail(error),
  onLoad: () => {
    // Focusable, so that the arrow keys and +/- move the map (deck.gl's keyboard controller).
    const canvas = deckgl.getCanvas();
    canvas?.setAttribute("tabindex", "0");
    canvas?.setAttribute("aria-label", t("mapLabel"));
    canvas?.setAttribute("data-i18n-aria", "mapLabel"); // relabelled with the page's texts
  },
});

// "N Gebäudekacheln geladen" once the tileset has every tile the view needs; a frame then draws them.
const tiles = createTileWatch(() => {
  setStatus(t("tilesReady", { count: probe.tilesLoaded }));
  deckgl.redraw("tiles ready");
});
// On a phone the sidebar is a sheet over the map; the map hint speaks of touch on touch screens (bottom_sheet.js).
const phoneParts = [createBottomSheet({ probe }), createMapHint()];

// The search box: streets, addresses, districts and places of the twin; picking one flies the map there.
const search = createSearch({
  probe,
  flyTo: mapTools.flyTo,
  mapSize: () => [document.getElementById("deck-container").clientWidth, document.getElementById("deck-container").clientHeight],
  status: setStatus,
  focusMap: () => deckgl.getCanvas()?.focus(),
  showBuilding,
});
// A building chosen by the search, a link or a click (null: none, with the panel's message), selected and drawn.
function showBuilding(building, message) {
  state.building = building;
  if (building) probe.lastBuilding = building.building_id;
  renderBuilding(dom.details, building, message);
  render();
}

// The info popup at what is clicked, tapped or under the map's centre (Enter), after the tools that want the click.
const infoPopup = createInfo({ deckgl: () => deckgl, probe, twin: () => state.twin, groundAt, showBuilding,
  facilities: () => state.layersData.facilities, visible: () => state.visible, choropleth: () => state.choropleth,
  tools: [measure, forMe, scenario, proposals, places], tooltips: [places, proposals, population, scenario, parcels],
  population, parcels, places, proposals, catalogue, onError: fail,
  busy: () => drawingMode || [measure, places, forMe, proposals].some((tool) => tool.cursor()) });

// The view over a bounding box (the twin's home by default) in the map's current size.
const fitView = (twin, bbox = twin.home_bbox) => views.fitBox(twin, bbox, document.getElementById("deck-container"));

// The link to this view (url_state.js, permalink.js), kept current in the address bar; "Teilen" and "Drucken".
const hashLink = createPermalink({ probe, twin: () => state.twin, view: () => state.viewState, visible: () => state.visible,
  shown: () => ({ pop: population.hashParam(), scenario: scenario.hashParam(), proposal: proposals.hashParam() }),
  catalogue, building: () => state.building?.building_id ?? null, showBuilding, year: timeline });
const title = () => dom.select.selectedOptions[0]?.textContent ?? "";
const printer = createPrint({ probe, deckgl: () => deckgl, groundAt, view: () => state.viewState, title });
createShare({ probe, link: hashLink.link, title, print: () => printer.print().catch(fail) });

function render() {
  const twin = state.twin;
  if (!twin) return;
  const c = state.choropleth;
  const data = state.layersData;
  const layers = [];
  if (data.paths) layers.push(pathsLayer(twin, data.paths, state.visible.paths));
  if (c && data[c.layerId]) {
    layers.push(
      choroplethLayer(twin, timeline.shown(data[c.layerId]), c.variable, state.breaks, state.visible.choropleth, state.selectedArea),
    );
  }
  for (const [id, geojson] of Object.entries(data)) {
    if (id.startsWith("districts:") && id !== c?.layerId) {
      layers.push(outlineLayer(twin, id, geojson, state.visible.districts));
    }
  }
  layers.push(...parcels.layers()); // flat, under the other layers and the buildings
  layers.push(...catalogue.layers());
  layers.push(...infoPopup.layers()); // the facilities, in their categories' colours
  if (twin.tileset && state.visible.buildings) layers.push(state.buildingsLayer);
  const highlight = highlightLayer(twin, state.building);
  if (highlight) layers.push(highlight);
  layers.push(...scenario.layers());
  layers.push(...sun.layers(layers)); // translucent, on the ground or the cell map drawn so far
  layers.push(...population.layers()); // partly transparent: drawn last, so what lies below shows through
  layers.push(...proposals.layers());
  layers.push(...places.layers()); // pins over everything
  layers.push(...forMe.layers());
  layers.push(...measure.layers()); // lines and labels over everything
  if (scenario.compare !== state.compare) setCompare(scenario.compare);
  divider.show(scenario.swipe);
  basemap.setVisible(state.visible.basemap);
  document.getElementById("legend-panel").hidden = !(state.visible.choropleth && c);
  probe.swipe = scenario.swipe ? swipe.split : null;
  deckgl.setProps({ layers });
}

async function loadTwin(name) {
  const twin = state.twins.find((tw) => tw.name === name);
  if (!twin) return;
  Object.assign(probe, { twin: name, tilesLoaded: 0, tileErrors: 0, tilesetReady: false, allTilesLoaded: false });
  Object.assign(state, { twin, tileset: null, layersData: {}, building: null, selectedArea: null });
  tiles.reset();
  state.choropleth = choroplethFor(twin);
  timeline.open(twin, state.choropleth).catch(fail);
  forMe.reset();
  measure.open(twin);
  sun.open(twin);
  parcels.open(twin);
  search.open(twin);
  dom.description.textContent = localText(twin, "description");
  renderAttribution(dom.attribution, twin);
  renderBuilding(dom.details, null);
  const link = hashLink.take(twin); // what the address bar's link asks for; its layer toggles are set now
  const initialView = link.view ?? fitView(twin);
  state.viewState = initialView;
  basemap.open(twin, initialView);

  state.buildingsLayer = twin.tileset
    ? buildingsLayer(twin, {
        onTilesetLoad: (tileset) => {
          state.tileset = tileset;
          probe.tilesetReady = true;
          tiles.attach(tileset);
        },
        onTileLoad: () => {
          probe.tilesLoaded += 1;
          if (!probe.allTilesLoaded) setStatus(t("loadingTiles", { loaded: probe.tilesLoaded }));
        },
        onTileError: (_tile, url, message) => {
          probe.tileErrors += 1;
          tiles.tileFailed();
          fail(new Error(`${url}: ${message}`));
        },
      })
    : null;
  deckgl.setProps({
    initialViewState: { ...initialView, transitionDuration: 0, transitionInterpolator: new FlyToInterpolator() },
  });
  state.visible.population = link.population.visible;
  showToggles(twin);
  render();
  population.onZoom(initialView.zoom);
  const populationReady = population.open(twin, link.population).catch(fail);
  const scenarioReady = scenario.open(twin, link.scenario).catch(fail);
  const catalogueReady = catalogue.open(twin).catch(fail);
  const placesReady = places.open(twin).catch(fail);
  const proposalsReady = proposals.open(twin, link.proposal).catch(fail);
  const moderationReady = moderation.open(twin).catch(fail);
  survey.open(twin).catch(fail);

  const wanted = twin.layers.filter((l) => ["districts", "grid", "facilities", "paths"].includes(l.kind));
  const results = await Promise.allSettled(wanted.map((l) => api.layer(l.url)));
  if (state.twin !== twin) return; // the user switched twins meanwhile
  wanted.forEach((layer, i) => {
    if (results[i].status === "fulfilled") state.layersData[layer.id] = results[i].value;
    else fail(results[i].reason);
  });
  updateChoropleth();
  scenario.relabel(); // the districts for the households' mix, the names of closed facilities
  render();
  await Promise.all([populationReady, scenarioReady, catalogueReady, placesReady, proposalsReady, moderationReady]);
  await hashLink.restore(twin, link); // the language, the catalogue's layers, the building, the year, the panel
}

function showToggles(twin) {
  renderToggles(dom.toggles, layerToggles(twin, state.visible, parcels.toggles(twin)), (key, checked) => {
    state.visible[key] = checked;
    if (key === "population") population.setVisible(checked);
    else render();
  });
}

function updateChoropleth() {
  const c = state.choropleth;
  const data = c && state.layersData[c.layerId];
  // The list of areas shows once the twin has areas with a statistic (a cadastre-only twin has none).
  document.getElementById("areas-panel").hidden = !data;
  if (!data) {
    dom.legend.replaceChildren();
    return;
  }
  const shown = timeline.shown(data); // the slider's year; the latest figures where there is no slider
  const values = shown.features.map((f) => f.properties[c.variable]);
  state.breaks = timeline.breaks() ?? quantileBreaks(values); // over all years: a colour means one figure
  const label = timeline.label(c.label);
  renderLegend(dom.legend, dom.legendLabel, label, timeline.legendValues() ?? values, state.breaks);
  renderAreaList(dom.areaTable, dom.areaCaption, dom.areaValueHead, shown.features, c.variable, label, selectArea);
}

function selectArea(feature) {
  state.selectedArea = areaId(feature);
  const coords = feature.geometry.type === "Polygon" ? feature.geometry.coordinates.flat() : feature.geometry.coordinates.flat(2);
  const lons = coords.map((p) => p[0]);
  const lats = coords.map((p) => p[1]);
  const view = fitView(state.twin, [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]);
  flyTo(view);
  render();
}

// Fly to a view. Side by side the view state is controlled (both maps share it), so the flight goes through
// `viewState`; deck.gl then reports each step to onViewStateChange, which passes it on.
function flyTo(view) {
  const flight = { ...view, transitionDuration: 800, transitionInterpolator: new FlyToInterpolator() };
  deckgl.setProps(state.compare ? { viewState: flight } : { initialViewState: flight });
}

async function start() {
  applyStaticTexts();
  divider.relabel();
  document.getElementById("lang-toggle").addEventListener("click", () => {
    toggleLang();
    if (state.twin) {
      showToggles(state.twin);
      population.relabel();
      scenario.relabel();
      catalogue.relabel();
      places.relabel();
      proposals.relabel();
      moderation.relabel();
      survey.relabel();
      forMe.relabel();
      parcels.relabel();
      measure.relabel();
      sun.relabel();
      timeline.relabel();
      search.relabel();
      phoneParts.forEach((part) => part.relabel());
      divider.relabel();
      basemap.relabel();
      updateChoropleth();
      showBuilding(state.building); // redrawn: the facilities' letters follow their names
      infoPopup.relabel();
      // What the server sent in German with its English beside it, and the status pill, in the new language.
      dom.description.textContent = localText(state.twin, "description");
      renderAttribution(dom.attribution, state.twin);
      for (const option of dom.select.options) option.textContent = twinLabel(state.twins.find((tw) => tw.name === option.value));
      if (probe.allTilesLoaded) setStatus(t("tilesReady", { count: probe.tilesLoaded }));
    }
  });
  document.getElementById("deck-container").addEventListener("dblclick", (event) => {
    const rect = event.currentTarget.getBoundingClientRect();
    scenario.dblclick(event.clientX - rect.left, event.clientY - rect.top);
    proposals.dblclick(event.clientX - rect.left, event.clientY - rect.top);
  });
  setStatus(t("loadingTwins"));
  try {
    state.twins = await api.twins();
  } catch (error) {
    return fail(error);
  }
  // A twin whose store cannot be read is listed, greyed out with the server's reason, and never opened.
  const served = state.twins.filter((tw) => tw.available !== false);
  if (served.length === 0) return setStatus(t("noTwins"));
  dom.select.replaceChildren(
    ...state.twins.map((tw) => {
      const option = document.createElement("option");
      option.value = tw.name;
      option.textContent = twinLabel(tw);
      if (tw.available === false) {
        option.disabled = true;
        option.title = tw.reason ?? "";
      }
      return option;
    }),
  );
  const fromHash = hashLink.startTwin();
  const first = served.some((tw) => tw.name === fromHash) ? fromHash : served[0].name;
  dom.select.value = first;
  dom.select.addEventListener("change", () => loadTwin(dom.select.value).catch(fail));
  await loadTwin(first);
}

start().catch(fail);
