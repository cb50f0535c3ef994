// What a person reads instead of an id or a code: the names the server sends (German, and English where known)
// in the page's language. The server resolves them (type_names, area names); the viewer only picks the language.

import { currentLang, t } from "./i18n.js";

// The name in the page's language: the English one where the page is English and one is known.
export function localName(de, en) {
  return currentLang() === "en" ? (en ?? de) : de;
}

// A text of an object the server sends, in the page's language: named by a key of the string tables where the
// server names it itself (`title_key`), else the German text with its translations beside it (`i18n: {en:
// {title}}`, which the twin definition gives for what the municipality wrote).
export function localText(item, field) {
  const key = item?.[`${field}_key`];
  if (key) return t(key);
  return localName(item?.[field], item?.i18n?.[currentLang()]?.[field]);
}

// A twin as its entry in the twin list names it (greyed-out twins say they are not available).
export function twinLabel(twin) {
  const title = localText(twin, "title");
  return twin.available === false ? t("twinUnavailable", { title }) : title;
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
