"""Run black-box callables over a batch of points in chunks, on an executor if given.

A batch of ``n`` points is cut into chunks of rows (:func:`chunk_plan`); every chunk of
every callable becomes one task of a :class:`concurrent.futures.Executor` (a thread or
process pool, ``dask.distributed``'s ``Client.get_executor()``, ``mpi4py.futures``), or
runs in this process when there is none. Results are gathered in row order, so the
outputs do not depend on which task finished first: a callable whose value at a point
does not depend on the rest of its chunk gives bitwise the serial result.

Failures follow ``on_error``: ``"raise"`` (the default) stops with an
:class:`~pymc_ais.core.problem.EvaluationError` naming the expectation and the rows,
after every chunk already running has finished and been stored; ``"retry"`` runs a
failed chunk again up to :data:`RETRIES` times (a flaky node, a lost worker) before
raising; ``"drop"`` re-runs a failed chunk point by point and marks the points that
still raise or give NaN/inf as failed, for the caller to drop.

A ``store`` (see :mod:`pymc_ais.pipeline.checkpoint`) keeps every finished chunk: a replayed
run takes stored chunks instead of calling the model again, and refuses stored chunks
made at other points (another run's).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import cloudpickle
import numpy as np

from ..problem import EvaluationError

ON_ERROR = ("raise", "drop", "retry")
RETRIES = 3
"""Further attempts of a failed chunk under ``on_error="retry"``."""
CHUNKS_PER_WORKER = 4
"""Default chunks per worker and per batch: enough to balance uneven run times, few
enough that the per-task overhead (about a millisecond for a local pool, a few for
Dask) stays small next to a simulator's run."""


