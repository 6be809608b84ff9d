"""Tail probabilities of a posterior that is not Gaussian: rates of counts under gamma priors.

D Poisson rates, five counts each, with gamma priors: every rate's posterior is a gamma
law (sampled as the logarithm of the rate, where it is skewed), the rates are
independent a posteriori, and every quantity is exact. The quantities are
P(lambda_0 > t_0) and P(lambda_1 > t_1), each 2e-3 under the gamma(2, 1) prior, and
their union; they are asked under that prior alone ("one prior"), then under it and a
vaguer gamma(0.5, 0.1) prior at once ("two priors"). Unlike the Gaussian regression of
``posterior_tails.py``, the posterior is skewed where it is sampled.

Printed per variant, over the seeds: the relative RMSE and the rms of error / mcse per
prior and quantity, the runs that warned, the runs off by more than 3 mcse on some
quantity (and how many of them warned), and the seconds per run.

    python benchmarks/posterior_tails_counts.py [--dim 30] [--seeds 10] [--first-seed 0] [--draws 20000]
"""

from __future__ import annotations

import argparse

import numpy as np
import pymc as pm
from posterior_tails import figures, run_ours
from scipy import stats

PRIORS = {"gamma(2, 1)": (2.0, 1.0), "gamma(0.5, 0.1)": (0.5, 0.1)}
OBSERVATIONS = 5


def counts(dim: int, seed: int = 1) -> np.ndarray:
    """Five counts per rate, the rates drawn once from a gamma(2, 1) law."""
    rng = np.random.default_rng(seed)
    return rng.poisson(rng.gamma(2.0, 1.0, size=dim), size=(OBSERVATIONS, dim))


def posterior(y: np.ndarray, shape: float, rate: float):
    """The rates' exact posterior (independent gamma laws)."""
    return stats.gamma(shape + y.sum(axis=0), scale=1.0 / (rate + y.shape[0]))


def model(y: np.ndarray, shape: float, rate: float) -> pm.Model:
    with pm.Model() as m:
        lam = pm.Gamma("lam", shape, rate, shape=y.shape[1])
        pm.Poisson("y", lam, observed=y)
    return m


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=20_000)
    args = parser.parse_args()
    if args.dim < 2:
        parser.error("--dim must be at least 2: the events are on the first two rates")

    y = counts(args.dim)
    t = posterior(y, *PRIORS["gamma(2, 1)"]).isf(2e-3)[:2]
    models = {name: model(y, *p) for name, p in PRIORS.items()}
    lam = models["gamma(2, 1)"]["lam"]
    a, b = lam[0] > t[0], lam[1] > t[1]
    expectations = {"a": a, "b": b, "either": a | b}
    exact = []
    for p in PRIORS.values():
        pa_, pb = posterior(y, *p).sf(np.r_[t, np.full(args.dim - 2, np.inf)])[:2]
        exact.append([pa_, pb, 1.0 - (1.0 - pa_) * (1.0 - pb)])
    exact = np.array(exact)
    print(
        f"posterior tails of counts: {args.dim} Poisson rates, {OBSERVATIONS} counts each, {args.draws} draws, "
        f"{args.seeds} seeds from {args.first_seed}; each event 2e-3 under gamma(2, 1)"
    )
    for label, laws in (("one prior", {"gamma(2, 1)": models["gamma(2, 1)"]}), ("two priors", models)):
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        runs = [run_ours(expectations, laws, args.draws, seed) for seed in seeds]
        truth = exact[: len(laws)]
        rmse, z = figures(runs, truth, np.zeros(len(expectations), dtype=bool))
        mean, mcse = np.array([r[0] for r in runs]), np.array([r[1] for r in runs])
        flags = np.array([r[2] for r in runs])
        warned = int(flags.sum())
        per_run = np.mean([r[3] for r in runs[1:]] if len(runs) > 1 else [runs[0][3]])
        off = np.any(np.abs(mean - truth) > 3 * mcse, axis=(1, 2))
        print(
            f"\n{label}: {warned} of {args.seeds} runs warned, {per_run:.1f} s per run; "
            f"{off.sum()} runs off by more than 3 mcse somewhere, {np.sum(off & flags)} of them warned"
        )
        for i, name in enumerate(laws):
            cells = "  ".join(
                f"{q} rel RMSE {rmse[i, j]:.2g} (rms z {z[i, j]:.2f})" for j, q in enumerate(expectations)
            )
            print(f"  {name:16s} {cells}")


if __name__ == "__main__":
    main()
