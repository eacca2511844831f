"""Where a sweep's work runs: one executor interface, three back ends.

An :class:`Executor` maps a function over batches of tasks. Each worker receives a shared
*context* (the economy) once, when it starts; each batch is one unit of work sent to a
worker. At most ``max_in_flight`` batches are submitted at a time, and results come back
in the order of the batches, whoever computed them and whenever they finished.

* :class:`SerialExecutor`: in this process, one batch after another.
* :class:`PoolExecutor`: a :class:`concurrent.futures.ProcessPoolExecutor`; the context
  goes to each worker process once, through the pool's initializer.
* :class:`DaskExecutor`: a ``distributed.Client``, on a ``LocalCluster`` it starts (one
  thread per worker process, loopback only) or on an existing scheduler's address; the
  context is broadcast once to every worker with ``client.scatter(..., broadcast=True)``.

Every batch runs with BLAS and OpenMP limited to one thread, in every back end, so that a
task's floating-point work is the same whichever back end runs it. Every wait has a
timeout; a batch that does not finish in ``timeout`` seconds, a worker that dies, or a
cluster that does not start raises :class:`~commonplan.errors.ExecutorError`. Errors of
single tasks are the mapped function's business (the sweep turns them into rows).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from commonplan.errors import ExecutorError, SpecError

T = TypeVar("T")
R = TypeVar("R")

BatchFunction = Callable[[Any, Sequence[Any]], list[Any]]
"""``fn(context, batch) -> results``: a module-level (picklable) function."""

DEFAULT_TIMEOUT = 900.0
"""Seconds one batch may run before the executor gives up (raises ExecutorError)."""
STARTUP_TIMEOUT = 120.0
"""Seconds a cluster or a scheduler connection may take to come up."""


@dataclass(frozen=True)
class BatchResult(Generic[R]):
    """The results of one batch, in task order, and the seconds the worker spent on it."""

    index: int
    results: list[R]
    seconds: float


def run_batch(fn: BatchFunction, context: Any, batch: Sequence[Any]) -> tuple[list[Any], float]:
    """Run ``fn(context, batch)`` with one BLAS/OpenMP thread; return its results and seconds."""
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        results = fn(context, batch)
    return list(results), time.perf_counter() - start


class Executor(ABC):
    """Map a batch function over batches of tasks, with a bound on batches in flight.

    Use as a context manager, or call :meth:`close` (in a ``finally``). :meth:`start`
    sends the context to the workers; :meth:`map_batches` yields one
    :class:`BatchResult` per batch, in the order of ``batches``.
    """

    name = "executor"

    def __init__(self, max_in_flight: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if max_in_flight is not None and max_in_flight < 1:
            raise SpecError(
                f"max_in_flight = {max_in_flight!r}", where="executor", expected="an integer ≥ 1"
            )
        if not timeout > 0:
            raise SpecError(f"timeout = {timeout!r}", where="executor", expected="seconds > 0")
        self._max_in_flight = max_in_flight
        self.timeout = float(timeout)

    @property
    @abstractmethod
    def workers(self) -> int:
        """Number of workers that run batches at the same time."""

    @property
    def max_in_flight(self) -> int:
        """Batches submitted and not yet returned, at most (default: twice the workers)."""
        return self._max_in_flight or 2 * self.workers

    @abstractmethod
    def start(self, context: Any) -> None:
        """Start the workers (if not yet) and give each one ``context``, once."""

    @abstractmethod
    def _submit(self, fn: BatchFunction, batch: Sequence[Any], index: int) -> Any:
        """Submit one batch; return a handle for :meth:`_wait`."""

    @abstractmethod
    def _wait(self, handle: Any) -> tuple[list[Any], float]:
        """The results and seconds of a submitted batch, waiting at most :attr:`timeout`."""

    def close(self) -> None:
        """Stop the workers this executor started (safe to call twice)."""
        return None

    def map_batches(
        self, fn: BatchFunction, batches: Iterable[Sequence[Any]]
    ) -> Iterator[BatchResult[Any]]:
        """``fn(context, batch)`` for each batch, in order, at most :attr:`max_in_flight` at a time."""
        pending: deque[tuple[int, Any]] = deque()
        iterator = iter(enumerate(batches))
        exhausted = False
        while True:
            while not exhausted and len(pending) < self.max_in_flight:
                item = next(iterator, None)
                if item is None:
                    exhausted = True
                    break
                index, batch = item
                pending.append((index, self._submit(fn, batch, index)))
            if not pending:
                return
            index, handle = pending.popleft()
            results, seconds = self._wait(handle)
            yield BatchResult(index, results, seconds)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- serial ---------------------------------------------------------------------------------


class SerialExecutor(Executor):
    """In this process, one batch after another (no timeout: nothing runs elsewhere)."""

    name = "serial"

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(max_in_flight=1, timeout=timeout)
        self._context: Any = None

    @property
    def workers(self) -> int:
        return 1

    def start(self, context: Any) -> None:
        self._context = context

    def _submit(self, fn: BatchFunction, batch: Sequence[Any], index: int) -> Any:
        return run_batch(fn, self._context, batch)

    def _wait(self, handle: Any) -> tuple[list[Any], float]:
        return handle


# --- process pool ---------------------------------------------------------------------------

_WORKER_CONTEXT: Any = None
"""The context of a pool worker process, set once by :func:`_init_pool_worker`."""


def _init_pool_worker(context: Any) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context


def _pool_task(fn: BatchFunction, batch: Sequence[Any]) -> tuple[list[Any], float]:
    return run_batch(fn, _WORKER_CONTEXT, batch)


class PoolExecutor(Executor):
    """A ``concurrent.futures.ProcessPoolExecutor`` of ``workers`` processes (``spawn`` start).

    The context is the pool's initializer argument: pickled once per worker process.
    """

    name = "pool"

    def __init__(
        self,
        workers: int | None = None,
        *,
        max_in_flight: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        start_method: str = "spawn",
    ) -> None:
        super().__init__(max_in_flight, timeout)
        self._workers = _worker_count(workers)
        self._start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def start(self, context: Any) -> None:
        self.close()
        self._pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context(self._start_method),
            initializer=_init_pool_worker,
            initargs=(context,),
        )

    def _submit(self, fn: BatchFunction, batch: Sequence[Any], index: int) -> Any:
        if self._pool is None:
            raise ExecutorError("the pool is not started", where="PoolExecutor", fix="call start()")
        return self._pool.submit(_pool_task, fn, batch)

    def _wait(self, handle: Any) -> tuple[list[Any], float]:
        try:
            return handle.result(timeout=self.timeout)
        except FutureTimeout:
            self._abort()
            raise ExecutorError(
                f"a batch did not finish within {self.timeout:g} s",
                where="PoolExecutor",
                fix="raise the timeout or make the batches smaller",
            ) from None
        except BrokenProcessPool as error:
            self._abort()
            raise ExecutorError(
                f"a worker process died: {error}",
                where="PoolExecutor",
                fix="check the workers' memory",
            ) from None

    def _abort(self) -> None:
        """Stop the pool now, ending its worker processes (a hung batch never returns)."""
        if self._pool is None:
            return
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# --- Dask -----------------------------------------------------------------------------------


LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False}
"""Dask settings of the local cluster's workers. A worker samples its task thread's stack
every 10 ms for the dashboard's profile by default; that sampler takes the GIL from the
task each time, and with the dashboard off nobody reads its profile."""


def _dask_task(fn: BatchFunction, context: Any, batch: Sequence[Any]) -> tuple[list[Any], float]:
    return run_batch(fn, context, batch)


class DaskExecutor(Executor):
    """A ``distributed.Client``: on a new ``LocalCluster`` by default, or on ``scheduler``.

    The local cluster has ``workers`` worker processes (``processes=False``: threads of this
    process, for tests), one thread each, listening on 127.0.0.1 without a dashboard. The
    context is scattered to every worker once (``broadcast=True``); tasks refer to it.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        *,
        scheduler: str | None = None,
        processes: bool = True,
        max_in_flight: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        startup_timeout: float = STARTUP_TIMEOUT,
    ) -> None:
        super().__init__(max_in_flight, timeout)
        self._requested = None if scheduler else _worker_count(workers)
        self.scheduler = scheduler
        self.processes = processes
        self.startup_timeout = float(startup_timeout)
        self._cluster: Any = None
        self._client: Any = None
        self._context: Any = None
        self._n_workers = self._requested or 0

    @property
    def workers(self) -> int:
        return max(1, self._n_workers)

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (after :meth:`start`)."""
        if self._client is None:
            self._connect()
        return self._client

    def _connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.scheduler:
                self._client = Client(self.scheduler, timeout=self.startup_timeout)
            else:
                with dask.config.set(LOCAL_CLUSTER_CONFIG):
                    self._cluster = LocalCluster(
                        n_workers=self._requested,
                        threads_per_worker=1,
                        processes=self.processes,
                        **({"host": "127.0.0.1"} if self.processes else {}),
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self._client = Client(self._cluster, timeout=self.startup_timeout)
            self._client.wait_for_workers(self._requested or 1, timeout=self.startup_timeout)
        except (OSError, TimeoutError, RuntimeError) as error:
            self.close()
            where = f"scheduler {self.scheduler}" if self.scheduler else "LocalCluster"
            raise ExecutorError(
                f"cannot start or reach the Dask cluster: {error}",
                where=where,
                fix="check the scheduler address (tcp://host:8786) and that workers are running",
            ) from None
        self._n_workers = len(self._client.scheduler_info().get("workers", {}))

    def start(self, context: Any) -> None:
        client = self.client
        self._context = client.scatter(context, broadcast=True, hash=False)

    def _submit(self, fn: BatchFunction, batch: Sequence[Any], index: int) -> Any:
        if self._context is None:
            raise ExecutorError(
                "the executor is not started", where="DaskExecutor", fix="call start()"
            )
        return self._client.submit(_dask_task, fn, self._context, batch, pure=False)

    def _wait(self, handle: Any) -> tuple[list[Any], float]:
        from distributed import TimeoutError as DaskTimeout

        try:
            result = handle.result(timeout=self.timeout)
        except (DaskTimeout, TimeoutError, FutureTimeout):
            raise ExecutorError(
                f"a batch did not finish within {self.timeout:g} s",
                where="DaskExecutor",
                fix="raise the timeout or make the batches smaller",
            ) from None
        except Exception as error:
            if type(error).__name__ in ("KilledWorker", "CommClosedError", "CancelledError"):
                raise ExecutorError(
                    f"the cluster lost a batch: {type(error).__name__}: {error}",
                    where="DaskExecutor",
                    fix="check the workers' memory and logs",
                ) from None
            raise
        handle.release()
        return result

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = self._context = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=30)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=30)


# --- choosing one ---------------------------------------------------------------------------

EXECUTORS = ("serial", "pool", "dask")


def _worker_count(workers: int | None) -> int:
    if workers is None:
        return max(1, min(os.cpu_count() or 1, 4))
    if not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers = {workers!r}", where="executor", expected="an integer ≥ 1")
    return workers


def make_executor(
    kind: str = "serial",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    max_in_flight: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Executor:
    """An executor by name: ``"serial"``, ``"pool"`` or ``"dask"`` (``scheduler`` only for Dask)."""
    if kind not in EXECUTORS:
        raise SpecError(
            f"unknown executor {kind!r}", where="--executor", expected=f"one of {list(EXECUTORS)}"
        )
    if scheduler and kind != "dask":
        raise SpecError(
            "a scheduler address needs the Dask executor",
            where="--scheduler",
            fix="add --executor dask",
        )
    if kind == "serial":
        return SerialExecutor(timeout=timeout)
    if kind == "pool":
        return PoolExecutor(workers, max_in_flight=max_in_flight, timeout=timeout)
    return DaskExecutor(workers, scheduler=scheduler, max_in_flight=max_in_flight, timeout=timeout)
