"""``GET .../scenarios/{id}/report.html``: the results as one downloadable page under its own strict policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import private_paths
from tests.server.test_scenarios_api import HOUSING
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.simulation.report_html import report_csp
from twin3d.simulation.report_texts import format_number


@pytest.fixture
def report_client(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[TestClient]:
    """A client whose live stores go to a private folder (the built twins are shared read-only)."""
    with TestClient(create_app(ServerSettings(), private_paths(tmp_path, demo_paths, ("lauf",)))) as c:
        yield c


def test_the_report_downloads_as_one_self_contained_page(report_client: TestClient) -> None:
    scenario_id = report_client.post("/api/twins/lauf/scenarios", json=HOUSING).json()["scenario_id"]
    url = f"/api/twins/lauf/scenarios/{scenario_id}"
    results = report_client.get(f"{url}/results").json()
    response = report_client.get(f"{url}/report.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == 'attachment; filename="lauf-neues-quartier-am-bahnhof-v1.html"'
    page = response.text
    # The header repeats the page's own policy (which is what holds once the file is opened from disk).
    assert response.headers["content-security-policy"] == report_csp(page) + "; frame-ancestors 'none'"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert 'id="deck-map"' in page  # the viewer's vendored deck.gl is inlined
    assert "Neues Quartier am Bahnhof" in page
    assert "Lauf a.d. Pegnitz" in page
    kita = next(k for k in results["kpis"] if (k["persona"], k["facility"]) == ("young_families", "kita"))
    mean = format_number(kita["mean_distance_m_baseline"])
    assert re.search(rf'data-persona="young_families".*?<td class=num>{re.escape(mean)}</td>', page, re.DOTALL)
    english = report_client.get(f"{url}/report.html?lang=en")
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    assert report_client.get(f"{url}/report.html?lang=fr").status_code == 422
    assert report_client.get(f"/api/twins/lauf/scenarios/{'0' * 64}/report.html").status_code == 404
