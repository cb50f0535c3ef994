"""After a rebuild, nothing the server keeps from a build store outlives it: collections, vector tiles, the
population's cells and the buildings that pins sit on all come from the new build within seconds."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import TEST_PIPELINES
from tests.pipeline.small_twin import TWIN, small_paths
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.server.app import create_app
from twin3d.settings import ServerSettings

CITYGML = TEST_PIPELINES.parent / "citygml" / "nrw_lod2_3_buildings_citygml1.gml"


def _pipeline_with(tmp_path: Path, buildings: int) -> Path:
    """The small twin's pipeline over the first ``buildings`` buildings of its real CityGML tile."""
    text = CITYGML.read_text(encoding="utf-8")
    members = re.findall(r"  <core:cityObjectMember>.*?</core:cityObjectMember>\n", text, re.DOTALL)
    head, tail = text.split(members[0], 1)[0], text.rsplit(members[-1], 1)[1]
    gml = tmp_path / "data" / f"nrw_{buildings}.gml"
    gml.parent.mkdir(exist_ok=True)
    gml.write_text(head + "".join(members[:buildings]) + tail, encoding="utf-8")
    pipeline = (TEST_PIPELINES / f"{TWIN}.toml").read_text(encoding="utf-8")
    pipeline = pipeline.replace('path = "../citygml/nrw_lod2_3_buildings_citygml1.gml"', f'path = "{gml}"')
    target = tmp_path / f"pipelines_{buildings}" / f"{TWIN}.toml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(pipeline, encoding="utf-8")
    return target


def _count(client: TestClient) -> int:
    answer = client.get(f"/api/twins/{TWIN}/features/collections/buildings/items?limit=10")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["numberMatched"])


def _tile(client: TestClient, lon: float, lat: float, z: int = 17) -> bytes:
    """The buildings' vector tile at a point (cached by the server per build)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    answer = client.get(f"/api/twins/{TWIN}/mvt/buildings/{z}/{x}/{y}.pbf")
    assert answer.status_code == 200, answer.text
    return answer.content


def test_a_rebuilt_twin_answers_from_its_new_build_everywhere(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    build_twin(load_pipeline(_pipeline_with(tmp_path, 3)), paths)
    with TestClient(create_app(ServerSettings(), paths)) as client:
        assert _count(client) == 3
        items = client.get(f"/api/twins/{TWIN}/features/collections/buildings/items").json()["features"]
        lon, lat = items[-1]["geometry"]["coordinates"][0][0][:2]  # a corner of the building that goes
        before = _tile(client, lon, lat)
        assert _tile(client, lon, lat) == before  # the second time from the cache
        build_twin(load_pipeline(_pipeline_with(tmp_path, 2)), paths)
        deadline = time.monotonic() + 10
        while _count(client) != 2:
            assert time.monotonic() < deadline, "the rebuilt twin's buildings were not served within 10 s"
            time.sleep(0.2)
        assert _tile(client, lon, lat) != before  # not the old build's tile from the cache
        twins = client.get("/api/twins").json()
        assert [t["name"] for t in twins if t.get("available", True)] == [TWIN]
