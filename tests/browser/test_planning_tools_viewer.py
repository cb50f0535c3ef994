"""The planning tools in a real browser on Lauf: a primary road drawn through homes and a 100 m tower placed with the
landmark tool stand on the map, the server's field errors show beside their fields, and the results panel shows the
noise bands and the households who see the tower, equal to the API's; the permalink brings the measures back. A
loaded noise map and a flood-zone layer serve as a noise map and as a hazard's area. A twin without roads and layers
offers no road or noise-map tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page

from tests.browser.conftest import PageWatch, click_until, drawn_pixels, json_call, watched_page
from tests.conftest import free_port, private_paths, serving
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 180_000  # the first run loads the twin's baseline and its noise model: slow on a busy machine
# A road 430 m east-west through the homes north of the old town, and a tower 300 m south of it in the old town.
ROAD = [(11.2745, 49.5125), (11.2805, 49.5125)]
TOWER = (11.2775, 49.5098)
VIEW = "view=11.2775,49.5110,16,30,0"
# Noise bands (L_DEN) around the old town, and a flood zone along the Pegnitz south of it (lon/lat boxes).
NOISE_BOXES = [((11.270, 49.505, 11.285, 49.515), 62.0), ((11.275, 49.508, 11.280, 49.512), 68.0)]
FLOOD_BOX = (11.272, 49.5060, 11.283, 49.5085)


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _layers(root: Path) -> tuple[Path, Path]:
    """A noise map (polygons with an ``lden`` level) and flood zones (polygons without levels) as GeoJSON files."""
    noise = root / "laerm.geojson"
    features = [
        {"type": "Feature", "properties": {"lden": level}, "geometry": _box(*box)} for box, level in NOISE_BOXES
    ]
    noise.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    flood = root / "hochwasser.geojson"
    zone = {"type": "Feature", "properties": {"gebiet": "HQ100"}, "geometry": _box(*FLOOD_BOX)}
    flood.write_text(json.dumps({"type": "FeatureCollection", "features": [zone]}), encoding="utf-8")
    return noise, flood


@pytest.fixture(scope="module")
def planning_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    """A server of its own for Lauf and Rostock (scenarios go to a private folder); Lauf with a noise map and a flood
    zone layer."""
    root = tmp_path_factory.mktemp("planning-viewer")
    paths = private_paths(root, demo_paths, ("lauf", "rostock"))
    info = twin_info(paths, "lauf")
    noise, flood = _layers(root)
    load_layer(paths, "lauf", noise, LoadOptions(title="Lärmkarte Straßenverkehr", layer_id="laerm"), info=info)
    load_layer(paths, "lauf", flood, LoadOptions(title="Überschwemmungsgebiet HQ100", layer_id="hq100"), info=info)
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, planning_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, planning_server, tmp_path, request) as pair:
        yield pair


class Map:
    """Lauf in the viewer with the scenario panel open; the ground heights the layers stand on."""

    def __init__(self, pg: Page, url: str) -> None:
        self.pg = pg
        lauf = next(t for t in json_call(f"{url}/api/twins", timeout=60) if t["name"] == "lauf")
        self.flat = float(lauf["origin"]["height"])  # where flat layers lie (roads are lifted 1 m above it)
        self.ground = float(lauf["ground_height"]) + float(lauf["geoid_undulation"])  # a high point's foot
        pg.goto(f"{url}/#twin=lauf&{VIEW}")
        pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
        toggle = pg.get_by_role("button", name="Szenario", exact=True)
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        box = pg.locator("#deck-container").bounding_box()
        assert box is not None
        self.box = box

    def xy(self, lon: float, lat: float, z: float) -> tuple[float, float]:
        x, y = self.pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
        return float(x), float(y)

    def click(self, lon: float, lat: float, z: float, condition: str) -> None:
        click_until(self.pg, self.box, *self.xy(lon, lat, z), condition)

    def colour(self, lon: float, lat: float, z: float) -> np.ndarray:
        """The mean colour of the 5 x 5 pixels where (lon, lat, z) is seen, once the latest change is drawn."""
        screen = drawn_pixels(self.pg)
        x, y = (round(v) for v in self.xy(lon, lat, z))
        return screen[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).mean(axis=0)


def _orange(rgb: np.ndarray) -> bool:
    """A primary road's colour (235, 125, 0) over the basemap."""
    return bool(rgb[0] > 180 and rgb[0] - rgb[2] > 120 and rgb[1] > rgb[2] + 40)


