"""The README's client example runs as printed, against a real server, and says what it promises."""

from __future__ import annotations

from typing import Any

from tests.client.conftest import ClientServer
from tests.conftest import REPO


def readme_example() -> str:
    """The Python block under the README's "Notebooks: the Python client"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("**Notebooks: the Python client**", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_client_example_runs(client_server: ClientServer) -> None:
    code = readme_example().replace("http://127.0.0.1:8000", client_server.url)
    assert client_server.url in code  # the example names the demo server's address, which the test replaces
    scope: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert len(scope["buildings"]) == 6492
    assert str(scope["buildings"].crs) == "EPSG:25832"
    assert scope["families"]["persons"].sum() > 0
    assert len(scope["kitas"]) == 11  # Lauf's Kitas in OpenStreetMap
    kita = scope["results"].kpi("young_families", "kita")
    assert kita["delta"] > 0
    assert kita["verdict"] == "better"
    assert "worse" not in set(scope["results"].verdicts["verdict"])
