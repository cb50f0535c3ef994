// The string tables (viewer/js/strings/): both languages say the same things. Every key in German has an English
// text and the reverse, no text is empty, the {placeholders} a text fills in are the same in both languages, and
// no key is defined by two tables with different texts (the later table would silently win).

import assert from "node:assert/strict";
import { test } from "node:test";

import { TABLES } from "../js/strings/index.js";
import { currentLang, showText, t, toggleLang } from "../js/i18n.js";

const LANGS = ["de", "en"];
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
// The first German key of a table names it in failure messages.
const tableName = (table, index) => `table ${index} (${Object.keys(table.de ?? {})[0] ?? "empty"}…)`;

test("every table has exactly German and English", () => {
  for (const [i, table] of TABLES.entries()) {
    assert.deepEqual(Object.keys(table).sort(), LANGS, tableName(table, i));
  }
});

test("German and English have the same keys in each table", () => {
  for (const [i, table] of TABLES.entries()) {
    const de = Object.keys(table.de).sort();
    const en = Object.keys(table.en).sort();
    assert.deepEqual(
      { onlyGerman: de.filter((k) => !en.includes(k)), onlyEnglish: en.filter((k) => !de.includes(k)) },
      { onlyGerman: [], onlyEnglish: [] },
      tableName(table, i),
    );
  }
});

test("no text is empty", () => {
  for (const [i, table] of TABLES.entries()) {
    for (const lang of LANGS) {
      for (const [key, text] of Object.entries(table[lang])) {
        assert.equal(typeof text, "string", `${tableName(table, i)} ${lang}.${key}`);
        assert.ok(text.trim().length > 0, `${tableName(table, i)} ${lang}.${key} is empty`);
      }
    }
  }
});

test("both languages fill in the same placeholders", () => {
  for (const [i, table] of TABLES.entries()) {
    for (const [key, de] of Object.entries(table.de)) {
      const en = table.en[key];
      if (en === undefined) continue; // reported by the key test
      assert.deepEqual(placeholders(en), placeholders(de), `${tableName(table, i)} ${key}: "${de}" / "${en}"`);
    }
  }
});

test("no key is defined twice with different texts", () => {
  const seen = new Map();
  const clashes = [];
  for (const [i, table] of TABLES.entries()) {
    for (const lang of LANGS) {
      for (const [key, text] of Object.entries(table[lang])) {
        const id = `${lang}.${key}`;
        const before = seen.get(id);
        if (before && before.text !== text) clashes.push(`${id}: ${before.table} and ${tableName(table, i)}`);
        seen.set(id, { text, table: tableName(table, i) });
      }
    }
  }
  assert.deepEqual(clashes, []);
});

test("English texts contain no German umlauts or ß", () => {
  // A cheap guard against a German text pasted into the English table (the browser test test_english.py checks
  // the page itself against every German text).
  const found = [];
  for (const table of TABLES) {
    for (const [key, text] of Object.entries(table.en)) {
      if (/[äöüÄÖÜß]/.test(text)) found.push(`${key}: ${text}`);
    }
  }
  assert.deepEqual(found, []);
});

test("i18n.js imports without a browser, speaks German by default and fills in placeholders", () => {
  assert.equal(currentLang(), "de");
  assert.equal(t("tilesReady", { count: 3 }), "3 Gebäudekacheln geladen");
  assert.equal(t("no-such-key"), "no-such-key");
});

test("a message shown with showText follows a change of language, unless its text changed meanwhile", () => {
  const confirmation = { textContent: "", isConnected: true };
  const overwritten = { textContent: "", isConnected: true };
  showText(confirmation, "placeSent");
  showText(overwritten, "placeSent");
  overwritten.textContent = "something else";
  assert.equal(confirmation.textContent, "Danke! Ihr Beitrag ist veröffentlicht.");
  toggleLang();
  try {
    assert.equal(currentLang(), "en");
    assert.equal(confirmation.textContent, "Thank you! Your contribution is published.");
    assert.equal(overwritten.textContent, "something else");
  } finally {
    toggleLang();
  }
  assert.equal(confirmation.textContent, "Danke! Ihr Beitrag ist veröffentlicht.");
});
