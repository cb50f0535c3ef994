// What a person reads instead of an id or a code: the names the server sends (German, and English where known)
// in the page's language. The server resolves them (type_names, area names); the viewer only picks the language.

import { addStrings, currentLang, t } from "./i18n.js";

addStrings({
  de: {
    src_osm: "OpenStreetMap",
    src_alkis: "ALKIS (Liegenschaftskataster)",
    src_cityjson: "3D-Stadtmodell (CityJSON)",
    src_citygml: "3D-Stadtmodell (CityGML)",
    src_footprints: "Gebäudegrundrisse",
  },
  en: {
    src_osm: "OpenStreetMap",
    src_alkis: "ALKIS (official cadastre)",
    src_cityjson: "3D city model (CityJSON)",
    src_citygml: "3D city model (CityGML)",
    src_footprints: "Building footprints",
  },
});

// The name in the page's language: the English one where the page is English and one is known.
export function localName(de, en) {
  return currentLang() === "en" ? (en ?? de) : de;
}

// A building's type as a name (Wohngebäude, House), the raw value where the server knows no name.
export function buildingTypeName(building) {
  return localName(building.building_type_name, building.building_type_name_en) ?? building.building_type;
}

// A facility's category as a name (Kindergarten, Bus stop), the raw category (amenity=...) where none is known.
export function categoryName(properties) {
  return localName(properties.category_name, properties.category_name_en) ?? properties.category;
}

// An area's name: a district's, or a grid cell's (where it lies); the cell's id only where the server sent no name.
export function areaName(properties) {
  const name = localName(properties.name, properties.name_en);
  if (name) return name;
  return properties.cell_id ? `${t("gridCell")} ${properties.cell_id.replace(/^CRS3035RES1000m/, "")}` : "";
}

// Where a building's data come from, as a person reads it (the source label where none is known).
export function sourceName(source) {
  const key = `src_${source}`;
  const text = t(key);
  return text === key ? source : text;
}
