"""The shipped front end is really there, pinned, and loads nothing from another origin."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

from tests.conftest import REPO

VIEWER = REPO / "viewer"


def test_vendored_bundles_match_their_manifest() -> None:
    manifest = json.loads((VIEWER / "vendor" / "MANIFEST.json").read_text())
    pinned = json.loads((VIEWER / "package.json").read_text())["dependencies"]
    deck = manifest["deck.gl/dist.min.js"]
    assert deck["version"] == pinned["deck.gl"]
    assert manifest["maplibre-gl/maplibre-gl-csp.js"]["version"] == pinned["maplibre-gl"]
    for dest, entry in manifest.items():
        data = (VIEWER / "vendor" / dest).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], dest
    # Our deck.gl bundle is built from the pinned packages, loaders.gl's main-thread MVT loader among them.
    assert f"@loaders.gl/mvt@{pinned['@loaders.gl/mvt']}" in deck["bundled"]
    assert f"@deck.gl/core@{pinned['deck.gl']}" in deck["bundled"]
    # Every package whose code is in the bundle has its licence beside it; MapLibre's licence comes with MapLibre.
    licences = (VIEWER / "vendor" / "deck.gl" / "LICENSES.txt").read_text()
    for package in deck["bundled"]:
        assert f"  {package} (" in licences, package
    assert "Permission is hereby granted" in licences
    assert "maplibre-gl/LICENSE.txt" in manifest


def test_vendor_copy_equals_a_fresh_build_of_the_npm_packages() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed"
    assert (VIEWER / "node_modules" / "deck.gl").is_dir(), "run: npm ci --prefix viewer"
    subprocess.run([node, str(VIEWER / "scripts" / "vendor.mjs"), "--check"], check=True, timeout=120)
    # The hand-written MVT decoder is gone: vector tiles are parsed by loaders.gl's MVTLoader from the bundle.
    assert not (VIEWER / "js" / "mvt_loader.js").exists()


def test_viewer_code_requests_nothing_from_another_origin() -> None:
    html = (VIEWER / "index.html").read_text()
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", src), src
    assert "default-src 'self'" in html  # the Content-Security-Policy enforces it in the browser too
    for js in (VIEWER / "js").glob("*.js"):
        assert not re.search(r"https?://", js.read_text()), js.name


def test_the_basemap_is_vendored_with_its_licence_and_local_glyphs() -> None:
    html = (VIEWER / "index.html").read_text()
    manifest = json.loads((VIEWER / "vendor" / "MANIFEST.json").read_text())
    # MapLibre's CSP build: its worker is a file of the page's origin, so the policy needs no blob: for it.
    for dest in ("maplibre-gl-csp.js", "maplibre-gl-csp-worker.js", "maplibre-gl.css", "LICENSE.txt"):
        assert f"maplibre-gl/{dest}" in manifest, dest
    assert 'src="vendor/maplibre-gl/maplibre-gl-csp.js"' in html
    assert 'href="vendor/maplibre-gl/maplibre-gl.css"' in html
    # Every font the style names has the glyph ranges of German and English text and its licence beside them.
    style = (VIEWER / "js" / "basemap_style.js").read_text()
    fonts = set(re.findall(r'"(Noto Sans [A-Za-z]+)"', style))
    assert fonts == {"Noto Sans Regular", "Noto Sans Bold"}
    for font in fonts:
        folder = VIEWER / "vendor" / "fonts" / font
        for glyph_range in ("0-255", "256-511", "8192-8447"):
            data = (folder / f"{glyph_range}.pbf").read_bytes()
            assert font.encode() in data[:64], (font, glyph_range)
            assert glyph_range.encode() in data[:64], (font, glyph_range)
        assert "SIL Open Font License" in (folder / "OFL.txt").read_text()
    assert "make_glyphs.py" in (VIEWER / "vendor" / "fonts" / "README.md").read_text()


STYLE_CHECK = """
const spec = await import(process.argv[1] + "/node_modules/@maplibre/maplibre-gl-style-spec/dist/index.mjs");
const { basemapStyle } = await import(process.argv[1] + "/js/basemap_style.js");
const osm = ["landuse", "water", "waterway", "roads", "railways", "places", "districts", "district_labels"];
const out = [];
for (const layers of [osm, ["districts", "district_labels", "roads"]]) {
  for (const lang of ["de", "en"]) {
    const meta = { minzoom: 8, maxzoom: 14, bounds: [11.2, 49.4, 11.4, 49.6], layers, attribution: "OSM" };
    const style = basemapStyle(meta, "/t/{z}/{x}/{y}.pbf", "/f/{fontstack}/{range}.pbf", lang);
    out.push({ layers: style.layers.map((l) => l.id), errors: spec.validateStyleMin(style).map((e) => e.message) });
  }
}
const plain = basemapStyle(null, null, "/f/{fontstack}/{range}.pbf", "de");
out.push({ layers: plain.layers.map((l) => l.id), errors: spec.validateStyleMin(plain).map((e) => e.message) });
console.log(JSON.stringify(out));
"""


def test_the_basemap_style_is_valid_for_twins_with_and_without_osm() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed"
    run = subprocess.run(
        [node, "--input-type=module", "-e", STYLE_CHECK, str(VIEWER)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    styles = json.loads(run.stdout)
    assert [s["errors"] for s in styles] == [[]] * 5
    osm, without_osm, plain = styles[0]["layers"], styles[2]["layers"], styles[4]["layers"]
    assert {"roads", "water", "road-labels", "place-labels"} <= set(osm)
    assert "district-labels" not in osm  # OSM's place names name the town's parts
    assert "district-labels" in without_osm
    assert "water" not in without_osm
    assert plain == ["background"]  # no basemap: a calm background, nothing else
