"""A hierarchical model with many groups under several priors on its scale, from one sample.

J groups (50 by default), non-centred as PyMC users write it: mu ~ N(0, 5),
tau under half-normal(5), half-Cauchy(2.5), exponential(0.5) and half-t(3, 5),
theta = mu + tau * theta_tilde, y_j ~ N(theta_j, sigma_j); d = J + 2 free variables.
The data are simulated once (mu = 2, tau = 3, sigma_j uniform on [2, 6]). Exact
references by quadrature over tau: given tau, mu and every theta_j are Gaussian and
y ~ MvN(0, diag(sigma^2 + tau^2) + 25 11').

Printed over the seeds, per prior: the worst equivalent i.i.d. posterior sample size
over mu, tau and every theta_j (posterior variance / MSE), the coverage of the 95 %
intervals, the log-evidence RMSE; for one sample over every prior and for one run per
prior on an equal share of the budget. ``--nuts`` and ``--smc`` add NUTS refits per
prior and ``pm.sample_smc``'s log evidence on ``--baseline-seeds`` seeds.

    python benchmarks/hierarchical_priors.py [--groups 50] [--seeds 4] [--draws 20000] [--nuts] [--smc]
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import pymc as pm
from logistic_priors import separate_runs
from posterior_report import baselines_per_prior, parse_value
from scipy import integrate, stats

import pymc_ais as pa

MU_SD = 5.0
LOG2 = np.log(2.0)
PRIORS = {
    "half-normal(5)": (lambda: pm.HalfNormal.dist(sigma=5.0), stats.halfnorm(scale=5.0).logpdf),
    "half-cauchy(2.5)": (lambda: pm.HalfCauchy.dist(beta=2.5), stats.halfcauchy(scale=2.5).logpdf),
    "exponential(0.5)": (lambda: pm.Exponential.dist(lam=0.5), stats.expon(scale=2.0).logpdf),
    "half-t(3, 5)": (lambda: pm.HalfStudentT.dist(nu=3.0, sigma=5.0), lambda t: LOG2 + stats.t(3, 0, 5).logpdf(t)),
}


def data(groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Group means y_j and their standard errors sigma_j, simulated once per number of groups."""
    rng = np.random.default_rng(20261204 + groups)
    sigma = rng.uniform(2.0, 6.0, groups)
    theta = 2.0 + 3.0 * rng.standard_normal(groups)
    return theta + sigma * rng.standard_normal(groups), sigma


def model(y: np.ndarray, sigma: np.ndarray, prior) -> pm.Model:
    with pm.Model(coords={"group": np.arange(y.size)}) as m:
        mu = pm.Normal("mu", 0.0, MU_SD)
        tau = m.register_rv(prior(), "tau")
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, dims="group")
        pm.Deterministic("theta", mu + tau * theta_tilde, dims="group")
        pm.Normal("y", m["theta"], sigma, observed=y, dims="group")
    return m


def conditional(tau: float, y: np.ndarray, sigma: np.ndarray) -> tuple:
    """The log-likelihood log p(y | tau), and the Gaussian posterior moments of mu and of every theta_j given tau."""
    v = sigma**2 + tau**2
    c = MU_SD**2
    s1, sy = np.sum(1.0 / v), np.sum(y / v)
    log_det = np.sum(np.log(v)) + np.log1p(c * s1)
    quad = np.sum(y**2 / v) - c * sy**2 / (1.0 + c * s1)
    log_lik = -0.5 * (y.size * np.log(2 * np.pi) + log_det + quad)
    mu_var = 1.0 / (1.0 / c + s1)
    mu_mean = sy * mu_var
    p = 1.0 / sigma**2 + 1.0 / max(tau, 1e-300) ** 2
    weight = (1.0 / max(tau, 1e-300) ** 2) / p
    theta_mean = (y / sigma**2) / p + weight * mu_mean
    theta_var = 1.0 / p + weight**2 * mu_var
    return log_lik, mu_mean, mu_var, theta_mean, theta_var


def reference(y: np.ndarray, sigma: np.ndarray, log_prior) -> dict:
    """Posterior means and variances of (mu, tau, theta_1..J) and the log evidence, by quadrature over tau."""
    grid = np.linspace(1e-3, 50.0, 2001)
    shift = max(log_prior(t) + conditional(t, y, sigma)[0] for t in grid)

    def integrand(tau):
        log_lik, mu_m, mu_v, th_m, th_v = conditional(tau, y, sigma)
        density = np.exp(log_prior(tau) + log_lik - shift)
        first = np.concatenate([[mu_m, tau], th_m])
        second = np.concatenate([[mu_v + mu_m**2, tau**2], th_v + th_m**2])
        return density * np.concatenate([[1.0], first, second])

    total = integrate.quad_vec(integrand, 0.0, np.inf, epsabs=0.0, epsrel=1e-11, limit=2000)[0]
    k = y.size + 2
    mean = total[1 : k + 1] / total[0]
    return {
        "mean": mean,
        "var": total[k + 1 :] / total[0] - mean**2,
        "log_evidence": float(np.log(total[0]) + shift),
    }


