"""Tail probabilities of a posterior: several events, their union, a posterior mean, one sample.

A Bayesian linear regression with d coefficients, known noise and Gaussian priors has
a Gaussian posterior, so every quantity has an exact value: P(beta_0 > t_0) and
P(beta_1 > t_1) (each about 2e-3), their union (bivariate normal), and the posterior
mean of beta_0. Each variant asks for them in one form users write:

- "one event": P(beta_0 > t_0) alone;
- "two events and their union": a, b and ``a | b`` beside the mean of beta_0;
- "callables": the same as numpy callables of the draws (plain booleans: no score);
- "events on callables": the same stated with ``pa.event``, which gives them a score;
- "two priors": the same expressions under two priors at once (``models=``).

Printed per variant, over the seeds: the relative RMSE and the rms of error / mcse
(1 is honest) per quantity, the runs that warned, and the seconds per run. With
``--nuts``, in the same run, NUTS at its usual settings (4 chains x 1000 draws, 1000
tuning) estimates the same quantities from its draws on ``--baseline-seeds`` seeds,
beside the "two priors" variant (which ``--only`` must then include): its relative
RMSE, its gradient evaluations after tuning (``n_steps`` of the kept draws; its seeds are
0, 1, ... whatever ``--first-seed``), and the ratio of its variance to ours at
the same number of model evaluations (its variance scaled by its evaluations over ours).

    python benchmarks/posterior_tails.py [--dim 10] [--seeds 20] [--first-seed 0] [--draws 20000] [--nuts]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm
from scipy import integrate, stats

import pymc_ais as pa

Z_TAIL = stats.norm.isf(2e-3)  # each event's posterior probability is 2e-3
PRIOR_SDS = {"unit prior": 1.0, "wide prior": 3.0}


def data(dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A design of 2 d rows (at least 20) and responses from coefficients drawn once."""
    rng = np.random.default_rng(seed)
    n = max(2 * dim, 20)
    x = rng.standard_normal((n, dim)) / np.sqrt(dim)
    beta = rng.standard_normal(dim) * 0.5
    return x, x @ beta + rng.standard_normal(n)


def model(x: np.ndarray, y: np.ndarray, prior_sd: float) -> pm.Model:
    with pm.Model() as m:
        beta = pm.Normal("beta", 0.0, prior_sd, shape=x.shape[1])
        pm.Normal("y", pm.math.dot(x, beta), 1.0, observed=y)
    return m


