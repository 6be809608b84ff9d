"""
A black-box simulator on an executor, with a checkpoint
=======================================================

A simulator is any Python callable of the inputs' natural values: it gets a dict
``{free variable: array with a leading batch axis}`` and returns one value (or one row)
per point. Here a stand-in for a finite-element code returns the beam's peak stress and
whether it exceeds an allowable value. With ``executor=`` the points are evaluated in
chunks on any :class:`concurrent.futures.Executor` (thread or process pools, Dask's
``Client``, ``mpi4py.futures``); with ``checkpoint=`` every finished chunk is written to
disk as it completes, so a run that is killed (a lost licence server, a node going down)
is continued by :func:`pymc_ais.resume` without running a finished evaluation again,
and the result is bitwise that of the uninterrupted run.

Run: ``python examples/simulator_checkpoint.py [--quick]``
"""

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pymc as pm

import pymc_ais as pa

QUICK = "--quick" in sys.argv
DRAWS = 5_000 if QUICK else 20_000
WORK = Path(tempfile.mkdtemp(prefix="pymc_ais_example_"))
LICENCE_LOST = WORK / "licence_lost"  # a file the 'solver' looks at: outside the call

with pm.Model() as beam:
    pm.LogNormal("load", np.log(25.0), 0.1)  # kN
    pm.Normal("width", 0.06, 0.003)  # m
    pm.Normal("height", 0.10, 0.005)  # m


def stress(v):
    """Peak bending stress (MPa) of a 1 m cantilever, and the event 'above 350 MPa'."""
    if LICENCE_LOST.exists():
        raise RuntimeError("solver licence lost")
    time.sleep(0.01)  # a real solver takes seconds to hours per point
    section = v["width"] * v["height"] ** 2 / 6
    peak = v["load"] * 1e3 * 1.0 / section / 1e6
    return np.stack([peak, peak > 350.0], axis=1)


# %%
# A run on a pool of workers
# --------------------------
# The log-densities stay in this process; only the simulator travels to the workers.
# ``stress[0]`` is the mean peak stress, ``stress[1]`` the probability of exceeding the
# allowable value.

with ThreadPoolExecutor(max_workers=2) as pool:
    start = time.perf_counter()
    reference = pa.estimate(
        {"stress": stress},
        model=beam,
        draws=DRAWS,
        random_seed=1,
        executor=pool,
        checkpoint=WORK / "reference",
        progressbar=False,
    )
    print(f"uninterrupted run: {time.perf_counter() - start:.1f} s")
print(pa.summary(reference)[["mean", "mcse", "ci_2.5%", "ci_97.5%"]])

# %%
# A run that is interrupted, then resumed
# ---------------------------------------
# We start the same call with another checkpoint directory and make the simulator fail
# part-way: the run stops with an :class:`pymc_ais.EvaluationError`, and every chunk
# finished before that is on disk. Once the solver is back, :func:`pymc_ais.resume`
# replays the run from its seed, reads the stored chunks and runs only the rest.


def lose_licence_later(pool):
    time.sleep(0.3)
    LICENCE_LOST.touch()


with ThreadPoolExecutor(max_workers=3) as pool:
    pool.submit(lose_licence_later, pool)
    try:
        pa.estimate(
            {"stress": stress},
            model=beam,
            draws=DRAWS,
            random_seed=1,
            executor=pool,
            checkpoint=WORK / "interrupted",
            progressbar=False,
        )
    except pa.EvaluationError as error:
        print("the run stopped:", str(error).splitlines()[0][:120])

LICENCE_LOST.unlink()  # the solver is back
with ThreadPoolExecutor(max_workers=2) as pool:
    resumed = pa.resume(WORK / "interrupted", executor=pool, progressbar=False)
print("read back from the checkpoint:", resumed.attrs["checkpoint"])
same = bool((resumed["estimates"]["mean"] == reference["estimates"]["mean"]).all())
print(f"resumed estimates bitwise equal to the uninterrupted run: {same}")

# %%
# A checkpoint is bound to its call
# ---------------------------------
# Reopening a checkpoint with anything that changes the evaluations (the simulator's
# code, an expectation, the model or its data, a setting) raises
# :class:`pymc_ais.CheckpointMismatch` naming the difference, so a stored value is never
# served to the wrong question. ``pa.Checkpoint(path, on_mismatch="restart")`` starts
# afresh instead.


def stress_v2(v):
    """A corrected solver: another code, so the stored evaluations do not apply."""
    section = v["width"] * v["height"] ** 2 / 6
    peak = 1.05 * v["load"] * 1e3 * 1.0 / section / 1e6
    return np.stack([peak, peak > 350.0], axis=1)


try:
    pa.estimate(
        {"stress": stress_v2}, model=beam, draws=DRAWS, random_seed=1, checkpoint=WORK / "reference", progressbar=False
    )
except pa.CheckpointMismatch as error:
    print("CheckpointMismatch:", error)
