// Builds the viewer's deck.gl bundle (global `deck`) from the pinned npm packages with esbuild, and the text of the
// licences of every package that ends up in it. Used by vendor.mjs, which writes both into vendor/deck.gl/ (and
// with --check compares the committed files with a fresh build); `node scripts/build_deck.mjs` prints what went in.
//
// Why our own bundle: deck.gl's dist.min.js ships MVTLayer with loaders.gl's worker-only MVT loader, whose worker
// script comes from a CDN. scripts/deck_entry.js adds loaders.gl's MVTLoader, which parses on the main thread.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export const DECK_ENTRY = "scripts/deck_entry.js";

// deck.gl's own standalone bundle leaves h3-js out (H3 layers then look for a global `h3`, loaded by its own script
// tag); the viewer draws no H3 layer, so we do the same and save 210 kB.
const h3FromGlobal = {
  name: "h3-js-from-global",
  setup(build) {
    build.onResolve({ filter: /^h3-js$/ }, () => ({ path: "h3-js", namespace: "h3-global" }));
    build.onLoad({ filter: /.*/, namespace: "h3-global" }, () => ({
      contents: "module.exports = globalThis.h3 || {};",
      loader: "js",
    }));
  },
};

// meshoptimizer's decoder (loaders.gl reads EXT_meshopt_compression with it) compiles its WebAssembly as soon as the
// module runs, which a page whose policy forbids WebAssembly (the scenario report's) reports as an error even
// though it never decodes a mesh (deck.gl's own bundle, with an older loaders.gl, started it on first use). Made lazy:
// the module body becomes a factory that runs on the first use of MeshoptDecoder. The expected text is checked, so a new meshoptimizer fails the build
// instead of slipping through.
const MESHOPT_HEAD = "var MeshoptDecoder = (function () {";
const MESHOPT_TAIL = "})();\n\nexport { MeshoptDecoder };";
const lazyMeshopt = {
  name: "lazy-meshopt-decoder",
  setup(build) {
    build.onLoad({ filter: /[\\/]meshoptimizer[\\/]meshopt_decoder\.mjs$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8").trimEnd();
      if (source.split(MESHOPT_HEAD).length !== 2 || !source.endsWith(MESHOPT_TAIL)) {
        throw new Error(`${path} is not the meshoptimizer decoder build_deck.mjs knows: check lazyMeshopt`);
      }
      const factory = source.replace(MESHOPT_HEAD, "var createMeshoptDecoder = function () {").slice(0, -MESHOPT_TAIL.length);
      const contents =
        `${factory}};\nvar decoder;\n` +
        "export var MeshoptDecoder = new Proxy({}, { get: (_, key) => (decoder ??= createMeshoptDecoder())[key] });\n";
      return { contents, loader: "js" };
    });
  },
};

// Everything that changes the output is fixed here (target, defines, the banner), and paths are relative to the
// viewer folder: the same packages give the same bytes on any machine, which is what --check relies on.
function options(banner) {
  return {
    absWorkingDir: root,
    entryPoints: [DECK_ENTRY],
    bundle: true,
    format: "iife",
    globalName: "deck",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    charset: "ascii", // non-ASCII characters escaped: the bytes mean the same whatever charset a server names
    define: { "process.env.NODE_ENV": '"production"' },
    banner: { js: banner },
    plugins: [h3FromGlobal, lazyMeshopt],
    metafile: true,
    write: false,
    logLevel: "silent",
  };
}

// "node_modules/@luma.gl/gltf/node_modules/@loaders.gl/core/dist/x.js" -> "node_modules/@luma.gl/.../@loaders.gl/core"
function packageDir(input) {
  const match = input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
  return match ? match[1] : null;
}

const LICENCE_FILE = /^(licen[cs]e|copying)(\.(md|txt))?$/i;

function licenceText(dir) {
  const file = readdirSync(join(root, dir)).find((name) => LICENCE_FILE.test(name));
  return file ? readFileSync(join(root, dir, file), "utf8").trim() : null;
}

// The packages whose code is in the bundle (from esbuild's metafile: inputs that kept bytes in the output).
function bundledPackages(metafile) {
  const dirs = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const dir = packageDir(input);
      if (dir && bytesInOutput > 0) dirs.add(dir);
    }
  }
  return [...dirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
      const author = typeof pkg.author === "string" ? pkg.author : pkg.author?.name;
      return { name: pkg.name, version: pkg.version, license: pkg.license ?? "UNKNOWN", author, dir, text: licenceText(dir) };
    })
    .sort((a, b) => (a.name === b.name ? a.version.localeCompare(b.version) : a.name.localeCompare(b.name)));
}

// One section per distinct licence text, naming every package (and version) it covers: the vis.gl packages share
// one MIT text, so the file stays short.
function licencesFile(packages, header) {
  const groups = new Map();
  for (const pkg of packages) {
    const text =
      pkg.text ??
      `${pkg.license}, as declared in the package's package.json${pkg.author ? ` (author: ${pkg.author})` : ""}; ` +
        "the package ships no licence file.";
    if (!groups.has(text)) groups.set(text, []);
    groups.get(text).push(pkg);
  }
  const sections = [...groups].map(([text, members]) => {
    const names = members.map((p) => `  ${p.name}@${p.version} (${p.license})`).join("\n");
    return `${"=".repeat(78)}\n${names}\n${"-".repeat(78)}\n${text}\n`;
  });
  return `${header}\n\n${sections.join("\n")}`;
}

// The scenario report inlines this script into its HTML page, where "<!--" or "</script" inside a <script> element
// would change how the HTML parser reads it (twin3d/simulation/report_html.py refuses such a script). esbuild escapes
// "</script" itself; "<!--" (is-unsafe's XML checks, via fast-xml-parser, has it in a string and in a regex) becomes
// "<\u0021--", which means the same inside a string, a template or a regular expression, the only places minified
// code can hold it.
function inlineSafe(bytes) {
  const code = new TextDecoder().decode(bytes).replaceAll("<!--", "<\\u0021--");
  if (/<\/script/i.test(code)) throw new Error("the deck.gl bundle contains </script: it could not be inlined");
  return new TextEncoder().encode(code);
}

const version = (pkg) => JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;

/**
 * Builds the bundle in memory.
 * @returns {Promise<{js: Uint8Array, licences: string, packages: {name: string, version: string}[], esbuild: string}>}
 */
export async function buildDeck() {
  if (!existsSync(join(root, "node_modules", "deck.gl"))) throw new Error("run npm ci in viewer/ first");
  const what = `deck.gl ${version("deck.gl")} and MVTLoader of @loaders.gl/mvt ${version("@loaders.gl/mvt")}`;
  const banner = `/* ${what}, bundled by twin3d's viewer/scripts/build_deck.mjs with esbuild ${esbuild.version}. Licences: LICENSES.txt beside this file. */`;
  const result = await esbuild.build(options(banner));
  const packages = bundledPackages(result.metafile);
  const header =
    `Licences of the npm packages bundled into dist.min.js (${what}),\n` +
    "found by viewer/scripts/build_deck.mjs from esbuild's metafile. Legal comments of the sources are kept at the\n" +
    "end of dist.min.js.";
  return {
    js: inlineSafe(result.outputFiles[0].contents),
    licences: licencesFile(packages, header),
    packages: packages.map(({ name, version: v }) => ({ name, version: v })),
    esbuild: esbuild.version,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const built = await buildDeck();
  console.log(`${built.js.length} bytes, ${built.packages.length} packages:`);
  for (const p of built.packages) console.log(`  ${p.name}@${p.version}`);
}
