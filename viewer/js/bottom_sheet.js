// The phone layout's bottom sheet: below PHONE_QUERY the map fills the screen and the sidebar becomes a sheet over
// its lower part, at one of three heights (peek: the panel titles; half; full). The handle at its top changes the
// height by a tap (peek -> half -> full -> peek), by dragging, or by the keyboard (Enter/Space like a tap, arrow
// keys up and down); opening a panel raises a peeking sheet to half height, so the page itself never scrolls and
// the map stays in view. On a desktop the module does nothing visible: the handle is hidden by the style sheet.
// Also here: the map hint for touch devices (short, with a close button on phones), since it is part of what a
// phone shows over the map.

import { t } from "./i18n.js";

// Keep in step with the @media rule of the phone layout in style.css.
export const PHONE_QUERY = "(max-width: 720px)";
export const SHEET_HEIGHTS = ["peek", "half", "full"];
// A press that moves less than this many pixels is a tap, not a drag.
const TAP_SLOP = 6;

// The height (px) each state takes in a layout `total` px high; the CSS sets the same through --sheet-h.
export function sheetHeight(state, total) {
  if (state === "full") return Math.max(0, total - 8);
  if (state === "half") return Math.round(total * 0.5);
  return Math.min(total, Math.max(112, Math.round(total * 0.22)));
}

// The state nearest to a dragged height.
export function nearestState(height, total) {
  let best = "peek";
  for (const state of SHEET_HEIGHTS) {
    if (Math.abs(sheetHeight(state, total) - height) < Math.abs(sheetHeight(best, total) - height)) best = state;
  }
  return best;
}

// A tap cycles upwards and from full back to peek; the arrow keys step one height up or down.
export function nextState(state, step = 0) {
  const i = SHEET_HEIGHTS.indexOf(state);
  if (step === 0) return SHEET_HEIGHTS[(i + 1) % SHEET_HEIGHTS.length];
  return SHEET_HEIGHTS[Math.min(SHEET_HEIGHTS.length - 1, Math.max(0, i + step))];
}

const byId = (id) => document.getElementById(id);

// deps: {probe, sheet (the sidebar), handle (its button), layout (the element holding map and sheet), matchMedia}:
// all but probe default to the page's. Returns {set(state), state(), relabel()}.
export function createBottomSheet({
  probe,
  sheet = byId("sidebar"),
  handle = byId("sheet-handle"),
  layout = sheet.parentElement,
  matchMedia = globalThis.matchMedia,
}) {
  const phone = matchMedia(PHONE_QUERY);
  let state = "peek";
  let drag = null; // {startY, startHeight, moved} while the handle is pressed
  let dragged = false; // the click that ends a drag is not a tap

  function publish() {
    probe.sheet = { phone: phone.matches, state };
  }

  function set(next, { focusPanel = null } = {}) {
    state = next;
    layout.dataset.sheet = state;
    layout.style.removeProperty("--sheet-h");
    handle.setAttribute("aria-expanded", String(state !== "peek"));
    relabel();
    publish();
    if (focusPanel) revealInSheet(focusPanel);
  }

  // Scroll the sheet (never the page) so that a panel's heading sits at its top.
  function revealInSheet(node) {
    const top = node.getBoundingClientRect().top - sheet.getBoundingClientRect().top;
    sheet.scrollTop += top - handle.offsetHeight - 4;
  }

  function relabel() {
    handle.setAttribute("aria-label", t(`sheet_${state}`));
    handle.title = t("sheetHandleHint");
  }

  handle.addEventListener("click", () => {
    if (dragged) {
      dragged = false;
      return;
    }
    set(nextState(state));
  });
  handle.addEventListener("keydown", (event) => {
    const step = { ArrowUp: 1, ArrowDown: -1, PageUp: 1, PageDown: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    set(nextState(state, step));
  });

  // Dragging the handle: the sheet follows the finger, and snaps to the nearest height when let go.
  handle.addEventListener("pointerdown", (event) => {
    if (!phone.matches) return;
    drag = { startY: event.clientY, startHeight: sheet.getBoundingClientRect().height, moved: false };
    handle.setPointerCapture?.(event.pointerId);
  });
  handle.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dy = drag.startY - event.clientY;
    if (!drag.moved && Math.abs(dy) < TAP_SLOP) return;
    drag.moved = true;
    const total = layout.clientHeight;
    const height = Math.min(total, Math.max(sheetHeight("peek", total) / 2, drag.startHeight + dy));
    layout.style.setProperty("--sheet-h", `${height}px`);
    layout.dataset.dragging = "true";
  });
  const endDrag = () => {
    if (!drag) return;
    const { moved } = drag;
    drag = null;
    delete layout.dataset.dragging;
    if (!moved) return;
    dragged = true; // the click that follows this pointerup is the end of the drag
    set(nearestState(sheet.getBoundingClientRect().height, layout.clientHeight));
    setTimeout(() => (dragged = false), 0);
  };
  handle.addEventListener("pointerup", endDrag);
  handle.addEventListener("pointercancel", endDrag);

  // Opening a panel (Orte, Szenario, ...) raises a peeking sheet to half height and brings its title to the top.
  sheet.addEventListener("click", (event) => {
    const toggle = event.target.closest?.(".panel-toggle");
    if (!toggle || !phone.matches) return;
    if (toggle.getAttribute("aria-expanded") !== "true") return;
    set(state === "peek" ? "half" : state, { focusPanel: toggle });
  });
  // Keyboard users who tab (or skip) into a peeking sheet see where the focus went.
  sheet.addEventListener("focusin", (event) => {
    if (phone.matches && state === "peek" && event.target !== handle) set("half");
  });

  phone.addEventListener?.("change", publish);
  set(state);
  return { set, state: () => state, relabel };
}

// The map hint: touch gestures on a coarse pointer; on a phone a close button, so it does not stay over the map.
export function createMapHint({
  hint = byId("map-hint"),
  text = byId("map-hint-text"),
  close = byId("map-hint-close"),
  matchMedia = globalThis.matchMedia,
} = {}) {
  const touch = matchMedia("(pointer: coarse)").matches;
  const phone = matchMedia(PHONE_QUERY).matches;
  text.dataset.i18n = touch ? (phone ? "mapHintTouchShort" : "mapHintTouch") : "mapHint";
  close.hidden = !touch && !phone;
  close.addEventListener("click", () => {
    hint.hidden = true;
    globalThis.sessionStorage?.setItem("twin3d.hintClosed", "1");
  });
  if (globalThis.sessionStorage?.getItem("twin3d.hintClosed") === "1" && (touch || phone)) hint.hidden = true;
  function relabel() {
    text.textContent = t(text.dataset.i18n);
    close.setAttribute("aria-label", t("mapHintClose"));
  }
  relabel();
  return { touch, relabel };
}
