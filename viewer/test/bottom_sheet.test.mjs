// The phone layout's bottom sheet (js/bottom_sheet.js): its three heights, where a drag snaps to, and the order a
// tap and the arrow keys go through them.

import assert from "node:assert/strict";
import { test } from "node:test";

import { nearestState, nextState, SHEET_HEIGHTS, sheetHeight } from "../js/bottom_sheet.js";

// The layout's height on a 390 x 844 phone below the two-row top bar and the attribution line.
const LAYOUT = 700;

test("peek, half and full grow, and full leaves a strip of the map", () => {
  const heights = SHEET_HEIGHTS.map((state) => sheetHeight(state, LAYOUT));
  assert.deepEqual(heights, [154, 350, 692]);
  assert.ok(sheetHeight("peek", 300) >= 112, "the peek shows the handle and a panel title even on a short screen");
  assert.equal(sheetHeight("peek", 80), 80, "never taller than the layout");
});

test("a drag snaps to the nearest height", () => {
  assert.equal(nearestState(100, LAYOUT), "peek");
  assert.equal(nearestState(300, LAYOUT), "half");
  assert.equal(nearestState(420, LAYOUT), "half");
  assert.equal(nearestState(600, LAYOUT), "full");
});

test("a tap goes up and from full back to peek; the arrow keys step and stop at the ends", () => {
  assert.deepEqual(["peek", "half", "full"].map((s) => nextState(s)), ["half", "full", "peek"]);
  assert.equal(nextState("peek", 1), "half");
  assert.equal(nextState("full", 1), "full");
  assert.equal(nextState("half", -1), "peek");
  assert.equal(nextState("peek", -1), "peek");
});
