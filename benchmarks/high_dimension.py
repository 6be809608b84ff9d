"""Forward propagation over many inputs: smooth expectations and frequent events against plain sampling.

S = sum(x) / sqrt(d) with x ~ N(0, I_d). One pa.estimate run of 2·10^4 model runs gives
E[S^2] = 1, E[exp(0.5 S)] = e^(1/8), E[exp(2 S)] = e^2 and E[x_1^2 + x_2] = 1; a second
run gives P(S > 0), P(S > 1) and P(S > 2) (events every first block reaches, so no
climbing). Baselines at the same number of runs: plain Monte Carlo (theory) and
randomized QMC (scrambled Sobol', 2^14 points, its variance scaled to 2·10^4 runs),
the tools a user would pick for a mean over many inputs.

Printed per dimension and quantity over ``--seeds`` seeds: the MSE over plain Monte
Carlo's variance (below 1: better than plain sampling), the same for randomized QMC, and
the rms of error / reported mcse.

    python benchmarks/high_dimension.py [--dims 2 10 30 100 300] [--seeds 20]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm
from scipy import stats
from scipy.stats import qmc

import pymc_ais as pa

RUNS = 20_000
THRESHOLDS = (0.0, 1.0, 2.0)


def smooth_truths() -> tuple[np.ndarray, np.ndarray]:
    """Exact values and per-draw variances of the four smooth outputs."""
    truth = np.array([1.0, np.exp(1 / 8), np.exp(2.0), 1.0])
    variance = np.array([2.0, np.exp(0.5) - np.exp(0.25), np.exp(8.0) - np.exp(4.0), 3.0])
    return truth, variance


def event_truths() -> tuple[np.ndarray, np.ndarray]:
    p = stats.norm.sf(THRESHOLDS)
    return p, p * (1 - p)


def outputs(x: np.ndarray) -> np.ndarray:
    """The smooth outputs and the event indicators at points ``x`` (n, d), for the baselines."""
    s = x.sum(axis=1) / np.sqrt(x.shape[1])
    smooth = [s**2, np.exp(s / 2), np.exp(2 * s), x[:, 0] ** 2 + x[:, 1]]
    return np.column_stack(smooth + [(s > t).astype(float) for t in THRESHOLDS])


def ours(dim: int, seeds: int):
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    s = x.sum() / np.sqrt(dim)
    smooth = {"S^2": s**2, "exp(0.5S)": pm.math.exp(s / 2), "exp(2S)": pm.math.exp(2 * s), "x1^2+x2": x[0] ** 2 + x[1]}
    events = {f"P(S>{t:g})": s > t for t in THRESHOLDS}
    means, mcses, seconds = [], [], 0.0
    for seed in range(seeds):
        row_mean, row_mcse = [], []
        for exprs in (smooth, events):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pa.ReliabilityWarning)
                est = pa.estimate(exprs, model=model, draws=RUNS, random_seed=seed, progressbar=False)["estimates"]
            seconds += time.perf_counter() - start
            row_mean.extend(est["mean"].values.ravel())
            row_mcse.extend(est["mcse"].values.ravel())
        means.append(row_mean)
        mcses.append(row_mcse)
    return list(smooth) + list(events), np.array(means), np.array(mcses), seconds / seeds


def rqmc(dim: int, seeds: int) -> np.ndarray:
    """Scrambled-Sobol' estimates (seeds, quantities) from 2^14 points."""
    out = []
    for seed in range(seeds):
        u = qmc.Sobol(dim, scramble=True, seed=seed).random_base2(14)
        out.append(outputs(stats.norm.ppf(u)).mean(axis=0))
    return np.array(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 10, 30, 100, 300])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    truth = np.concatenate([smooth_truths()[0], event_truths()[0]])
    per_draw = np.concatenate([smooth_truths()[1], event_truths()[1]])
    plain = per_draw / RUNS
    print(f"{RUNS} runs per pa.estimate call, {args.seeds} seeds; MSE / plain Monte Carlo's variance")
    for dim in args.dims:
        names, means, mcses, seconds = ours(dim, args.seeds)
        errors = means - truth
        ratio = np.mean(errors**2, axis=0) / plain
        z = np.sqrt(np.mean((errors / mcses) ** 2, axis=0))
        worst = np.max(mcses / np.sqrt(plain), axis=0)
        quasi = np.mean((rqmc(dim, args.seeds) - truth) ** 2, axis=0) * 2**14 / RUNS / plain
        print(f"\nd = {dim} ({seconds:.1f} s per seed for both runs)")
        print(f"{'':22s} " + " ".join(f"{n:>10s}" for n in names))
        print(f"{'pa.estimate MSE/MC':22s} " + " ".join(f"{r:10.3f}" for r in ratio))
        print(f"{'worst mcse/MC sd':22s} " + " ".join(f"{r:10.2f}" for r in worst))
        print(f"{'rms z':22s} " + " ".join(f"{r:10.2f}" for r in z))
        print(f"{'RQMC MSE/MC':22s} " + " ".join(f"{r:10.3f}" for r in quasi))


if __name__ == "__main__":
    main()
