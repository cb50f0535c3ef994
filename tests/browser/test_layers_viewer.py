"""The layer catalogue in a real browser: the public sees public layers only; a switched-on vector layer is drawn
from its vector tiles; with a council token the council's layer appears too."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page
from pyproj import Transformer

from tests.browser.conftest import PageWatch, watched_page
from tests.conftest import GEODATA, free_port, serving
from twin3d.auth.users import add_user
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.layers.model import LayerStyle
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
CENSUS = GEODATA / "lauf" / "census-grid" / "census2021_1km_lauf.csv"
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
PUBLIC_TITLE, COUNCIL_TITLE = "Zensus 2021 (1-km-Gitter)", "Interne Orte"
VIEW = "view=11.2775,49.5098,14,0,0"  # Lauf's centre from straight above: the grid cells fill the map


def _census_geojson(path: Path) -> Path:
    """The real Zensus 2021 1 km cells around Lauf (EPSG:3035 cell ids) as lon/lat polygons with their population."""
    to_lonlat = Transformer.from_crs(3035, 4326, always_xy=True)
    features = []
    with CENSUS.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            match = re.fullmatch(r"CRS3035RES1000mN(\d+)E(\d+)", row["GRD_ID"])
            assert match is not None
            north, east = int(match[1]), int(match[2])
            ring = [
                (east, north),
                (east + 1000, north),
                (east + 1000, north + 1000),
                (east, north + 1000),
                (east, north),
            ]
            coords = [list(to_lonlat.transform(x, y)) for x, y in ring]
            properties = {"grd_id": row["GRD_ID"], "einwohner": int(row["T"])}
            features.append(
                {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": [coords]}}
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def layers_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """A server of its own for Lauf with a public polygon layer and a council point layer; yields URL and a
    council token."""
    root = tmp_path_factory.mktemp("layers-viewer")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
        paths.privacy_key_file(twin).symlink_to(demo_paths.privacy_key_file(twin).resolve())
    info = twin_info(paths, "lauf")
    magenta = LayerStyle(fill_color="#ff00ff", line_color="#800080", opacity=0.8)
    public = LoadOptions(
        title=PUBLIC_TITLE, layer_id="zensus", style=magenta, attribution="© Statistisches Bundesamt (Destatis)"
    )
    load_layer(paths, "lauf", _census_geojson(root / "zensus.geojson"), public, info=info)
    council = LoadOptions(title=COUNCIL_TITLE, layer_id="intern", visibility="council")
    load_layer(paths, "lauf", POIS, council, info=info)
    _, token = add_user(paths.users_file, "rat", "council")
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url, token


@pytest.fixture
def page(
    browser: Browser, layers_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, layers_server[0], tmp_path, request) as pair:
        yield pair


def _map_pixels(page: Page) -> np.ndarray:
    shot = page.locator("#deck-container").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _magenta_share(rgb: np.ndarray) -> float:
    """The share of pixels tinted towards the layer's magenta: red and blue well above green."""
    magenta = (rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 2] - rgb[..., 1] > 60)
    return float(magenta.mean())


def _tint(rgb: np.ndarray) -> float:
    """How magenta the map is on average: red and blue above green."""
    return float(((rgb[..., 0] + rgb[..., 2]) / 2 - rgb[..., 1]).mean())


def _settled(page: Page) -> None:
    """Wait for a few more frames, so that what was loaded is on screen."""
    page.wait_for_function(
        "() => new Promise(r => { const f = window.__twin3d.frames; "
        "setTimeout(() => r(window.__twin3d.frames > f), 600); })",
        timeout=TIMEOUT_MS,
    )


def test_public_layers_draw_from_vector_tiles_and_a_council_token_shows_more(
    page: tuple[Page, PageWatch], layers_server: tuple[str, str]
) -> None:
    pg, watch = page
    url, token = layers_server
    pg.goto(f"{url}/#twin=lauf&{VIEW}")
    pg.wait_for_function("window.__twin3d?.catalogue?.ids.length > 0", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.catalogue.ids") == ["zensus"]
    panel = pg.locator("#catalogue-panel")
    assert panel.locator("label", has_text=PUBLIC_TITLE).is_visible()
    assert panel.get_by_text(COUNCIL_TITLE).count() == 0
    legend = panel.locator("[data-layer-id=zensus] .legend li")
    assert legend.count() >= 1

    # Switched on, the layer's vector tiles load and its magenta cells cover the map; its source is credited.
    pg.wait_for_function("window.__twin3d.tilesetReady", timeout=TIMEOUT_MS)
    _settled(pg)
    before = _map_pixels(pg)
    panel.get_by_label(PUBLIC_TITLE, exact=True).check()
    pg.wait_for_function("(window.__twin3d.catalogue.features.zensus || 0) > 0", timeout=TIMEOUT_MS)
    _settled(pg)
    after = _map_pixels(pg)
    assert _magenta_share(before) < 0.01
    assert _magenta_share(after) > 0.2, f"only {_magenta_share(after):.1%} of the map shows the layer"
    assert "Destatis" in pg.locator("#attribution").inner_text()

    # The opacity slider works from the keyboard and fades the layer.
    slider = panel.get_by_label(f"Deckkraft der Ebene {PUBLIC_TITLE}")
    slider.focus()
    for _ in range(10):
        pg.keyboard.press("ArrowLeft")
    assert slider.get_attribute("aria-valuetext") == "30 %"
    _settled(pg)
    faded = _map_pixels(pg)
    tint = {name: _tint(rgb) for name, rgb in (("off", before), ("80 %", after), ("30 %", faded))}
    print("magenta tint of the map:", tint)
    assert tint["off"] < tint["30 %"] < tint["off"] + 0.7 * (tint["80 %"] - tint["off"])

    # A council token, typed into the sign-in field, shows the council's layer as well.
    pg.get_by_label("Anmelden (Token)").fill("t3d_falsch")
    pg.get_by_label("Anmelden (Token)").press("Enter")
    pg.wait_for_function("document.getElementById('token-status').textContent.includes('unbekannt')")
    pg.get_by_label("Anmelden (Token)").fill(token)
    pg.get_by_role("button", name="Anmelden", exact=True).click()
    pg.wait_for_function("window.__twin3d.catalogue.ids.includes('intern')", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.catalogue.ids") == ["intern", "zensus"]
    assert panel.locator("[data-layer-id=intern]").get_by_text("nur Rat").is_visible()
    assert pg.evaluate("window.__twin3d.catalogue.shown") == ["zensus"]  # what was on stays on
    pg.get_by_role("button", name="Abmelden").click()
    pg.wait_for_function("!window.__twin3d.catalogue.ids.includes('intern')", timeout=TIMEOUT_MS)
    # The browser itself logs two refused requests: the wrong token's 401, and the 403 with which the server
    # tells the moderation panel that a council member is no administrator.
    watch.console_errors = [e for e in watch.console_errors if not re.search(r"status of 40[13]", e)]
    assert pg.evaluate("window.__twin3d.catalogue.errors") == 0
    watch.assert_clean()
