// Quantile classes and their colours (js/classify.js): what the population map and the legends are drawn with.

import assert from "node:assert/strict";
import { test } from "node:test";

import { classOf, colorFor, legendEntries, NO_DATA_COLOR, PALETTE, quantileBreaks } from "../js/classify.js";

const ONE_TO_TEN = [10, 3, 7, 1, 9, 2, 8, 4, 6, 5];

test("quantile breaks split the sorted finite values into equal shares", () => {
  assert.deepEqual(quantileBreaks(ONE_TO_TEN), [3, 5, 7, 9]);
  assert.deepEqual(quantileBreaks(ONE_TO_TEN, 2), [6]);
});

test("quantile breaks ignore what is not a finite number and leave the input alone", () => {
  const values = [NaN, 4, null, 1, Infinity, 3, undefined, 2, -Infinity, 5];
  const before = [...values];
  assert.deepEqual(quantileBreaks(values), [2, 3, 4, 5]);
  assert.deepEqual(values, before);
  assert.deepEqual(quantileBreaks([]), []);
  assert.deepEqual(quantileBreaks([NaN, null]), []);
});

test("equal quantiles collapse, so a small or uniform data set gets fewer classes", () => {
  assert.deepEqual(quantileBreaks([1, 1, 1, 1, 2]), [1, 2]);
  assert.deepEqual(quantileBreaks([7, 7, 7]), [7]);
});

test("a value on a break belongs to the class above it; no data is class -1", () => {
  const breaks = [3, 5, 7, 9];
  assert.equal(classOf(1, breaks), 0);
  assert.equal(classOf(2.999, breaks), 0);
  assert.equal(classOf(3, breaks), 1);
  assert.equal(classOf(8, breaks), 3);
  assert.equal(classOf(9, breaks), 4);
  assert.equal(classOf(1e9, breaks), 4);
  assert.equal(classOf(NaN, breaks), -1);
  assert.equal(classOf(null, breaks), -1);
  assert.equal(classOf(5, []), 0);
});

test("five classes take the five palette colours in order", () => {
  const breaks = [3, 5, 7, 9];
  assert.deepEqual(
    [1, 3, 5, 7, 9].map((v) => colorFor(v, breaks)),
    PALETTE,
  );
  assert.deepEqual(colorFor(NaN, breaks), NO_DATA_COLOR);
});

test("fewer classes are spread over the whole palette, so they stay far apart", () => {
  // Two classes: the lightest and the darkest colour, not the two lightest.
  assert.deepEqual(colorFor(0, [5]), PALETTE[0]);
  assert.deepEqual(colorFor(10, [5]), PALETTE[PALETTE.length - 1]);
  // Three classes: light, middle, dark.
  assert.deepEqual([0, 5, 10].map((v) => colorFor(v, [4, 8])), [PALETTE[0], PALETTE[2], PALETTE[4]]);
  // One class (all values equal): the darkest colour, readable on the light basemap.
  assert.deepEqual(colorFor(3, []), PALETTE[PALETTE.length - 1]);
});

test("a palette of one's own can be passed", () => {
  const mine = [
    [0, 0, 0],
    [255, 255, 255],
  ];
  assert.deepEqual(colorFor(0, [5], mine), mine[0]);
  assert.deepEqual(colorFor(9, [5], mine), mine[1]);
});

test("the legend runs from the smallest to the largest value through the breaks", () => {
  const breaks = quantileBreaks(ONE_TO_TEN);
  const entries = legendEntries(ONE_TO_TEN, breaks, (v) => `${v}`);
  assert.deepEqual(
    entries.map((e) => e.label),
    ["1 – 3", "3 – 5", "5 – 7", "7 – 9", "9 – 10"],
  );
  assert.deepEqual(
    entries.map((e) => e.color),
    PALETTE,
  );
});

test("the legend formats its numbers with the given function and names missing data last", () => {
  const entries = legendEntries([0.5, NaN, 1.5], [1], (v) => v.toFixed(1).replace(".", ","));
  assert.deepEqual(entries, [
    { color: PALETTE[0], label: "0,5 – 1,0" },
    { color: PALETTE[4], label: "1,0 – 1,5" },
    { color: NO_DATA_COLOR, label: null },
  ]);
  assert.deepEqual(legendEntries([NaN, null], [], String), []);
});
