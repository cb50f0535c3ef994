// "Drucken": an A4 landscape page of what the map shows: the twin's title and the date, the map as one image (the
// basemap's canvases, deck.gl's canvas and the basemap's names composed in the order they are stacked), a scale
// bar and a north arrow, the legends of the layers shown, and the sources with their licences (the licences ask
// to be named wherever the map is shown). The page is built into .print-sheet, which only the print style shows
// (style.css hides everything else there), then window.print() opens the browser's dialog.

import { currentLang, formatNumber, t } from "./i18n.js";
import { geodesicDistance } from "./measure_geo.js";
import { el } from "./panels.js";

// deck.gl's canvas is a WebGL canvas without preserveDrawingBuffer: its pixels can be read only in the task that
// drew them, so the capture redraws it and reads it at once. The basemap keeps its drawing buffer (basemap.js).
function stackedCanvases(id) {
  const layer = document.getElementById(id);
  if (!layer || getComputedStyle(layer).visibility === "hidden") return [];
  return [...layer.querySelectorAll("canvas")];
}

// A length that reads well on a scale bar (1, 2 or 5 times a power of ten) and is at most `metres`.
export function roundLength(metres) {
  if (!(metres > 0)) return 0;
  const power = 10 ** Math.floor(Math.log10(metres));
  return [5, 2, 1].map((f) => f * power).find((m) => m <= metres) ?? power;
}

/**
 * @param {object} host {probe, deckgl() -> the Deck, groundAt(x, y) -> [lon, lat] on the twin's ground under a
 *   canvas pixel, view() -> the view state, title() -> the twin's title}.
 * @returns {object} print(): composes the page and opens the print dialog (resolves once it was opened).
 */
