"""Styling and filtering an uploaded vector layer by an attribute, in a real browser: an administrator uploads real
OSM points of Lauf, opens "Stil & Filter", colours them by their kind (the legend lists every kind with its count
over the whole layer) and switches one kind off: fewer features are drawn, and a hidden one is no longer picked."""

from __future__ import annotations

import collections
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, watched_page
from tests.conftest import GEODATA, free_port, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
VIEW = "view=11.2714,49.5125,13.5,0,0"  # over all the points uploaded
TITLE = "Haltestellen und Orte"
FIELD = "poi_kind"
NUMBER = "osm_number"


@pytest.fixture(scope="module")
def style_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """A server of its own (private store folder, layers and users file); yields its URL and an admin's token."""
    root = tmp_path_factory.mktemp("layer-style")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    paths.privacy_key_file("lauf").symlink_to(demo_paths.privacy_key_file("lauf").resolve())
    _, admin = add_user(paths.users_file, "gis", "admin")
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url, admin


@pytest.fixture
def page(
    browser: Browser, style_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, style_server[0], tmp_path, request) as pair:
        yield pair


def _get(url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return json.loads(r.read())


def _named_points(path: Path, n: int = 40) -> list[dict[str, Any]]:
    """The first ``n`` named points of the real Lauf OSM POIs, written as a GeoJSON file of their own, each with its
    OSM node number as a number (``osm_number``)."""
    data = json.loads(POIS.read_text(encoding="utf-8"))
    points = [f for f in data["features"] if f["geometry"]["type"] == "Point" and f["properties"].get("name")][:n]
    for f in points:
        f["properties"][NUMBER] = int(f["properties"]["osm_id"].split("/")[1])
    path.write_text(json.dumps({"type": "FeatureCollection", "features": points}), encoding="utf-8")
    return points


def _wait_until_picked(pg: Page, point: list[float], height: float, layer_id: str, *, picked: bool) -> None:
    """Until a click on the point would hit the layer (``picked``) or not: a frame with the new filter is drawn."""
    pg.wait_for_function(
        "([lon, lat, z, id, picked]) => { const p = window.__twin3d.project(lon, lat, z); "
        "return (window.__twin3d.pickLayer(p[0], p[1]) || '').startsWith(id) === picked; }",
        arg=[*point, height, f"catalogue-lauf-{layer_id}", picked],
        timeout=TIMEOUT_MS,
    )


def _upload_and_show(pg: Page, url: str, admin: str, path: Path, count: int, *, title: str = TITLE) -> str:
    """Sign in as an administrator, upload the file through the form and switch the new layer on; its id."""
    pg.goto(f"{url}/#twin=lauf&{VIEW}")
    pg.wait_for_function("window.__twin3d?.twin === 'lauf' && window.__twin3d.upload", timeout=TIMEOUT_MS)
    token = pg.get_by_label("Anmelden (Token)")
    token.fill(admin)
    token.press("Enter")
    pg.wait_for_function("window.__twin3d.upload.admin === true", timeout=TIMEOUT_MS)
    pg.locator("#upload-file").set_input_files(str(path))
    pg.get_by_label("Titel", exact=True).fill(title)
    pg.get_by_label("Sichtbar für").select_option("public")
    pg.get_by_role("button", name="Hochladen").click()
    pg.wait_for_function("window.__twin3d.upload.uploads === 1", timeout=TIMEOUT_MS)
    layer = next(e for e in _get(f"{url}/api/twins/lauf/layers", admin) if e["title"] == title)
    assert layer["visibility"] == "public", layer
    layer_id = layer["id"]
    pg.get_by_label(title, exact=True).check()
    # Every point is in the view: the tiles loaded hold them all (a point on a tile's edge is in two: counted once).
    pg.wait_for_function(f"(window.__twin3d.layerStyle?.['{layer_id}']?.loaded || 0) === {count}", timeout=TIMEOUT_MS)
    return str(layer_id)


def _lonely_point(pg: Page, points: list[dict[str, Any]], height: float) -> tuple[str, list[float]]:
    """A point with no other point within 12 px on screen (a pick there can only hit it), of a kind that is not the
    most frequent one; its kind and position."""
    commonest = collections.Counter(f["properties"][FIELD] for f in points).most_common(1)[0][0]
    for f in points:
        if f["properties"][FIELD] == commonest:
            continue
        here = pg.evaluate(
            "([lon, lat, z]) => window.__twin3d.project(lon, lat, z)", [*f["geometry"]["coordinates"], height]
        )
        others = [
            pg.evaluate(
                "([lon, lat, z]) => window.__twin3d.project(lon, lat, z)", [*g["geometry"]["coordinates"], height]
            )
            for g in points
            if g is not f
        ]
        if all(abs(o[0] - here[0]) > 12 or abs(o[1] - here[1]) > 12 for o in others):
            return f["properties"][FIELD], list(f["geometry"]["coordinates"])
    raise AssertionError("no point stands alone at this zoom")


def test_colour_by_kind_and_hide_one_kind(
    page: tuple[Page, PageWatch], style_server: tuple[str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, admin = style_server
    points = _named_points(tmp_path / "haltestellen.geojson")
    kinds = collections.Counter(f["properties"][FIELD] for f in points)
    layer_id = _upload_and_show(pg, url, admin, tmp_path / "haltestellen.geojson", len(points))

    # A hidden-to-be feature, alone on screen (no other point within 12 px), is picked while all are shown.
    height = _get(f"{url}/api/twins/lauf")["origin"]["height"] + 0.4
    hidden_kind, target = _lonely_point(pg, points, height)
    _wait_until_picked(pg, target, height, layer_id, picked=True)

    # "Stil & Filter": colour by the kind; the legend lists every kind with its count over the whole layer, the most
    # frequent first.
    entry = pg.locator(f".catalogue-layer[data-layer-id='{layer_id}']")
    entry.get_by_text("Stil & Filter").click()
    field = entry.get_by_label("Merkmal")
    field.wait_for()
    field.select_option(FIELD)
    pg.wait_for_function(f"window.__twin3d.layerStyle['{layer_id}'].field === '{FIELD}'", timeout=TIMEOUT_MS)
    legend = entry.locator(".layer-style-legend li")
    assert legend.count() == len(kinds)
    texts = legend.all_inner_texts()
    for (kind, n), text in zip(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])), texts, strict=True):
        assert text.startswith(f"{kind} · {n} Objekt"), (kind, n, text)
    assert pg.evaluate(f"window.__twin3d.layerStyle['{layer_id}'].shown") == len(points)

    # Switch one kind off (keyboard): fewer features are drawn, the hidden point is no longer picked.
    n = kinds[hidden_kind]
    box = entry.get_by_role("checkbox", name=f"{hidden_kind} · {n} {'Objekt' if n == 1 else 'Objekte'}")
    box.focus()
    pg.keyboard.press("Space")
    assert not box.is_checked()
    expected = len(points) - kinds[hidden_kind]
    pg.wait_for_function(f"window.__twin3d.layerStyle['{layer_id}'].shown === {expected}", timeout=TIMEOUT_MS)
    assert f"{expected} von {len(points)}" in entry.locator(".layer-style-status").inner_text()
    _wait_until_picked(pg, target, height, layer_id, picked=False)
    # Back on: the point is there again.
    pg.keyboard.press("Space")
    pg.wait_for_function(f"window.__twin3d.layerStyle['{layer_id}'].shown === {len(points)}", timeout=TIMEOUT_MS)
    _wait_until_picked(pg, target, height, layer_id, picked=True)
    watch.assert_clean()


