// German by default, English on request; the choice is remembered in this browser only.

const STRINGS = {
  de: {
    skipToPanel: "Zur Seitenleiste springen",
    twin: "Zwilling",
    mapLabel: "3D-Karte",
    mapHint: "Ziehen: verschieben · Rechte Maustaste/Strg: drehen · Mausrad: zoomen · Pfeiltasten bei fokussierter Karte",
    layers: "Ebenen",
    legend: "Legende",
    building: "Gebäude",
    clickBuilding: "Klicken Sie auf ein Gebäude, um seine Angaben zu sehen.",
    areas: "Gebiete",
    area: "Gebiet",
    layerBuildings: "3D-Gebäude",
    layerChoropleth: "Bevölkerung",
    layerFacilities: "Einrichtungen",
    layerPaths: "Wegenetz",
    layerDistricts: "Grenzen",
    loadingTwins: "Lade Zwillinge …",
    noTwins: "Noch kein Zwilling gebaut. Starten Sie: twin3d build --all",
    loadingTiles: "Lade Gebäude … {loaded} Kacheln",
    tilesReady: "{count} Gebäudekacheln geladen",
    loadError: "Fehler beim Laden: {message}",
    noBuildingHere: "An dieser Stelle ist kein Gebäude.",
    id: "Kennung",
    name: "Name",
    type: "Gebäudeart",
    height: "Höhe",
    heightSource: "Höhe aus",
    levels: "Geschosse",
    footprint: "Grundfläche",
    district: "Gebiet",
    address: "Adresse",
    source: "Datenquelle",
    position: "Lage",
    hs_measured: "Messung (3D-Modell)",
    hs_tag: "Höhenangabe",
    hs_levels: "Geschosszahl × Geschosshöhe",
    hs_default: "Standardwert für die Gebäudeart",
    noData: "keine Angabe",
    population: "Einwohner",
    density: "Einwohner je km²",
    gridCell: "Gitterzelle",
    listCaption: "{label}, absteigend sortiert",
    showOnMap: "auf der Karte zeigen",
  },
  en: {
    skipToPanel: "Skip to side panel",
    twin: "Twin",
    mapLabel: "3D map",
    mapHint: "Drag: pan · Right mouse/Ctrl: rotate · Wheel: zoom · Arrow keys when the map has focus",
    layers: "Layers",
    legend: "Legend",
    building: "Building",
    clickBuilding: "Click a building to see its details.",
    areas: "Areas",
    area: "Area",
    layerBuildings: "3D buildings",
    layerChoropleth: "Population",
    layerFacilities: "Facilities",
    layerPaths: "Path network",
    layerDistricts: "Boundaries",
    loadingTwins: "Loading twins …",
    noTwins: "No twin built yet. Run: twin3d build --all",
    loadingTiles: "Loading buildings … {loaded} tiles",
    tilesReady: "{count} building tiles loaded",
    loadError: "Loading failed: {message}",
    noBuildingHere: "There is no building here.",
    id: "Id",
    name: "Name",
    type: "Building type",
    height: "Height",
    heightSource: "Height from",
    levels: "Storeys",
    footprint: "Footprint",
    district: "Area",
    address: "Address",
    source: "Data source",
    position: "Location",
    hs_measured: "measurement (3D model)",
    hs_tag: "height tag",
    hs_levels: "storeys × storey height",
    hs_default: "default for the building type",
    noData: "not given",
    population: "Residents",
    density: "Residents per km²",
    gridCell: "Grid cell",
    listCaption: "{label}, sorted descending",
    showOnMap: "show on map",
  },
};

let lang = localStorage.getItem("twin3d.lang") || "de";
if (!STRINGS[lang]) lang = "de";

export function currentLang() {
  return lang;
}

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.de[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return t("noData");
  return new Intl.NumberFormat(lang === "de" ? "de-DE" : "en-GB", {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value);
}

export function applyStaticTexts(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  const toggle = document.getElementById("lang-toggle");
  if (toggle) {
    toggle.textContent = lang === "de" ? "English" : "Deutsch";
    toggle.lang = lang === "de" ? "en" : "de";
  }
}

export function toggleLang() {
  lang = lang === "de" ? "en" : "de";
  localStorage.setItem("twin3d.lang", lang);
  applyStaticTexts();
}
