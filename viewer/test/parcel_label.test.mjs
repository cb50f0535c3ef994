// A parcel's name written from the parts the server sends (info_format.js parcelLabel): in German exactly as the
// server's German label, in English without the German cadastral terms; a parcel without parts keeps its label.

import assert from "node:assert/strict";
import { test } from "node:test";

import { currentLang, toggleLang } from "../js/i18n.js";
import { describe, parcelLabel } from "../js/info_format.js";

const PARCEL = {
  label: "Gemarkung Monzel (2566), Flur 1, Flurstück 6/2",
  label_parts: { gemarkung_name: "Monzel", gemarkung: "2566", flur: "1", numerator: "6", denominator: "2" },
};

function inEnglish(run) {
  if (currentLang() !== "en") toggleLang();
  try {
    run();
  } finally {
    if (currentLang() !== "de") toggleLang();
  }
}

test("in German the name reads as the server's label", () => {
  assert.equal(parcelLabel(PARCEL), PARCEL.label);
  const noName = { ...PARCEL.label_parts, gemarkung_name: null, denominator: null };
  assert.equal(parcelLabel({ label: "x", label_parts: noName }), "Gemarkung 2566, Flur 1, Flurstück 6");
});

test("in English the German cadastral terms give way to English ones", () => {
  inEnglish(() => {
    const name = parcelLabel(PARCEL);
    assert.equal(name, "Cadastral district Monzel (2566), Flur 1, parcel 6/2");
    assert.doesNotMatch(name, /Gemarkung|Flurstück/);
    assert.equal(describe("parcel", PARCEL).title, name);
    const building = { building_id: "b", parcels: [{ ...PARCEL, share: 1 }] };
    const row = describe("building", building).rows.find((r) => r.key === "parcel");
    assert.equal(row.value, name);
  });
});

test("a parcel without parts, or with none filled in, keeps its label", () => {
  assert.equal(parcelLabel({ label: "072566001000060002__", label_parts: null }), "072566001000060002__");
  const empty = { gemarkung_name: null, gemarkung: "", flur: undefined, numerator: "", denominator: undefined };
  assert.equal(parcelLabel({ label: "DERP1234", label_parts: empty }), "DERP1234");
  assert.equal(parcelLabel({ label: "Monzel, Flur 2, 17/3" }), "Monzel, Flur 2, 17/3");
});
