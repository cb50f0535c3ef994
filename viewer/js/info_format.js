// What the viewer says about one object on the map, without the page: each kind's record (a building, a facility, a
// parcel, a feature of a loaded layer, a citizen's place or proposal, an area of the statistics) turned into a title
// and rows of label, value and unit, in the page's language. The info popup (info_popup.js) and the side panels
// (panels.js, parcels.js) show these rows, so a building reads the same in both. No DOM: `node --test` checks it.
//
// A row: {key (the label's i18n key) or label (a literal label: a layer's field name), value (a number, formatted
// with `digits` and followed by `unit`, or a text), valueKey (true: the value is an i18n key), field (the name the
// page's `data-field` carries), hint (an i18n key explaining the label)}.

import { formatNumber, t } from "./i18n.js";
import { areaName, buildingTypeName, categoryName, localName, sourceName } from "./names.js";

// The kinds, topmost first: what is drawn over the others wins a click on them all.
export const KINDS = ["place", "proposal", "facility", "layer", "building", "parcel", "area"];

const HEIGHT_SOURCE_KEYS = { measured: "hs_measured", tag: "hs_tag", levels: "hs_levels", default: "hs_default" };
const WHEELCHAIR = new Set(["yes", "designated", "limited", "no"]);
// Attributes of a loaded layer that are the store's bookkeeping, not the data: left out.
const HIDDEN_FIELDS = new Set(["id", "fid", "layerName", "bbox", "geometry"]);
// A feature's own name, where its layer has one of these fields (compared in lower case).
const NAME_FIELDS = ["name", "title", "titel", "bezeichnung", "label"];

const empty = (value) => value === null || value === undefined || value === "" || Number.isNaN(value);

function row(key, value, more = {}) {
  return { key, value, field: key, ...more };
}

// "Hauptstraße 3, 91207 Lauf": street and number, then postcode and town, from OSM addr:* tags.
export function addressOf(tags) {
  const street = [tags["addr:street"], tags["addr:housenumber"]].filter(Boolean).join(" ");
  const place = [tags["addr:postcode"], tags["addr:city"]].filter(Boolean).join(" ");
  return [street, place].filter(Boolean).join(", ");
}

// Every row of a building, as the side panel lists them (the popup leaves out name, id and position).
export function buildingRows(building) {
  const address = addressOf(building.attributes || {});
  const source = building.height_source;
  return [
    row("name", building.name),
    row("id", building.building_id),
    row("type", buildingTypeName(building)),
    row("height", building.height, { unit: "m", digits: 1 }),
    row("heightSource", HEIGHT_SOURCE_KEYS[source] ?? source, { valueKey: source in HEIGHT_SOURCE_KEYS }),
    row("levels", building.levels, { digits: 1 }),
    row("footprint", building.footprint_m2, { unit: "m²" }),
    row("address", address),
    row("district", building.district),
    row("parcel", (building.parcels ?? []).map(parcelLabel).join("; ")),
    row("source", empty(building.source) ? null : sourceName(building.source)),
    row(
      "position",
      Number.isFinite(building.lat) ? `${building.lat.toFixed(5)}° N, ${building.lon.toFixed(5)}° E` : null,
    ),
  ].filter((r) => !empty(r.value));
}

// "Monzel (2566)": the Gemarkung's name and number, either alone where the other is missing.
const gemarkungOf = (parts) =>
  parts.gemarkung_name && parts.gemarkung ? `${parts.gemarkung_name} (${parts.gemarkung})` : parts.gemarkung_name || parts.gemarkung;

