// The twin's districts as the panels need them, from the districts layers the viewer has loaded.

import { localText } from "./names.js";

// The districts a new quarter's households may be like (the "mix" of a housing measure), per districts layer.
export function districtChoices(twin, layersData) {
  return (twin?.layers ?? [])
    .filter((l) => l.kind === "districts" && layersData[l.id])
    .map((l) => ({
      title: localText(l, "title"),
      districts: layersData[l.id].features.map((f) => ({
        value: `like:${f.properties.district_id}`,
        name: f.properties.name ?? f.properties.code,
      })),
    }));
}

// Every loaded district's outline and name (a place's district is named after the outline it lies in).
export function districtShapes(layersData) {
  return Object.entries(layersData)
    .filter(([id]) => id.startsWith("districts:"))
    .flatMap(([, data]) => data.features.map((f) => ({ geometry: f.geometry, name: f.properties.name ?? f.properties.code })));
}

// The twin's choropleth (a districts or grid layer and its variable), or null.
export function choroplethFor(twin) {
  const config = twin.choropleth;
  if (!config) return null;
  const layer = twin.layers.find((l) => l.id === config.layer);
  if (!layer) return null;
  const choropleth = { layerId: layer.id, variable: config.variable, url: layer.url, year: config.year };
  // A getter: the label is read when drawn, so it follows the page's language.
  return Object.defineProperty(choropleth, "label", { get: () => localText(config, "label"), enumerable: true });
}

// The layers a twin offers to switch on and off, with whether each is on; `extra`: the cadastre's toggles.
export function layerToggles(twin, visible, extra) {
  const list = [];
  if (twin.basemap) list.push({ key: "basemap", label: "layerBasemap" });
  if (twin.tileset) list.push({ key: "buildings", label: "layerBuildings" });
  if (twin.choropleth) list.push({ key: "choropleth", label: "layerChoropleth" });
  if (twin.counts?.personas) list.push({ key: "population", label: "layerPopulation" });
  if (twin.layers.some((l) => l.kind === "districts" && l.id !== twin.choropleth?.layer)) {
    list.push({ key: "districts", label: "layerDistricts" });
  }
  if (twin.layers.some((l) => l.kind === "paths")) list.push({ key: "paths", label: "layerPaths" });
  if (twin.layers.some((l) => l.kind === "facilities")) list.push({ key: "facilities", label: "layerFacilities" });
  list.push(...extra);
  return list.map((item) => ({ ...item, checked: visible[item.key] }));
}