def run(models: dict, draws: int, seed: int, **options) -> tuple[dict, bool, float]:
    """Per law: the means, interval bounds (mu, tau, theta...) and log evidence of one call; warned; seconds."""
    first = next(iter(models.values()))
    exprs = {"mu": first["mu"], "tau": first["tau"], "theta": first["theta"]}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pa.ReliabilityWarning)
        laws = {"model": first} if len(models) == 1 else {"models": models}
        idata = pa.estimate(exprs, draws=draws, random_seed=seed, progressbar=False, **laws, **options)
    seconds = time.perf_counter() - start
    est, ev = idata["estimates"], idata["evidence"]
    out = {}
    for law in models:
        pick = {"model": law} if "model" in est.dims else {}
        e = est.sel(**pick)
        out[law] = (e["mean"].values, e["ci_lower"].values, e["ci_upper"].values, float(ev["log_evidence"].sel(**pick)))
    return out, any(issubclass(w.category, pa.ReliabilityWarning) for w in caught), seconds


def summarise(label: str, runs: list, refs: dict, names: list[str]) -> float:
    """Print one row per prior; return the worst equivalent i.i.d. size over priors and quantities."""
    print(f"\n{label}")
    worst_all = np.inf
    for name in names:
        ref = refs[name]
        means = np.array([r[0][name][0] for r in runs])
        covered = np.mean([(r[0][name][1] <= ref["mean"]) & (ref["mean"] <= r[0][name][2]) for r in runs])
        equivalent = ref["var"] / np.mean((means - ref["mean"]) ** 2, axis=0)
        log_z = np.array([r[0][name][3] for r in runs])
        rmse = float(np.sqrt(np.mean((log_z - ref["log_evidence"]) ** 2)))
        worst_all = min(worst_all, float(equivalent.min()))
        which = ["mu", "tau", *(f"theta[{j}]" for j in range(equivalent.size - 2))][int(equivalent.argmin())]
        print(
            f"  {name:18s} worst equivalent i.i.d. draws {equivalent.min():8.0f} ({which}), median "
            f"{np.median(equivalent):8.0f}; coverage {covered:.2f}; log-evidence RMSE {rmse:.3g}"
        )
    print(f"  runs with a warning {np.mean([r[1] for r in runs]):.2f}; {np.mean([r[2] for r in runs]):.1f} s per run")
    return worst_all


def _posterior_means(post):
    """mu, tau and every theta_j's posterior mean from a NUTS fit, in the references' order."""
    stacked = [post["mu"].mean().values, post["tau"].mean().values]
    return np.concatenate([stacked, post["theta"].mean(dim=("chain", "draw")).values])


def main() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--priors", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--option", action="append", default=[], help="a pa.estimate option, key=value")
    parser.add_argument("--no-separate", action="store_true", help="skip the one-run-per-prior baseline")
    parser.add_argument("--nuts", action="store_true")
    parser.add_argument("--smc", action="store_true")
    parser.add_argument("--baseline-seeds", type=int, default=4)
    args = parser.parse_args()
    options = {key: parse_value(value) for key, value in (item.split("=", 1) for item in args.option)}
    y, sigma = data(args.groups)
    names = list(PRIORS)[: args.priors]
    refs = {name: reference(y, sigma, PRIORS[name][1]) for name in names}
    for name in names:
        r = refs[name]
        tau_sd = np.sqrt(r["var"][1])
        print(f"reference {name:18s} log Z {r['log_evidence']:.4f}; E[tau] {r['mean'][1]:.3f} (sd {tau_sd:.3f})")
    models = {name: model(y, sigma, PRIORS[name][0]) for name in names}
    shared = [run(models, args.draws, seed, **options) for seed in range(args.seeds)]
    summarise(f"one sample, {len(names)} priors, {args.draws} evaluations (d = {args.groups + 2})", shared, refs, names)
    if not args.no_separate:
        share = args.draws // len(names)
        separate = separate_runs(lambda n, seed: run({n: models[n]}, share, seed, **options), names, args.seeds)
        summarise(f"separate runs, {share} evaluations per prior", separate, refs, names)
    if args.nuts or args.smc:
        print(f"\nbaselines, {args.baseline_seeds} seeds")
        baselines_per_prior(models, refs, args.baseline_seeds, args.nuts, args.smc, _posterior_means)


if __name__ == "__main__":
    main()
