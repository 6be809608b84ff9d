"""A linear regression with 120 observations under four coefficient priors, from one sample.

y = X beta + eps, eps ~ N(0, sigma^2), five coefficients (an intercept and four
covariates), sigma ~ half-normal(2), beta ~ N(m, s^2) with (m, s) in
{(0, 1), (0, 10), (0, 0.2), (0.5, 0.5)}. The posterior is far narrower than any of the
priors: no prior draw lands in it. Exact references by 1-D quadrature over sigma
(given sigma the coefficients integrate out in closed form: y ~ N(X m, sigma^2 I +
s^2 X X')).

Printed over the seeds, for every prior and quantity (beta_1, beta_4, sigma,
P(beta_1 > 0.6)): the equivalent i.i.d. posterior sample size, coverage and mcse
calibration, the log-evidence RMSE; the evaluations used (mode search included). With
``--nuts``, NUTS refits per prior on ``--baseline-seeds`` seeds in the same run.

    python benchmarks/regression_priors.py [--seeds 50] [--draws 20000] [--nuts]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pymc as pm
from posterior_report import add_options, parsed_options, report, run_nuts, run_ours
from scipy import integrate, stats

N_OBS = 120
TRUE_BETA = np.array([1.0, 0.5, -0.3, 0.2, 0.0])
TRUE_SIGMA = 0.8
SIGMA_SCALE = 2.0
PRIORS = {
    "normal(0, 1)": (0.0, 1.0),
    "normal(0, 10)": (0.0, 10.0),
    "normal(0, 0.2)": (0.0, 0.2),
    "normal(0.5, 0.5)": (0.5, 0.5),
}
THRESHOLD = 0.6
QUANTITIES = ("beta_1", "beta_4", "sigma", "p_beta1_gt")


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261128)
    x = np.column_stack([np.ones(N_OBS), rng.standard_normal((N_OBS, 4))])
    return x, x @ TRUE_BETA + TRUE_SIGMA * rng.standard_normal(N_OBS)


X, Y = data()


def regression(prior_mean: float, prior_sd: float) -> pm.Model:
    with pm.Model(coords={"coef": np.arange(5)}) as model:
        beta = pm.Normal("beta", prior_mean, prior_sd, dims="coef")
        sigma = pm.HalfNormal("sigma", SIGMA_SCALE)
        pm.Normal("y", pm.math.dot(X, beta), sigma, observed=Y)
    return model


def given_sigma(sigma: float, m: float, s: float):
    """Log p(y | sigma) and the Gaussian posterior (mean, covariance) of beta given sigma.

    The log-density of y ~ N(X m, sigma^2 I + s^2 X X') goes through the 5 x 5 posterior
    precision of beta (Woodbury and the matrix determinant lemma), not the 120 x 120
    covariance, which made the quadrature take minutes.
    """
    precision = np.eye(5) / s**2 + X.T @ X / sigma**2
    cov = np.linalg.inv(precision)
    mean = cov @ (np.full(5, m) / s**2 + X.T @ Y / sigma**2)
    r = Y - X @ np.full(5, m)
    xr = X.T @ r
    quadratic = r @ r / sigma**2 - xr @ cov @ xr / sigma**4  # r' (sigma^2 I + s^2 X X')^-1 r
    log_det = np.linalg.slogdet(precision)[1] + 10 * np.log(s) + 2 * N_OBS * np.log(sigma)
    log_lik = -0.5 * (N_OBS * np.log(2 * np.pi) + log_det + quadratic)
    return log_lik, mean, cov


def references(m: float, s: float) -> dict:
    prior = stats.halfnorm(scale=SIGMA_SCALE)
    grid = np.linspace(0.3, 2.0, 200)
    shift = max(prior.logpdf(g) + given_sigma(g, m, s)[0] for g in grid)

    def integrand(sigma, what):
        log_lik, mean, cov = given_sigma(sigma, m, s)
        density = np.exp(prior.logpdf(sigma) + log_lik - shift)
        value = {
            "z": 1.0,
            "b1": mean[1],
            "b1sq": cov[1, 1] + mean[1] ** 2,
            "b4": mean[4],
            "b4sq": cov[4, 4] + mean[4] ** 2,
            "sigma": sigma,
            "sigma2": sigma**2,
            "p": stats.norm(mean[1], np.sqrt(cov[1, 1])).sf(THRESHOLD),
        }[what]
        return density * value

    def quad(what):
        return integrate.quad(integrand, 0.2, 3.0, args=(what,), points=[0.6, 0.8, 1.0], epsabs=0.0, limit=400)[0]

    z = quad("z")
    e = {k: quad(k) / z for k in ("b1", "b1sq", "b4", "b4sq", "sigma", "sigma2", "p")}
    return {
        "mean": {"beta_1": e["b1"], "beta_4": e["b4"], "sigma": e["sigma"], "p_beta1_gt": e["p"]},
        "var": {
            "beta_1": e["b1sq"] - e["b1"] ** 2,
            "beta_4": e["b4sq"] - e["b4"] ** 2,
            "sigma": e["sigma2"] - e["sigma"] ** 2,
            "p_beta1_gt": e["p"] * (1 - e["p"]),
        },
        "log_evidence": np.log(z) + shift,
    }


def expressions(model: pm.Model) -> dict:
    beta = model["beta"]
    return {"beta_1": beta[1], "beta_4": beta[4], "sigma": model["sigma"], "p_beta1_gt": beta[1] > THRESHOLD}


def all_references() -> dict:
    """Quadrature references per prior."""
    return {name: references(*PRIORS[name]) for name in PRIORS}


def laws() -> tuple[dict, dict]:
    """One model per prior, and the expressions (in the first model's variables)."""
    models = {name: regression(*PRIORS[name]) for name in PRIORS}
    return models, expressions(next(iter(models.values())))


def nuts_means(post) -> list:
    b1 = post["beta"].isel(coef=1)
    return [
        float(b1.mean()),
        float(post["beta"].isel(coef=4).mean()),
        float(post["sigma"].mean()),
        float((b1 > THRESHOLD).mean()),
    ]


def main() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)  # the baselines' progress messages
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--nuts", action="store_true")
    parser.add_argument("--baseline-seeds", type=int, default=5)
    add_options(parser)
    args = parser.parse_args()
    options = parsed_options(args)
    names = list(PRIORS)
    refs = all_references()
    print("quadrature references (posterior means, log evidence):")
    for name in names:
        m = refs[name]["mean"]
        print(
            f"  {name:18s} beta_1 {m['beta_1']:.5f}  beta_4 {m['beta_4']:.5f}  sigma {m['sigma']:.5f}  "
            f"P(beta_1>{THRESHOLD}) {m['p_beta1_gt']:.4f}  log Z {refs[name]['log_evidence']:.5f}"
        )
    models, exprs = laws()
    run_ours(exprs, models, args.draws, 10_000, **options)  # compile outside the timing
    start = time.perf_counter()
    runs = [run_ours(exprs, models, args.draws, seed, **options) for seed in range(args.seeds)]
    print(f"\nwall time per pymc_ais run ({len(names)} priors): {(time.perf_counter() - start) / args.seeds:.2f} s")
    report(refs, runs, names, QUANTITIES)
    if args.nuts:
        run_nuts(models, nuts_means, refs, QUANTITIES, args.baseline_seeds)


if __name__ == "__main__":
    main()
