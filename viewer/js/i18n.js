// German by default, English on request; the choice is remembered in this browser only.

import { TABLES } from "./strings/index.js";

// Every table of strings/ merged per language. A key defined twice is a mistake the parity test
// (test/i18n.test.mjs) reports; here the later table would win.
const STRINGS = { de: {}, en: {} };
for (const table of TABLES) {
  for (const code of Object.keys(STRINGS)) Object.assign(STRINGS[code], table[code]);
}

// Guarded so that the module also imports in Node (the unit tests), where there is no storage and no document.
let lang = globalThis.localStorage?.getItem("twin3d.lang") || "de";
if (!STRINGS[lang]) lang = "de";

export function currentLang() {
  return lang;
}

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.de[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return t("noData");
  return new Intl.NumberFormat(lang === "de" ? "de-DE" : "en-GB", {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value);
}

// Messages that follow the page's language (a confirmation, a status): an element written with showText() is
// written again in the other language when the language changes, unless its text has changed meanwhile.
const shownTexts = new Map();

export function showText(element, key, vars = {}) {
  const text = t(key, vars);
  element.textContent = text;
  shownTexts.set(element, { key, vars, text });
  return text;
}

function reshowTexts() {
  for (const [element, shown] of shownTexts) {
    if (!element.isConnected || element.textContent !== shown.text) {
      shownTexts.delete(element);
      continue;
    }
    shown.text = t(shown.key, shown.vars);
    element.textContent = shown.text;
  }
}

export function applyStaticTexts(root = globalThis.document) {
  if (!root) return; // Node (the unit tests): no page
  document.documentElement.lang = lang;
  document.title = t("pageTitle");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  const toggle = document.getElementById("lang-toggle");
  if (toggle) {
    toggle.textContent = lang === "de" ? "English" : "Deutsch";
    toggle.lang = lang === "de" ? "en" : "de";
  }
}

export function toggleLang() {
  lang = lang === "de" ? "en" : "de";
  globalThis.localStorage?.setItem("twin3d.lang", lang);
  applyStaticTexts();
  reshowTexts();
}
