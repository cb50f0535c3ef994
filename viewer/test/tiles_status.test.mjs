// When the building tiles are all there (js/tiles_status.js): decided at the end of the tileset's traversal, not in
// the next frame, which may never come.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createTileWatch } from "../js/tiles_status.js";

// The parts of loaders.gl's Tileset3D the watch uses: options.onTraversalComplete, isLoaded(), selectTiles().
function fakeTileset() {
  const tileset = {
    loaded: false,
    traversals: 0,
    options: { onTraversalComplete: (selected) => selected },
    isLoaded: () => tileset.loaded,
    traverse() {
      tileset.traversals += 1;
      return tileset.options.onTraversalComplete(["tile"]);
    },
    selectTiles: async () => tileset.traverse(),
  };
  return tileset;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("ready once, after the traversal that finds nothing left to load", async () => {
  let ready = 0;
  const watch = createTileWatch(() => (ready += 1));
  const tileset = fakeTileset();
  watch.attach(tileset);
  assert.deepEqual(tileset.traverse(), ["tile"], "the tileset's own callback still runs");
  await settle();
  assert.equal(ready, 0);
  tileset.loaded = true; // the last tile arrived; no frame follows, but the tileset traverses again
  tileset.traverse();
  await settle();
  assert.equal(ready, 1);
  assert.equal(watch.ready(), true);
  tileset.traverse();
  await settle();
  assert.equal(ready, 1, "announced once");
});

test("a failed tile asks for a traversal; a new twin starts over", async () => {
  let ready = 0;
  const watch = createTileWatch(() => (ready += 1));
  const tileset = fakeTileset();
  watch.attach(tileset);
  tileset.loaded = true;
  watch.tileFailed();
  await settle();
  assert.equal(tileset.traversals, 1);
  assert.equal(ready, 1);
  watch.reset();
  assert.equal(watch.ready(), false);
  const next = fakeTileset();
  next.loaded = true;
  watch.attach(next); // already complete when it arrives
  assert.equal(ready, 2);
});