def test_colour_by_a_number_in_classes_and_filter_a_range(
    page: tuple[Page, PageWatch], style_server: tuple[str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, admin = style_server
    points = _named_points(tmp_path / "nummern.geojson")
    numbers = sorted(f["properties"][NUMBER] for f in points)
    layer_id = _upload_and_show(pg, url, admin, tmp_path / "nummern.geojson", len(points), title="Orte nach Nummer")
    entry = pg.locator(f".catalogue-layer[data-layer-id='{layer_id}']")
    entry.get_by_text("Stil & Filter").click()
    entry.get_by_label("Merkmal").select_option(NUMBER)
    pg.wait_for_function(f"window.__twin3d.layerStyle['{layer_id}'].kind === 'numeric'", timeout=TIMEOUT_MS)
    # Five quantile classes over the whole layer; their counts add up to every feature.
    legend = entry.locator(".layer-style-legend li")
    assert legend.count() == 5
    counts = [int(text.split(" · ")[1].split()[0]) for text in legend.all_inner_texts()]
    assert sum(counts) == len(points)
    assert min(counts) >= 1
    # A lower bound from the keyboard: only the numbers from it on stay on the map.
    bound = numbers[len(numbers) // 2]
    low = entry.get_by_label("von", exact=True)
    low.fill(str(bound))
    low.press("Enter")
    expected = sum(1 for n in numbers if n >= bound)
    pg.wait_for_function(f"window.__twin3d.layerStyle['{layer_id}'].shown === {expected}", timeout=TIMEOUT_MS)
    assert expected < len(points)
    assert f"{expected} von {len(points)}" in entry.locator(".layer-style-status").inner_text()
    watch.assert_clean()
