"""``twin.deck(...)``: a pydeck map of Lauf whose page draws buildings, population and a scenario's change while
fetching from nothing but the twin's server (a real server, a real Chromium)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Response

import twin3d.client as t3
from tests.browser.conftest import drawn_pixels, watched_page
from tests.client.conftest import ClientServer
from twin3d.client.deck import BUNDLE, OfflineDeck, diverging_colors, sequential_colors
from twin3d.client.errors import TwinClientError
from twin3d.client.scenarios import Scenario, ScenarioResults

KITA = (11.2795, 49.5105)  # a new Kita near Lauf's old town
URL = re.compile(r"https?://[^\s\"'<>()\\]+")
CHANGED = 40  # a channel difference a person sees


@pytest.fixture(scope="module")
def scenario(client_server: ClientServer) -> Scenario:
    lauf = t3.connect(client_server.url).twin("lauf")
    return lauf.create_scenario("Kita am Markt (Karte)", [t3.measures.add_facility("kita", KITA, capacity=75)])


@pytest.fixture(scope="module")
def kita(scenario: Scenario) -> ScenarioResults:
    return scenario.run()


@pytest.fixture(scope="module")
def deck(client_server: ClientServer, kita: ScenarioResults) -> OfflineDeck:
    """Lauf's buildings, its population, the walks to a new Kita, and the Kitas there are (a GeoDataFrame)."""
    lauf = t3.connect(client_server.url).twin("lauf")
    kitas = lauf.facilities(category="amenity=kindergarten")
    return lauf.deck(population=True, change=kita, change_column="kita_mean_m_delta", frames={"Kitas": kitas})


def test_a_scenario_draws_its_change(scenario: Scenario) -> None:
    deck = scenario.deck(column="kita_mean_m_delta", buildings=False)
    layers = json.loads(deck.to_json())["layers"]
    assert [layer["id"] for layer in layers] == ["change"]
    assert {"h3", "kita_mean_m_delta", "color"} <= set(layers[0]["data"][0])
    with pytest.raises(TwinClientError, match="kita_mean_m_delta"):
        scenario.deck(column="kita_walk")


def test_the_page_names_no_host_but_the_server(client_server: ClientServer, deck: OfflineDeck, tmp_path: Path) -> None:
    page = deck.to_html(as_string=True)
    written = Path(deck.to_html(tmp_path / "lauf.html"))
    assert written.read_text(encoding="utf-8") == page
    bundle = BUNDLE.read_text(encoding="utf-8")
    # deck.gl is inlined verbatim; the URLs in its code (XML namespaces, providers the page does not use) are text,
    # and the browser test shows none is requested. Everything else in the page names the server or nothing.
    assert page.count(bundle) == 1
    urls = URL.findall(page.replace(bundle, ""))
    assert urls, "the tileset's URL is in the page"
    assert [u for u in urls if not u.startswith(client_server.url + "/")] == []
    assert f"{client_server.url}/tiles/lauf/" in page
    assert "mapbox" not in page.replace(bundle, "").lower()
    print(f"page: {len(page) / 1e6:.2f} MB, of it deck.gl {len(bundle) / 1e6:.2f} MB")


def test_a_token_goes_into_a_page_only_when_asked(client_server: ClientServer) -> None:
    lauf = t3.connect(client_server.url, client_server.council).twin("lauf")
    deck = lauf.deck()
    assert client_server.council not in deck.to_html(as_string=True)
    assert client_server.council not in deck._repr_html_()
    assert client_server.council not in deck.to_json()
    assert f"Bearer {client_server.council}" in deck.to_html(as_string=True, include_token=True)


def test_change_colours_read_like_the_viewer(kita: ScenarioResults) -> None:
    walks = kita.cells["kita_mean_m_delta"]
    colors = diverging_colors(walks.to_numpy(), lower_is_better=True)
    shorter = walks.to_numpy(dtype=float) < -0.5 * np.nanmax(np.abs(walks.to_numpy(dtype=float)))
    assert shorter.any(), "the new Kita shortens some walks"
    assert (colors[shorter, :3] == (5, 113, 176)).all()  # strong blue: much shorter
    persons = sequential_colors(kita.cells["persons_scenario"].to_numpy(dtype=float))
    assert len(np.unique(persons[:, :3], axis=0)) >= 3


def _changed(before: np.ndarray, after: np.ndarray) -> int:
    return int((np.abs(before - after).max(axis=2) > CHANGED).sum())


def _redraw(page: Page, script: str) -> np.ndarray:
    """Run ``script`` on the page's deck and the pixels once deck.gl has drawn a frame after it."""
    frames = page.evaluate("() => twinDeck.frames")
    page.evaluate(script)
    page.wait_for_function(f"() => twinDeck.frames > {frames}", timeout=30_000)
    return drawn_pixels(page)


