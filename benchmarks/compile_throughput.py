"""Log-density plus outputs at 1e5 points: our compiled vectorised function against looping.

Looping PyMC's compiled point functions (``model.compile_logp`` and ``compile_fn``).

    python benchmarks/compile_throughput.py [--points 100000]
"""

import argparse
import time

import numpy as np
import pymc as pm

from pymc_ais.model import build


def measure(n: int) -> tuple[float, float]:
    """Seconds for the log-density and output at n points: compiled vectorised, then looped."""
    with pm.Model() as model:
        a = pm.Beta("a", 2.0, 3.0)
        b = pm.LogNormal("b", 0.0, 0.5)
        v = pm.MvNormal("v", mu=np.zeros(3), cov=np.eye(3) + 0.3)
        pm.Deterministic("out", a * b + v.sum())
    mp = build({"out": "out"}, model)
    z = mp.problem.sample_initial(np.random.default_rng(1), n)
    mp.problem.evaluate(z[:10])
    start = time.perf_counter()
    log_f, phi = mp.problem.evaluate(z)
    ours = time.perf_counter() - start

    logp = model.compile_logp()
    out = model.compile_fn(model.replace_rvs_by_values([model["out"]])[0], inputs=model.value_vars)
    blocks = mp.laws.blocks
    points = [{b.value_name: z[i, b.start : b.stop].reshape(b.shape) for b in blocks} for i in range(n)]
    start = time.perf_counter()
    looped = np.array([logp(p) for p in points])
    looped_out = np.array([out(p) for p in points])
    loop = time.perf_counter() - start
    assert np.allclose(looped, log_f[:, 0]) and np.allclose(looped_out, phi[:, 0])
    return ours, loop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    n = args.points
    ours, loop = measure(n)
    print(f"{n} points, log-density + output")
    print(f"  pymc_ais compiled vectorised function : {ours:.4f} s")
    print(f"  loop over model.compile_logp/compile_fn: {loop:.4f} s")
    print(f"  speed-up ratio                         : {loop / ours:.0f}x")


if __name__ == "__main__":
    main()
