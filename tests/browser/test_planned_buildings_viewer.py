"""Planned buildings in a real browser on Lauf: a drawn building stands extruded and hides the building it replaces,
the remove tool collects a clicked building into a remove_buildings measure (hidden on the map, and taken back), a
stored scenario comes back with them from its permalink, and an uploaded glTF model stands where
:func:`twin3d.simulation.models3d.placed_prism` says it stands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import shapely.geometry
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page
from pyproj import Transformer

from tests.browser.conftest import PageWatch, click_until, drawn_pixels, json_call, private_server, watched_page
from tests.layers.glb import BOX_DRACO, box_mesh, mesh_model
from twin3d.layers.models import ModelMeta
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.models3d import placed_prism
from twin3d.simulation.scenario import ModelPlacement

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000  # the first run loads the twin's baseline: slow on a busy machine
REPLACED = "way/45179094"  # a 7.5 m building of 23 m x 17 m south-east of the old town: the plan stands on it
REMOVED = "way/45179096"  # a 7.5 m building 50 m west of it
FREE = (11.2770, 49.5085)  # streets and yards, no building within 20 m: where the model is placed
TO_LONLAT = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


@pytest.fixture(scope="module")
def planned_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    """A server of its own: its scenarios and models go to a private folder."""
    with private_server(tmp_path_factory.mktemp("planned-viewer"), demo_paths, ("lauf",)) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, planned_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, planned_server, tmp_path, request) as pair:
        yield pair


class Map:
    """Lauf in the viewer, zoomed on one place, with the scenario panel open."""

    def __init__(self, pg: Page, url: str, centre: tuple[float, float], pitch: int = 0) -> None:
        self.pg = pg
        lauf = next(t for t in json_call(f"{url}/api/twins") if t["name"] == "lauf")
        self.undulation = float(lauf["geoid_undulation"])
        self.ground = float(lauf["ground_height"]) + self.undulation  # ellipsoidal, as the tiles' heights
        pg.goto(f"{url}/#twin=lauf&view={centre[0]},{centre[1]},18.5,{pitch},0")
        pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
        pg.get_by_role("button", name="Szenario", exact=True).click()
        box = pg.locator("#deck-container").bounding_box()
        assert box is not None
        self.box = box

    def xy(self, lon: float, lat: float, z: float) -> tuple[float, float]:
        x, y = self.pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
        return float(x), float(y)

    def click(self, lon: float, lat: float, z: float, condition: str) -> None:
        click_until(self.pg, self.box, *self.xy(lon, lat, z), condition)

    def screen(self) -> np.ndarray:
        return drawn_pixels(self.pg)

    def colour(self, lon: float, lat: float, z: float) -> np.ndarray:
        """The mean colour of the 7 x 7 pixels where (lon, lat, z) is seen."""
        x, y = (round(v) for v in self.xy(lon, lat, z))
        return self.screen()[y - 3 : y + 4, x - 3 : x + 4].reshape(-1, 3).mean(axis=0)


def _orange(rgb: np.ndarray) -> bool:
    return bool(rgb[0] - rgb[2] > 60)


def _building_grey(rgb: np.ndarray) -> bool:
    """The tiles' buildings: a mid grey (the basemap's ground and streets are much lighter)."""
    return bool(np.ptp(rgb) < 25 and rgb.mean() < 190)


def _building(url: str, building_id: str) -> tuple[dict[str, Any], shapely.Polygon]:
    found = json_call(f"{url}/api/twins/lauf/buildings/{building_id}")
    geometry = found["geometry"] if isinstance(found["geometry"], dict) else json.loads(found["geometry"])
    return found, shapely.geometry.shape(geometry)


def test_a_planned_building_stands_extruded_and_hides_the_building_it_replaces(
    page: tuple[Page, PageWatch], planned_server: str
) -> None:
    pg, watch = page
    old, outline = _building(planned_server, REPLACED)
    centre = outline.centroid
    m = Map(pg, planned_server, (centre.x, centre.y), pitch=45)
    roof = m.ground + old["height"]
    assert _building_grey(m.colour(centre.x, centre.y, roof))

    pg.get_by_role("button", name="Gebäude planen").click()
    west, south, east, north = outline.buffer(0.00003).bounds  # the building and 2 m round it
    for i, (lon, lat) in enumerate([(west, south), (east, south), (east, north), (west, north)]):
        m.click(lon, lat, m.ground, f"window.__twin3d.drawnPoints.length === {i + 1}")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'planned_building'")
    height = pg.get_by_label("Höhe (m)")
    assert height.evaluate("e => e === document.activeElement")  # the next thing to enter
    item = pg.locator("li.measure[data-kind=planned_building]")
    assert item.locator(".measure-title").inner_text().startswith("1. Geplantes Gebäude (")
    pg.get_by_label("Geschosse").fill("1")  # 3 m: lower than the 7.5 m building it replaces
    pg.wait_for_function("window.__twin3d.maskedFootprints === 1")
    # Where the old roof was seen, the new 3 m building is: the old one is hidden, not standing through it.
    assert _orange(m.colour(centre.x, centre.y, roof))
    high_up = (centre.x, centre.y, m.ground + 25)  # seen at 45 degrees: beyond the footprint, unless it is 30 m high
    assert not _orange(m.colour(*high_up))

    height.fill("30")
    assert _orange(m.colour(*high_up))

    # Stored and computed; its permalink brings it back: extruded again, and the old building hidden again.
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("['done', 'error', 'invalid'].includes(window.__twin3d.scenarioState)", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioState") == "done", pg.locator("#scenario-status").inner_text()
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    spec = json_call(f"{planned_server}/api/twins/lauf/scenarios/{scenario_id}")["spec"]
    assert [(x["kind"], x["height_m"], x["storeys"]) for x in spec["measures"]] == [("planned_building", 30, 1)]
    _reopen(pg)
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["planned_building"]
    assert pg.get_by_label("Höhe (m)").input_value() == "30"
    pg.wait_for_function("window.__twin3d.maskedFootprints === 1")
    assert _orange(m.colour(*high_up))
    watch.assert_clean()


def _reopen(pg: Page) -> None:
    """Open the page's permalink anew, as someone it was sent to does."""
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    pg.wait_for_function(f"location.hash.includes('scenario={scenario_id}')", timeout=5_000)
    link = pg.url
    pg.goto("about:blank")
    pg.goto(link)
    pg.wait_for_function("window.__twin3d && window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    pg.wait_for_function("window.__twin3d.allTilesLoaded")


def test_the_remove_tool_collects_clicked_buildings_hides_them_and_stores_them(
    page: tuple[Page, PageWatch], planned_server: str
) -> None:
    pg, watch = page
    removed, outline = _building(planned_server, REMOVED)
    centre = outline.centroid
    m = Map(pg, planned_server, (centre.x, centre.y))
    roof = (centre.x, centre.y, m.ground + removed["height"])
    before = m.colour(*roof)
    assert _building_grey(before)

    pg.get_by_role("button", name="Gebäude entfernen").click()
    m.click(*roof, "(window.__twin3d.removedBuildings ?? []).length === 1")
    assert pg.evaluate("window.__twin3d.removedBuildings") == [REMOVED]
    assert "1 gewählt" in pg.locator("#draw-hint").inner_text()
    pg.keyboard.press("Enter")  # ends the tool
    pg.wait_for_function("window.__twin3d.scenarioTool === null && window.__twin3d.maskedFootprints === 1")
    hidden = m.colour(*roof)
    assert hidden.mean() > before.mean() + 40, (before, hidden)  # the ground where the building stood

    item = pg.locator("li.measure[data-kind=remove_buildings]")
    assert "Abriss: 1 Gebäude" in item.inner_text()
    back = item.locator(f"li[data-building='{REMOVED}'] button")
    assert back.inner_text() == "zurücknehmen"
    assert "nicht abreißen" in (back.get_attribute("aria-label") or "")
    back.click()  # taken back: the measure goes, the building is back
    pg.wait_for_function("window.__twin3d.scenarioMeasures.length === 0 && window.__twin3d.maskedFootprints === 0")
    assert _building_grey(m.colour(*roof))

    pg.get_by_role("button", name="Gebäude entfernen").click()
    m.click(*roof, "(window.__twin3d.removedBuildings ?? []).length === 1")
    pg.keyboard.press("Escape")
    with pg.expect_request(lambda r: r.method == "POST" and r.url.endswith("/scenarios")) as sent:
        pg.get_by_role("button", name="Berechnen").click()
    assert sent.value.post_data_json["measures"] == [{"kind": "remove_buildings", "building_ids": [REMOVED]}]
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)

    # The permalink brings the measure back, and with it the building's outline: hidden again.
    _reopen(pg)
    pg.wait_for_function("window.__twin3d.maskedFootprints === 1")
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["remove_buildings"]
    assert m.colour(*roof).mean() > before.mean() + 40
    watch.assert_clean()


