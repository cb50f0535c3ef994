"""The ``--executor``, ``--workers`` and ``--scheduler`` options of the commands whose steps run on an executor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from twin3d.executor import EXECUTOR_KINDS, ExecutorKind, ExecutorSpec

F = TypeVar("F", bound=Callable[..., object])


def executor_options(default_help: str) -> Callable[[F], F]:
    """The three options; ``default_help`` says where the steps run without them."""

    def decorate(fn: F) -> F:
        fn = click.option("--scheduler", default=None, metavar="tcp://HOST:8786", help="a running Dask scheduler")(fn)
        fn = click.option(
            "--workers", type=click.IntRange(1, 256), default=None, help="worker processes (processes, local Dask)"
        )(fn)
        return click.option(
            "--executor",
            type=click.Choice(EXECUTOR_KINDS),
            default=None,
            help=f"where partitioned steps run: this process, forked processes, or Dask  [default: {default_help}]",
        )(fn)

    return decorate


def executor_spec(executor: ExecutorKind | None, workers: int | None, scheduler: str | None) -> ExecutorSpec | None:
    """The executor the options name, or None where none was asked for (the command's default)."""
    if executor is None and workers is None and scheduler is None:
        return None
    return ExecutorSpec(executor or ("dask" if scheduler else "processes"), workers, scheduler)
