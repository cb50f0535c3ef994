"""A WMS layer from a real MapServer shows in the viewer through the twin's own origin: the catalogue lists it with
its source and legend, its tiles load (the page's own counter says so), its colours are on the map, and the page
makes no request to any other origin (the MapServer runs on another port, so another origin).

The WMS serves the Zensus 2021 population of the 1 km cells around Lauf (the bundled census grid written as a
GeoTIFF in EPSG:3035, classed magenta from 500 residents): the bundled Köln DGM lies 200 km from any demo twin, so a
raster of real data over Lauf is the one the map can show.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, watched_page
from tests.conftest import free_port, serving
from tests.services.mapserver import MapServer, mapserver
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.services import ServiceRequest, register_service
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
TITLE = "Zensus 2021 über WMS"
VIEW = "view=11.2775,49.5098,14,0,0"  # Lauf's centre from straight above: the census cells fill the map


@pytest.fixture(scope="module")
def wms_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, MapServer]]:
    """The twin's server for Lauf with the MapServer's census WMS registered as a layer; yields its URL and the
    MapServer."""
    root = tmp_path_factory.mktemp("service-viewer")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
        paths.privacy_key_file(twin).symlink_to(demo_paths.privacy_key_file(twin).resolve())
    with mapserver(root / "mapserver") as ms:
        request = ServiceRequest("wms", ms.wms_url, "zensus")
        register_service(paths, twin_info(paths, "lauf"), request, LoadOptions(title=TITLE, layer_id="zensus"))
        port = free_port()
        with serving(create_app(ServerSettings(port=port), paths), port) as url:
            yield url, ms


@pytest.fixture
def page(
    browser: Browser, wms_server: tuple[str, MapServer], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, wms_server[0], tmp_path, request) as pair:
        yield pair


def _magenta_share(page: Page) -> float:
    shot = page.locator("#deck-container").screenshot()
    rgb = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    return float(((rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 2] - rgb[..., 1] > 60)).mean())


def _settled(page: Page) -> None:
    page.wait_for_function(
        "() => new Promise(r => { const f = window.__twin3d.frames; "
        "setTimeout(() => r(window.__twin3d.frames > f), 600); })",
        timeout=TIMEOUT_MS,
    )


def test_a_wms_layer_shows_through_the_twins_own_origin(
    page: tuple[Page, PageWatch], wms_server: tuple[str, MapServer]
) -> None:
    pg, watch = page
    url, ms = wms_server
    pg.goto(f"{url}/#twin=lauf&{VIEW}")
    pg.wait_for_function("window.__twin3d?.catalogue?.ids.includes('zensus')", timeout=TIMEOUT_MS)
    item = pg.locator("#catalogue-panel [data-layer-id=zensus]")
    assert item.locator("label", has_text=TITLE).is_visible()
    assert "Kartendienst" in item.locator(".layer-meta").first.inner_text()
    source = item.locator("[data-service=wms]").inner_text()
    assert source.startswith("Quelle: WMS 127.0.0.1:")
    assert "zensus" in source
    # The service's legend, fetched through the twin's server.
    pg.wait_for_function(
        "document.querySelector('[data-layer-id=zensus] img.service-legend')?.naturalWidth > 0", timeout=TIMEOUT_MS
    )
    assert item.get_by_role("img", name=f"Legende des Kartendienstes für {TITLE}").is_visible()

    pg.wait_for_function("window.__twin3d.tilesetReady", timeout=TIMEOUT_MS)
    _settled(pg)
    before = _magenta_share(pg)
    asked = ms.count("REQUEST=GetMap")
    item.get_by_label(TITLE, exact=True).check()
    pg.wait_for_function("(window.__twin3d.catalogue.tiles.zensus || 0) >= 4", timeout=TIMEOUT_MS)
    _settled(pg)
    after = _magenta_share(pg)
    print(f"magenta share of the map: {before:.1%} before, {after:.1%} with the WMS layer")
    assert before < 0.01
    assert after > 0.2, f"only {after:.1%} of the map shows the WMS layer"
    assert ms.count("REQUEST=GetMap") > asked  # the twin's server asked MapServer for them
    assert "Destatis" in pg.locator("#attribution").inner_text()
    assert pg.evaluate("window.__twin3d.catalogue.errors") == 0
    # Not one request to MapServer's origin (or any other) left the page.
    assert not [r for r in watch.foreign_requests if ms.base in r]
    watch.assert_clean()