def _l_shaped_model(path: Path) -> Path:
    """An L: a wing 40 m east and one 30 m north of the model's origin, 6 m high (glTF: x east, -z north, y up)."""
    path.write_bytes(mesh_model([box_mesh((0, 0, -8), (40, 6, 0)), box_mesh((0, 0, -30), (8, 6, 0))]))
    return path


def test_an_uploaded_model_stands_where_placed_prism_puts_it(
    page: tuple[Page, PageWatch], planned_server: str, tmp_path: Path
) -> None:
    pg, watch = page
    m = Map(pg, planned_server, FREE)
    files = pg.locator("#scenario-model-file")
    files.set_input_files(BOX_DRACO)  # refused, with the reason where the file was chosen
    status = pg.locator("#scenario-model-status")
    pg.wait_for_function("document.getElementById('scenario-model-status').getAttribute('role') === 'alert'")
    assert "KHR_draco_mesh_compression" in status.inner_text()
    watch.console_errors.clear()  # the browser logs the refused upload's 422 as a failed request

    empty = m.screen()
    files.set_input_files(_l_shaped_model(tmp_path / "winkel.glb"))
    pg.wait_for_function("window.__twin3d.uploadedModel && window.__twin3d.scenarioTool === 'place_model'")
    assert "40 \N{MULTIPLICATION SIGN} 30 m, 6 m hoch" in status.inner_text()
    m.click(*FREE, m.ground, "window.__twin3d.scenarioMeasures.join() === 'planned_building'")
    pg.wait_for_function("window.__twin3d.modelsLoaded > 0")
    scale = pg.locator("li.measure input[type=number][id$='-scale']")
    assert scale.evaluate("e => e === document.activeElement")
    scale.fill("1.5")
    rotation = pg.get_by_role("slider", name="Drehung (Grad im Uhrzeigersinn)")
    rotation.focus()
    for _ in range(30):  # by keyboard: 30 degrees clockwise
        pg.keyboard.press("ArrowRight")
    assert pg.locator("li.measure input[type=number][id$='-rotation_deg']").input_value() == "30"

    [measure] = pg.evaluate("window.__twin3d.scenarioDraft()")
    placement = ModelPlacement.model_validate(measure["model"])
    model = json_call(f"{planned_server}/api/twins/lauf/models/{placement.model_id}")
    footprint, height = placed_prism(ModelMeta.model_validate(model), placement, "EPSG:25832")
    assert height == pytest.approx(9)
    # The model's roof on screen against the footprint placed_prism gives, projected at the roof's height.
    lons, lats = TO_LONLAT.transform(*np.asarray(footprint.exterior.coords).T)
    corners = [m.xy(lon, lat, m.ground + height) for lon, lat in zip(lons, lats, strict=True)]
    expected = Image.new("1", (empty.shape[1], empty.shape[0]))
    ImageDraw.Draw(expected).polygon(corners, fill=1)
    wanted = np.asarray(expected, dtype=bool)
    drawn = np.abs(m.screen() - empty).sum(axis=2) > 60
    overlap = (wanted & drawn).sum() / (wanted | drawn).sum()
    assert overlap > 0.85, overlap  # 0.95 measured; turned the other way round, the L would miss half of it

    pg.get_by_role("button", name="English").click()  # the tools and the measure in the other language
    assert pg.locator("li.measure .measure-title").inner_text() == "1. Planned building: winkel.glb"
    assert pg.get_by_role("button", name="Place a model").is_visible()
    watch.assert_clean()


def test_a_stored_scenario_with_a_placed_model_comes_back_from_its_permalink(
    page: tuple[Page, PageWatch], planned_server: str, tmp_path: Path
) -> None:
    pg, _ = page
    m = Map(pg, planned_server, FREE)
    pg.locator("#scenario-model-file").set_input_files(_l_shaped_model(tmp_path / "winkel.glb"))
    pg.wait_for_function("window.__twin3d.scenarioTool === 'place_model'")
    m.click(*FREE, m.ground, "window.__twin3d.scenarioMeasures.join() === 'planned_building'")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("['done', 'error', 'invalid'].includes(window.__twin3d.scenarioState)", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioState") == "done"
    _reopen(pg)
    pg.wait_for_function("window.__twin3d.modelsLoaded > 0 && window.__twin3d.maskedFootprints === 1")
    assert pg.evaluate("window.__twin3d.scenarioDraft()")[0]["model"]["model_id"]
