// The style and filter of a vector layer by an attribute (js/layer_style_model.js): classes from the server's
// summary, each value's colour, and what the filter lets through.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CATEGORY_PALETTE,
  NO_VALUE_COLOR,
  NUMERIC_PALETTE,
  OTHER_COLOR,
  categoryClasses,
  colorOf,
  countPassing,
  filtering,
  numberOf,
  numericClasses,
  passes,
  styleFor,
  styleKey,
  withFilter,
} from "../js/layer_style_model.js";

const HEIGHTS = { kind: "numeric", count: 100, distinct: 100, min: 0, max: 99, breaks: [19, 39, 59, 79], class_counts: [19, 20, 20, 20, 21] };
const KINDS = {
  kind: "categorical",
  count: 10,
  distinct: 3,
  categories: [
    { value: "bus_stop", count: 6 },
    { value: "school", count: 3 },
    { value: "kita", count: 1 },
  ],
  other_count: 0,
};

test("numeric classes run from the minimum over the breaks to the maximum, with counts and the ramp's colours", () => {
  const classes = numericClasses(HEIGHTS);
  assert.deepEqual(
    classes.map((c) => [c.from, c.to, c.count]),
    [[0, 19, 19], [19, 39, 20], [39, 59, 20], [59, 79, 20], [79, 99, 21]],
  );
  assert.deepEqual(classes.map((c) => c.color), NUMERIC_PALETTE);
  // Two classes spread over the whole ramp: its ends, not two light neighbours.
  const two = numericClasses({ ...HEIGHTS, breaks: [50], class_counts: [50, 50] });
  assert.deepEqual(two.map((c) => c.color), [NUMERIC_PALETTE[0], NUMERIC_PALETTE[NUMERIC_PALETTE.length - 1]]);
});

test("up to twelve categories keep their own colour; more become the first eleven and 'other'", () => {
  assert.deepEqual(categoryClasses(KINDS).map((c) => [c.value, c.count]), [["bus_stop", 6], ["school", 3], ["kita", 1]]);
  const many = Array.from({ length: 15 }, (_, i) => ({ value: `v${i}`, count: 20 - i }));
  const classes = categoryClasses({ kind: "categorical", count: 300, distinct: 40, categories: many.slice(0, 13), other_count: 50 });
  assert.equal(classes.length, 12);
  assert.deepEqual(classes.slice(0, 11).map((c) => c.value), many.slice(0, 11).map((c) => c.value));
  assert.deepEqual(classes[11], { value: null, count: 9 + 8 + 50, color: OTHER_COLOR });
  assert.deepEqual(classes.slice(0, 11).map((c) => c.color), CATEGORY_PALETTE.slice(0, 11));
  // Exactly twelve values: no "other".
  const twelve = categoryClasses({ kind: "categorical", count: 12, distinct: 12, categories: many.slice(0, 12), other_count: 0 });
  assert.equal(twelve.length, 12);
  assert.ok(twelve.every((c) => c.value !== null));
});

test("each value gets its class colour; no value gets the no-value grey", () => {
  const numeric = styleFor("height", HEIGHTS);
  assert.deepEqual(colorOf(numeric, 0), NUMERIC_PALETTE[0]);
  assert.deepEqual(colorOf(numeric, 19), NUMERIC_PALETTE[1]); // a break starts the upper class
  assert.deepEqual(colorOf(numeric, "45.5"), NUMERIC_PALETTE[2]); // numbers sent as text count too
  assert.deepEqual(colorOf(numeric, 1e9), NUMERIC_PALETTE[4]);
  assert.deepEqual(colorOf(numeric, null), NO_VALUE_COLOR);
  assert.deepEqual(colorOf(numeric, "n/a"), NO_VALUE_COLOR);
  const kinds = styleFor("kind", KINDS);
  assert.deepEqual(colorOf(kinds, "school"), CATEGORY_PALETTE[1]);
  assert.deepEqual(colorOf(kinds, "hospital"), NO_VALUE_COLOR); // not in the summary and no "other" class
  assert.deepEqual(colorOf(kinds, ""), NO_VALUE_COLOR);
});

test("a numeric range filter keeps the values inside, both ends included, and asks for a value", () => {
  const open = styleFor("height", HEIGHTS);
  assert.equal(filtering(open), false);
  assert.ok(passes(open, null));
  const ranged = withFilter(open, { min: 20, max: 40 });
  assert.equal(filtering(ranged), true);
  assert.deepEqual([10, 20, 30, 40, 41, null, "33"].map((v) => passes(ranged, v)), [false, true, true, true, false, false, true]);
  const atLeast = withFilter(open, { min: 50 });
  assert.deepEqual([49, 50, 1e6].map((v) => passes(atLeast, v)), [false, true, true]);
  assert.equal(open.filter.min, null, "withFilter leaves the old style as it was");
});

test("a category filter hides the values switched off, 'other' included", () => {
  const many = Array.from({ length: 13 }, (_, i) => ({ value: `v${i}`, count: 20 - i }));
  const style = styleFor("kind", { kind: "categorical", count: 300, distinct: 20, categories: many, other_count: 40 });
  const features = ["v0", "v1", "v11", "v19", null].map((kind) => ({ properties: { kind } }));
  assert.equal(countPassing(style, features), 5);
  const noOther = withFilter(style, { hidden: [null] });
  assert.deepEqual(features.map((f) => passes(noOther, f.properties.kind)), [true, true, false, false, false]);
  const onlyOther = withFilter(style, { hidden: many.slice(0, 11).map((c) => c.value) });
  assert.equal(countPassing(onlyOther, features), 2); // v11 and v19 fall in "other"
  assert.equal(countPassing(null, features), 5);
});

test("the style key changes with the field and the filter, not with anything else", () => {
  const a = styleFor("height", HEIGHTS);
  assert.equal(styleKey(a), styleKey(styleFor("height", HEIGHTS)));
  assert.notEqual(styleKey(a), styleKey(withFilter(a, { min: 3 })));
  assert.notEqual(styleKey(a), styleKey(styleFor("other", HEIGHTS)));
  assert.equal(styleKey(null), "none");
  assert.equal(numberOf(""), null);
  assert.equal(numberOf("7"), 7);
});