export function createPrint(host) {
  const info = { prints: 0, ready: false, width: 0, height: 0, error: null };
  host.probe.print = info;
  const sheet = el("div", { class: "print-sheet", "aria-hidden": "true" });
  document.body.append(sheet);
  // Printed or cancelled: the page goes, so no stale copy is printed by the browser's own menu later.
  window.addEventListener("afterprint", () => {
    sheet.replaceChildren();
    info.ready = false;
  });

  function captureMap() {
    const deck = host.deckgl();
    const deckCanvas = deck.getCanvas();
    const frame = deckCanvas.getBoundingClientRect();
    const out = document.createElement("canvas");
    out.width = deckCanvas.width;
    out.height = deckCanvas.height;
    const [sx, sy] = [out.width / frame.width, out.height / frame.height];
    const ctx = out.getContext("2d");
    ctx.fillStyle = getComputedStyle(document.getElementById("map")).backgroundColor;
    ctx.fillRect(0, 0, out.width, out.height);
    const draw = (canvas) => {
      const r = canvas.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) ctx.drawImage(canvas, (r.left - frame.left) * sx, (r.top - frame.top) * sy, r.width * sx, r.height * sy);
    };
    for (const canvas of stackedCanvases("basemap")) draw(canvas);
    deck.redraw("print");
    draw(deckCanvas);
    for (const canvas of stackedCanvases("basemap-labels")) draw(canvas);
    return out;
  }

  // The scale along the horizontal line through the map's centre (in a tilted view it holds there only).
  function scaleBar(canvas) {
    const [w, h] = [canvas.clientWidth, canvas.clientHeight];
    const a = host.groundAt(w / 2 - 50, h / 2);
    const b = host.groundAt(w / 2 + 50, h / 2);
    if (!a || !b) return null;
    const metresPerPixel = geodesicDistance(a, b) / 100;
    const metres = roundLength(metresPerPixel * w * 0.2);
    if (!metres) return null;
    const label = metres >= 1000 ? t("printKm", { n: formatNumber(metres / 1000) }) : t("printM", { n: formatNumber(metres) });
    const bar = el("div", { class: "print-scale" });
    const line = el("span", { class: "print-scale-bar" });
    line.style.width = `${((metres / (metresPerPixel * w)) * 100).toFixed(2)}%`;
    bar.append(line, el("span", { class: "print-scale-label" }, label));
    if ((host.view()?.pitch ?? 0) > 5) bar.append(el("span", { class: "print-scale-note" }, t("printScaleCentre")));
    return bar;
  }

  // An arrow pointing north on the image: the map is turned by its bearing.
  function northArrow() {
    const arrow = el("div", { class: "print-north", role: "img", "aria-label": t("printNorth") });
    // Parsed as HTML, <svg> gets its namespace without one spelled out (the viewer's code names no URL at all).
    arrow.innerHTML = '<svg viewBox="-20 -26 40 52"><path d="M0 -22 L12 14 L0 6 L-12 14 Z"></path><text y="25" text-anchor="middle"></text></svg>';
    const svg = arrow.firstElementChild;
    svg.style.transform = `rotate(${-(host.view()?.bearing ?? 0)}deg)`;
    svg.querySelector("text").textContent = t("printNorthLetter");
    return arrow;
  }

  // A copy of a legend for the page, without ids (they would repeat the sidebar's).
  function copy(node) {
    const clone = node.cloneNode(true);
    for (const n of [clone, ...clone.querySelectorAll("[id]")]) n.removeAttribute("id");
    return clone;
  }

  // The legends of what the map shows: the statistics, the population, the catalogue's layers shown, and any
  // element a panel marks with data-print-legend (its own heading inside).
  function legends() {
    const out = [];
    const add = (heading, list) => {
      if (!list || list.children.length === 0) return;
      const box = el("section", { class: "print-legend" });
      box.append(el("h2", {}, heading), copy(list));
      out.push(box);
    };
    if (!document.getElementById("legend-panel")?.hidden) {
      add(document.getElementById("legend-label")?.textContent || t("printLegend"), document.getElementById("legend"));
    }
    if (document.getElementById("toggle-population")?.checked) {
      add(document.getElementById("population-legend-label")?.textContent || t("printLegend"), document.getElementById("population-legend"));
    }
    for (const item of document.querySelectorAll("#catalogue-list .catalogue-layer")) {
      if (item.querySelector("input[type=checkbox]")?.checked) add(item.querySelector("label")?.textContent ?? "", item.querySelector("ol.legend"));
    }
    for (const node of document.querySelectorAll("[data-print-legend]")) {
      if (!node.hidden && !node.closest("[hidden]") && !sheet.contains(node)) out.push(copy(node));
    }
    return out;
  }

  function build(image) {
    const title = host.title();
    const date = new Intl.DateTimeFormat(currentLang() === "de" ? "de-DE" : "en-GB", { dateStyle: "long", timeStyle: "short" }).format(new Date());
    const head = el("header", { class: "print-head" });
    head.append(el("h1", {}, title), el("p", {}, t("printDate", { date })));
    const figure = el("figure", { class: "print-map" });
    const img = el("img", { alt: t("printMapAlt", { title }), src: image.toDataURL("image/png") });
    figure.append(img, northArrow());
    const scale = scaleBar(host.deckgl().getCanvas());
    if (scale) figure.append(scale);
    const side = el("aside", { class: "print-legends" });
    side.append(...legends());
    const sources = el("footer", { class: "print-sources" });
    sources.append(el("h2", {}, t("printSources")), copy(document.getElementById("attribution")));
    sheet.replaceChildren(head, figure, side, sources);
    return img;
  }

  return {
    async print() {
      info.ready = false;
      info.error = null;
      if (!host.deckgl()?.getCanvas()) return; // no map yet: nothing to print
      try {
        const image = captureMap();
        Object.assign(info, { width: image.width, height: image.height });
        const img = build(image);
        await img.decode(); // the dialog must not open before the map is in the page
        info.ready = true;
        info.prints += 1;
        window.print();
      } catch (error) {
        info.error = String(error?.message ?? error);
        throw error;
      }
    },
  };
}
