"""Black-box simulators on executors: bitwise the serial result, failure policies, lost workers."""

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pymc as pm
import pytest

import pymc_ais as pa
from pymc_ais.core.problem import EvaluationError

RUN = dict(draws=3000, random_seed=11, progressbar=False)


@pytest.fixture(scope="module")
def model():
    with pm.Model() as m:
        pm.Normal("x", 0.0, 1.0, shape=2)
        pm.LogNormal("s", 0.0, 0.5)
    return m


def simulator(v):
    """A vectorised simulator: its value at a point does not depend on the rest of the batch."""
    return np.sin(v["x"][:, 0]) * v["s"] + v["x"][:, 1] ** 2


def _same(a, b):
    for name in ("mean", "mcse", "covariance"):
        assert a["estimates"][name].values.tobytes() == b["estimates"][name].values.tobytes(), name
    assert a["samples"]["x"].values.tobytes() == b["samples"]["x"].values.tobytes()


@pytest.fixture(scope="module")
def serial(model):
    return pa.estimate({"y": simulator, "p": lambda v: simulator(v) > 2.5}, model=model, **RUN)


def test_thread_and_process_pools_give_the_serial_result_bitwise(model, serial):
    with ThreadPoolExecutor(2) as pool:
        threads = pa.estimate({"y": simulator, "p": lambda v: simulator(v) > 2.5}, model=model, executor=pool, **RUN)
    _same(serial, threads)

    def exceeds(v):
        return simulator(v) > 2.5

    with ProcessPoolExecutor(2) as pool:
        procs = pa.estimate({"y": simulator, "p": exceeds}, model=model, executor=pool, chunk_size=97, **RUN)
    _same(serial, procs)


def test_an_event_on_several_callables_runs_each_on_a_pool_and_from_a_checkpoint(model, tmp_path):
    """Each callable of an event is a job of its own, also where jobs are keyed by name.

    The three callables of "two of three" used to share their event's name: a process
    pool ran the first one's pickled function for all three, and a checkpoint read the
    first one's chunks back for the others (an estimate of P(x_i > 1) instead of
    P(at least two)).
    """
    parts = [pa.event(lambda v, i=i: v["x"][:, i] if i < 2 else np.log(v["s"]), ">", 1.0) for i in range(3)]
    a, b, c = parts
    events = {"two of three": (a & b) | (a & c) | (b & c), "both": a & b}
    serial = pa.estimate(events, model=model, **RUN)
    with ProcessPoolExecutor(2) as pool:
        _same(serial, pa.estimate(events, model=model, executor=pool, chunk_size=500, **RUN))
    _same(serial, pa.estimate(events, model=model, checkpoint=tmp_path / "c", **RUN))
    _same(serial, pa.resume(tmp_path / "c", progressbar=False))
    p = 1 - np.array([0.8413447460685429, 0.8413447460685429, 0.9772498680518208])  # P(x > 1), P(log s > 1)
    truth = [p[0] * p[1] + p[0] * p[2] + p[1] * p[2] - 2 * p.prod(), p[0] * p[1]]
    est = serial["estimates"]
    assert np.all(np.abs(est["mean"].values - truth) < 4 * est["mcse"].values)


def test_dask_local_cluster_gives_the_serial_result_and_survives_a_dying_worker(model, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    marker = str(tmp_path / "died")

    def dies_once(v):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies mid-chunk
        return simulator(v)

    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        dask = pa.estimate({"y": simulator, "p": lambda v: simulator(v) > 2.5}, model=model, executor=client, **RUN)
        _same(serial, dask)
        survived = pa.estimate({"y": dies_once, "p": lambda v: simulator(v) > 2.5}, model=model, executor=client, **RUN)
    assert os.path.exists(marker)
    _same(serial, survived)


def test_on_error_drop_estimates_the_succeeded_part_and_warns(model):
    def fails_above(v):
        y = simulator(v)
        if (y > 3.0).any():
            raise RuntimeError("simulator diverged")
        return y

    with pytest.warns(pa.ReliabilityWarning, match=r"failed and were dropped.*probability of a failed run is"):
        idata = pa.estimate({"y": fails_above}, model=model, on_error="drop", chunk_size=50, **RUN)
    failures = __import__("json").loads(idata.attrs["failures"])
    assert failures["points_dropped"] > 0
    # the truth E[y 1(y <= 3)] and P(y > 3), by plain Monte Carlo on 4e6 draws
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4_000_000, 2))
    y = simulator({"x": x, "s": np.exp(0.5 * rng.normal(size=4_000_000))})
    est = idata["estimates"]["mean"].sel(expectation="y").item()
    mcse = idata["estimates"]["mcse"].sel(expectation="y").item()
    assert abs(est - np.mean(y * (y <= 3.0))) < 4 * mcse
    p_fail = np.mean(y > 3.0)
    assert abs(failures["failure_probability"]["f"] - p_fail) < 0.5 * p_fail


def test_on_error_raise_and_retry_name_the_expectation(model):
    def broken(v):
        raise RuntimeError("licence server down")

    with pytest.raises(EvaluationError, match=r"'y' raised RuntimeError: licence server down") as err:
        pa.estimate({"y": broken}, model=model, **RUN)
    assert err.value.completed == {}
    calls = []

    def flaky(v):
        calls.append(1)
        if len(calls) == 1:
            raise TimeoutError("node lost")
        return simulator(v)

    idata = pa.estimate({"y": flaky}, model=model, on_error="retry", **RUN)
    assert __import__("json").loads(idata.attrs["failures"])["runs_retried"] > 0
    plain = pa.estimate({"y": simulator}, model=model, **RUN)
    assert idata["estimates"]["mean"].values.tobytes() == plain["estimates"]["mean"].values.tobytes()


def test_bad_executor_arguments_fail_before_any_run(model):
    with pytest.raises(ValueError, match="on_error must be one of"):
        pa.estimate({"y": simulator}, model=model, on_error="skip", **RUN)
    with pytest.raises(TypeError, match="executor must be"):
        pa.estimate({"y": simulator}, model=model, executor="dask", **RUN)
