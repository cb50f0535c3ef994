// Copies the pinned third-party bundles with their licence files into viewer/vendor/ (committed), so the
// viewer never loads code from a CDN. `--check` verifies the committed copies match node_modules instead.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "vendor");

// [package, file inside the package, destination inside vendor/]
const FILES = [
  ["deck.gl", "dist.min.js", "deck.gl/dist.min.js"],
  ["deck.gl", "LICENSE", "deck.gl/LICENSE"],
  ["@loaders.gl/core", "LICENSE", "deck.gl/LICENSE.loaders.gl"],
  ["@luma.gl/core", "LICENSE", "deck.gl/LICENSE.luma.gl"],
  ["@math.gl/core", "LICENSE", "deck.gl/LICENSE.math.gl"],
  // The basemap under deck.gl. The CSP build: its worker is a file of our origin (worker-src 'self'), not a blob
  // made from a string, so the page's policy could drop blob: and 'unsafe-eval' without breaking the basemap.
  ["maplibre-gl", "dist/maplibre-gl-csp.js", "maplibre-gl/maplibre-gl-csp.js"],
  ["maplibre-gl", "dist/maplibre-gl-csp-worker.js", "maplibre-gl/maplibre-gl-csp-worker.js"],
  ["maplibre-gl", "dist/maplibre-gl.css", "maplibre-gl/maplibre-gl.css"],
  ["maplibre-gl", "LICENSE.txt", "maplibre-gl/LICENSE.txt"],
];

const sha = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const version = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;

const check = process.argv.includes("--check");
const manifest = {};
let failures = 0;
for (const [pkg, file, dest] of FILES) {
  const src = join(modules, pkg, file);
  const out = join(vendor, dest);
  if (!existsSync(src)) {
    console.error(`missing ${src}: run npm ci in viewer/ first`);
    process.exit(2);
  }
  manifest[dest] = { package: pkg, version: version(pkg), sha256: sha(src) };
  if (check) {
    if (!existsSync(out) || sha(out) !== sha(src)) {
      console.error(`vendor/${dest} differs from ${pkg}@${version(pkg)}/${file}`);
      failures += 1;
    }
  } else {
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(src, out);
  }
}
if (!check) {
  writeFileSync(join(vendor, "MANIFEST.json"), JSON.stringify(manifest, null, 2) + "\n");
  console.log(`vendored ${FILES.length} files into ${vendor}`);
} else if (failures) {
  process.exit(1);
} else {
  console.log("vendor/ matches node_modules");
}
