"""A slow simulator on 1, 2 and 4 local workers: speed-up over the serial run, and overhead per chunk.

The simulator sleeps ``--sleep`` seconds per point (10 ms by default, so 2·10^4 points
take 200 s serially), as a stand-in for an external code waiting on a solver. One
process runs pa.estimate serially and then on process pools (and a Dask LocalCluster
when ``distributed`` is installed) with the same seed, checks that every result is
bitwise the serial one, and prints the wall time, the speed-up and the speed-up per
worker. A second part runs a simulator that costs nothing on many small chunks: the
difference to the serial run, per chunk, is the executor's overhead.

    python benchmarks/executor.py            # 2e4 points, 10 ms each: about 7 minutes
    python benchmarks/executor.py --points 4000 --sleep 0.005
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pymc as pm

import pymc_ais as pa
from pymc_ais.core.execution.dispatch import Dispatcher, Job


def make_simulator(sleep: float):
    """A vectorised simulator that takes ``sleep`` seconds per point."""

    def simulator(v):
        time.sleep(sleep * len(v["s"]))
        return np.sin(v["x"][:, 0]) * v["s"] + v["x"][:, 1] ** 2

    return simulator


def model() -> pm.Model:
    with pm.Model() as m:
        pm.Normal("x", 0.0, 1.0, shape=2)
        pm.LogNormal("s", 0.0, 0.5)
    return m


def timed(simulator, m, points, **kwargs):
    start = time.perf_counter()
    idata = pa.estimate({"y": simulator}, model=m, draws=points, random_seed=7, progressbar=False, **kwargs)
    return idata, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--sleep", type=float, default=0.01, help="seconds per point")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--overhead-only", action="store_true", help="only the per-chunk overhead")
    args = parser.parse_args()
    m = model()
    timed(make_simulator(0.0), m, 2000)  # compile once, outside the timings
    if not args.overhead_only:
        speed_ups(m, args)
    overhead(args.points)


def executors(workers: list[int]) -> list:
    """(label, factory, workers): process pools, and Dask LocalClusters when distributed is installed."""
    runs = [(f"process pool, {w} workers", lambda w=w: ProcessPoolExecutor(w), w) for w in workers]
    try:
        import distributed

        def dask_client(w):
            cluster = distributed.LocalCluster(
                n_workers=w, threads_per_worker=1, dashboard_address=None, silence_logs=logging.CRITICAL
            )
            return distributed.Client(cluster)

        runs += [(f"dask LocalCluster, {w}", lambda w=w: dask_client(w), w) for w in workers if w > 1]
    except ImportError:
        print("(distributed not installed: no Dask run)")
    return runs


def on_executor(simulator, m, points: int, make, serial) -> tuple[float, bool]:
    """Wall time on the executor ``make()`` builds, and whether the estimates are bitwise the serial run's."""
    with make() as executor:
        idata, t = timed(simulator, m, points, executor=executor)
    return t, idata["estimates"]["mean"].values.tobytes() == serial["estimates"]["mean"].values.tobytes()


def speed_ups(m, args) -> None:
    """Wall time of the slow simulator, serial and on each executor."""
    slow = make_simulator(args.sleep)
    serial, t_serial = timed(slow, m, args.points)
    print(f"{args.points} points at {args.sleep * 1e3:g} ms each, {os.cpu_count()} cores on this machine")
    print(f"{'executor':<24}{'wall s':>9}{'speed-up':>10}{'per worker':>12}  bitwise = serial")
    print(f"{'serial':<24}{t_serial:>9.1f}{1.0:>10.2f}{1.0:>12.2f}")
    for label, make, workers in executors(args.workers):
        t, same = on_executor(slow, m, args.points, make, serial)
        speed = t_serial / t
        print(f"{label:<24}{t:>9.1f}{speed:>10.2f}{speed / workers:>12.2f}  {same}")


def overhead(points: int, chunk: int = 50) -> None:
    """Wall time per chunk of dispatching a simulator that costs nothing, against one serial call."""
    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(size=(points, 2)), "s": rng.lognormal(size=points)}
    jobs = [Job("y", make_simulator(0.0))]
    start = time.perf_counter()
    Dispatcher().run(jobs, inputs, points)
    t_serial = time.perf_counter() - start
    chunks = -(-points // chunk)
    for label, make in [
        ("process pool", lambda: ProcessPoolExecutor(1)),
        ("thread pool", lambda: ThreadPoolExecutor(1)),
    ]:
        with make() as pool:
            Dispatcher(pool, chunk_size=chunk).run(jobs, inputs, chunk)  # start the worker
            start = time.perf_counter()
            Dispatcher(pool, chunk_size=chunk).run(jobs, inputs, points)
            t_pool = time.perf_counter() - start
        print(
            f"overhead ({label}, one worker): {chunks} chunks of {chunk} points in {t_pool:.2f} s against "
            f"{t_serial:.3f} s for one serial call: {1e3 * (t_pool - t_serial) / chunks:.2f} ms per chunk"
        )


def _batch_sizes(idata) -> list[int]:
    """Points per evaluated batch: the initial and adaptive blocks, then the final phase."""
    blocks = idata["adaptation"]["block_size"].values.tolist() if "block_size" in idata["adaptation"] else []
    return [int(b) for b in blocks] + [int(idata.attrs["evaluations_final"])]


if __name__ == "__main__":
    main()