@pytest.mark.browser
def test_the_map_draws_from_the_server_alone(
    client_server: ClientServer, deck: OfflineDeck, browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    started = time.monotonic()
    # A file, as a notebook's output is a page of another origin than the server's: the tiles are read through CORS.
    address = Path(deck.to_html(tmp_path / "lauf-deck.html")).as_uri()
    with watched_page(browser, client_server.url, tmp_path, request) as (page, watch):
        requests: list[str] = []
        tiles: list[Response] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("response", lambda r: tiles.append(r) if urlsplit(r.url).path.startswith("/tiles/") else None)
        page.goto(address)
        page.wait_for_function("() => window.twinDeck && twinDeck.frames > 0 && twinDeck.loaded()", timeout=90_000)
        loaded = time.monotonic() - started

        everything = drawn_pixels(page)
        page.screenshot(path=tmp_path / "lauf-deck.png")
        no_buildings = _redraw(page, "() => twinDeck.setVisible('buildings', false)")
        no_change = _redraw(page, "() => twinDeck.setVisible('change', false)")
        no_cells = _redraw(page, "() => twinDeck.setVisible('population', false)")
        no_frame = _redraw(page, "() => twinDeck.setVisible('frame-0', false)")

        _redraw(page, "() => twinDeck.setVisible('population', true)")
        page.mouse.move(640, 400)  # the view's centre: Lauf's middle, where cells are
        page.wait_for_selector(".deck-tooltip:has-text('Personen')", timeout=30_000)
        tooltip = page.locator(".deck-tooltip").inner_text()

        assert watch.console_errors == []
        assert watch.foreign_requests == [address]  # the page itself: everything else came from the server
        assert {urlsplit(u).netloc for u in requests if not u.startswith(("data:", "blob:", "file:"))} == {
            urlsplit(client_server.url).netloc
        }
        paths = [urlsplit(r.url).path for r in tiles if r.status == 200]
        assert any(p.endswith("/tileset.json") for p in paths), paths
        assert any(p.endswith(".glb") for p in paths), paths
        assert [r.url for r in tiles if r.status >= 400] == []
    print("changed pixels:", _changed(everything, no_buildings), _changed(no_buildings, no_change),
          _changed(no_change, no_cells), _changed(no_cells, no_frame))  # fmt: skip
    print("tooltip:", tooltip.replace("\n", " | "))
    assert _changed(everything, no_buildings) > 2_000, "the buildings are drawn"
    assert _changed(no_buildings, no_change) > 200, "the Kita's change map is drawn"
    assert _changed(no_change, no_cells) > 20_000, "the population cells are drawn"
    assert _changed(no_cells, no_frame) > 50, "the Kitas (a GeoDataFrame) are drawn"
    assert "H3-Zelle" in tooltip
    print(f"the map: {tmp_path / 'lauf-deck.png'}")
    print(f"browser: loaded and drawn in {loaded:.1f} s, test {time.monotonic() - started:.1f} s")


@pytest.mark.browser
def test_a_page_with_its_tiles_needs_no_server(
    client_server: ClientServer, browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    lauf = t3.connect(client_server.url).twin("lauf")
    started = time.monotonic()
    path = Path(lauf.deck(embed_tiles=True).to_html(tmp_path / "lauf-offline.html"))
    written = time.monotonic() - started
    page_url = path.as_uri()
    with watched_page(browser, page_url, tmp_path, request) as (page, watch):
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_url)
        page.wait_for_function("() => window.twinDeck && twinDeck.frames > 0 && twinDeck.loaded()", timeout=90_000)
        everything = drawn_pixels(page)
        no_buildings = _redraw(page, "() => twinDeck.setVisible('buildings', false)")
        watch.assert_clean()
    assert requests == [page_url], "the page (from a file) fetches nothing"
    assert _changed(everything, no_buildings) > 2_000, "the buildings are drawn from the page"
    print(f"page with tiles: {path.stat().st_size / 1e6:.1f} MB, written in {written:.1f} s, "
          f"test {time.monotonic() - started:.1f} s")  # fmt: skip


def test_an_english_map_speaks_english(client_server: ClientServer, kita: ScenarioResults) -> None:
    lauf = t3.connect(client_server.url).twin("lauf")
    deck = lauf.deck(population=True, change=kita, change_column="kita_mean_m_delta", buildings=False, lang="en")
    page = deck.to_html(as_string=True)
    assert '<html lang="en">' in page
    tooltips = json.loads(page.split("const tooltips = ", 1)[1].split(";\n", 1)[0])
    assert tooltips["population"]["title"] == "Population"
    assert [label for label, _ in tooltips["population"]["fields"]] == ["H3 cell", "Persons", "Households"]
    assert tooltips["change"]["title"].startswith("Scenario: Walk: ")
    assert [label for label, _ in tooltips["change"]["fields"]] == ["H3 cell", "before", "after", "Change"]
    assert repr(deck) == "<OfflineDeck 'Lauf a.d. Pegnitz': population, change>"