def as_executor(executor) -> Executor | None:
    """An executor from what the user passed: an Executor, a ``dask.distributed.Client``, or None."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if hasattr(executor, "get_executor") and hasattr(executor, "nthreads"):
        return executor.get_executor()
    raise TypeError(
        "executor must be a concurrent.futures.Executor (ThreadPoolExecutor, ProcessPoolExecutor, "
        f"dask's Client.get_executor(), mpi4py.futures.MPIPoolExecutor) or a dask Client, got {type(executor).__name__}"
    )


def worker_count(executor: Executor | None) -> int:
    """Workers an executor runs tasks on (its pool size, Dask's threads; 1 without one)."""
    if executor is None:
        return 1
    client = getattr(executor, "_client", None)
    if client is not None and hasattr(client, "nthreads"):
        return max(1, sum(client.nthreads().values()))
    count = getattr(executor, "_max_workers", None) or getattr(executor, "num_workers", None)
    return int(count) if count else (os.cpu_count() or 1)


def chunk_plan(start: int, stop: int, size: int) -> list[tuple[int, int]]:
    """Rows ``[start, stop)`` cut into consecutive chunks of at most ``size`` rows."""
    return [(a, min(a + size, stop)) for a in range(start, stop, size)]


def digest(inputs: dict, rows: tuple[int, int]) -> str:
    """A fingerprint of the inputs of some rows: a stored chunk is used only where it matches."""
    h = hashlib.sha1(usedforsecurity=False)
    for name in sorted(inputs):
        h.update(name.encode())
        h.update(np.ascontiguousarray(inputs[name][rows[0] : rows[1]]).tobytes())
    return h.hexdigest()


class _Deferred:
    """A task run in this process when its result is asked for (no executor)."""

    def __init__(self, fn: Callable, arg):
        self._fn, self._arg = fn, arg

    def result(self):
        return self._fn(self._arg)

    def cancel(self) -> bool:
        return True


@dataclass
class Job:
    """One black-box callable of a batch: its name (for messages) and the function."""

    name: str
    function: Callable


@dataclass
class Dispatcher:
    """Runs the callables of every batch in chunks, with a failure policy and a store.

    Parameters
    ----------
    executor : Executor or dask Client, optional
        Where chunks run; None runs them here, one after the other.
    chunk_size : int, optional
        Rows per chunk; by default :data:`CHUNKS_PER_WORKER` chunks per worker and per
        batch with an executor, the whole batch without one.
    on_error : "raise", "retry" or "drop"
    store : optional object with ``load(batch, job, rows, key)`` and
        ``save(batch, job, rows, key, value, failed)`` (finished chunks).

    Examples
    --------
    >>> import numpy as np
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> jobs = [Job("square", lambda v: v["x"] ** 2)]
    >>> with ThreadPoolExecutor(2) as pool:
    ...     values, failed = Dispatcher(pool, chunk_size=3).run(jobs, {"x": np.arange(7.0)}, 7)
    >>> values[0].tolist(), int(failed.sum())
    ([0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0], 0)
    """

    executor: Any = None
    chunk_size: int | None = None
    on_error: str = "raise"
    store: Any = None
    batches: int = 0
    retried: int = 0
    dropped: int = 0
    reused: int = 0
    dropped_points: list = field(default_factory=list)
    _pickled: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(map(repr, ON_ERROR))}, got {self.on_error!r}")
        if self.chunk_size is not None and (
            isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int) or self.chunk_size < 1
        ):
            raise ValueError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        self.executor = as_executor(self.executor)

    def _size(self, n: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        if self.executor is None:
            return max(n, 1)
        return max(1, math.ceil(n / (CHUNKS_PER_WORKER * worker_count(self.executor))))

    def _submit(self, job: Job, inputs: dict, rows: tuple[int, int]):
        chunk = {name: value[rows[0] : rows[1]] for name, value in inputs.items()}
        if self.executor is None:
            return _Deferred(job.function, chunk)
        return self.executor.submit(self._task(job), chunk)

    def _task(self, job: Job) -> Callable:
        """What an executor runs: the callable, or for process pools its cloudpickle.

        Process pools pickle tasks with the standard pickle, which refuses lambdas and
        local functions; cloudpickle sends them by value, as Dask does.
        """
        if isinstance(self.executor, ThreadPoolExecutor) or hasattr(self.executor, "_client"):
            return job.function
        if job.name not in self._pickled:
            self._pickled[job.name] = functools.partial(_run_pickled, cloudpickle.dumps(job.function))
        return self._pickled[job.name]

    def run(
        self, jobs: Sequence[Job], inputs: dict, n: int, check: Callable | None = None
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Every job's values at the ``n`` points of ``inputs``, and which points failed.

        ``check(job_name, value, rows)`` turns a chunk's raw return value into a float64
        array with leading axis ``rows[1] - rows[0]`` or raises an
        :class:`EvaluationError` (a wrong shape is a bug, never dropped); non-finite
        values are failures of those points.
        """
        batch = self.batches
        self.batches += 1
        check = check or _as_float
        failed = np.zeros(n, dtype=bool)
        size = self._size(n)
        values: list[np.ndarray] = []
        for job in jobs:
            parts = self._job(batch, job, inputs, n, size, check, failed)
            values.append(np.concatenate([parts[rows] for rows in sorted(parts)]) if parts else np.empty((0,)))
        if failed.any():
            self.dropped += int(failed.sum())
        return values, failed

    def _job(self, batch, job, inputs, n, size, check, failed) -> dict:
        """The chunks of one job: stored ones, then the rest submitted, gathered in row order."""
        parts: dict = {}
        missing = [(0, n)]
        if self.store is not None:
            stored = self.store.load(batch, job.name)
            for rows, (key, value, bad) in sorted(stored.items()):
                if key != digest(inputs, rows):
                    raise ValueError(
                        f"the stored evaluations of {job.name!r} (batch {batch}, rows {rows[0]}..{rows[1] - 1}) "
                        "were made at other points: the checkpoint belongs to another run (another seed, "
                        "model, outputs or settings); resume it with the same call, or choose another path"
                    )
                parts[rows] = check(job.name, value, rows)  # a stored chunk fixes a callable's shape too
                failed[rows[0] : rows[1]] |= bad
                self.reused += rows[1] - rows[0]
            missing = _gaps(sorted(parts), n)
        plan = [rows for gap in missing for rows in chunk_plan(*gap, size)]
        tasks = {rows: self._submit(job, inputs, rows) for rows in plan}
        error: Exception | None = None
        for rows in plan:
            if error is not None and self.executor is None:
                break
            try:
                value, bad = self._gather(job, inputs, rows, tasks, check)
            except EvaluationError as err:
                if error is None:
                    error = err
                    for later in plan[plan.index(rows) + 1 :]:
                        tasks[later].cancel()
                continue
            except Exception:  # noqa: BLE001 - a cancelled or lost task after the first failure
                if error is None:
                    raise
                continue
            parts[rows] = value
            failed[rows[0] : rows[1]] |= bad
            if self.store is not None:
                self.store.save(batch, job.name, rows, digest(inputs, rows), value, bad)
        if error is not None:
            raise error
        return parts

    def _gather(self, job, inputs, rows, tasks, check) -> tuple[np.ndarray, np.ndarray]:
        """One chunk's values and failed rows, under the failure policy."""
        attempts = 0
        while True:
            try:
                value = check(job.name, tasks[rows].result(), rows)
            except EvaluationError:
                raise
            except Exception as err:  # noqa: BLE001 - the simulator's own failure, handled by policy
                cause: Exception = err
                value = None
            else:
                bad = ~np.isfinite(value.reshape(value.shape[0], -1)).all(axis=1)
                if not bad.any():
                    return value, bad
                cause = FloatingPointError(f"NaN or inf at {int(bad.sum())} of {bad.size} point(s)")
            if self.on_error == "retry" and attempts < RETRIES:
                attempts += 1
                self.retried += rows[1] - rows[0]
                tasks[rows] = self._submit(job, inputs, rows)
                continue
            if self.on_error == "drop":
                return self._pointwise(job, inputs, rows, check, value)
            raise _failure(job.name, rows, cause, attempts) from (
                None if isinstance(cause, FloatingPointError) else cause
            )

    def _pointwise(self, job, inputs, rows, check, value) -> tuple[np.ndarray, np.ndarray]:
        """A failed chunk point by point: the values that can be had, the rest marked failed."""
        if value is not None:  # the chunk ran: only its non-finite rows failed
            bad = ~np.isfinite(value.reshape(value.shape[0], -1)).all(axis=1)
            return np.where(_rows_like(bad, value), 0.0, value), bad
        singles = [(i, i + 1) for i in range(*rows)]
        tasks = {one: self._submit(job, inputs, one) for one in singles}
        values, bad = [], []
        for one in singles:
            try:
                v = check(job.name, tasks[one].result(), one)
                ok = bool(np.isfinite(v).all())
            except EvaluationError:
                raise
            except Exception:  # noqa: BLE001 - this point fails: dropped
                v, ok = None, False
            values.append(v)
            bad.append(not ok)
        shape = next((v.shape[1:] for v in values if v is not None), ())
        filled = [v if ok else np.zeros((1, *shape)) for v, ok in zip(values, (not b for b in bad))]
        return np.concatenate(filled), np.array(bad)


def _run_pickled(payload: bytes, chunk: dict):
    return cloudpickle.loads(payload)(chunk)


def _rows_like(bad: np.ndarray, value: np.ndarray) -> np.ndarray:
    return bad.reshape((-1,) + (1,) * (value.ndim - 1))


def _gaps(done: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """Row ranges of ``[0, n)`` not covered by the sorted, disjoint ``done`` ranges."""
    gaps, at = [], 0
    for a, b in done:
        if a > at:
            gaps.append((at, a))
        at = max(at, b)
    if at < n:
        gaps.append((at, n))
    return gaps


def _as_float(name: str, value, rows: tuple[int, int]) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0 or value.shape[0] != rows[1] - rows[0]:
        raise EvaluationError(f"{name!r} returned shape {value.shape} for a chunk of {rows[1] - rows[0]} points")
    return value


def _failure(name: str, rows: tuple[int, int], cause: Exception, attempts: int) -> EvaluationError:
    tried = f" (after {attempts + 1} attempts)" if attempts else ""
    if isinstance(cause, FloatingPointError):
        what = f"returned {cause}"
    else:
        what = f"raised {type(cause).__name__}: {cause}"
    where = f" in rows {rows[0]}..{rows[1] - 1} of its batch" if rows[1] - rows[0] > 0 else ""
    return EvaluationError(f"callable of expectation {name!r} {what}{where}{tried}")
