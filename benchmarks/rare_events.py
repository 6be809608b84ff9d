"""Rare events: several exceedance probabilities from one run, against plain MC, NAIS and CE.

P(S > t_k) for S = sum(x) / sqrt(d), x ~ N(0, I_d), thresholds 2, 3, 4, 4.5 and 5 sigma
(exact truths: the normal tail). pa.estimate gets ``--runs`` model runs in total for all
thresholds at once (one ``s > t`` expression per threshold, so the multilevel start
applies). OpenTURNS's NAIS and standard-space cross-entropy importance sampling
(quantile level 0.1) run once per threshold with the budget split evenly: their number
of steps is adaptive, so their per-step sample size is set to reach about that share,
and the runs they actually made are counted and reported. Plain Monte Carlo is given
in theory, sqrt((1 - p) / (N p)). A baseline run that raises counts as an estimate of 0.

Printed per method and threshold over ``--seeds`` seeds: relative RMSE, coverage of the
95 % intervals (where the method gives one), mean model runs; then the summed relative
variance, each method's scaled to the same total budget (relative variance x runs used
/ runs allowed), and its ratio to ours.

    python benchmarks/rare_events.py [--seeds 50] [--runs 20000] [--dim 10]
Needs the benchmark extra: pip install -e ".[bench]" (OpenTURNS).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm
from scipy.stats import norm

import pymc_ais as pa

THRESHOLDS = np.array([2.0, 3.0, 4.0, 4.5, 5.0])


def ours(dim: int, runs: int, seeds: int):
    """pa.estimate on all thresholds at once: means, 95 % coverage flags, runs used."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    s = x.sum() / np.sqrt(dim)
    truth = norm.sf(THRESHOLDS)
    means, covered, used = [], [], []
    for seed in range(seeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pa.ReliabilityWarning)
            idata = pa.estimate(
                {f"p{t:g}": s > t for t in THRESHOLDS}, model=model, draws=runs, random_seed=seed, progressbar=False
            )
        est = idata["estimates"]
        means.append(est["mean"].values)
        covered.append((est["ci_lower"].values <= truth) & (truth <= est["ci_upper"].values))
        used.append(idata.attrs["evaluations"])
    return np.array(means), np.array(covered), np.full(THRESHOLDS.size, np.mean(used) / THRESHOLDS.size)


def openturns_method(kind: str, dim: int, runs: int, seeds: int):
    """NAIS or standard-space CE, once per threshold with an even share of the budget."""
    import openturns as ot

    share = runs // THRESHOLDS.size
    counter = {"calls": 0}

    def limit_state(sample):
        values = np.asarray(sample)
        counter["calls"] += values.shape[0]
        return (values.sum(axis=1) / np.sqrt(dim))[:, None]

    function = ot.PythonFunction(dim, 1, func_sample=limit_state)
    vector = ot.RandomVector(ot.Normal(dim))
    output = ot.CompositeRandomVector(function, vector)
    truth = norm.sf(THRESHOLDS)
    means = np.empty((seeds, THRESHOLDS.size))
    covered = np.zeros((seeds, THRESHOLDS.size), dtype=bool)
    used = np.zeros(THRESHOLDS.size)
    for k, t in enumerate(THRESHOLDS):
        event = ot.ThresholdEvent(output, ot.Greater(), float(t))
        # expected steps at quantile level 0.1: about log10(1/p) + 1
        steps = max(1, int(np.ceil(np.log10(1.0 / truth[k])))) + 1
        per_step = max(100, share // steps)
        for seed in range(seeds):
            ot.RandomGenerator.SetSeed(seed)
            counter["calls"] = 0
            if kind == "NAIS":
                algo = ot.NAIS(event, 0.1)
            else:
                algo = ot.StandardSpaceCrossEntropyImportanceSampling(event, 0.1)
            algo.setMaximumOuterSampling(per_step)
            try:
                algo.run()
            except RuntimeError:  # e.g. CE in high dimension: "sumPdfCritic is equal to zero"
                means[seed, k] = 0.0  # a failed run counts as an estimate of 0
                used[k] += counter["calls"] / seeds
                continue
            result = algo.getResult()
            p = result.getProbabilityEstimate()
            means[seed, k] = p
            sd = result.getStandardDeviation()
            covered[seed, k] = abs(p - truth[k]) <= 1.96 * sd
            used[k] += counter["calls"] / seeds
    return means, covered, used


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=10)
    args = parser.parse_args()
    truth = norm.sf(THRESHOLDS)
    share = args.runs / THRESHOLDS.size
    print(
        f"P(S > t), S = sum of {args.dim} standard normals / sqrt({args.dim}); {args.runs} runs in total, "
        f"{args.seeds} seeds; thresholds {THRESHOLDS.tolist()} sigma, p = {np.array2string(truth, precision=2)}"
    )
    print(
        f"{'plain Monte Carlo (theory)':32s} rel. RMSE "
        + " ".join(f"{np.sqrt((1 - p) / (args.runs * p)):8.3f}" for p in truth)
    )
    summed = {}
    for name, fn in (
        ("pa.estimate (one run, all t)", lambda: ours(args.dim, args.runs, args.seeds)),
        ("OpenTURNS NAIS (per t)", lambda: openturns_method("NAIS", args.dim, args.runs, args.seeds)),
        ("OpenTURNS CE, standard space", lambda: openturns_method("CE", args.dim, args.runs, args.seeds)),
    ):
        start = time.perf_counter()
        try:
            means, covered, used = fn()
        except ImportError:
            print(f"{name:32s} skipped: pip install -e '.[bench]' for OpenTURNS")
            continue
        rel = np.sqrt(np.mean((means / truth - 1) ** 2, axis=0))
        cover = covered.mean(axis=0)
        summed[name] = float(np.sum(rel**2 * used / share))
        print(f"{name:32s} rel. RMSE " + " ".join(f"{r:8.3f}" for r in rel))
        print(f"{'':32s} coverage  " + " ".join(f"{c:8.2f}" for c in cover))
        print(
            f"{'':32s} runs      " + " ".join(f"{u:8.0f}" for u in used) + f"   ({time.perf_counter() - start:.1f} s)"
        )
    base = summed.get("pa.estimate (one run, all t)")
    print("summed relative variance at the same total budget (runs used / runs allowed):")
    for name, value in summed.items():
        ratio = f"   {value / base:8.1f}x ours" if base else ""
        print(f"  {name:32s} {value:.3e}{ratio}")


if __name__ == "__main__":
    main()
