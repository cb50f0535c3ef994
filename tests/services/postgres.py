"""A real PostgreSQL from Debian's package for the tests: one private cluster per test session, a fresh database
per test that asks for one.

initdb and the server refuse to run as root; as root (CI), they run as the ``postgres`` system user the package
creates. The cluster lives in a temporary folder, listens on a free 127.0.0.1 port and its own socket folder, trusts
local connections (test cluster only) and is stopped by ``pg_ctl`` at the end of the session.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROLE = "twin3d"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's program folder (``/usr/lib/postgresql/<version>/bin``)."""
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if (p / "pg_ctl").is_file()), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql (the README's test command)")
    return versions[-1]


def _run_as_owner(args: list[str], owner: str | None) -> None:
    command = args if owner is None else ["su", owner, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stdout}\n{done.stderr}")


@contextmanager
def postgres_cluster(port: int) -> Iterator[str]:
    """Start a private cluster on ``port``; yields the URL of its ``postgres`` database."""
    pg = postgres_bin()
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="twin3d-pg-"))
    if owner is not None:
        shutil.chown(root, owner)
    data = root / "data"
    _run_as_owner([str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", ROLE, "-E", "UTF8"], owner)
    options = f"-k {root} -c listen_addresses=127.0.0.1 -p {port} -c fsync=on -c max_connections=200"
    _run_as_owner([str(pg / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], owner)
    try:
        yield f"postgresql://{ROLE}@127.0.0.1:{port}/postgres"
    finally:
        _run_as_owner([str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner)
        shutil.rmtree(root, ignore_errors=True)


_numbers = itertools.count(1)


def fresh_database(server_url: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    import psycopg  # noqa: PLC0415

    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