def _purple(rgb: np.ndarray) -> bool:
    """A tower's colour (140, 50, 170), shaded."""
    return bool(rgb[0] - rgb[1] > 40 and rgb[2] - rgb[1] > 60)


def _run(pg: Page) -> str:
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("['done', 'error', 'invalid'].includes(window.__twin3d.scenarioState)", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioState") == "done", pg.locator("#scenario-status").inner_text()
    return str(pg.evaluate("window.__twin3d.scenarioId"))


def _reopen(pg: Page) -> None:
    """Open the page's permalink anew, as someone it was sent to does."""
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    pg.wait_for_function(f"location.hash.includes('scenario={scenario_id}')", timeout=5_000)
    link = pg.url
    pg.goto("about:blank")
    pg.goto(link)
    pg.wait_for_function("window.__twin3d && window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)


def _draw_road_and_tower(pg: Page, m: Map) -> None:
    """A primary road with two clicks and Enter; a tower with one click, 100 m high."""
    middle = ((ROAD[0][0] + ROAD[1][0]) / 2, ROAD[0][1], m.flat + 1)
    assert not _orange(m.colour(*middle))
    pg.get_by_role("button", name="Straße anlegen").click()
    for i, (lon, lat) in enumerate(ROAD):
        m.click(lon, lat, m.flat, f"window.__twin3d.drawnPoints.length === {i + 1}")
    assert "(2 gesetzt)" in pg.locator("#draw-hint").inner_text()
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'add_road'")
    road_class = pg.get_by_label("Straßenart")
    assert road_class.evaluate("e => e === document.activeElement")  # the next thing to choose
    item = pg.locator("li.measure[data-kind=add_road]")
    assert item.locator(".measure-title").inner_text().startswith("1. Neue Straße (0,4")  # its length in km
    road_class.select_option(label="Hauptstraße (Bundesstraße)")
    assert _orange(m.colour(*middle))  # a thick orange line: the class's colour

    tower_top = (*TOWER, m.ground + 80)
    assert not _purple(m.colour(*tower_top))
    pg.get_by_role("button", name="Hochpunkt setzen").click()
    assert "Hochpunkt: auf die Karte klicken" in pg.locator("#draw-hint").inner_text()
    m.click(*TOWER, m.flat, "window.__twin3d.scenarioMeasures.length === 2")
    height = pg.locator("li.measure[data-kind=landmark]").get_by_label("Höhe (m)")
    assert height.evaluate("e => e === document.activeElement")
    assert pg.locator("li.measure[data-kind=landmark]").get_by_label("Art des Hochpunkts").input_value() == "tower"
    height.fill("100")
    assert _purple(m.colour(*tower_top))  # the column stands up to its height, above the roofs


def _assert_field_error(pg: Page) -> None:
    """The server refuses a road at 5 km/h: the error stands beside the speed field, which is marked invalid."""
    speed = pg.locator("li.measure[data-kind=add_road]").get_by_label("Geschwindigkeit (km/h)")
    speed.fill("5")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'invalid'", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioErrors.map(e => [e.index, e.field])") == [[0, "speed_kmh"]]
    speed = pg.locator("li.measure[data-kind=add_road]").get_by_label("Geschwindigkeit (km/h)")
    assert speed.get_attribute("aria-invalid") == "true"
    assert "mindestens 10" in pg.locator("li.measure[data-kind=add_road] .field-error").inner_text()
    speed.fill("")  # left empty: the class's assumption


def test_a_road_and_a_tower_drawn_with_the_tools_give_noise_bands_and_views_equal_to_the_api(
    page: tuple[Page, PageWatch], planning_server: str
) -> None:
    pg, watch = page
    m = Map(pg, planning_server)
    _draw_road_and_tower(pg, m)
    _assert_field_error(pg)
    watch.console_errors.clear()  # the browser logs the refused POST's 422 as a failed request

    road, tower = pg.evaluate("window.__twin3d.scenarioDraft()")
    assert road["road_class"] == "primary"
    assert road["line"]["coordinates"][0] == pytest.approx(ROAD[0], abs=7e-5)
    assert (road["speed_kmh"], road["vehicles_per_day"]) == (None, None)
    assert (tower["kind"], tower["height_m"], tower["structure"]) == ("landmark", 100, "tower")
    scenario_id = _run(pg)
    results = json_call(f"{planning_server}/api/twins/lauf/scenarios/{scenario_id}/results", timeout=60)

    # Noise: the bands before and after, and who gets louder, as the API counts them.
    noise = results["noise"]
    assert noise["source"] == "model"
    assert noise["louder"]["households"] > 0
    assert pg.locator("#scenario-noise").is_visible()
    assert pg.locator("#scenario-noise-bands tbody tr").count() == len(noise["residents"]) > 0
    louder = pg.locator("#scenario-results [data-field=noise-louder]")
    assert louder.get_attribute("data-households") == str(noise["louder"]["households"])
    # Views: the households who see the 100 m tower, as the API counts them.
    [views] = results["views"]
    assert (views["measure"], views["height_m"]) == (1, 100)
    assert pg.locator("#scenario-views").is_visible()
    see = pg.locator("#scenario-results [data-field=views-see-1]")
    assert see.get_attribute("data-households") == str(views["see"]["households"])
    assert int(see.get_attribute("data-households") or 0) > 0

    # Stored and permalinked: the road and the tower come back, on the map too.
    spec = json_call(f"{planning_server}/api/twins/lauf/scenarios/{scenario_id}", timeout=60)["spec"]
    assert [x["kind"] for x in spec["measures"]] == ["add_road", "landmark"]
    _reopen(pg)
    pg.wait_for_function("window.__twin3d.allTilesLoaded")
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["add_road", "landmark"]
    assert pg.locator("li.measure[data-kind=add_road]").get_by_label("Straßenart").input_value() == "primary"
    assert pg.locator("li.measure[data-kind=landmark]").get_by_label("Höhe (m)").input_value() == "100"
    assert _orange(m.colour((ROAD[0][0] + ROAD[1][0]) / 2, ROAD[0][1], m.flat + 1))
    assert _purple(m.colour(*TOWER, m.ground + 80))
    watch.assert_clean()


def _hazard_from_layer(pg: Page, m: Map) -> None:
    """A hazard drawn first, then its area taken from the flood zone layer, then drawn again, then the layer's."""
    pg.get_by_role("button", name="Gefahrenbereich zeichnen").click()
    for i, (lon, lat) in enumerate([(11.274, 49.5095), (11.276, 49.5095), (11.276, 49.5105)]):
        m.click(lon, lat, m.flat, f"window.__twin3d.drawnPoints.length === {i + 1}")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'hazard'")

    def area_choice() -> Locator:  # the item is drawn anew on every choice
        return pg.locator("li.measure[data-kind=hazard]").get_by_label("Fläche", exact=True)

    assert area_choice().input_value() == ""  # the drawn area
    area_choice().select_option(label="Fläche aus Ebene: Überschwemmungsgebiet HQ100")
    [hazard] = pg.evaluate("window.__twin3d.scenarioDraft()")
    assert hazard["layer"] == "hq100"
    assert "area" not in hazard
    area_choice().select_option(label="gezeichnete Fläche")
    [hazard] = pg.evaluate("window.__twin3d.scenarioDraft()")
    assert "layer" not in hazard
    assert len(hazard["area"]["coordinates"][0]) == 4
    area_choice().select_option(value="hq100")


def test_a_loaded_noise_map_and_a_flood_zone_layer_serve_as_noise_map_and_hazard(
    page: tuple[Page, PageWatch], planning_server: str
) -> None:
    pg, watch = page
    m = Map(pg, planning_server)
    pg.wait_for_function("(window.__twin3d.scenarioLayerChoices?.hazard ?? []).length === 2")
    assert sorted(pg.evaluate("window.__twin3d.scenarioLayerChoices.noise")) == ["hq100", "laerm"]

    _hazard_from_layer(pg, m)

    # "Lärmkarte verwenden": the flood zones have no levels, which the server says beside the layer's choice.
    pg.get_by_role("button", name="Lärmkarte verwenden").click()
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'hazard,noise_map'")
    layer = pg.locator("li.measure[data-kind=noise_map]").get_by_label("Ebene")
    assert layer.evaluate("e => e === document.activeElement")
    layer.select_option(label="Überschwemmungsgebiet HQ100")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'invalid'", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioErrors.map(e => [e.index, e.field])") == [[1, "layer"]]
    layer = pg.locator("li.measure[data-kind=noise_map]").get_by_label("Ebene")
    assert layer.get_attribute("aria-invalid") == "true"
    assert "kein Pegel-Attribut in dB" in pg.locator("li.measure[data-kind=noise_map] .field-error").inner_text()
    watch.console_errors.clear()  # the browser logs the refused POST's 422 as a failed request

    layer.select_option(label="Lärmkarte Straßenverkehr")
    scenario_id = _run(pg)
    results = json_call(f"{planning_server}/api/twins/lauf/scenarios/{scenario_id}/results", timeout=60)
    noise = results["noise"]
    assert noise["source"] == "layer"
    assert noise["layer"] == "laerm"
    assert noise["layer_title"] == "Lärmkarte Straßenverkehr"
    assert "Lärmkarte „Lärmkarte Straßenverkehr“" in pg.locator("#scenario-results").inner_text()
    rows = pg.locator("#scenario-noise-bands tbody tr")
    assert rows.count() == len(noise["residents"])
    loud = next(r for r in noise["residents"] if r["band"] == 65)["after"]
    assert not loud["withheld"]
    assert loud["households"] > 0
    assert f"{loud['households']:,}".replace(",", ".") in rows.nth(2).inner_text()

    # The permalink brings back the hazard on its layer and the noise map, with their choices.
    _reopen(pg)
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["hazard", "noise_map"]
    pg.wait_for_function("(window.__twin3d.scenarioLayerChoices?.hazard ?? []).length === 2")
    assert pg.locator("li.measure[data-kind=hazard]").get_by_label("Fläche", exact=True).input_value() == "hq100"
    assert pg.locator("li.measure[data-kind=noise_map]").get_by_label("Ebene").input_value() == "laerm"

    pg.get_by_role("button", name="English").click()  # the tools and the items in the other language
    assert pg.get_by_role("button", name="Add a road").is_visible()
    assert pg.locator("li.measure[data-kind=noise_map] .measure-title").inner_text() == "2. Noise map"
    watch.assert_clean()


def test_the_tools_show_only_where_the_twin_can_use_them(page: tuple[Page, PageWatch], planning_server: str) -> None:
    """Rostock's twin has no roads and no layers: no road tools, no noise map; a high point it can take."""
    pg, watch = page
    rostock = next(t for t in json_call(f"{planning_server}/api/twins", timeout=60) if t["name"] == "rostock")
    assert rostock["counts"]["roads"] == 0
    assert rostock["counts"]["buildings"] > 0
    pg.goto(f"{planning_server}/#twin=rostock")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'rostock' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.scenarioLayerChoices !== undefined")
    pg.get_by_role("button", name="Szenario", exact=True).click()
    assert pg.get_by_role("button", name="Hochpunkt setzen").is_visible()
    for hidden in ("Straße anlegen", "Straßen sperren", "Lärmkarte verwenden", "Gefahrenbereich aus Ebene"):
        assert pg.get_by_role("button", name=hidden).count() == 0, hidden  # hidden: not in the accessibility tree
    watch.assert_clean()
