"""A linear regression with an unknown noise scale, from 5 to 100 coefficients, under one prior or four.

y = X beta + eps, eps ~ N(0, sigma^2), ``--coefficients`` p (an intercept and p - 1
standardised covariates), 3 p observations, sigma ~ half-normal(2), beta ~ N(m, s^2)
with (m, s) in {(0, 1), (0, 2.5), (0, 0.3), (0.2, 0.5)}. Beside many coefficients the
joint mode's sigma is biased by sqrt((n - p) / n), several posterior standard
deviations at p = 100: the case where a Laplace start fails. Exact references by
quadrature over log sigma (given sigma, beta is Gaussian in closed form).

Printed per prior, over the seeds: the worst and median equivalent i.i.d. posterior
draws over every coefficient and sigma (posterior variance / MSE), coverage of the 95 %
intervals and the log-evidence RMSE, for one sample of ``--draws`` evaluations for all
priors; with ``--separate``, one run per prior on an equal share; with ``--nuts`` and
``--smc``, NUTS refits and ``pm.sample_smc``'s evidence per prior in the same run.

    python benchmarks/regression_scale.py [--coefficients 100] [--priors 4] [--seeds 4] [--nuts] [--smc]
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import pymc as pm
from logistic_priors import run, separate_runs, summarise
from posterior_report import baselines_per_prior, parse_value
from scipy import stats

SIGMA_SCALE = 2.0
TRUE_SIGMA = 0.8
PRIORS = {
    "normal(0, 1)": (0.0, 1.0),
    "normal(0, 2.5)": (0.0, 2.5),
    "normal(0, 0.3)": (0.0, 0.3),
    "normal(0.2, 0.5)": (0.2, 0.5),
}


def data(coefficients: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n = 3 * coefficients
    x = np.column_stack([np.ones(n), rng.standard_normal((n, coefficients - 1))])
    beta = np.concatenate([[1.0], 0.5 * rng.standard_normal(coefficients - 1)])
    return x, x @ beta + TRUE_SIGMA * rng.standard_normal(n)


def model(x: np.ndarray, y: np.ndarray, prior: tuple[float, float]) -> pm.Model:
    m, s = prior
    with pm.Model() as regression:
        beta = pm.Normal("beta", m, s, shape=x.shape[1])
        sigma = pm.HalfNormal("sigma", SIGMA_SCALE)
        pm.Normal("y", pm.math.dot(x, beta), sigma, observed=y)
    return regression


def reference(x: np.ndarray, y: np.ndarray, prior: tuple[float, float]) -> dict:
    """Posterior means and variances of (beta, sigma) and the log evidence, on a grid of 4001 log sigma values."""
    m, s = prior
    n, p = x.shape
    xtx, xty = x.T @ x, x.T @ y
    residual = y - x @ np.full(p, m)
    xr = x.T @ residual
    log_sigma = np.linspace(np.log(0.1), np.log(10.0), 4001)
    log_w, means, variances = [], [], []
    for sigma in np.exp(log_sigma):
        precision = np.eye(p) / s**2 + xtx / sigma**2
        cov = np.linalg.inv(precision)
        means.append(cov @ (np.full(p, m) / s**2 + xty / sigma**2))
        variances.append(np.diag(cov))
        quadratic = residual @ residual / sigma**2 - xr @ cov @ xr / sigma**4
        log_det = np.linalg.slogdet(precision)[1] + 2 * p * np.log(s) + 2 * n * np.log(sigma)
        log_lik = -0.5 * (n * np.log(2 * np.pi) + log_det + quadratic)
        log_w.append(log_lik + stats.halfnorm(scale=SIGMA_SCALE).logpdf(sigma) + np.log(sigma))
    log_w = np.array(log_w)
    top = log_w.max()
    w = np.exp(log_w - top)
    log_evidence = float(np.log(w.sum() * (log_sigma[1] - log_sigma[0])) + top)
    w /= w.sum()
    means, variances, sigmas = np.array(means), np.array(variances), np.exp(log_sigma)
    mean_beta = w @ means
    return {
        "mean": np.append(mean_beta, w @ sigmas),
        "var": np.append(w @ (variances + means**2) - mean_beta**2, w @ sigmas**2 - (w @ sigmas) ** 2),
        "log_evidence": log_evidence,
    }


def main() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)  # the baselines' progress messages
    parser = argparse.ArgumentParser()
    parser.add_argument("--coefficients", type=int, default=100)
    parser.add_argument("--priors", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--option", action="append", default=[], help="a pa.estimate option, key=value")
    parser.add_argument("--separate", action="store_true", help="also one run per prior on an equal share")
    parser.add_argument("--nuts", action="store_true", help="NUTS refits per prior, in the same run")
    parser.add_argument("--smc", action="store_true", help="pm.sample_smc's log evidence per prior")
    parser.add_argument("--baseline-seeds", type=int, default=2)
    args = parser.parse_args()
    options = {key: parse_value(value) for key, value in (item.split("=", 1) for item in args.option)}
    x, y = data(args.coefficients)
    names = list(PRIORS)[: args.priors]
    refs = {name: reference(x, y, PRIORS[name]) for name in names}
    models = {name: model(x, y, PRIORS[name]) for name in names}
    first = next(iter(models.values()))
    exprs = {"beta": first["beta"], "sigma": first["sigma"]}
    shared = [run(exprs, models, args.draws, seed, **options) for seed in range(args.seeds)]
    label = f"one sample, {len(names)} prior(s), {args.draws} evaluations (p = {args.coefficients}, n = {x.shape[0]})"
    summarise(label, shared, refs, names)
    if args.separate and len(names) > 1:
        share = args.draws // len(names)

        def alone(n: str, seed: int):
            return run({"beta": models[n]["beta"], "sigma": models[n]["sigma"]}, {n: models[n]}, share, seed, **options)

        separate = separate_runs(alone, names, args.seeds)
        summarise(f"separate runs, {share} evaluations per prior", separate, refs, names)
    if args.nuts or args.smc:
        print(f"\nbaselines, {args.baseline_seeds} seeds")
        baselines_per_prior(
            models,
            refs,
            args.baseline_seeds,
            args.nuts,
            args.smc,
            lambda post: np.append(
                post["beta"].mean(dim=("chain", "draw")).values, float(post["sigma"].mean(dim=("chain", "draw")))
            ),
        )


if __name__ == "__main__":
    main()
