// Puts the pinned third-party code with its licences into viewer/vendor/ (committed), so the viewer never loads code
// from a CDN: deck.gl is built from the npm packages (build_deck.mjs), MapLibre GL JS is copied as published.
// `--check` verifies instead that the committed files are byte-identical to a fresh build and copy.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDeck, DECK_ENTRY } from "./build_deck.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "vendor");

// [package, file inside the package, destination inside vendor/]
const COPIED = [
  // The basemap under deck.gl. The CSP build: its worker is a file of our origin (worker-src 'self'), not a blob
  // made from a string, so the page's policy could drop blob: and 'unsafe-eval' without breaking the basemap.
  ["maplibre-gl", "dist/maplibre-gl-csp.js", "maplibre-gl/maplibre-gl-csp.js"],
  ["maplibre-gl", "dist/maplibre-gl-csp-worker.js", "maplibre-gl/maplibre-gl-csp-worker.js"],
  ["maplibre-gl", "dist/maplibre-gl.css", "maplibre-gl/maplibre-gl.css"],
  ["maplibre-gl", "LICENSE.txt", "maplibre-gl/LICENSE.txt"],
];

const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");
const version = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;

if (!existsSync(join(modules, "deck.gl")) || !existsSync(join(modules, "maplibre-gl"))) {
  console.error(`missing packages in ${modules}: run npm ci in viewer/ first`);
  process.exit(2);
}

// destination inside vendor/ -> { bytes, manifest entry }
const files = new Map();
const deck = await buildDeck();
const built = { built_by: "scripts/build_deck.mjs", entry: DECK_ENTRY, esbuild: deck.esbuild };
const deckJs = deck.js;
const deckLicences = new TextEncoder().encode(deck.licences);
const bundled = deck.packages.map((p) => `${p.name}@${p.version}`);
files.set("deck.gl/dist.min.js", {
  bytes: deckJs,
  entry: { package: "deck.gl", version: version("deck.gl"), sha256: sha(deckJs), ...built, bundled },
});
files.set("deck.gl/LICENSES.txt", {
  bytes: deckLicences,
  entry: { package: "deck.gl", version: version("deck.gl"), sha256: sha(deckLicences), ...built },
});
for (const [pkg, file, dest] of COPIED) {
  const bytes = readFileSync(join(modules, pkg, file));
  files.set(dest, { bytes, entry: { package: pkg, version: version(pkg), sha256: sha(bytes) } });
}
const manifest = Object.fromEntries([...files].map(([dest, { entry }]) => [dest, entry]));
const manifestBytes = `${JSON.stringify(manifest, null, 2)}\n`;

if (process.argv.includes("--check")) {
  let failures = 0;
  for (const [dest, { entry }] of files) {
    const out = join(vendor, dest);
    if (!existsSync(out) || sha(readFileSync(out)) !== entry.sha256) {
      console.error(`vendor/${dest} differs from a fresh build/copy of ${entry.package}@${entry.version}: npm run vendor`);
      failures += 1;
    }
  }
  // A file left over from an older layout (say a licence of a package no longer bundled) would mislead a reader.
  for (const folder of ["deck.gl", "maplibre-gl"]) {
    for (const name of readdirSync(join(vendor, folder))) {
      if (!files.has(`${folder}/${name}`)) {
        console.error(`vendor/${folder}/${name} is not produced by npm run vendor: delete it`);
        failures += 1;
      }
    }
  }
  const committed = join(vendor, "MANIFEST.json");
  if (!existsSync(committed) || readFileSync(committed, "utf8") !== manifestBytes) {
    console.error("vendor/MANIFEST.json is out of date: npm run vendor");
    failures += 1;
  }
  if (failures) process.exit(1);
  console.log(`vendor/ matches node_modules (${files.size} files, deck.gl bundle ${deckJs.length} bytes)`);
} else {
  for (const [dest, { bytes }] of files) {
    mkdirSync(dirname(join(vendor, dest)), { recursive: true });
    writeFileSync(join(vendor, dest), bytes);
  }
  writeFileSync(join(vendor, "MANIFEST.json"), manifestBytes);
  console.log(`vendored ${files.size} files into ${vendor} (deck.gl bundle ${deckJs.length} bytes)`);
}
