"""What every ``twin3d`` command shares: its two consoles and the one way errors end a command."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from twin3d.errors import Twin3dError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Print a twin3d error as one line and exit with its code; anything else is a bug and keeps its traceback."""
    try:
        yield
    except Twin3dError as exc:
        err.print(f"[bold red]error:[/] {exc.one_line()}", soft_wrap=True)
        sys.exit(exc.exit_code)