def posterior(x: np.ndarray, y: np.ndarray, prior_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact posterior mean and covariance of the coefficients."""
    cov = np.linalg.inv(x.T @ x + np.eye(x.shape[1]) / prior_sd**2)
    return cov @ x.T @ y, cov


def thresholds(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """t_0 and t_1 at 2e-3 posterior probability under the unit prior."""
    mean, cov = posterior(x, y, 1.0)
    return mean[:2] + Z_TAIL * np.sqrt(np.diag(cov)[:2])


def truths(x: np.ndarray, y: np.ndarray, prior_sd: float, t: np.ndarray) -> dict[str, float]:
    """Exact P(a), P(b), P(a or b) and E[beta_0] under one prior."""
    mean, cov = posterior(x, y, prior_sd)
    pa_, pb = (stats.norm.sf(t[j], mean[j], np.sqrt(cov[j, j])) for j in (0, 1))
    # P(beta_0 > t_0 and beta_1 > t_1): beta_1 given beta_0 is normal, integrate over beta_0
    sd0 = np.sqrt(cov[0, 0])
    slope, sd1 = cov[0, 1] / cov[0, 0], np.sqrt(cov[1, 1] - cov[0, 1] ** 2 / cov[0, 0])

    def joint(b0: float) -> float:
        return stats.norm.pdf(b0, mean[0], sd0) * stats.norm.sf(t[1], mean[1] + slope * (b0 - mean[0]), sd1)

    both = integrate.quad(joint, t[0], np.inf, epsabs=0.0, epsrel=1e-10)[0]
    return {"a": pa_, "b": pb, "either": pa_ + pb - both, "mean": mean[0]}


def exact_values(x: np.ndarray, y: np.ndarray, t: np.ndarray, quantities: list, names: list) -> tuple:
    """The quantities' exact values (priors x quantities), and which of them are means (judged absolutely)."""
    exact = np.array([[truths(x, y, PRIOR_SDS[n], t)[q] for q in quantities] for n in names])
    return exact, np.array([q == "mean" for q in quantities])


def variants(x: np.ndarray, y: np.ndarray, t: np.ndarray) -> dict[str, tuple[dict, dict, list[str]]]:
    """Each variant's expectations, laws and the prior names they run under."""
    unit = model(x, y, 1.0)
    beta = unit["beta"]
    a, b = beta[0] > t[0], beta[1] > t[1]
    expressions = {"a": a, "b": b, "either": a | b, "mean": beta[0]}
    callables = {
        "a": lambda v: v["beta"][:, 0] > t[0],
        "b": lambda v: v["beta"][:, 1] > t[1],
        "either": lambda v: (v["beta"][:, 0] > t[0]) | (v["beta"][:, 1] > t[1]),
        "mean": lambda v: v["beta"][:, 0],
    }
    first = pa.event(lambda v: v["beta"][:, 0], ">", t[0])
    second = pa.event(lambda v: v["beta"][:, 1], ">", t[1])
    scored = {"a": first, "b": second, "either": first | second, "mean": callables["mean"]}
    two = {name: model(x, y, sd) if sd != 1.0 else unit for name, sd in PRIOR_SDS.items()}
    return {
        "one event": ({"a": a}, {"unit prior": unit}, ["unit prior"]),
        "two events and their union": (expressions, {"unit prior": unit}, ["unit prior"]),
        "callables": (callables, {"unit prior": unit}, ["unit prior"]),
        "events on callables": (scored, {"unit prior": unit}, ["unit prior"]),
        "two priors": (expressions, two, list(PRIOR_SDS)),
    }


def run_ours(expectations: dict, laws: dict, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray, bool, float]:
    """One run: estimates and mcse (priors x quantities), whether it warned, seconds."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pa.ReliabilityWarning)
        if len(laws) == 1:
            idata = pa.estimate(
                expectations, model=next(iter(laws.values())), draws=draws, random_seed=seed, progressbar=False
            )
        else:
            idata = pa.estimate(expectations, models=laws, draws=draws, random_seed=seed, progressbar=False)
    seconds = time.perf_counter() - start
    est = idata["estimates"].to_dataset()
    mean, mcse = np.atleast_2d(est["mean"].values), np.atleast_2d(est["mcse"].values)
    warned = any(issubclass(w.category, pa.ReliabilityWarning) for w in caught)
    return mean, mcse, warned, seconds


def figures(runs: list, exact: np.ndarray, absolute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative RMSE (absolute for a mean, whose truth may be near 0) and rms z, per prior and quantity."""
    means = np.array([r[0] for r in runs])
    mcse = np.array([r[1] for r in runs])
    error = means - exact
    scale = np.where(absolute, 1.0, np.abs(exact))
    rmse = np.sqrt(np.mean(error**2, axis=0)) / scale
    z = np.sqrt(np.mean((error / mcse) ** 2, axis=0))
    return rmse, z


def nuts_estimates(laws: dict, names: list[str], t: np.ndarray, seeds: int) -> tuple[np.ndarray, float, float]:
    """NUTS's estimates (seeds, priors, 4 quantities), mean gradient evaluations and seconds per prior fit."""
    out, grads, seconds = [], [], []
    for seed in range(seeds):
        per_prior = []
        for name in names:
            start = time.perf_counter()
            with laws[name], warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trace = pm.sample(
                    1000, tune=1000, chains=4, random_seed=seed, progressbar=False, compute_convergence_checks=False
                )
            seconds.append(time.perf_counter() - start)
            grads.append(int(trace.sample_stats["n_steps"].sum()))
            draws = trace.posterior["beta"].values.reshape(-1, trace.posterior["beta"].shape[-1])
            a, b = draws[:, 0] > t[0], draws[:, 1] > t[1]
            per_prior.append([a.mean(), b.mean(), (a | b).mean(), draws[:, 0].mean()])
        out.append(per_prior)
    return np.array(out), float(np.mean(grads)), float(np.mean(seconds))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0, help="the seeds are first-seed, first-seed + 1, ...")
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--only", nargs="*", help="variants to run (default: all)")
    parser.add_argument("--nuts", action="store_true", help="NUTS refits beside ours, in the same run")
    parser.add_argument("--baseline-seeds", type=int, default=5)
    args = parser.parse_args()

    x, y = data(args.dim)
    t = thresholds(x, y)
    print(
        f"posterior tails: linear regression, {args.dim} coefficients, {len(y)} observations, "
        f"{args.draws} draws, {args.seeds} seeds from {args.first_seed}; each event about 2e-3 under the unit prior"
    )
    cases = variants(x, y, t)
    for label, (expectations, laws, names) in cases.items():
        if args.only and label not in args.only:
            continue
        quantities = list(expectations)
        exact, absolute = exact_values(x, y, t, quantities, names)
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        runs = [run_ours(expectations, laws, args.draws, seed) for seed in seeds]
        rmse, z = figures(runs, exact, absolute)
        warned = sum(r[2] for r in runs)
        seconds = np.mean([r[3] for r in runs[1:]] if len(runs) > 1 else [runs[0][3]])
        print(f"\n{label}: {warned} of {args.seeds} runs warned, {seconds:.1f} s per run")
        for i, name in enumerate(names):
            cells = "  ".join(
                f"{q} {'abs' if absolute[j] else 'rel'} RMSE {rmse[i, j]:.2g} (rms z {z[i, j]:.2f})"
                for j, q in enumerate(quantities)
            )
            print(f"  {name:10s} {cells}")
        if args.nuts and label == "two priors":
            nuts, grads, nuts_seconds = nuts_estimates(laws, names, t, args.baseline_seeds)
            print(
                f"  NUTS per prior (4 x 1000 draws, 1000 tuning), {args.baseline_seeds} seeds, "
                f"{grads:.0f} gradient evaluations and {nuts_seconds:.1f} s per fit"
            )
            ours_var = np.mean((np.array([r[0] for r in runs]) - exact) ** 2, axis=0)
            nuts_var = np.mean((nuts - exact) ** 2, axis=0)
            scale = np.where(absolute, 1.0, np.abs(exact))
            for i, name in enumerate(names):
                # NUTS refits per prior: its cost for all priors is len(names) fits
                ratio = nuts_var[i] * (grads * len(names)) / (ours_var[i] * args.draws)
                cells = "  ".join(
                    f"{q} RMSE {np.sqrt(nuts_var[i, j]) / scale[i, j]:.2g} (ours x{ratio[j]:.0f} less variance)"
                    for j, q in enumerate(quantities)
                )
                print(f"  {name:10s} {cells}")


if __name__ == "__main__":
    main()
