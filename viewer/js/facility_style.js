// Facilities on the map in a colour and with a letter per category, so that a Kita and a bus stop no longer look
// alike: the twin's most frequent categories each get one of a few colours, the rest share a grey. Every colour
// carries a white letter, so each has at least 4.5:1 contrast with white (WCAG AA for text; the unit test checks),
// and the letter, not the colour alone, tells the categories apart. No DOM, no deck.gl: `node --test` checks it.

export const FACILITY_COLORS = [
  [0, 90, 181], // blue
  [176, 60, 0], // rust
  [0, 118, 56], // green
  [122, 46, 158], // purple
  [160, 28, 90], // crimson
  [0, 108, 118], // teal
  [118, 88, 0], // ochre
  [92, 64, 51], // brown
];
export const OTHER_COLOR = [88, 88, 88];

// WCAG relative luminance and contrast ratio of two sRGB colours [r, g, b] (0-255).
export function luminance([r, g, b]) {
  const lin = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// A letter for each name, unique among them: the first letter of the name not yet taken, else of a later word or
// letter of it, else a digit.
function letters(names) {
  const taken = new Set();
  return names.map((name) => {
    const words = String(name).toUpperCase().split(/[^A-ZÄÖÜ0-9]+/).filter(Boolean);
    const candidates = [...words.map((w) => w[0]), ...words.join("")];
    const letter = candidates.find((c) => !taken.has(c)) ?? String(taken.size + 1);
    taken.add(letter);
    return letter;
  });
}

/**
 * The classes the facilities of a twin are drawn in: its most frequent categories first, each with a colour and a
 * letter from its name, then the rest as one grey class.
 *
 * @param {object[]} features the facilities' GeoJSON features (properties.category).
 * @param {(category: string) => string} nameOf the category's name in the page's language.
 * @param {string} otherName the name of the class of the rest ("Sonstige").
 * @returns {{classes: object[], classOf: (properties: object) => object}} classes: {category (null for the rest),
 *   name, color, letter, count}; classOf: the class of a facility.
 */
export function facilityClasses(features, nameOf, otherName) {
  const counts = new Map();
  for (const f of features) {
    const category = f.properties?.category;
    if (category) counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  // All categories get their own colour when they fit; otherwise the last colour is kept for the rest.
  const own = ranked.length <= FACILITY_COLORS.length ? ranked : ranked.slice(0, FACILITY_COLORS.length - 1);
  const rest = ranked.slice(own.length);
  const names = own.map(([category]) => nameOf(category));
  const marks = letters(names);
  const classes = own.map(([category, count], i) => ({
    category,
    name: names[i],
    color: FACILITY_COLORS[i],
    letter: marks[i],
    count,
  }));
  const other = {
    category: null,
    name: otherName,
    color: OTHER_COLOR,
    letter: "",
    count: rest.reduce((sum, [, n]) => sum + n, 0),
  };
  if (other.count > 0) classes.push(other);
  const byCategory = new Map(classes.filter((c) => c.category).map((c) => [c.category, c]));
  return { classes, classOf: (properties) => byCategory.get(properties?.category) ?? other };
}
