"""A real PostgreSQL from Debian's package for the tests: one private cluster per test session, a fresh database
per test that asks for one.

initdb and the server refuse to run as root; as root (CI), they run as the ``postgres`` system user the package
creates. The cluster lives in a temporary folder, listens on a free 127.0.0.1 port and its own socket folder, trusts
local connections (test cluster only) and is stopped by ``pg_ctl`` at the end of the session.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class Cluster:
    """A private PostgreSQL cluster in a temporary folder, which a test may stop and start again."""

    port: int
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="twin3d-pg-")))
    owner: str | None = field(default_factory=lambda: "postgres" if os.geteuid() == 0 else None)

    @property
    def url(self) -> str:
        """The URL of the cluster's ``postgres`` database."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        if self.owner is not None:
            shutil.chown(self.root, self.owner)
        initdb = [
            str(postgres_bin() / "initdb"),
            "-D",
            str(self.root / "data"),
            "-A",
            "trust",
            "-U",
            ROLE,
            "-E",
            "UTF8",
        ]
        _run_as_owner(initdb, self.owner)

    def start(self) -> None:
        options = f"-k {self.root} -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=on -c max_connections=200"
        command = [str(postgres_bin() / "pg_ctl"), "-D", str(self.root / "data"), "-o", options]
        _run_as_owner([*command, "-l", str(self.root / "log"), "-w", "start"], self.owner)

    def stop(self, mode: str = "immediate") -> None:
        _run_as_owner(
            [str(postgres_bin() / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop"], self.owner
        )


@contextmanager
def running_cluster(port: int) -> Iterator[Cluster]:
    """A new cluster on ``port``, running until the block ends (then removed)."""
    cluster = Cluster(port)
    cluster.create()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):  # stopped by the test already
            cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@contextmanager
def postgres_cluster(port: int) -> Iterator[str]:
    """Start a private cluster on ``port``; yields the URL of its ``postgres`` database."""
    with running_cluster(port) as cluster:
        yield cluster.url


_numbers = itertools.count(1)


def fresh_database(server_url: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    import psycopg  # noqa: PLC0415

    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server_url, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
