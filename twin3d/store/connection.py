"""The one way to open a twin store: DuckDB with the spatial extension loaded offline."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from twin3d.errors import StoreError


class _NotInstalled(importlib.abc.MetaPathFinder):
    """Answers ``import <name>`` for a module that is not installed at once, before the search of ``sys.path``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == self.name:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


@cache
def _absent_pandas_fails_fast() -> None:
    """Where pandas is not installed, make ``import pandas`` fail at once.

    DuckDB's Python client tries ``import pandas`` twice for every parameter value it binds; without pandas each try
    searches the whole ``sys.path`` in vain (about 0.15 ms), which made a query with three parameters cost a
    millisecond more than its work. A finder first in ``sys.meta_path`` gives the same ModuleNotFoundError without
    the search. (Not ``sys.modules["pandas"] = None``: pyarrow reads that entry and fails on it.) Where pandas is
    installed nothing changes.
    """
    if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
        sys.meta_path.insert(0, _NotInstalled("pandas"))


@cache
def spatial_extension_path() -> Path:
    """The spatial extension file shipped by the ``duckdb-extension-spatial`` wheel (no download needed)."""
    import duckdb_extension_spatial  # noqa: PLC0415  (heavy optional lookup kept out of import time)

    root = Path(duckdb_extension_spatial.__file__).parent
    found = sorted(root.glob(f"extensions/v{duckdb.__version__}/spatial.duckdb_extension"))
    if not found:
        raise StoreError(
            f"no spatial extension for DuckDB {duckdb.__version__} in {root}",
            hint="install duckdb-extension-spatial with the same version as duckdb",
        )
    return found[0]


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the spatial extension loaded from the local wheel.

    Args:
        path: the database file, or ``":memory:"``.
        read_only: open an existing file for reading only (the server does this).

    Raises:
        StoreError: the file does not exist (read-only) or cannot be opened (e.g. locked by a build).
    """
    _absent_pandas_fails_fast()
    if read_only and str(path) != ":memory:" and not Path(path).is_file():
        raise StoreError("store not found", file=path, hint="build the twin first: twin3d build <twin>")
    try:
        con = duckdb.connect(
            str(path),
            read_only=read_only,
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the store: {exc}", file=path) from exc
    con.execute(f"LOAD '{spatial_extension_path()}'")
    return con


def sql_file(name: str) -> str:
    """The text of a SQL file shipped in ``twin3d/sql``."""
    return resources.files("twin3d.sql").joinpath(name).read_text(encoding="utf-8")
