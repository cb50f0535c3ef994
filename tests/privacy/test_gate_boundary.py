"""The unsafe path is hard to write: outside the gate (twin3d/population/privacy/), no code reads the microdata
tables or reaches the gate's membership, so every figure that leaves the server is computed from published units."""

from __future__ import annotations

import re

from tests.conftest import REPO

PACKAGE = REPO / "twin3d"
GATE = PACKAGE / "population" / "privacy"
READS_MICRODATA = re.compile(r"\b(FROM|JOIN)\s+(households|persons)\b", re.IGNORECASE)
GATE_INTERNALS = re.compile(r"\b(read_microdata|Microdata|assign_units|by_atom|household_rows|atom_rows)\b")
# The synthesis writes the microdata and publishes the baseline table through the gate.
WRITERS = {PACKAGE / "pipeline" / "build.py", PACKAGE / "pipeline" / "population_step.py"}


def test_no_module_outside_the_gate_reads_microdata() -> None:
    files = [p for p in PACKAGE.rglob("*.py") if GATE not in p.parents and p not in WRITERS]
    assert len(files) > 50
    readers = [str(p.relative_to(REPO)) for p in files if READS_MICRODATA.search(p.read_text(encoding="utf-8"))]
    assert readers == [], "these read households or persons: ask the gate"
    reaching = [str(p.relative_to(REPO)) for p in files if GATE_INTERNALS.search(p.read_text(encoding="utf-8"))]
    assert reaching == [], "these reach into the gate's membership: use published units"


def test_the_sql_files_hold_no_query_of_the_microdata() -> None:
    for path in (PACKAGE / "sql").glob("*.sql"):
        queries = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
        assert not READS_MICRODATA.search("\n".join(queries)), path
