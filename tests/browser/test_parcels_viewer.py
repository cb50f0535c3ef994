"""The cadastre in a real browser: Monzel's parcels are a layer one switches on, and a click on a parcel with a
house shows its label, GRZ and GFZ in the parcel panel; a twin without parcels offers no such layer."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.browser.conftest import PageWatch, click_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000


def _parcel_with_a_house(client: TestClient) -> tuple[dict[str, Any], tuple[float, float]]:
    """A built-on village plot (one or two buildings, GRZ between 0.15 and 0.6) and a point on it beside them."""
    items = client.get("/api/twins/monzel/features/collections/parcels/items?limit=10000").json()["features"]
    plots = sorted((f["properties"] for f in items), key=lambda p: p["parcel_id"])
    chosen = next(p for p in plots if p["buildings"] in (1, 2) and 0.15 < p["grz"] < 0.6 and 400 < p["area_m2"] < 1500)
    parcel = client.get(f"/api/twins/monzel/parcels/{chosen['parcel_id']}").json()
    area = shapely.geometry.shape(parcel["geometry"])
    for b in parcel["building_list"]:
        footprint = shapely.geometry.shape(
            client.get(f"/api/twins/monzel/buildings/{b['building_id']}").json()["geometry"]
        )
        area = area.difference(footprint.buffer(3e-5))  # about 2 m: a click beside the house, not on its wall
    point = area.buffer(-2e-5).representative_point()
    return parcel, (point.x, point.y)


def _german(value: float) -> str:
    """A figure as the viewer writes it in German with at most two decimals (0,35; 1,2; 0)."""
    return f"{value:.2f}".replace(".", ",").rstrip("0").rstrip(",")


def _click_parcel(
    pg: Page, live_server: str, monzel: dict[str, Any], parcel: dict[str, Any], at: tuple[float, float], *, toggle: str
) -> None:
    """Open Monzel over the parcel, switch the parcel layer (labelled ``toggle``) on and click the parcel."""
    lon, lat = at
    pg.goto(f"{live_server}/#twin=monzel&view={lon},{lat},19,0,0")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'monzel' && window.__twin3d.tilesetReady",
                         timeout=TIMEOUT_MS)  # fmt: skip
    # Off by default; on, its vector tiles load and are drawn.
    layer = pg.get_by_label(toggle, exact=True)
    assert not layer.is_checked()
    layer.check()
    pg.wait_for_function("window.__twin3d.parcels.tiles > 0", timeout=TIMEOUT_MS)
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {monzel['origin']['height']})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    # Click once the parcel layer, not a building, is under the cursor.
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y})?.startsWith('parcels-monzel')", timeout=TIMEOUT_MS)
    click_until(pg, box, x, y, f"window.__twin3d.parcels.selected?.parcel_id === {parcel['parcel_id']!r}")


def test_a_click_on_a_parcel_shows_its_label_grz_and_gfz(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    monzel = next(t for t in client.get("/api/twins").json() if t["name"] == "monzel")
    parcel, (lon, lat) = _parcel_with_a_house(client)
    _click_parcel(pg, live_server, monzel, parcel, (lon, lat), toggle="Flurstücke")
    assert pg.evaluate("window.__twin3d.parcels.selected.parcel_id") == parcel["parcel_id"]

    panel = pg.locator("#parcel-panel")
    assert panel.is_visible()
    details = pg.locator("#parcel-details")
    assert details.locator(".parcel-label").inner_text() == parcel["label"]
    assert details.locator("[data-field=grz]").inner_text() == _german(parcel["grz"])
    assert details.locator("[data-field=gfz]").inner_text() == _german(parcel["gfz"])
    assert details.locator("[data-field=landUse]").inner_text() == parcel["land_use_name"]
    # The buildings on it by their type's name (ALKIS code list), not by the code.
    houses = details.locator(".parcel-buildings li")
    assert houses.count() == len(parcel["building_list"])
    first = parcel["building_list"][0]
    assert first["building_type_name"] in houses.first.inner_text()
    assert first["building_type"] not in houses.first.inner_text()

    # In English the panel is relabelled, the figures stay.
    pg.get_by_role("button", name="English").click()
    assert pg.locator("#parcel-title").inner_text() == "Parcel"
    assert details.locator("dt").first.inner_text() == "Parcel number"
    watch.assert_clean()


def test_in_english_the_parcel_is_named_without_german_cadastral_terms(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    """Issue 19: the label "Gemarkung Monzel (2566), Flur 1, Flurstück 6/2" was stored in German and shown so on the
    English page; the viewer now writes it from its parts in the reader's language (the API keeps the German)."""
    pg, watch = page
    monzel = next(t for t in client.get("/api/twins").json() if t["name"] == "monzel")
    parcel, (lon, lat) = _parcel_with_a_house(client)
    assert parcel["label"].startswith("Gemarkung Monzel (2566), Flur ")
    parts = parcel["label_parts"]
    number = "/".join(p for p in (parts["numerator"], parts["denominator"]) if p)
    english = f"Cadastral district Monzel (2566), Flur {parts['flur']}, parcel {number}"
    pg.add_init_script("localStorage.setItem('twin3d.lang', 'en')")
    _click_parcel(pg, live_server, monzel, parcel, (lon, lat), toggle="Parcels")
    assert pg.evaluate("document.documentElement.lang") == "en"

    details = pg.locator("#parcel-details")
    assert details.locator(".parcel-label").inner_text() == english
    assert details.locator("[data-field=gemarkung]").inner_text() == "Monzel (2566)"
    shown = [details.inner_text(), pg.locator("#parcel-panel").inner_text()]
    popup = pg.locator("#info-popup")
    if popup.is_visible():  # the popup at the click names the parcel too
        shown.append(popup.inner_text())
        assert english in shown[-1]
    for text in shown:
        assert "Gemarkung" not in text, text
        assert "Flurstück" not in text, text
    # Back in German the panel reads as the server's label.
    pg.locator("#lang-toggle").click()
    assert pg.evaluate("document.documentElement.lang") == "de"
    assert details.locator(".parcel-label").inner_text() == parcel["label"]
    watch.assert_clean()


def test_a_twin_without_parcels_has_no_parcel_layer(page: tuple[Page, PageWatch], live_server: str) -> None:
    pg, watch = page
    pg.goto(f"{live_server}/#twin=lauf")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf'", timeout=TIMEOUT_MS)
    pg.locator("#toggle-buildings").wait_for()
    assert pg.locator("#toggle-parcels").count() == 0
    assert pg.locator("#parcel-panel").is_hidden()
    watch.assert_clean()
