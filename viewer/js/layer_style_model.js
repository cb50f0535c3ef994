// The style and filter of a vector layer by one attribute, without the page: the classes of the attribute (from the
// server's summary of the whole layer, GET .../layers/{id}/summary), each feature's colour, and whether the filter
// lets it through. Pure functions (no DOM, no deck.gl), so `node --test` checks them.
//
// A style is { field, kind: "numeric" | "categorical", classes, filter }:
//   numeric: classes are quantile ranges [{ from, to, count, color }], the filter { min, max } (inclusive; null: open);
//   categorical: classes are the values [{ value, count, color }] (at most 12: else the first 11 and "other", value
//   null), the filter { hidden: [values] } (the values switched off; null stands for "other").

import { classOf, PALETTE } from "./classify.js";

// Sequential (ColorBrewer YlGnBu, as the choropleth) for numbers; qualitative for categories: ColorBrewer Paired
// (12 colours, colour-blind safer in its pairs). Features get a dark outline, so light classes stand out on the map.
export const NUMERIC_PALETTE = PALETTE;
export const CATEGORY_PALETTE = [
  [31, 120, 180],
  [51, 160, 44],
  [227, 26, 28],
  [255, 127, 0],
  [106, 61, 154],
  [177, 89, 40],
  [166, 206, 227],
  [178, 223, 138],
  [251, 154, 153],
  [253, 191, 111],
  [202, 178, 214],
  [255, 255, 153],
];
export const OTHER_COLOR = [150, 150, 150];
export const NO_VALUE_COLOR = [210, 210, 210];
export const MAX_CATEGORIES = 12;

// The numeric classes of a field summary: ranges between min, the breaks and max, with the features in each.
export function numericClasses(summary) {
  const breaks = summary.breaks ?? [];
  const edges = [summary.min, ...breaks, summary.max];
  const n = breaks.length + 1;
  const classes = [];
  for (let k = 0; k < n; k += 1) {
    // Fewer classes spread over the whole ramp, so neighbours stay distinguishable.
    const index = n === 1 ? NUMERIC_PALETTE.length - 1 : Math.round((k * (NUMERIC_PALETTE.length - 1)) / (n - 1));
    classes.push({ from: edges[k], to: edges[k + 1], count: summary.class_counts?.[k] ?? null, color: NUMERIC_PALETTE[index] });
  }
  return classes;
}

// The categorical classes: every value while there are at most 12, else the 11 most frequent and "other".
export function categoryClasses(summary) {
  const listed = summary.categories ?? [];
  const fits = listed.length <= MAX_CATEGORIES && !(summary.other_count > 0);
  const shown = fits ? listed : listed.slice(0, MAX_CATEGORIES - 1);
  const classes = shown.map((c, i) => ({ value: c.value, count: c.count, color: CATEGORY_PALETTE[i] }));
  if (!fits) {
    const rest = listed.slice(MAX_CATEGORIES - 1).reduce((sum, c) => sum + c.count, 0) + (summary.other_count ?? 0);
    classes.push({ value: null, count: rest, color: OTHER_COLOR });
  }
  return classes;
}

// A new style for `field` from its summary; the filter lets everything through.
export function styleFor(field, summary) {
  if (summary.kind === "numeric") {
    return { field, kind: "numeric", classes: numericClasses(summary), breaks: summary.breaks ?? [], filter: { min: null, max: null } };
  }
  return { field, kind: "categorical", classes: categoryClasses(summary), filter: { hidden: [] } };
}

// A property value as a number (MVT keeps numbers, but GeoJSON sources may send "12"); null if it is none.
export function numberOf(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

// The class a category value falls in: its own, else "other" (null), else none (-1: no such class).
function categoryIndex(style, value) {
  const text = value === null || value === undefined || value === "" ? null : String(value);
  if (text === null) return -1;
  const own = style.classes.findIndex((c) => c.value === text);
  if (own >= 0) return own;
  return style.classes.findIndex((c) => c.value === null);
}

// The colour [r, g, b] of a feature's value.
export function colorOf(style, value) {
  if (style.kind === "numeric") {
    const n = numberOf(value);
    if (n === null) return NO_VALUE_COLOR;
    const k = Math.min(classOf(n, style.breaks), style.classes.length - 1);
    return style.classes[k].color;
  }
  const k = categoryIndex(style, value);
  return k < 0 ? NO_VALUE_COLOR : style.classes[k].color;
}

// Whether the filter lets a feature with this value through. A feature without a value passes only while the
// filter is open (a range or a choice of values asks for a value).
export function passes(style, value) {
  if (style.kind === "numeric") {
    const { min, max } = style.filter;
    if (min === null && max === null) return true;
    const n = numberOf(value);
    return n !== null && (min === null || n >= min) && (max === null || n <= max);
  }
  const hidden = style.filter.hidden;
  if (hidden.length === 0) return true;
  const k = categoryIndex(style, value);
  return k >= 0 && !hidden.includes(style.classes[k].value);
}

// Whether the filter hides anything at all.
export function filtering(style) {
  return style.kind === "numeric"
    ? style.filter.min !== null || style.filter.max !== null
    : style.filter.hidden.length > 0;
}

// The style with a new filter (styles are values: the map's update triggers compare their keys).
export function withFilter(style, filter) {
  return { ...style, filter: { ...style.filter, ...filter } };
}

// A short key that changes whenever colours or the filter change (deck.gl's updateTriggers).
export function styleKey(style) {
  if (!style) return "none";
  const filter = style.kind === "numeric" ? [style.filter.min, style.filter.max] : style.filter.hidden;
  return JSON.stringify([style.field, style.kind, filter]);
}

// How many of `features` (GeoJSON-like, with properties) the filter lets through.
export function countPassing(style, features) {
  if (!style) return features.length;
  let n = 0;
  for (const f of features) if (passes(style, f.properties?.[style.field])) n += 1;
  return n;
}
