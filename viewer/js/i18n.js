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
    layerChoropleth: "Gebietsstatistik",
    layerPopulation: "Bevölkerung (Personas, H3)",
    populationTitle: "Bevölkerung",
    populationIntro:
      "Synthetische Bevölkerung aus amtlichen Statistiken, datenschutzsicher je H3-Zelle veröffentlicht (Zahlen mit leichtem Rauschen).",
    persona: "Persona",
    allPersons: "Alle Personen",
    resolution: "H3-Auflösung",
    resolutionAuto: "Automatisch (nach Zoom)",
    resolutionOption: "{r} (≈ {area} km²)",
    populationLegend: "Personen je Zelle, {persona} (Stufe {r})",
    remainderNote: "Blasse flache Flächen: kleine Reste, zu einer gröberen Zelle zusammengefasst.",
    persons: "Personen",
    households: "Haushalte",
    cell: "H3-Zelle",
    mergedAt: "zusammengefasst auf Stufe {r}",
    clickCell: "Klicken Sie auf eine Säule, um ihre veröffentlichten Zahlen zu sehen.",
    personasTitle: "Personas",
    needs: "Bedarfe",
    needWithin: "{facility} in {distance} m",
    publishedCounts: "{persons} Personen in {households} Haushalten",
    validationReport: "Validierungsbericht der synthetischen Bevölkerung",
    loadingPopulation: "Lade Bevölkerung …",
    fac_kita: "Kita",
    fac_school: "Schule",
    fac_care_home: "Pflegeheim",
    fac_stop: "Haltestelle",
    fac_park: "Park",
    fac_playground: "Spielplatz",
    fac_doctor: "Arztpraxis",
    fac_pharmacy: "Apotheke",
    fac_supermarket: "Supermarkt",
    fac_sports: "Sportstätte",
    fac_culture: "Kulturangebot",
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
    layerChoropleth: "Area statistics",
    layerPopulation: "Population (personas, H3)",
    populationTitle: "Population",
    populationIntro:
      "Synthetic population from official statistics, published per H3 cell with privacy protection (counts carry slight noise).",
    persona: "Persona",
    allPersons: "Everyone",
    resolution: "H3 resolution",
    resolutionAuto: "Automatic (by zoom)",
    resolutionOption: "{r} (≈ {area} km²)",
    populationLegend: "Persons per cell, {persona} (level {r})",
    remainderNote: "Pale flat areas: small remainders merged into a coarser cell.",
    persons: "Persons",
    households: "Households",
    cell: "H3 cell",
    mergedAt: "merged at level {r}",
    clickCell: "Click a column to see its published counts.",
    personasTitle: "Personas",
    needs: "Needs",
    needWithin: "{facility} within {distance} m",
    publishedCounts: "{persons} persons in {households} households",
    validationReport: "Validation report of the synthetic population",
    loadingPopulation: "Loading population …",
    fac_kita: "childcare (Kita)",
    fac_school: "school",
    fac_care_home: "care home",
    fac_stop: "public transport stop",
    fac_park: "park",
    fac_playground: "playground",
    fac_doctor: "doctor",
    fac_pharmacy: "pharmacy",
    fac_supermarket: "supermarket",
    fac_sports: "sports facility",
    fac_culture: "culture",
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
