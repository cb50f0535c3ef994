// When every building tile the view needs has arrived. The status used to be checked only in deck.gl's
// onAfterRender, against Tileset3D.isLoaded(), which reads the tile list of the tileset's *last traversal*: the
// frame drawn for the last tile still saw that tile as requested, and when the next traversal (debounced, after
// the frame) found nothing left to load, no frame followed it, so "Lade Gebäude … 4 Kacheln" stayed. The real
// signal is the end of a traversal (loaders.gl's onTraversalComplete option): after it the tileset has started
// every load it needs, so isLoaded() is then true exactly when nothing is missing.

// onReady() is called once per tileset, when it has everything the view needs.
export function createTileWatch(onReady) {
  let tileset = null;
  let ready = false;
  const check = () => {
    if (ready || !tileset?.isLoaded()) return;
    ready = true;
    onReady();
  };
  return {
    // The tileset of the twin just opened (deck.gl's onTilesetLoad).
    attach(next) {
      tileset = next;
      ready = false;
      const previous = next.options.onTraversalComplete;
      next.options.onTraversalComplete = (selected) => {
        // After the traversal the tileset starts its loads synchronously; check once it has.
        queueMicrotask(check);
        return previous ? previous(selected) : selected;
      };
      check();
    },
    // A tile failed: no traversal follows by itself, so ask for one (deck.gl asks after a tile arrives).
    tileFailed() {
      tileset?.selectTiles().then(check);
    },
    reset() {
      tileset = null;
      ready = false;
    },
    ready: () => ready,
  };
}
