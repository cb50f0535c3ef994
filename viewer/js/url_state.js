// The viewer's state in the URL (the permalink and the share link), as a pure module: `parse(hash)` turns
// "#twin=lauf&view=11.28,49.51,16.5,45,-15&..." into a state object, `format(state)` writes it back. No
// `location`, DOM or deck.gl here, so Node can test it (test/url_state.test.mjs); permalink.js is the page's glue.
//
// Parameters (each optional but `twin`, in this order when written):
//   twin=<name>                        the twin
//   view=<lon>,<lat>,<zoom>,<pitch>,<bearing>
//   layers=<key>,<key>,...             the layer toggles switched on (basemap, buildings, facilities, ...); the
//                                      twin's other toggles are off. Absent: the viewer's defaults.
//   cat=<id>,<id>,...                  the layer catalogue's layers shown
//   pop=<persona>,<resolution|auto>    the population layer, while it is shown
//   building=<id>                      the selected building (its id, as /api/twins/<twin>/buildings/<id> takes it)
//   scenario=<64 hex digits>           the scenario shown
//   proposal=<id>                      the proposal whose page is open
//   year=<yyyy>                        the statistics year (the time slider)
//   panel=<name>                       the open sidebar panel (scenario, places, proposals, survey, sun)
//   lang=de|en                         the language
// A value that does not pass its check is left out of the state (never thrown): a link cut short or edited by
// hand opens what still makes sense.

export const LANGS = ["de", "en"];
export const PANELS = ["scenario", "places", "proposals", "survey", "sun"];

const NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;
const KEY = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const LAYER_ID = /^[\w.:-]{1,120}$/;
const BUILDING_ID = /^[\w:/.-]{1,200}$/; // the server's pattern for /buildings/{id}
const PERSONA = /^(\*|[\w-]{1,64})$/; // "*": all personas
const RESOLUTION = /^(auto|[0-9]{1,2})$/;
const SCENARIO = /^[0-9a-f]{64}$/;
const PROPOSAL = /^[1-9][0-9]{0,15}$/;
const YEAR = /^[12][0-9]{3}$/;
const MAX_LIST = 50;

// The limits a view must keep (deck.gl's and MapLibre's camera limits; the bearing in either direction).
const VIEW_LIMITS = [
  ["longitude", -180, 180],
  ["latitude", -85.06, 85.06],
  ["zoom", 0, 24],
  ["pitch", 0, 85],
  ["bearing", -360, 360],
];

// A state with nothing in it: what a missing or unusable hash gives.
export function emptyState() {
  return {
    twin: null,
    view: null,
    layers: null,
    catalogue: null,
    pop: null,
    building: null,
    scenario: null,
    proposal: null,
    year: null,
    panel: null,
    lang: null,
  };
}

function parseView(text) {
  const parts = text.split(",");
  if (parts.length !== 5 || parts.some((p) => !/^-?[0-9]+(\.[0-9]+)?$/.test(p))) return null;
  const view = {};
  for (const [i, [field, min, max]] of VIEW_LIMITS.entries()) {
    const value = Number(parts[i]);
    if (!(value >= min && value <= max)) return null;
    view[field] = value;
  }
  return view;
}

// A comma-separated list whose items all pass `pattern`, without repeats; null when any item fails.
function parseList(text, pattern) {
  const items = text === "" ? [] : text.split(",");
  if (items.length > MAX_LIST || !items.every((item) => pattern.test(item))) return null;
  return [...new Set(items)];
}

function parsePop(text) {
  const [persona, choice, ...rest] = text.split(",");
  if (rest.length || !PERSONA.test(persona) || !RESOLUTION.test(choice ?? "")) return null;
  return { persona, choice };
}

const check = (pattern) => (text) => (pattern.test(text) ? text : null);

