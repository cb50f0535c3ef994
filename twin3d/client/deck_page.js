// The page's own code (inlined by twin3d/client/deck.py after deck.gl and the deck's JSON): readable tooltips,
// tiles answered from the page when they are embedded, and a handle (window.twinDeck) that says when everything is
// loaded and drawn, for tests and for a person at the console. It runs after `jsonInput`, `tooltips` and
// `embeddedFiles` are set by the page.

// Tiles put into the page are answered from it (loaders.gl fetches with the global fetch), all else as usual.
if (Object.keys(embeddedFiles).length > 0) {
  const networkFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input.url;
    const data = embeddedFiles[url];
    if (data === undefined) return networkFetch(input, init);
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const type = url.endsWith(".json") ? "application/json" : "model/gltf-binary";
    const response = new Response(bytes, { status: 200, headers: { "Content-Type": type } });
    Object.defineProperty(response, "url", { value: url });  // loaders.gl resolves child tiles against it
    return Promise.resolve(response);
  };
}

const numberFormat = new Intl.NumberFormat(navigator.language || "de", { maximumFractionDigits: 1 });
function show(value) {
  if (value === null || value === undefined || value === "") return "\u2013";
  return typeof value === "number" ? numberFormat.format(value) : String(value);
}
function twinTooltip({ layer, object }) {
  if (!object || !layer) return null;
  const spec = tooltips[layer.root ? layer.root.id : layer.id] || tooltips[layer.id];
  if (!spec) return null;
  const table = document.createElement("div");
  table.className = "twin-tooltip";
  const title = document.createElement("b");
  title.textContent = spec.title;
  const rows = document.createElement("table");
  for (const [label, field] of spec.fields) {
    const value = object.properties ? object.properties[field] : object[field];
    const row = rows.insertRow();
    row.insertCell().textContent = label;
    row.insertCell().textContent = show(value);
  }
  table.append(title, rows);
  return { html: table.outerHTML, style: { background: "white", color: "#222", padding: "6px 8px",
    borderRadius: "4px", boxShadow: "0 1px 4px rgba(0,0,0,.3)", fontSize: "13px" } };
}

const twinDeck = (window.twinDeck = { frames: 0, errors: [] });
twinDeck.deck = createDeck({
  container: document.getElementById("deck-container"),
  jsonInput,
  tooltip: false,
});
twinDeck.deck.setProps({
  getTooltip: twinTooltip,
  onAfterRender: () => { twinDeck.frames += 1; },
  onError: (error) => { twinDeck.errors.push(String(error)); console.error(error); },
});
// Every layer (and its tiles) loaded: a page's signal that what can be drawn is there.
twinDeck.loaded = () => {
  const layers = twinDeck.deck.layerManager ? twinDeck.deck.layerManager.getLayers() : [];
  return layers.length > 0 && layers.every((l) => l.isLoaded);
};
// Show or hide one layer by its id (tests compare the picture with and without it).
twinDeck.setVisible = (id, visible) => {
  const layers = twinDeck.deck.props.layers.map((l) => (l.id === id ? l.clone({ visible }) : l));
  twinDeck.deck.setProps({ layers });
};
