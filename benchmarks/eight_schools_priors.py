"""Eight schools (non-centred) under five priors on tau: posterior means and evidences from one sample.

mu ~ N(0, 5), tau under half-Cauchy(5), half-normal(5), half-normal(25), exponential(0.2)
and half-t(3, 5), theta = mu + tau * theta_tilde, y_j ~ N(theta_j, sigma_j). The exact
references come from 1-D quadrature over tau: given tau, mu and theta integrate out in
closed form (y ~ MvN(0, diag(sigma^2 + tau^2) + 25 11')).

Printed, for every prior and quantity (mu, tau, theta[0], P(tau > 10)), over the seeds:
the equivalent i.i.d. posterior sample size (posterior variance / MSE against the
quadrature), the coverage of the 95 % intervals and the ratio of the reported mcse to
the spread; the log-evidence RMSE and coverage; the evaluations used. pymc_ais runs
ONE sample of ``--draws`` log-density evaluations for the five priors together. With
``--nuts`` (and ``--smc``), in the same run, NUTS refits per prior (4 chains x 1000
draws, 1000 tuning; gradient evaluations from ``sample_stats.n_steps``) and
``pm.sample_smc``'s log marginal likelihood, on ``--baseline-seeds`` seeds.

    python benchmarks/eight_schools_priors.py [--seeds 50] [--draws 20000] [--nuts] [--smc]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pymc as pm
from posterior_report import add_options, parsed_options, report, run_nuts, run_ours, smc_evaluations, smc_log_evidence
from scipy import integrate, stats

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
MU_SD = 5.0
PRIORS = {
    "half-cauchy(5)": (lambda: pm.HalfCauchy.dist(beta=5.0), stats.halfcauchy(scale=5.0)),
    "half-normal(5)": (lambda: pm.HalfNormal.dist(sigma=5.0), stats.halfnorm(scale=5.0)),
    "half-normal(25)": (lambda: pm.HalfNormal.dist(sigma=25.0), stats.halfnorm(scale=25.0)),
    "exponential(0.2)": (lambda: pm.Exponential.dist(lam=0.2), stats.expon(scale=5.0)),
    "half-t(3, 5)": (lambda: pm.HalfStudentT.dist(nu=3.0, sigma=5.0), None),
}
QUANTITIES = ("mu", "tau", "theta0", "p_tau_gt_10")


def half_t_logpdf(tau):
    return np.log(2.0) + stats.t(df=3.0, scale=5.0).logpdf(tau)


def eight_schools(prior) -> pm.Model:
    with pm.Model(coords={"school": np.arange(8)}) as model:
        mu = pm.Normal("mu", 0.0, MU_SD)
        tau = model.register_rv(prior(), "tau")
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_tilde, dims="school")
        pm.Normal("y", theta, SIGMA, observed=Y, dims="school")
    return model


def conditional(tau: float):
    """The log-likelihood log p(y | tau), and the Gaussian posterior of mu and theta_0 given tau."""
    v = SIGMA**2 + tau**2
    cov = np.diag(v) + MU_SD**2
    log_lik = stats.multivariate_normal(np.zeros(8), cov).logpdf(Y)
    precision = 1.0 / MU_SD**2 + np.sum(1.0 / v)
    mu_mean = np.sum(Y / v) / precision
    mu_var = 1.0 / precision
    if tau == 0:
        return log_lik, mu_mean, mu_var, mu_mean, mu_var
    p0 = 1.0 / SIGMA[0] ** 2 + 1.0 / tau**2
    weight = (1.0 / tau**2) / p0
    theta_mean = (Y[0] / SIGMA[0] ** 2) / p0 + weight * mu_mean
    theta_var = 1.0 / p0 + weight**2 * mu_var
    return log_lik, mu_mean, mu_var, theta_mean, theta_var


def references(log_prior) -> dict:
    """Posterior means and variances of the quantities and the log evidence, by quadrature over tau."""

    def integrand(tau, what):
        log_lik, mu_m, mu_v, th_m, th_v = conditional(tau)
        density = np.exp(log_prior(tau) + log_lik + 40.0)  # scaled to stay in range
        return (
            density
            * {
                "z": 1.0,
                "mu": mu_m,
                "mu2": mu_v + mu_m**2,
                "tau": tau,
                "tau2": tau**2,
                "theta0": th_m,
                "theta02": th_v + th_m**2,
                "p": float(tau > 10.0),
            }[what]
        )

    def quad(what, lo=0.0, hi=np.inf):
        return integrate.quad(integrand, lo, hi, args=(what,), epsabs=0.0, epsrel=1e-12, limit=500)[0]

    z = quad("z")
    mean = {k: quad(k) / z for k in ("mu", "mu2", "tau", "tau2", "theta0", "theta02")}
    p = quad("p", 10.0, np.inf) / z
    return {
        "mean": {"mu": mean["mu"], "tau": mean["tau"], "theta0": mean["theta0"], "p_tau_gt_10": p},
        "var": {
            "mu": mean["mu2"] - mean["mu"] ** 2,
            "tau": mean["tau2"] - mean["tau"] ** 2,
            "theta0": mean["theta02"] - mean["theta0"] ** 2,
            "p_tau_gt_10": p * (1 - p),
        },
        "log_evidence": np.log(z) - 40.0,
    }


def all_references() -> dict:
    out = {}
    for name, (_, scipy_law) in PRIORS.items():
        log_prior = scipy_law.logpdf if scipy_law is not None else half_t_logpdf
        out[name] = references(log_prior)
    return out


def expressions(model: pm.Model) -> dict:
    return {"mu": model["mu"], "tau": model["tau"], "theta0": model["theta"][0], "p_tau_gt_10": model["tau"] > 10.0}


def laws() -> tuple[dict, dict]:
    """One model per prior, and the expressions (in the first model's variables)."""
    models = {name: eight_schools(PRIORS[name][0]) for name in PRIORS}
    return models, expressions(next(iter(models.values())))


def nuts_means(post) -> list:
    tau = post["tau"]
    return [
        float(post["mu"].mean()),
        float(tau.mean()),
        float(post["theta"].isel(school=0).mean()),
        float((tau > 10).mean()),
    ]


def run_smc(refs: dict, names: list[str], seeds: int) -> None:
    print(f"\npm.sample_smc (2000 draws, 2 chains), log marginal likelihood, {seeds} seeds")
    for name in names:
        values, stages = smc_log_evidence(eight_schools(PRIORS[name][0]), seeds)
        rmse = np.sqrt(np.mean((values - refs[name]["log_evidence"]) ** 2))
        low, high = smc_evaluations(stages)
        print(f"{name:18s} log-evidence rmse {rmse:.4f}  {stages:.1f} stages, {low:.0f}-{high:.0f} evaluations")


def main() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)  # the baselines' progress messages
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--nuts", action="store_true")
    parser.add_argument("--smc", action="store_true")
    parser.add_argument("--baseline-seeds", type=int, default=5)
    add_options(parser)
    args = parser.parse_args()
    options = parsed_options(args)
    refs = all_references()
    names = list(PRIORS)
    print("quadrature references (posterior means, log evidence):")
    for name in names:
        m = refs[name]["mean"]
        print(
            f"  {name:18s} mu {m['mu']:.4f}  tau {m['tau']:.4f}  theta0 {m['theta0']:.4f}  "
            f"P(tau>10) {m['p_tau_gt_10']:.4f}  log Z {refs[name]['log_evidence']:.5f}"
        )
    models, exprs = laws()
    run_ours(exprs, models, args.draws, 10_000, **options)  # compile outside the timing
    start = time.perf_counter()
    runs = [run_ours(exprs, models, args.draws, seed, **options) for seed in range(args.seeds)]
    print(f"\nwall time per pymc_ais run (five priors): {(time.perf_counter() - start) / args.seeds:.2f} s")
    report(refs, runs, names, QUANTITIES)
    if args.nuts:
        run_nuts(models, nuts_means, refs, QUANTITIES, args.baseline_seeds)
    if args.smc:
        run_smc(refs, names, args.baseline_seeds)


if __name__ == "__main__":
    main()
