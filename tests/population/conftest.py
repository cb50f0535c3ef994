"""Shared fixtures of the population tests: the built demo twins' stores, read-only."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store.connection import connect


@pytest.fixture(scope="module")
def stores(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[dict[str, duckdb.DuckDBPyConnection]]:
    """The Rostock and Lauf demo stores, opened read-only for one test module."""
    cons = {twin: connect(demo_paths.store_file(twin), read_only=True) for twin in ("rostock", "lauf")}
    yield cons
    for con in cons.values():
        con.close()