// Each parameter's reader: the text after "name=" (decoded) to the state's value, or null when it fails.
const READERS = {
  twin: ["twin", check(NAME)],
  view: ["view", parseView],
  layers: ["layers", (text) => parseList(text, KEY)],
  cat: ["catalogue", (text) => parseList(text, LAYER_ID)],
  pop: ["pop", parsePop],
  building: ["building", check(BUILDING_ID)],
  scenario: ["scenario", check(SCENARIO)],
  proposal: ["proposal", (text) => (PROPOSAL.test(text) ? Number(text) : null)],
  year: ["year", (text) => (YEAR.test(text) ? Number(text) : null)],
  panel: ["panel", (text) => (PANELS.includes(text) ? text : null)],
  lang: ["lang", (text) => (LANGS.includes(text) ? text : null)],
};

/**
 * The state a URL hash describes.
 *
 * @param {string} hash the hash, with or without its "#" (`location.hash`).
 * @returns {object} every field of emptyState(), null where the hash has no usable value.
 * @example parse("#twin=lauf&view=11.28,49.51,16,45,-15").view.zoom // 16
 */
export function parse(hash) {
  const state = emptyState();
  let params;
  try {
    params = new URLSearchParams(String(hash ?? "").replace(/^#/, ""));
  } catch {
    return state;
  }
  for (const [name, [field, read]] of Object.entries(READERS)) {
    const text = params.get(name);
    if (text === null || text.length > 4000) continue;
    const value = read(text);
    if (value !== null) state[field] = value;
  }
  return state;
}

/**
 * What of a parsed state belongs to twin `name`: all of it if the link is for that twin; otherwise only the
 * language (a link to a twin this server does not serve opens the default twin as it is).
 */
export function forTwin(state, name) {
  if (state.twin === name) return state;
  return { ...emptyState(), lang: state.lang };
}

// Readable but safe: the characters a hash may hold unescaped (",", ":" and "/" are not special in it).
function encode(text) {
  return encodeURIComponent(text).replace(/%(2C|3A|2F)/gi, (code) => decodeURIComponent(code));
}

/**
 * The hash for a state: the inverse of parse() (values rounded to what a view needs: about 10 cm, 1/100 zoom
 * level, whole degrees). Fields that are null or fail their check are left out.
 *
 * @param {object} state fields as parse() returns them; `twin` is required.
 * @returns {string} "#twin=..." (or "" without a twin).
 */
export function format(state) {
  const s = { ...emptyState(), ...state };
  if (!s.twin || !NAME.test(s.twin)) return "";
  const out = [`twin=${encode(s.twin)}`];
  const v = s.view;
  if (v && VIEW_LIMITS.every(([field]) => Number.isFinite(v[field]))) {
    const parts = [v.longitude.toFixed(6), v.latitude.toFixed(6), v.zoom.toFixed(2), v.pitch.toFixed(0), v.bearing.toFixed(0)];
    // toFixed(0) writes "-0" for small negative bearings; parse() reads it, but "0" is what a reader expects.
    out.push(`view=${parts.map((p) => (Number(p) === 0 ? "0" : p)).join(",")}`);
  }
  const list = (items, pattern) => (items ?? []).filter((item) => pattern.test(item)).slice(0, MAX_LIST);
  if (s.layers) out.push(`layers=${list(s.layers, KEY).join(",")}`);
  if (s.catalogue?.length) out.push(`cat=${list(s.catalogue, LAYER_ID).map(encode).join(",")}`);
  if (s.pop && PERSONA.test(s.pop.persona) && RESOLUTION.test(String(s.pop.choice))) {
    out.push(`pop=${encode(s.pop.persona)},${s.pop.choice}`);
  }
  if (s.building && BUILDING_ID.test(s.building)) out.push(`building=${encode(s.building)}`);
  if (s.scenario && SCENARIO.test(s.scenario)) out.push(`scenario=${s.scenario}`);
  if (s.proposal && PROPOSAL.test(String(s.proposal))) out.push(`proposal=${s.proposal}`);
  if (s.year && YEAR.test(String(s.year))) out.push(`year=${s.year}`);
  if (s.panel && PANELS.includes(s.panel)) out.push(`panel=${s.panel}`);
  if (s.lang && LANGS.includes(s.lang)) out.push(`lang=${s.lang}`);
  return `#${out.join("&")}`;
}

// "persona,choice" as the population panel's hashParam() gives it, as the state's `pop`.
export function popFrom(param) {
  return param ? parsePop(String(param)) : null;
}
