// The entry of our deck.gl bundle (built by scripts/build_deck.mjs into vendor/deck.gl/dist.min.js, global `deck`).
//
// It exports what deck.gl's own standalone bundle exports (so every `globalThis.deck.X` of the viewer and of the
// scenario report keeps working; left out: the DeckGL convenience class and the debug hook _registerLoggers, which
// nothing here uses) plus loaders.gl's MVTLoader. deck.gl's bundle ships only MVTWorkerLoader, whose
// parser runs in a worker script fetched from a CDN; MVTLoader parses on the main thread when a layer's
// loadOptions say `worker: false`, so no request leaves the origin and the hand-written decoder is not needed.

export * from "@deck.gl/core";
export * from "@deck.gl/layers";
export * from "@deck.gl/aggregation-layers";
export * from "@deck.gl/extensions";
export * from "@deck.gl/geo-layers";
export * from "@deck.gl/google-maps";
export * from "@deck.gl/mesh-layers";
export * from "@deck.gl/mapbox";
export * from "@deck.gl/maplibre";
export * from "@deck.gl/widgets";
export { MVTLoader } from "@loaders.gl/mvt";
