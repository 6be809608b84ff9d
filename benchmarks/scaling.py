"""Wall time and peak memory against the budget N and the number of expectations M.

The expectations are M exceedance probabilities P(Y > t_k) of one output
Y = sum(x) / sqrt(d) of d standard normal inputs (so Y ~ N(0, 1), exact values
known), thresholds evenly spread over [-2.5, 2.5]. Each configuration runs in a
subprocess of its own, whose peak resident memory (``VmHWM``: ``ru_maxrss`` would count the
parent's memory at the fork too) is its own; the compile time (the
first call of a build) is reported apart from the run. The run also reports the sum
over k of the relative variances (mcse / p_k)^2 and the mean squared z-score against
the exact values (about 1 when the error bars are right).

The growth exponents are least-squares slopes of log time in log N (at the middle M)
and in log M (at the middle N). A second table compares, at M = 50, the run with
shared components (the default cap of 64, and a cap of 10) with one component per
target (``max_components=None``).

    python benchmarks/scaling.py                       # the default grid, a few minutes
    python benchmarks/scaling.py --n 1e4 1e5 1e6 --m 10 100 1000 --d 10 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np, pymc as pm
from scipy.stats import norm
import pymc_ais as pa



def peak_gb():
    # this process's own peak: ru_maxrss also counts the parent's resident memory at the fork
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1e6
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


n, m, d, cap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
with pm.Model() as model:
    x = pm.Normal("x", 0.0, 1.0, shape=d)
y = x.sum() / np.sqrt(d)
thresholds = np.linspace(-2.5, 2.5, m)
expectations = {f"P(Y > {t:.4f})": y > t for t in thresholds}
start = time.perf_counter()
pa.estimate(expectations, model=model, draws=1000, random_seed=0, progressbar=False)
compile_time = time.perf_counter() - start
start = time.perf_counter()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", pa.ReliabilityWarning)
    idata = pa.estimate(expectations, model=model, draws=n, random_seed=1, progressbar=False, max_components=cap)
run_time = time.perf_counter() - start
est = idata["estimates"]
truth = norm.sf(thresholds)
z = (est["mean"].values - truth) / est["mcse"].values
print(json.dumps({
    "compile": compile_time, "run": run_time,
    "peak_gb": peak_gb(),
    "relvar": float(np.sum((est["mcse"].values / truth) ** 2)), "z2": float(np.mean(z**2)),
    "warnings": len(caught),
}))
"""


def run(n: int, m: int, d: int, cap) -> dict:
    """One configuration in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(m), str(d), json.dumps(cap)], capture_output=True, text=True
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(xs, ys) -> float:
    """Least-squares slope of log y in log x."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, nargs="+", default=[1e4, 1e5])
    parser.add_argument("--m", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--d", type=int, nargs="+", default=[10])
    parser.add_argument("--no-sharing-table", action="store_true")
    args = parser.parse_args()
    ns = [int(n) for n in args.n]
    header = f"{'d':>4}{'N':>9}{'M':>6}{'compile s':>11}{'run s':>8}{'peak GB':>9}"
    print(header + f"{'sum relvar':>12}{'mean z2':>9}{'warn':>6}")
    for d in args.d:
        times: dict = {}
        for n in ns:
            for m in args.m:
                r = run(n, m, d, 64)
                if "error" in r:
                    print(f"{d:>4}{n:>9}{m:>6}  failed: {r['error']}")
                    continue
                times[n, m] = r["run"]
                print(
                    f"{d:>4}{n:>9}{m:>6}{r['compile']:>11.1f}{r['run']:>8.1f}{r['peak_gb']:>9.2f}"
                    f"{r['relvar']:>12.3g}{r['z2']:>9.2f}{r['warnings']:>6}",
                    flush=True,
                )
        mid_m = args.m[len(args.m) // 2]
        mid_n = ns[len(ns) // 2]
        in_n = [(n, times[n, mid_m]) for n in ns if (n, mid_m) in times]
        in_m = [(m, times[mid_n, m]) for m in args.m if (mid_n, m) in times]
        if len(in_n) > 1:
            print(f"d = {d}: time grows as N^{slope(*zip(*in_n)):.2f} (M = {mid_m})")
        if len(in_m) > 1:
            print(f"d = {d}: time grows as M^{slope(*zip(*in_m)):.2f} (N = {mid_n})")
    if args.no_sharing_table:
        return
    print("\nM = 50, N = 2e4, d = 10: shared components against one component per target")
    base = run(20_000, 50, 10, None)
    for cap in (None, 64, 10):
        r = base if cap is None else run(20_000, 50, 10, cap)
        print(
            f"  max_components={cap!s:<5} run {r['run']:.1f} s, sum of relative variances {r['relvar']:.3g} "
            f"({r['relvar'] / base['relvar']:.2f}x one per target), mean z2 {r['z2']:.2f}"
        )


if __name__ == "__main__":
    main()