// A parcel's name in the page's language, from the parts the server sends (`label_parts`; its `label` is German, for
// API clients): "Gemarkung Monzel (2566), Flur 1, Flurstück 6/2", "Cadastral district Monzel (2566), Flur 1, parcel
// 6/2". A parcel without parts (no number: its label is its key) keeps its label.
export function parcelLabel(parcel) {
  const parts = parcel?.label_parts;
  if (!parts) return parcel?.label ?? "";
  const gemarkung = gemarkungOf(parts);
  const number = parts.numerator ? [parts.numerator, parts.denominator].filter(Boolean).join("/") : null;
  const named = [
    gemarkung && t("p_labelGemarkung", { gemarkung }),
    parts.flur && t("p_labelFlur", { flur: parts.flur }),
    number && t("p_labelNumber", { number }),
  ].filter(Boolean);
  return named.length ? named.join(", ") : (parcel.label ?? "");
}

// Every row of a parcel, as its side panel lists them; `field` drops the p_ of the key, as the page always did.
export function parcelRows(parcel) {
  const area = (key, value) => row(key, value, { unit: "m²" });
  return [
    row("p_number", parcel.number),
    row("p_flur", parcel.flur),
    row("p_gemarkung", parcel.label_parts ? gemarkungOf(parcel.label_parts) : parcel.gemarkung),
    area("p_area", parcel.area_m2),
    area("p_official", parcel.official_area_m2),
    row("p_landUse", localName(parcel.land_use_name, parcel.land_use_name_en)),
    row("p_buildings", parcel.buildings),
    area("p_built", parcel.built_m2),
    area("p_floor", parcel.floor_area_m2),
    row("p_grz", parcel.grz, { digits: 2, hint: "p_grzTitle" }),
    row("p_gfz", parcel.gfz, { digits: 2, hint: "p_gfzTitle" }),
    row("p_cadastral", parcel.cadastral_id),
  ]
    .filter((r) => !empty(r.value))
    .map((r) => ({ ...r, field: r.key.slice(2) }));
}

// A facility's OSM tags: the server's `attributes` (an object or its JSON text) and any tag sent beside them.
function facilityTags(properties) {
  let attributes = properties.attributes ?? {};
  if (typeof attributes === "string") {
    try {
      attributes = JSON.parse(attributes);
    } catch {
      attributes = {};
    }
  }
  return { ...properties, ...(attributes && typeof attributes === "object" ? attributes : {}) };
}

function facilityRows(properties) {
  const tags = facilityTags(properties);
  const capacity = Number(tags.capacity);
  const wheelchair = tags.wheelchair;
  return [
    row("info_category", categoryName(properties)),
    row("address", addressOf(tags)),
    row("info_opening", tags.opening_hours),
    row("info_operator", tags.operator),
    row("info_capacity", Number.isFinite(capacity) && tags.capacity !== "" ? capacity : tags.capacity),
    row("info_wheelchair", WHEELCHAIR.has(wheelchair) ? `info_wheel_${wheelchair}` : wheelchair, {
      valueKey: WHEELCHAIR.has(wheelchair),
    }),
    row("info_website", tags.website ?? tags["contact:website"]),
    row("info_phone", tags.phone ?? tags["contact:phone"]),
  ].filter((r) => !empty(r.value));
}

const NUMERIC_TYPE = /^(u?int|float|double|decimal|halffloat)/i;
const INTEGER_TYPE = /^u?int/i;

// A loaded layer's feature: its attributes in the order of the layer's `fields` (name -> Arrow type), numbers
// formatted, the store's bookkeeping left out and id-like fields last.
export function layerRows(properties, fields = {}) {
  const names = [...Object.keys(fields), ...Object.keys(properties).filter((k) => !(k in fields))];
  const isId = (name) => /(^|_)id$/i.test(name);
  const ordered = names.filter((n) => !HIDDEN_FIELDS.has(n));
  ordered.sort((a, b) => Number(isId(a)) - Number(isId(b)));
  const rows = [];
  for (const name of ordered) {
    let value = properties[name];
    if (empty(value)) continue;
    const type = fields[name] ?? "";
    const numeric = typeof value === "number" || (NUMERIC_TYPE.test(type) && value !== "" && Number.isFinite(Number(value)));
    if (numeric) value = Number(value);
    if (typeof value === "boolean") value = value ? "✓" : "–";
    const digits = numeric && !INTEGER_TYPE.test(type) && !Number.isInteger(value) ? 2 : 0;
    rows.push({ label: name, value, digits: isId(name) ? null : digits, field: name });
  }
  return rows;
}

