"""Chunked, parallel and fault-tolerant runs of black-box callables (plain numpy)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pymc_ais.core.execution.dispatch import RETRIES, Dispatcher, Job, chunk_plan, worker_count
from pymc_ais.core.problem import EvaluationError


def _inputs(n=23, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(n, 2)), "s": rng.normal(size=n)}


def _model(v):
    return np.sin(v["x"][:, 0]) * v["s"] + v["x"][:, 1] ** 2


def test_chunk_plan_covers_rows_in_order():
    assert chunk_plan(0, 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_plan(3, 5, 10) == [(3, 5)]


@pytest.mark.parametrize("chunk_size", [1, 5, 23, 100])
def test_chunks_on_a_pool_equal_one_serial_call_bitwise(chunk_size):
    inputs = _inputs()
    serial, _ = Dispatcher().run([Job("y", _model)], inputs, 23)
    with ThreadPoolExecutor(3) as pool:
        chunked, failed = Dispatcher(pool, chunk_size).run([Job("y", _model)], inputs, 23)
    assert not failed.any()
    assert serial[0].tobytes() == chunked[0].tobytes()


def test_default_chunks_are_a_few_per_worker():
    calls = []

    def record(v):
        calls.append(len(v["s"]))
        return v["s"]

    with ThreadPoolExecutor(2) as pool:
        assert worker_count(Dispatcher(pool).executor) == 2
        Dispatcher(pool).run([Job("y", record)], _inputs(80), 80)
    assert sorted(calls) == [10] * 8
    calls.clear()
    Dispatcher().run([Job("y", record)], _inputs(80), 80)
    assert calls == [80]


def test_raise_names_the_expectation_and_rows_and_keeps_finished_chunks():
    saved = {}

    class Store:
        def load(self, batch, job):
            return {}

        def save(self, batch, job, rows, key, value, failed):
            saved[rows] = value

    def broken(v):
        if (v["s"] > 1.5).any():
            raise RuntimeError("solver diverged")
        return v["s"]

    inputs = _inputs(40)
    with pytest.raises(EvaluationError, match=r"'y' raised RuntimeError: solver diverged in rows"):
        Dispatcher(chunk_size=10, store=Store()).run([Job("y", broken)], inputs, 40)
    bad_chunk = min(i // 10 for i in np.flatnonzero(inputs["s"] > 1.5))
    assert sorted(saved) == [(10 * k, 10 * k + 10) for k in range(bad_chunk)]


def test_retry_runs_a_failed_chunk_again_then_raises():
    lock, attempts = threading.Lock(), {"n": 0}

    def flaky(v):
        with lock:
            attempts["n"] += 1
            if attempts["n"] <= 2:
                raise ConnectionError("node lost")
        return v["s"]

    d = Dispatcher(chunk_size=100, on_error="retry")
    values, failed = d.run([Job("y", flaky)], _inputs(), 23)
    assert values[0].tobytes() == _inputs()["s"].tobytes() and not failed.any()
    assert d.retried == 2 * 23

    def always(v):
        raise ConnectionError("node lost")

    with pytest.raises(EvaluationError, match=f"after {RETRIES + 1} attempts"):
        Dispatcher(on_error="retry").run([Job("y", always)], _inputs(), 23)


def test_drop_marks_exactly_the_failing_points():
    inputs = _inputs(30)
    bad = inputs["s"] > 0.8

    def raises_at_some(v):
        if (v["s"] > 0.8).any():
            raise ValueError("mesh failure")
        return v["s"] * 2

    def nan_at_some(v):
        return np.where(v["s"] > 0.8, np.nan, v["s"] * 2)

    for fn in (raises_at_some, nan_at_some):
        with ThreadPoolExecutor(2) as pool:
            d = Dispatcher(pool, chunk_size=7, on_error="drop")
            values, failed = d.run([Job("y", fn)], inputs, 30)
        assert np.array_equal(failed, bad)
        assert np.array_equal(values[0][~bad], inputs["s"][~bad] * 2) and np.all(values[0][bad] == 0)
        assert d.dropped == bad.sum()


def test_a_wrong_shape_is_a_bug_never_dropped():
    with pytest.raises(EvaluationError, match="shape"):
        Dispatcher(on_error="drop").run([Job("y", lambda v: v["s"][:3])], _inputs(), 23)


def test_stored_chunks_are_reused_and_another_runs_are_refused():
    store: dict = {}

    class Store:
        def load(self, batch, job):
            return {rows: item for (b, j, rows), item in store.items() if (b, j) == (batch, job)}

        def save(self, batch, job, rows, key, value, failed):
            store[batch, job, rows] = (key, value, failed)

    calls = []

    def counted(v):
        calls.append(len(v["s"]))
        return _model(v)

    inputs = _inputs(20)
    first, _ = Dispatcher(chunk_size=6, store=Store()).run([Job("y", counted)], inputs, 20)
    del store[0, "y", (6, 12)]
    calls.clear()
    replay = Dispatcher(chunk_size=4, store=Store())
    again, _ = replay.run([Job("y", counted)], inputs, 20)
    assert calls == [4, 2] and replay.reused == 14
    assert again[0].tobytes() == first[0].tobytes()
    with pytest.raises(ValueError, match="were made at other points"):  # another run's inputs
        Dispatcher(chunk_size=6, store=Store()).run([Job("y", counted)], _inputs(20, seed=1), 20)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="on_error"):
        Dispatcher(on_error="ignore")
    with pytest.raises(ValueError, match="chunk_size"):
        Dispatcher(chunk_size=0)
    with pytest.raises(TypeError, match="executor"):
        Dispatcher(executor=4)
