// Swipe: one map, the baseline left of a movable divider and the scenario right of it. Unlike "side by side"
// (two half-width views) both sides are the same view, so a building sits at the same pixel on either side and
// the divider can be dragged across a change. Layers that only one side has are clipped per pixel in the
// fragment shader (gl_FragCoord), which holds for any pitch and bearing; layers both sides share draw once.

import { t } from "./i18n.js";

const { LayerExtension } = globalThis.deck;

const shaderModule = {
  name: "swipe",
  fs: /* glsl */ `
layout(std140) uniform swipeUniforms {
  float split;
  float side;
} swipe;
`,
  uniformTypes: { split: "f32", side: "f32" },
};

const inject = {
  // side -1 keeps the pixels left of the divider, +1 those right of it.
  "fs:DECKGL_FILTER_COLOR": /* glsl */ `
  if ((gl_FragCoord.x - swipe.split) * swipe.side < 0.0) discard;
`,
};

class SwipeExtension extends LayerExtension {
  getShaders() {
    return { modules: [shaderModule], inject };
  }

  draw() {
    const { swipeSplit = 0.5, swipeSide = "right" } = this.props;
    // gl_FragCoord counts device pixels across the whole canvas; the swipe view fills it.
    const [width] = this.context.device.canvasContext.getDrawingBufferSize();
    this.setShaderModuleProps({ swipe: { split: swipeSplit * width, side: swipeSide === "left" ? -1 : 1 } });
  }
}
SwipeExtension.extensionName = "SwipeExtension";
SwipeExtension.defaultProps = { swipeSplit: 0.5, swipeSide: "right" };

const EXTENSION = new SwipeExtension();

// Where the divider stands, as a share of the map's width; one per page.
export const swipe = { split: 0.5 };

// The layer clipped to one side of the divider ("left": the baseline, "right": the scenario).
export function clipped(layer, side) {
  const extensions = [...(layer.props.extensions ?? []), EXTENSION];
  return layer.clone({ extensions, swipeSide: side, swipeSplit: swipe.split });
}

const STEP = 0.05;

// The divider over the map: dragged with the pointer, or moved with the arrow keys (Home/End: all one side).
// `onMove()` redraws the map.
export function mountDivider(container, onMove) {
  const handle = document.createElement("div");
  handle.id = "swipe-divider";
  handle.className = "swipe-divider";
  handle.tabIndex = 0;
  handle.setAttribute("role", "slider");
  handle.setAttribute("aria-valuemin", "0");
  handle.setAttribute("aria-valuemax", "100");
  handle.hidden = true;
  const labels = document.createElement("div");
  labels.className = "swipe-labels";
  labels.hidden = true;
  const left = document.createElement("span");
  const right = document.createElement("span");
  labels.append(left, right);
  container.append(labels, handle);

  const place = () => {
    const percent = Math.round(swipe.split * 100);
    handle.style.left = `${swipe.split * 100}%`;
    handle.setAttribute("aria-valuenow", String(percent));
    handle.setAttribute("aria-valuetext", t("swipeValue", { percent }));
    left.style.right = `calc(${100 - swipe.split * 100}% + .5rem)`;
    right.style.left = `calc(${swipe.split * 100}% + .5rem)`;
  };
  const move = (split) => {
    const next = Math.min(1, Math.max(0, split));
    if (next === swipe.split) return;
    swipe.split = next;
    place();
    onMove();
  };
  handle.addEventListener("keydown", (event) => {
    const keys = {
      ArrowLeft: swipe.split - STEP,
      ArrowDown: swipe.split - STEP,
      ArrowRight: swipe.split + STEP,
      ArrowUp: swipe.split + STEP,
      Home: 0,
      End: 1,
    };
    if (!(event.key in keys)) return;
    event.preventDefault();
    event.stopPropagation(); // the map's own arrow keys would pan it
    move(keys[event.key]);
  });
  handle.addEventListener("pointerdown", (event) => {
    handle.setPointerCapture(event.pointerId);
    event.stopPropagation();
  });
  handle.addEventListener("pointermove", (event) => {
    if (!handle.hasPointerCapture(event.pointerId)) return;
    const box = container.getBoundingClientRect();
    move((event.clientX - box.left) / box.width);
  });

  return {
    show(on) {
      handle.hidden = !on;
      labels.hidden = !on;
      if (on) place();
    },
    relabel() {
      handle.setAttribute("aria-label", t("swipeDivider"));
      left.textContent = t("compareLeft");
      right.textContent = t("compareRight");
      place();
    },
  };
}
