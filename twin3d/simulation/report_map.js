// The interactive map of a downloaded scenario report: deck.gl, inlined into the page, draws the H3 cells coloured
// by the change of one indicator, with the scenario's measures on top. Everything it needs (rings, colours, labels)
// is in the page's JSON block; colours are computed in Python so the static SVG maps and this map agree.
// Without WebGL the section stays hidden and the SVG maps beside it carry the report.
(() => {
  "use strict";
  const section = document.getElementById("interactive-map");
  const host = document.getElementById("deck-map");
  const select = document.getElementById("map-metric");
  if (!section || !host || !select || !globalThis.deck) return;
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const { Deck, MapView, PolygonLayer, ScatterplotLayer, WebMercatorViewport } = globalThis.deck;
  const number = new Intl.NumberFormat(data.locale, { maximumFractionDigits: 1 });

  for (const metric of data.metrics) {
    const option = document.createElement("option");
    option.value = metric.key;
    option.textContent = metric.label;
    select.append(option);
  }
  select.value = data.default_metric;

  function signed(value) {
    if (value === null || value === undefined) return data.labels.no_comparison;
    if (Math.round(value * 10) === 0) return "±0";
    return `${value > 0 ? "+" : "−"}${number.format(Math.abs(value))}`;
  }

  function layers(key) {
    const metric = data.metrics.find((m) => m.key === key) ?? data.metrics[0];
    const cells = data.cells.map((cell, i) => ({ ...cell, value: metric.values[i], color: metric.colors[i] }));
    return [
      new PolygonLayer({
        id: `cells-${metric.key}`,
        data: cells,
        getPolygon: (c) => c.ring,
        // Coarser cells are the privacy gate's merged remainders: fainter, and below the fine cells.
        getFillColor: (c) => [...c.color, c.res < data.finest_resolution ? 110 : 215],
        getLineColor: [90, 90, 90, 160],
        lineWidthUnits: "pixels",
        getLineWidth: 1,
        pickable: true,
      }),
      new PolygonLayer({
        id: "measure-areas",
        data: data.measures.filter((m) => m.ring),
        getPolygon: (m) => m.ring,
        filled: false,
        getLineColor: [20, 20, 20, 255],
        lineWidthUnits: "pixels",
        getLineWidth: 2.5,
        pickable: true,
      }),
      new ScatterplotLayer({
        id: "measure-points",
        data: data.measures.filter((m) => m.point),
        getPosition: (m) => m.point,
        radiusUnits: "pixels",
        getRadius: 6,
        getFillColor: [255, 255, 255, 255],
        getLineColor: [20, 20, 20, 255],
        stroked: true,
        lineWidthUnits: "pixels",
        getLineWidth: 2,
        pickable: true,
      }),
    ];
  }

  function tooltip({ object }) {
    if (!object) return null;
    if (object.label) return { text: object.label };
    const metric = data.metrics.find((m) => m.key === select.value);
    return { text: `${data.labels.cell} ${object.h3} (${object.res})\n${metric.label}: ${signed(object.value)}` };
  }

  try {
    section.hidden = false;
    const { width, height } = host.getBoundingClientRect();
    const [w, s, e, n] = data.bounds;
    const fitted = new WebMercatorViewport({ width, height }).fitBounds(
      [
        [w, s],
        [e, n],
      ],
      { padding: 24 },
    );
    const view = { longitude: fitted.longitude, latitude: fitted.latitude, zoom: fitted.zoom };
    const map = new Deck({
      parent: host,
      views: new MapView({ repeat: false }),
      initialViewState: view,
      controller: { keyboard: true, dragRotate: false },
      layers: layers(select.value),
      getTooltip: tooltip,
      // Frames drawn, for readers that wait on the map (tests): a page's own signal, not a fixed wait.
      onAfterRender: () => {
        host.dataset.frames = String(Number(host.dataset.frames || 0) + 1);
      },
    });
    select.addEventListener("change", () => map.setProps({ layers: layers(select.value) }));
    host.dataset.ready = "true";
  } catch (error) {
    section.hidden = true;
    console.warn("interactive map unavailable, the static maps remain:", error);
  }
})();
