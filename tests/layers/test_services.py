"""Layers from web services against a real MapServer and MapCache (tests/services/mapserver.py): what registering
keeps and refuses, tiles asked for once and cached, failures of the service, features imported from WFS and OGC
API Features, and the guards of every request (hosts, redirects, size, credentials)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.conftest import free_port
from tests.layers.conftest import fingerprint
from tests.services.mapserver import MAGENTA_FROM, MapServer, census_cells, mapserver
from twin3d.cli import main
from twin3d.errors import ConfigError, Twin3dError
from twin3d.layers.catalogue import get_layer, layer_dir, list_layers
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.model import LayerEntry
from twin3d.layers.report import LoadReport
from twin3d.layers.service_http import ServiceError, fetch, service_url
from twin3d.layers.service_tiles import CACHE_DIR, TileCache, service_legend, service_tile
from twin3d.layers.services import ServiceRequest, refresh_service, register_service
from twin3d.settings import PathSettings, ServiceSettings

LAUF_TILE = (14, 8705, 5591)  # the old town of Lauf: census cells of 3,000-4,000 residents (magenta)
FAR_TILE = (14, 0, 0)
SETTINGS = ServiceSettings(timeout_s=30)


@pytest.fixture(scope="module")
def ms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MapServer]:
    with mapserver(tmp_path_factory.mktemp("mapserver")) as server:
        yield server


def _register(
    paths: PathSettings, lauf: TwinInfo, request: ServiceRequest, layer_id: str, **settings: object
) -> tuple[LayerEntry, LoadReport]:
    options = LoadOptions(layer_id=layer_id)
    return register_service(paths, lauf, request, options, settings=SETTINGS.model_copy(update=settings))


def _rgba(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def _magenta(rgba: np.ndarray) -> float:
    return float(((rgba[..., 0] > 200) & (rgba[..., 1] < 60) & (rgba[..., 2] > 200) & (rgba[..., 3] > 0)).mean())


def test_a_wms_layer_keeps_what_its_capabilities_say_and_no_data(
    paths: PathSettings, lauf: TwinInfo, ms: MapServer
) -> None:
    entry, report = _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "zensus")
    assert (entry.kind, entry.format, entry.origin, entry.crs) == ("service", "wms", "service", "EPSG:3857")
    assert entry.title == "Zensus 2021: Einwohner je km²"
    assert entry.description == "Zensus 2021, 1-km-Gitter um Lauf"
    assert entry.attribution == "© Statistisches Bundesamt (Destatis)"
    west, south, east, north = entry.extent
    assert (round(west, 2), round(south, 2), round(east, 2), round(north, 2)) == (11.23, 49.48, 11.33, 49.54)
    source = entry.service
    assert source is not None
    assert (source.version, source.format, source.crs, source.url) == ("1.3.0", "image/png", "EPSG:3857", ms.wms_url)
    assert source.legend_url is not None
    assert source.legend_url.startswith(ms.base)
    folder = layer_dir(paths, "lauf", "zensus")
    assert sorted(p.name for p in folder.iterdir()) == ["layer.json"]
    assert get_layer(paths, "lauf", "zensus") == entry
    assert "0 in -> 0 out" in report.one_line()


@pytest.mark.parametrize(
    ("kind", "version"), [("wms", "1.3.0"), ("wms", "1.1.1"), ("wmts", None)], ids=["wms-1.3.0", "wms-1.1.1", "wmts"]
)
def test_tiles_of_wms_and_wmts_show_the_census_cells_over_lauf(
    paths: PathSettings, lauf: TwinInfo, ms: MapServer, kind: str, version: str | None
) -> None:
    url = ms.wmts_url if kind == "wmts" else ms.wms_url
    entry, _ = _register(paths, lauf, ServiceRequest(kind, url, "zensus", version=version), "z")  # type: ignore[arg-type]
    assert entry.service is not None
    assert entry.service.version == (version or "1.0.0")
    if kind == "wmts":
        assert entry.service.tile_matrix_set == "GoogleMapsCompatible"
        assert entry.service.tile_matrices[14] == "14"
    tile = service_tile(paths, entry, *LAUF_TILE, settings=SETTINGS, cache=TileCache(SETTINGS))
    assert tile is not None
    assert tile.media_type == "image/png"
    rgba = _rgba(tile.body)
    assert rgba.shape == (256, 256, 4)
    assert _magenta(rgba) > 0.5  # the old town's cells have more than MAGENTA_FROM residents
    assert max(r for _, _, r in census_cells()) > MAGENTA_FROM


def test_a_tile_is_asked_for_once_then_served_from_the_cache(
    paths: PathSettings, lauf: TwinInfo, ms: MapServer
) -> None:
    entry, _ = _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "cached")
    cache = TileCache(SETTINGS)
    before = ms.count("REQUEST=GetMap")
    first = service_tile(paths, entry, *LAUF_TILE, settings=SETTINGS, cache=cache)
    second = service_tile(paths, entry, *LAUF_TILE, settings=SETTINGS, cache=TileCache(SETTINGS))  # another process
    assert first is not None
    assert second is not None
    assert ms.count("REQUEST=GetMap") == before + 1
    assert first.body == second.body
    assert first.etag == second.etag
    assert (layer_dir(paths, "lauf", "cached") / CACHE_DIR / "14" / "8705" / "5591.tile").is_file()
    # Outside the layer's bounds there is no tile, and nobody is asked.
    assert service_tile(paths, entry, *FAR_TILE, settings=SETTINGS, cache=cache) is None
    assert ms.count("REQUEST=GetMap") == before + 1
    # A tile older than the cache's age is asked for again.
    fresh_only = SETTINGS.model_copy(update={"cache_max_age_s": 0})
    service_tile(paths, entry, *LAUF_TILE, settings=fresh_only, cache=TileCache(fresh_only))
    assert ms.count("REQUEST=GetMap") == before + 2
    legend = service_legend(paths, entry, settings=SETTINGS, cache=cache)
    assert legend is not None
    assert legend.media_type == "image/png"
    assert ms.count("GetLegendGraphic") == 1


def test_the_cache_is_bounded_and_drops_the_oldest_tiles(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "layer.json").write_text("{}")
    settings = ServiceSettings(cache_mb=0.05)  # 51,200 bytes
    cache = TileCache(settings)
    png = b"\x89PNG\r\n\x1a\n" + bytes(10_000)
    for i in range(12):
        cache.put(layer / CACHE_DIR, f"15/{i}/0", png, "image/png")
    held = sum(p.stat().st_size for p in (layer / CACHE_DIR).rglob("*.tile"))
    assert held <= 51_200
    assert cache.get(layer / CACHE_DIR, "15/11/0") is not None  # the newest stays
    assert cache.get(layer / CACHE_DIR, "15/0/0") is None  # the oldest went
    # A removed layer's cache is not written again: its folder must not come back as a half layer.
    (layer / "layer.json").unlink()
    cache.put(layer / "gone", "1/0/0", png, "image/png")
    assert not (layer / "gone").exists()


@pytest.mark.parametrize(
    "refusal",
    [
        (lambda ms: ServiceRequest("wms", ms.wms_url, "strassen"), "layer", "offers: dgm, dgm_utm"),
        (lambda ms: ServiceRequest("wms", ms.wms_url, "dgm_utm"), "layer", "not offered in Web Mercator (EPSG:3857)"),
        (lambda ms: ServiceRequest("wms", ms.wms_url, "dgm"), "layer", "outside 50 km around twin 'lauf'"),
        (lambda ms: ServiceRequest("wms", ms.wms_url, "zensus", style="nacht"), "style", "no style 'nacht'"),
        (lambda ms: ServiceRequest("wms", ms.wms_url, "zensus", format="image/bmp"), "format", "not offered as"),
        (lambda ms: ServiceRequest("wms", "ftp://example.org/wms", "zensus"), "url", "http:// or https://"),
        (lambda ms: ServiceRequest("wms", f"http://127.0.0.1:{free_port()}/wms", "zensus"), "url", "cannot be reached"),
        (lambda ms: ServiceRequest("wmts", ms.wms_url, "zensus"), "url", "not WMTS capabilities"),
        (lambda ms: ServiceRequest("wms", ms.wms_url, "zensus", time="2024'; DROP"), "time", "characters"),
    ],
    ids=["unknown-layer", "no-3857", "far-away", "style", "format", "ftp", "down", "wrong-kind", "bad-time"],
)
def test_refusals_name_the_field_and_the_fix_and_change_nothing(
    paths: PathSettings,
    lauf: TwinInfo,
    ms: MapServer,
    refusal: tuple[Callable[[MapServer], ServiceRequest], str, str],
) -> None:
    make_request, record, words = refusal
    before = fingerprint(paths.layers_dir)
    with pytest.raises(ServiceError) as caught:
        _register(paths, lauf, make_request(ms), "refused")
    assert caught.value.record == record
    assert words in str(caught.value)
    assert fingerprint(paths.layers_dir) == before


def test_only_allowed_hosts_and_a_taken_id_needs_replace(paths: PathSettings, lauf: TwinInfo, ms: MapServer) -> None:
    with pytest.raises(ServiceError, match="not among the hosts") as caught:
        _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "z", allowed_hosts=("geo.example.org",))
    assert caught.value.record == "url"
    _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "z", allowed_hosts=("127.0.0.1",))
    with pytest.raises(ConfigError, match="exists already"):
        _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "z")
    options = LoadOptions(layer_id="z", replace=True, title="Neu")
    entry, _ = register_service(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), options, settings=SETTINGS)
    assert [e.title for e in list_layers(paths, "lauf")] == ["Neu"]
    assert entry.title == "Neu"


def test_a_service_that_fails_later_is_a_service_error_unless_a_copy_is_cached(
    tmp_path: Path, paths: PathSettings, lauf: TwinInfo
) -> None:
    with mapserver(tmp_path / "ms") as server:
        entry, _ = _register(paths, lauf, ServiceRequest("wms", server.wms_url, "zensus"), "flaky")
        aged = SETTINGS.model_copy(update={"cache_max_age_s": 1})
        service_tile(paths, entry, *LAUF_TILE, settings=aged, cache=TileCache(aged))
        # The service changes: the layer is gone and MapServer answers an XML exception, not an image.
        server.mapfile.write_text(server.mapfile.read_text().replace('NAME "zensus"', 'NAME "zensus_neu"'))
        with pytest.raises(ServiceError, match="instead of an image"):
            service_tile(paths, entry, 14, 8706, 5591, settings=SETTINGS, cache=TileCache(SETTINGS))
    # The service is down: a tile never fetched fails, one fetched before is served from the cache, however old.
    with pytest.raises(ServiceError, match="cannot be reached"):
        service_tile(paths, entry, 14, 8704, 5591, settings=SETTINGS, cache=TileCache(SETTINGS))
    stale_ok = SETTINGS.model_copy(update={"cache_max_age_s": 0})
    assert service_tile(paths, entry, *LAUF_TILE, settings=stale_ok, cache=TileCache(stale_ok)) is not None


def _feature_sum(paths: PathSettings, layer_id: str) -> tuple[int, int]:
    entry = get_layer(paths, "lauf", layer_id)
    table = pq.read_table(layer_dir(paths, "lauf", layer_id) / entry.files["features"])
    return len(table), int(np.asarray(table["einwohner"].to_numpy(), dtype=np.int64).sum())


@pytest.mark.parametrize("fmt", [None, "application/gml+xml; version=3.2"], ids=["geojson", "gml"])
def test_wfs_features_are_imported_as_a_vector_layer(
    paths: PathSettings, lauf: TwinInfo, ms: MapServer, fmt: str | None
) -> None:
    entry, report = _register(paths, lauf, ServiceRequest("wfs", ms.wms_url, "zellen", format=fmt), "zellen")
    cells = census_cells()
    assert (entry.kind, entry.geometry_type, entry.origin, entry.title) == (
        "vector",
        "polygons",
        "service",
        "Zensus-Zellen",
    )
    assert _feature_sum(paths, "zellen") == (len(cells), sum(r for _, _, r in cells))
    assert entry.service is not None
    assert (entry.service.kind, entry.service.layer, entry.service.url) == ("wfs", "ms:zellen", ms.wms_url)
    assert entry.service.crs == "urn:ogc:def:crs:EPSG::25832" if fmt is None else "urn:ogc:def:crs:EPSG::4326"
    assert ("json" in entry.service.format) == (fmt is None)
    assert report.records_out == len(cells)
    # The features lie where the census says: the old town's cell holds the most residents.
    west, _south, _east, north = entry.extent
    assert 11.22 < west < 11.24
    assert 49.53 < north < 49.55


def test_ogc_api_features_are_read_page_by_page_and_refreshed(
    paths: PathSettings, lauf: TwinInfo, ms: MapServer
) -> None:
    pages_before = ms.count("/collections/zellen/items")
    entry, _ = _register(paths, lauf, ServiceRequest("oapif", ms.ogcapi_url, "zellen"), "api", page_size=10)
    cells = census_cells()
    assert ms.count("/collections/zellen/items") - pages_before == 4  # 31 features, 10 a page
    assert _feature_sum(paths, "api") == (len(cells), sum(r for _, _, r in cells))
    assert entry.service is not None
    assert entry.service.kind == "oapif"
    fetched = entry.service.fetched_at
    again, _ = refresh_service(paths, lauf, "api", settings=SETTINGS)
    assert again.service is not None
    assert again.service.fetched_at >= fetched
    assert ms.count("/collections/zellen/items") - pages_before == 5  # one page of 1,000 this time
    with pytest.raises(ServiceError, match="more than 5 features"):
        _register(paths, lauf, ServiceRequest("oapif", ms.ogcapi_url, "zellen"), "viel", max_features=5)
    with pytest.raises(ServiceError, match="no collection 'strassen'") as caught:
        _register(paths, lauf, ServiceRequest("oapif", ms.ogcapi_url, "strassen"), "x")
    assert "zellen" in (caught.value.hint or "")


def test_refresh_of_a_map_layer_starts_its_cache_afresh(paths: PathSettings, lauf: TwinInfo, ms: MapServer) -> None:
    entry, _ = _register(paths, lauf, ServiceRequest("wms", ms.wms_url, "zensus"), "frisch")
    service_tile(paths, entry, *LAUF_TILE, settings=SETTINGS, cache=TileCache(SETTINGS))
    cache = layer_dir(paths, "lauf", "frisch") / CACHE_DIR
    assert any(cache.rglob("*.tile"))
    refreshed, _ = refresh_service(paths, lauf, "frisch", settings=SETTINGS)
    assert refreshed.title == entry.title
    assert refreshed.service is not None
    assert not cache.exists()
    with pytest.raises(Twin3dError, match="no layer"):
        refresh_service(paths, lauf, "gibtsnicht", settings=SETTINGS)


class _Recorder(BaseHTTPRequestHandler):
    """Answers /redirect with a redirect to another host, /big with 2 MB, anything else with its headers."""

    seen: list[dict[str, str]] = []  # noqa: RUF012  (one list per test server, set below)

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/elsewhere")  # type: ignore[attr-defined]
            self.end_headers()
            return
        body = bytes(2 * 1024 * 1024) if self.path.startswith("/big") else b"<ok/>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_requests_follow_no_redirect_to_another_host_read_no_more_than_allowed_and_keep_credentials_secret(
    recorder: str,
) -> None:
    with pytest.raises(ServiceError, match="redirects to another host"):
        fetch(service_url(f"http://{recorder}/redirect", SETTINGS), None, SETTINGS)
    small = SETTINGS.model_copy(update={"max_response_mb": 1})
    with pytest.raises(ServiceError, match=r"more than the limit of 1\.0 MB"):
        fetch(service_url(f"http://{recorder}/big", small), None, small)
    upstream = service_url(f"http://karte:geheim%21@{recorder}/wms?map=x", SETTINGS)
    assert fetch(upstream, {"REQUEST": "GetCapabilities"}, SETTINGS).body == b"<ok/>"
    assert _Recorder.seen[-1]["Authorization"] == "Basic a2FydGU6Z2VoZWltIQ=="  # karte:geheim!
    assert "geheim" not in upstream.shown
    assert "geheim" not in upstream.base
    with pytest.raises(ServiceError) as caught:
        fetch(service_url(f"http://karte:geheim@127.0.0.1:{free_port()}/wms", SETTINGS), None, SETTINGS)
    assert "geheim" not in str(caught.value)


def test_cli_add_service_list_refresh(paths: PathSettings, ms: MapServer) -> None:
    env = {"TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir), "TWIN3D_STORE_DIR": str(paths.store_dir)}
    runner = CliRunner()
    args = ["layers", "add-service", "lauf", "wms", ms.wms_url, "zensus", "--id", "zensus", "--licence", "dl-de/by-2-0"]
    added = runner.invoke(main, args, env=env)
    assert added.exit_code == 0, added.output
    assert "added lauf/zensus (service, wms 127.0.0.1:" in added.output
    listed = runner.invoke(main, ["layers", "list", "lauf"], env=env)
    assert "from WMS 127.0.0.1:" in listed.output
    assert "map=" not in listed.output
    refreshed = runner.invoke(main, ["layers", "refresh", "lauf", "zensus"], env=env)
    assert refreshed.exit_code == 0, refreshed.output
    refused = runner.invoke(main, ["layers", "add-service", "lauf", "wms", ms.wms_url, "dgm_utm"], env=env)
    assert refused.exit_code == 3
    assert "Web Mercator" in refused.output
