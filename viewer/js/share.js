// "Teilen" and "Drucken" on the map: the share button copies the link to this view (permalink.js) to the clipboard
// and says so in a live region; where the clipboard is not allowed, the link stands selected in a text field to
// copy by hand. On phones (a coarse pointer) with the Web Share API the system's share sheet opens instead.

import { t } from "./i18n.js";
import { el } from "./panels.js";

/**
 * @param {object} host {probe, link() -> the link to this view, title() -> the twin's title, print() -> prints
 *   the view (print.js)}.
 * @returns {object} relabel() (also called by itself when the page's language changes).
 */
export function createShare(host) {
  const info = { link: null, method: null, presses: 0 };
  host.probe.share = info;
  const shareButton = el("button", { type: "button", id: "share-button", "aria-expanded": "false", "aria-controls": "share-box" });
  const printButton = el("button", { type: "button", id: "print-button" });
  const field = el("input", { type: "text", id: "share-url", readonly: "", spellcheck: "false", autocomplete: "off" });
  const fieldLabel = el("label", { for: "share-url", class: "small" });
  const close = el("button", { type: "button", class: "share-close" });
  const box = el("div", { id: "share-box", class: "share-box", role: "group", "aria-labelledby": "share-box-title", hidden: "" });
  const title = el("p", { id: "share-box-title", class: "share-box-title" });
  // A live region that exists before it speaks: screen readers announce a change, not a new node.
  const status = el("p", { id: "share-status", class: "share-status", role: "status", "aria-live": "polite" });
  box.append(title, fieldLabel, field, close);
  const row = el("div", { class: "share-tools" });
  row.append(shareButton, printButton);
  const bar = document.getElementById("map-tools");
  bar.append(row, box, status);

  function setOpen(open) {
    box.hidden = !open;
    shareButton.setAttribute("aria-expanded", String(open));
  }

  function say(key) {
    status.textContent = t(key);
  }

  async function copy(link) {
    try {
      await navigator.clipboard.writeText(link);
      return true;
    } catch {
      return false; // not allowed (no permission, an insecure origin, no user gesture left)
    }
  }

  async function share() {
    const link = host.link();
    Object.assign(info, { link, presses: info.presses + 1, method: null });
    field.value = link;
    status.textContent = "";
    if (navigator.share && matchMedia("(pointer: coarse)").matches) {
      try {
        await navigator.share({ title: host.title(), url: link });
        info.method = "share";
        say("shareShared");
        return;
      } catch (error) {
        if (error?.name === "AbortError") return; // the user closed the share sheet
      }
    }
    setOpen(true);
    if (await copy(link)) {
      info.method = "clipboard";
      say("shareCopied");
    } else {
      // The link stands selected in the field, ready for Ctrl+C.
      info.method = "field";
      field.focus();
      field.select();
      say("shareCopyByHand");
    }
  }

  function hide() {
    setOpen(false);
    status.textContent = "";
    shareButton.focus();
  }

  shareButton.addEventListener("click", () => (box.hidden ? share() : hide()));
  close.addEventListener("click", hide);
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    hide();
  });
  field.addEventListener("focus", () => field.select());
  printButton.addEventListener("click", () => host.print());

  function relabel() {
    shareButton.textContent = t("shareButton");
    printButton.textContent = t("printButton");
    title.textContent = t("shareBoxTitle");
    fieldLabel.textContent = t("shareFieldLabel");
    close.textContent = t("shareClose");
    if (status.textContent) status.textContent = "";
  }
  relabel();
  // i18n's applyStaticTexts() sets <html lang>: relabel then, without a line in main.js's language handler.
  new MutationObserver(relabel).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  return { relabel };
}
