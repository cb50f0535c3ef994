"""Where the partitioned steps run: in this process, in forked worker processes, or on a Dask cluster.

A partitioned step (the tiles of one partition, one city-model file, ...) is a function of one read-only context
and one task. The context (the twin's frame, the options, a DEM: what every task needs) goes to each worker once,
never with every task: the Dutch 3D BAG's records show that re-sending large read-only inputs with each task cost
hours where sending them once took minutes. Tasks are submitted while results come back, a few per worker at a
time, so a task source that reads lazily keeps the driver's memory bounded whatever the size of the job.

Results come back in task order whichever executor runs them, so what a step writes does not depend on it.
"""

from __future__ import annotations

import copy
import importlib
import logging
import multiprocessing
import socket
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, Literal, Protocol, TypeVar

from threadpoolctl import threadpool_limits

from twin3d.errors import InputError, Twin3dError

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

ExecutorKind = Literal["local", "processes", "dask"]
EXECUTOR_KINDS: tuple[ExecutorKind, ...] = ("local", "processes", "dask")
# Batches in flight per worker: enough that no worker waits for the driver, few enough that a streaming task
# source does not pile up partitions in memory.
IN_FLIGHT_PER_WORKER = 2
# Finished batches per worker that may wait in the driver behind an unfinished older one (results come back in
# task order): enough that a slow batch does not stop the other workers, a bound on what the driver holds.
AHEAD_PER_WORKER = 8
# A worker process per core, so one BLAS thread each: more would compete with the other workers for the cores.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# A partition's tiles take a few milliseconds, about what a round trip to a Dask worker costs: tasks travel in
# batches, at least this many per worker (so the work still spreads evenly) and at most MAX_BATCH tasks each.
BATCHES_PER_WORKER = 8
MAX_BATCH = 32


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor a build uses.

    Attributes:
        kind: ``local`` (this process), ``processes`` (a pool of forked worker processes) or ``dask``
            (dask.distributed: the cluster at ``scheduler``, else a LocalCluster of ``workers`` processes).
        workers: worker processes for ``processes`` and a LocalCluster (None: the pipeline's ``tiles.workers``).
        scheduler: the address of a running Dask scheduler (``tcp://host:8786``).
    """

    kind: ExecutorKind = "local"
    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise InputError(f"unknown executor {self.kind!r}: use one of {', '.join(EXECUTOR_KINDS)}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"workers must be at least 1, not {self.workers}")
        if self.scheduler is not None and self.kind != "dask":
            raise InputError("a scheduler address needs --executor dask")


class Executor(Protocol):
    """Runs ``fn(context, task)`` for every task; yields the results in task order."""

    @property
    def workers(self) -> int: ...

    @property
    def hosts(self) -> int:
        """Machines the workers run on (a step that one machine's threads do as well splits only for several)."""
        ...

    def map(self, fn: Callable[[C, T], R], context: C, tasks: Iterable[T]) -> Iterator[R]: ...


class LocalExecutor:
    """Every task in this process, one after the other."""

    workers = 1
    hosts = 1

    def map(self, fn: Callable[[C, T], R], context: C, tasks: Iterable[T]) -> Iterator[R]:
        for task in tasks:
            yield fn(context, task)


_CONTEXT: Any = None  # the context of the map a forked worker serves (inherited at fork, never pickled)


def _keep_context(context: object) -> None:
    global _CONTEXT  # noqa: PLW0603  (set once per worker process by the pool's initializer)
    _CONTEXT = context
    # The fork inherited the driver's BLAS thread pool: one thread per worker, as Dask's workers (BLAS_THREAD_...).
    threadpool_limits(1)


def _call(fn: Callable[[C, T], R], context: C, task: T) -> R:
    """Run one task in a worker; a twin3d error comes back as itself, without its chain of causes.

    The causes (a GDAL or lxml error, say) may not survive the trip back to the driver, and the error says what a
    user needs already: the file, the record and the fix.
    """
    try:
        return fn(context, task)
    except Twin3dError as exc:
        detached = copy.copy(exc)
    detached.__cause__ = detached.__context__ = None
    detached.__traceback__ = None
    raise detached


def _call_batch(fn: Callable[[C, T], R], context: C, batch: list[T]) -> list[R]:
    return [_call(fn, context, task) for task in batch]


def _call_with_context(fn: Callable[[Any, T], R], batch: list[T]) -> list[R]:
    return _call_batch(fn, _CONTEXT, batch)


def batches(tasks: Iterable[T], workers: int) -> Iterator[list[T]]:
    """The tasks in batches sized for ``workers`` (one task each where their number is not known in advance)."""
    size = 1
    if isinstance(tasks, Sized):
        size = max(1, min(MAX_BATCH, len(tasks) // (workers * BATCHES_PER_WORKER)))
    iterator = iter(tasks)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(frozen=True)
class _Futures(Generic[T, R]):
    """How an executor submits a batch, waits for one, takes its result or cancels it."""

    submit: Callable[[list[T]], Any]
    result: Callable[[Any], list[R]]
    cancel: Callable[[Any], Any]
    wait_first: Callable[[list[Any]], Any]  # returns once one of the (unfinished) futures has finished


def _bounded(futures: _Futures[T, R], tasks: Iterable[list[T]], workers: int) -> Iterator[R]:
    """Submit batches while fewer than ``IN_FLIGHT_PER_WORKER`` per worker run; yield results in submission order.

    A new batch goes out whenever one finishes, not when the oldest finishes: one slow batch at the head would
    otherwise leave the other workers idle until it is done. Finished batches wait for the head in the driver, at
    most ``AHEAD_PER_WORKER`` per worker, which bounds the driver's memory. If a task fails (or the caller stops
    early) the tasks still pending are cancelled, so a bad file stops the build at once; of several failures the
    first in task order is raised, whichever executor ran them.
    """
    running_limit, pending_limit = workers * IN_FLIGHT_PER_WORKER, workers * AHEAD_PER_WORKER
    pending: deque[Any] = deque()
    source = iter(tasks)
    exhausted = False
    try:
        while pending or not exhausted:
            running = [f for f in pending if not f.done()]
            while not exhausted and len(running) < running_limit and len(pending) < pending_limit:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                else:
                    pending.append(futures.submit(batch))
                    running.append(pending[-1])
            while pending and pending[0].done():
                yield from futures.result(pending.popleft())
            if pending and not pending[0].done():
                if exhausted or len(pending) >= pending_limit:
                    yield from futures.result(pending.popleft())
                else:
                    # Only those still pending: a yielded Dask future is released, and waiting on it fails.
                    futures.wait_first([f for f in pending if not f.done()])
    finally:
        for future in pending:
            futures.cancel(future)


class ProcessExecutor:
    """A pool of forked worker processes per map; each inherits the context when it forks."""

    hosts = 1

    def __init__(self, workers: int) -> None:
        self._workers = workers

    @property
    def workers(self) -> int:
        return self._workers

    def map(self, fn: Callable[[C, T], R], context: C, tasks: Iterable[T]) -> Iterator[R]:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self._workers, mp_context=ctx, initializer=_keep_context, initargs=(context,)) as pool:
            # A failed task fails the map: the pool's exit then waits for what is running and drops the rest.
            def submit(batch: list[T]) -> Future[list[R]]:
                return pool.submit(_call_with_context, fn, batch)

            def result(future: Future[list[R]]) -> list[R]:
                return future.result()

            def wait_first(running: list[Future[list[R]]]) -> None:
                wait(running, return_when=FIRST_COMPLETED)

            futures = _Futures(submit, result, Future.cancel, wait_first)
            yield from _bounded(futures, batches(tasks, self._workers), self._workers)


class DaskExecutor:
    """dask.distributed: the context is scattered to every worker once, tasks stream to the cluster."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def workers(self) -> int:
        return max(len(self._client.scheduler_info(n_workers=-1).get("workers", {})), 1)

    @property
    def hosts(self) -> int:
        addresses = self._client.scheduler_info(n_workers=-1).get("workers", {})
        return max(len({address.removeprefix("tcp://").rpartition(":")[0] for address in addresses}), 1)

    def map(self, fn: Callable[[C, T], R], context: C, tasks: Iterable[T]) -> Iterator[R]:
        from distributed import wait as wait_futures  # noqa: PLC0415  (optional: only a Dask build needs it)

        # In a list of one: Dask scatters a list or tuple element by element (a tuple context would come back as a
        # tuple of futures).
        shared = self._client.scatter([context], broadcast=True, hash=False)[0]
        try:

            def submit(batch: list[T]) -> Any:
                return self._client.submit(_call_batch, fn, shared, batch, pure=False)

            def result(future: Any) -> list[R]:
                value: list[R] = future.result()
                future.release()
                return value

            def wait_first(running: list[Any]) -> None:
                wait_futures(running, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]

            workers = self.workers
            futures = _Futures(submit, result, lambda f: f.cancel(), wait_first)
            yield from _bounded(futures, batches(tasks, workers), workers)
        finally:
            shared.release()


def _dask_client(spec: ExecutorSpec) -> AbstractContextManager[Any]:
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415  (optional: only a Dask build needs it)
    except ImportError as exc:
        raise InputError("--executor dask needs dask.distributed: pip install 'twin3d[dask]'") from exc
    import dask  # noqa: PLC0415

    # A task's partition is a few megabytes by design; Dask's size warnings are meant for graphs, not data.
    warnings.filterwarnings("ignore", message=".*Large object of size.*")
    # The workers' sampling profiler takes the GIL every 10 ms from tasks that are mostly Python-driven numpy.
    dask.config.set({"distributed.worker.profile.enabled": False})
    # Each worker's event loop wakes every 20 ms to check its own health and takes the GIL from the task's thread.
    dask.config.set({"distributed.admin.tick.interval": "1s", "distributed.admin.system-monitor.interval": "2s"})
    # One BLAS thread per worker (one worker per core), as in the fork pool (_keep_context), and no more: Dask's
    # default also sets MALLOC_TRIM_THRESHOLD_, which hands freed numpy buffers back to the kernel at once, and the
    # fork pool's workers run without it.
    dask.config.set({"distributed.nanny.pre-spawn-environ": dict.fromkeys(BLAS_THREAD_VARIABLES, 1)})
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if spec.scheduler:
        refused = InputError(
            f"no Dask scheduler answers at {spec.scheduler}: start one with `dask scheduler` and workers with "
            "`dask worker <address>` (see the README), or leave out --scheduler for a local cluster"
        )
        host, _, port = spec.scheduler.removeprefix("tcp://").rpartition(":")
        if not host or not port.isdigit():
            raise InputError(f"--scheduler {spec.scheduler!r} is not an address", hint="use tcp://HOST:PORT")
        try:
            # Refused at once here, instead of after Dask's connection retries.
            socket.create_connection((host, int(port)), timeout=10).close()
            return Client(spec.scheduler, timeout="20s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise refused from exc
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=spec.workers or 1,
        threads_per_worker=1,  # the steps are numpy/GEOS/PROJ work that holds the GIL in places: one per process
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # a failed task is the build's error, reported once by the build
    )
    return Client(cluster)  # type: ignore[no-untyped-call]


def _preload() -> None:
    importlib.import_module("twin3d.pipeline.build")  # the build and every step it runs (tiling, readers)


@contextmanager
def open_executor(spec: ExecutorSpec | None = None) -> Iterator[Executor]:
    """The executor ``spec`` names, open for the duration of a build (a LocalCluster starts once per build)."""
    spec = spec or ExecutorSpec()
    workers = spec.workers or 1
    if spec.kind == "local" or (spec.kind == "processes" and workers == 1):
        yield LocalExecutor()
    elif spec.kind == "processes":
        yield ProcessExecutor(workers)
    else:
        with _dask_client(spec) as client:
            cluster = client.cluster
            try:
                # Each worker imports the steps' modules now, not inside the first task of the build: a spawned
                # worker does not inherit them as a forked one does (1.3 s of CPU per worker here).
                client.run(_preload)
                yield DaskExecutor(client)
            finally:
                if cluster is not None:
                    cluster.close()
