"""A real server for the client's tests and notebooks: Lauf with a public and a council layer, and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GENEROUS_PARTICIPATION, GEODATA, free_port, private_paths, serving
from twin3d.auth.users import add_user
from twin3d.layers.context import twin_info
from twin3d.layers.load import LoadOptions, load_layer
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ScenarioSettings, ServerSettings

OSM = GEODATA / "lauf" / "osm"


@dataclass(frozen=True)
class ClientServer:
    """The running server and who may call it.

    Attributes:
        url: the base URL (uvicorn on a free local port).
        council, admin: bearer tokens of a council member and an administrator.
        paths: the server's folders (Lauf's build store shared read-only; layers and live store its own).
    """

    url: str
    council: str
    admin: str
    paths: PathSettings


@pytest.fixture(scope="session")
def client_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[ClientServer]:
    """Lauf and Rostock served for the whole session, with Lauf's POIs loaded as a public layer (``orte``) and
    its OSM buildings as a council layer (``intern``)."""
    root: Path = tmp_path_factory.mktemp("client")
    paths = private_paths(root, demo_paths, ("lauf", "rostock"))
    info = twin_info(paths, "lauf")
    load_layer(paths, "lauf", OSM / "lauf_pois.geojson", LoadOptions(title="Orte", layer_id="orte"), info=info)
    secret = LoadOptions(title="Gebäude intern", layer_id="intern", visibility="council")
    load_layer(paths, "lauf", OSM / "lauf_buildings.geojson", secret, info=info)
    _, council = add_user(paths.users_file, "rat", "council")
    _, admin = add_user(paths.users_file, "verwaltung", "admin")
    port = free_port()
    limits = ScenarioSettings(per_hour=10_000, burst=10_000)
    app = create_app(ServerSettings(port=port), paths, GENEROUS_PARTICIPATION, scenario_limits=limits)
    with serving(app, port) as url:
        yield ClientServer(url, council, admin, paths)
