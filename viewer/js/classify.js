// Quantile classes and a colour-blind-safe sequential palette (ColorBrewer YlGnBu, 5 classes).

export const PALETTE = [
  [255, 255, 204],
  [161, 218, 180],
  [65, 182, 196],
  [44, 127, 184],
  [37, 52, 148],
];
export const NO_DATA_COLOR = [200, 200, 200];

// Class breaks at quantiles of the finite values; duplicates collapse so small data sets get fewer classes.
export function quantileBreaks(values, classes = PALETTE.length) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const breaks = [];
  for (let i = 1; i < classes; i += 1) {
    const q = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / classes))];
    if (!breaks.includes(q)) breaks.push(q);
  }
  return breaks;
}

export function classOf(value, breaks) {
  if (!Number.isFinite(value)) return -1;
  let k = 0;
  while (k < breaks.length && value >= breaks[k]) k += 1;
  return k;
}

export function colorFor(value, breaks, palette = PALETTE) {
  const k = classOf(value, breaks);
  if (k < 0) return NO_DATA_COLOR;
  // Spread fewer classes over the whole palette so the contrast stays readable.
  const n = breaks.length + 1;
  const index = n === 1 ? palette.length - 1 : Math.round((k * (palette.length - 1)) / (n - 1));
  return palette[index];
}

export function legendEntries(values, breaks, format, palette = PALETTE) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [];
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const edges = [min, ...breaks, max];
  const entries = [];
  for (let k = 0; k < edges.length - 1; k += 1) {
    entries.push({ color: colorFor(edges[k], breaks, palette), label: `${format(edges[k])} – ${format(edges[k + 1])}` });
  }
  if (values.some((v) => !Number.isFinite(v))) entries.push({ color: NO_DATA_COLOR, label: null });
  return entries;
}
