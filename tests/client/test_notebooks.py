"""The example notebooks in notebooks/ run top to bottom against a real server, and are stored without outputs."""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.client.conftest import ClientServer
from tests.conftest import REPO

NOTEBOOKS = REPO / "notebooks"
EXTERNAL_TAG = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
REPORT_CHECKED = "import json\nprint(json.dumps(checked, default=float))"
"""Appended to each notebook: the dict its last cell leaves in ``checked``, as the run's last output line."""


@dataclass(frozen=True)
class NotebookRun:
    """An executed notebook: the dict its last cell left in ``checked``, its cells with outputs, and its time."""

    checked: dict[str, Any]
    notebook: nbformat.NotebookNode
    seconds: float

    def html_outputs(self) -> list[str]:
        """The HTML the cells showed (maps, rich tables), in order."""
        return [
            str(out["data"]["text/html"])
            for cell in self.notebook.cells
            for out in cell.get("outputs", [])
            if "text/html" in out.get("data", {})
        ]


def run_notebook(path: Path, cwd: Path) -> NotebookRun:
    """Execute ``path`` in a fresh ``python3`` kernel started in ``cwd``.

    A cell that raises fails the test with the cell's source and the error, not nbclient's whole dump.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT_CHECKED))
    client = NotebookClient(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(cwd)}})
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        raised = [number for number, cell in enumerate(notebook.cells, 1) if _has_error(cell)]
        where = f"cell {raised[0]}" if raised else "a cell"
        # nbclient's message holds the cell's source and the traceback; the colours only garble a terminal log
        pytest.fail(
            f"{path.name}: {where} raised {error.ename}: {error.evalue}\n{ANSI.sub('', str(error))}", pytrace=False
        )
    seconds = time.perf_counter() - started
    last = notebook.cells[-1].outputs
    text = "".join(out.get("text", "") for out in last if out.get("output_type") == "stream")
    return NotebookRun(json.loads(text.strip().splitlines()[-1]), notebook, seconds)


def _has_error(cell: nbformat.NotebookNode) -> bool:
    return any(out.output_type == "error" for out in cell.get("outputs", []))


@pytest.fixture
def notebook_env(client_server: ClientServer, monkeypatch: pytest.MonkeyPatch) -> ClientServer:
    """The kernel inherits the environment: the notebooks read the test server's URL and go as the public."""
    monkeypatch.setenv("TWIN3D_URL", client_server.url)
    monkeypatch.delenv("TWIN3D_TOKEN", raising=False)
    monkeypatch.delenv("TWIN3D_REPO", raising=False)
    return client_server


def test_kita_notebook_finds_a_site_that_raises_young_families_kita_coverage(notebook_env: ClientServer) -> None:
    run = run_notebook(NOTEBOOKS / "kita_lauf.ipynb", cwd=NOTEBOOKS)
    print(f"kita_lauf.ipynb ran in {run.seconds:.1f} s")
    checked = run.checked
    assert checked["coverage_scenario"] > checked["coverage_baseline"]
    assert checked["coverage_delta"] == pytest.approx(checked["coverage_scenario"] - checked["coverage_baseline"])
    assert checked["verdicts"]["young_families"] == "better"
    assert "worse" not in checked["verdicts"].values()
    assert len(checked["verdicts"]) == 9  # every persona of Lauf has its verdict
    assert len(checked["scenario"]) == 64
    assert checked["site"].startswith("89")  # a resolution-9 H3 cell
    maps = [html.unescape(text) for text in run.html_outputs() if "deck-container" in html.unescape(text)]
    assert len(maps) == 1  # the map came out, with deck.gl inlined ...
    assert EXTERNAL_TAG.findall(maps[0]) == []  # ... and no script or style sheet from another host


def test_join_notebook_splits_each_persona_into_within_and_beyond_reach(notebook_env: ClientServer) -> None:
    # From the repository root this time: the notebook finds its data file from either working directory
    run = run_notebook(NOTEBOOKS / "join_my_layer.ipynb", cwd=REPO)
    print(f"join_my_layer.ipynb ran in {run.seconds:.1f} s")
    checked = run.checked
    assert checked["stops"] == 100  # the bus stops (highway=bus_stop) of the bundled OSM extract
    within = checked["within_by_persona"]
    assert len(within) == 9
    assert all(value > 0 for value in within.values())
    assert sum(within.values()) == pytest.approx(checked["within_300m"], abs=1.0)
    assert 0 < checked["within_300m"] < checked["persons"]
    assert 0 < checked["residential_within_300m"] <= checked["residential"] <= 6492  # Lauf's OSM buildings


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.name)
def test_notebooks_are_stored_valid_and_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert [cell.id for cell in code if cell.outputs or cell.execution_count is not None] == []


def test_the_notebooks_are_all_there() -> None:
    assert {path.name for path in NOTEBOOKS.glob("*.ipynb")} >= {"kita_lauf.ipynb", "join_my_layer.ipynb"}