function featureName(properties) {
  for (const [key, value] of Object.entries(properties)) {
    if (NAME_FIELDS.includes(key.toLowerCase()) && typeof value === "string" && value.trim()) return value;
  }
  return null;
}

/**
 * What the popup shows about one object.
 *
 * @param {string} kind one of KINDS.
 * @param {object} record the object as the server or the layer sent it: a building (/buildings/at), a facility's
 *   or an area's GeoJSON properties, a parcel (/parcels/at), a layer feature's properties, a place, a proposal.
 * @param {object} ctx what the kind needs besides: layer features {entry (the catalogue entry: title, fields)};
 *   places {categoryName(id)}; proposals {topicName(id)}; areas {choropleth: {variable, label}}.
 * @returns {{kind: string, title: string, rows: object[]}} the title (its name, else its kind and address).
 */
export function describe(kind, record, ctx = {}) {
  const kindName = t(`info_kind_${kind}`);
  if (kind === "building") {
    const rows = buildingRows(record).filter((r) => !["name", "id", "position"].includes(r.key));
    const type = buildingTypeName(record);
    const fallback = [type || kindName, addressOf(record.attributes || {})].filter(Boolean).join(", ");
    return { kind, title: record.name || fallback, rows };
  }
  if (kind === "facility") {
    const rows = facilityRows(record);
    const fallback = [categoryName(record) || kindName, addressOf(facilityTags(record))].filter(Boolean).join(", ");
    return { kind, title: record.name || fallback, rows: record.name ? rows : rows.filter((r) => r.key !== "info_category") };
  }
  if (kind === "parcel") return { kind, title: parcelLabel(record) || kindName, rows: parcelRows(record) };
  if (kind === "layer") {
    const entry = ctx.entry ?? {};
    const rows = layerRows(record, entry.fields);
    if (entry.title) rows.unshift(row("info_layer", entry.title));
    return { kind, title: featureName(record) ?? entry.title ?? kindName, rows };
  }
  if (kind === "place") {
    return {
      kind,
      title: record.title,
      rows: [
        row("info_placeKind", `kind_${record.kind}`, { valueKey: true }),
        row("info_topic", ctx.categoryName ? ctx.categoryName(record.category) : record.category),
        row("info_votes", record.votes?.score),
        row("info_comments", record.comments),
      ].filter((r) => !empty(r.value)),
    };
  }
  if (kind === "proposal") {
    return {
      kind,
      title: record.title,
      rows: [
        row("info_topic", ctx.topicName ? ctx.topicName(record.topic) : record.topic),
        row("info_stage", `stage_${record.stage}`, { valueKey: true }),
        row("info_votes", record.votes?.score),
        row("info_comments", record.comments),
      ].filter((r) => !empty(r.value)),
    };
  }
  if (kind === "area") {
    const c = ctx.choropleth;
    const rows = [];
    if (c && c.variable !== "population") rows.push({ label: c.label, value: record[c.variable], digits: 1, field: c.variable });
    rows.push(row("population", record.population));
    return { kind, title: areaName(record) || kindName, rows: rows.filter((r) => !empty(r.value)) };
  }
  throw new Error(`unknown kind of object: ${kind}`);
}

// A row as a person reads it: {label, text, hint, field}; numbers in the page's language with their unit.
export function formatRow(r) {
  const label = r.key ? t(r.key) : r.label;
  let text;
  if (typeof r.value === "number") {
    text = r.digits === null ? String(r.value) : formatNumber(r.value, r.digits ?? 0);
    if (r.unit) text = `${text} ${r.unit}`;
  } else {
    text = r.valueKey ? t(r.value) : String(r.value);
  }
  return { label, text, hint: r.hint ? t(r.hint) : null, field: r.field ?? r.key ?? r.label };
}
