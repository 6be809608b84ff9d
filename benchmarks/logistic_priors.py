"""A logistic regression at real size under several coefficient priors, from one sample.

``d - 1`` standardised predictors and an intercept (d = 31 by default), 300
observations, coefficient priors normal(0, 1), normal(0, 2.5) and Student-t(3, 0, 2.5)
(``--priors`` takes the first k). References per prior by importance sampling with a
multivariate Student-t(5) at the posterior's Laplace approximation, ``--ref-draws``
draws (their own standard error is printed and is far below the runs').

Printed over the seeds, per prior: the worst equivalent i.i.d. posterior sample size
over the coefficient means (posterior variance / MSE), the coverage of the 95 %
intervals, the log-evidence RMSE, and the warnings; for one sample over every prior
(``models=``) and for separate runs, one per prior on an equal share of the budget.

``--nuts`` and ``--smc`` add, in the same run, NUTS refits per prior (4 chains x 1000
draws after 1000 tuning steps: worst equivalent i.i.d. draws and gradient evaluations)
and ``pm.sample_smc``'s log evidence (RMSE and stages), on ``--baseline-seeds`` seeds.

    python benchmarks/logistic_priors.py [--dim 31] [--priors 3] [--seeds 5] [--draws 20000] [--nuts] [--smc]
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import pymc as pm
from posterior_report import baselines_per_prior, parse_value
from scipy import optimize, special, stats

import pymc_ais as pa

N_OBS = 300
PRIORS = {
    "normal(0, 1)": ("normal", 1.0),
    "normal(0, 2.5)": ("normal", 2.5),
    "student-t(3, 0, 2.5)": ("student", 2.5),
}


def data(dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261203 + dim)
    x = np.column_stack([np.ones(N_OBS), rng.standard_normal((N_OBS, dim - 1))])
    beta = np.concatenate([[0.3], rng.normal(0.0, 0.4, dim - 1)])
    y = rng.random(N_OBS) < special.expit(x @ beta)
    return x, y.astype(np.int64)


def model(x: np.ndarray, y: np.ndarray, prior: tuple) -> pm.Model:
    kind, scale = prior
    with pm.Model(coords={"coef": np.arange(x.shape[1])}) as m:
        if kind == "normal":
            beta = pm.Normal("beta", 0.0, scale, dims="coef")
        else:
            beta = pm.StudentT("beta", nu=3, mu=0.0, sigma=scale, dims="coef")
        pm.Bernoulli("y", logit_p=pm.math.dot(x, beta), observed=y)
    return m


def log_prior(beta: np.ndarray, prior: tuple) -> np.ndarray:
    kind, scale = prior
    dist = stats.norm(0.0, scale) if kind == "normal" else stats.t(3, 0.0, scale)
    return dist.logpdf(beta).sum(axis=-1)


def log_posterior(beta: np.ndarray, x: np.ndarray, y: np.ndarray, prior: tuple) -> np.ndarray:
    eta = beta @ x.T
    return (y * eta - np.logaddexp(0.0, eta)).sum(axis=-1) + log_prior(beta, prior)


def reference(x, y, prior, draws: int, rng) -> dict:
    """Posterior means and variances of the coefficients, and the log evidence, with their errors."""
    d = x.shape[1]
    fun = lambda b: -log_posterior(b, x, y, prior)  # noqa: E731
    mode = optimize.minimize(fun, np.zeros(d), method="BFGS").x
    p = special.expit(x @ mode)
    kind, scale = prior
    curvature = (x * (p * (1 - p))[:, None]).T @ x
    if kind == "normal":
        curvature += np.eye(d) / scale**2
    else:  # Student-t(3): -d2/db2 log(1 + b^2/(3 s^2)) * 2
        b2 = mode**2 / (3 * scale**2)
        curvature += np.diag(4.0 / (3 * scale**2) * (1 - b2) / (1 + b2) ** 2)
    proposal = stats.multivariate_t(mode, np.linalg.inv(curvature), df=5)
    sums = np.zeros((3, d))  # weight, weight * beta, weight * beta^2 (relative to a shift)
    log_ws = []
    chunk = min(50_000, draws)
    shift = None
    for _ in range(draws // chunk):
        b = proposal.rvs(chunk, random_state=rng)
        log_w = log_posterior(b, x, y, prior) - proposal.logpdf(b)
        shift = log_w.max() if shift is None else shift
        w = np.exp(log_w - shift)
        log_ws.append(log_w)
        sums += np.stack([np.full(d, w.sum()), w @ b, w @ b**2])
    log_w = np.concatenate(log_ws)
    n = log_w.size
    mean = sums[1] / sums[0]
    var = sums[2] / sums[0] - mean**2
    w = np.exp(log_w - log_w.max())
    ess = w.sum() ** 2 / (w**2).sum()
    log_z = special.logsumexp(log_w) - np.log(n)
    return {"mean": mean, "var": var, "log_evidence": log_z, "ess": ess, "mcse": np.sqrt(var / ess)}


def run(exprs, models: dict, draws: int, seed: int, **options) -> tuple[dict, int, float]:
    """Estimates per law (mean, lower, upper), log evidences, warnings and time of one call."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pa.ReliabilityWarning)
        if len(models) == 1:
            idata = pa.estimate(exprs, model=next(iter(models.values())), draws=draws, random_seed=seed,
                                progressbar=False, **options)  # fmt: skip
        else:
            idata = pa.estimate(exprs, models=models, draws=draws, random_seed=seed, progressbar=False, **options)
    elapsed = time.perf_counter() - start
    est, ev = idata["estimates"], idata["evidence"]
    out = {}
    for law in models:
        pick = {"model": law} if "model" in est.dims else {}
        e = est.sel(**pick)
        out[law] = (
            e["mean"].values,
            e["ci_lower"].values,
            e["ci_upper"].values,
            float(ev["log_evidence"].sel(**pick).values) if pick else float(ev["log_evidence"].values.ravel()[0]),
        )
    warned = sum(issubclass(w.category, pa.ReliabilityWarning) for w in caught)
    return out, warned, elapsed


def figures(runs: list, refs: dict, names: list[str]) -> dict:
    """The headline figures over the seeds: the worst equivalent i.i.d. size and log-evidence RMSE over the priors."""
    worst, rmse = np.inf, 0.0
    for name in names:
        means = np.array([r[0][name][0] for r in runs])
        worst = min(worst, float(np.min(refs[name]["var"] / np.mean((means - refs[name]["mean"]) ** 2, axis=0))))
        log_z = np.array([r[0][name][3] for r in runs])
        rmse = max(rmse, float(np.sqrt(np.mean((log_z - refs[name]["log_evidence"]) ** 2))))
    return {"worst equivalent i.i.d. size": worst, "worst log-evidence RMSE": rmse}


def separate_runs(run_one, names: list[str], seeds: int) -> list:
    """One run per prior on each seed (``run_one(name, seed)``: estimates, warned, seconds), merged per seed."""
    out = []
    for seed in range(seeds):
        parts = [run_one(name, seed) for name in names]
        merged = {name: part[0][name] for name, part in zip(names, parts)}
        out.append((merged, any(part[1] for part in parts), sum(part[2] for part in parts)))
    return out


def summarise(label: str, runs: list, refs: dict, names: list[str]) -> dict:
    print(f"\n{label}")
    worst_all = np.inf
    for name in names:
        ref = refs[name]
        means = np.array([r[0][name][0] for r in runs])
        covered = np.mean([(r[0][name][1] <= ref["mean"]) & (ref["mean"] <= r[0][name][2]) for r in runs])
        mse = np.mean((means - ref["mean"]) ** 2, axis=0)
        equivalent = ref["var"] / mse
        log_z = np.array([r[0][name][3] for r in runs])
        rmse_z = float(np.sqrt(np.mean((log_z - ref["log_evidence"]) ** 2)))
        worst = float(equivalent.min())
        worst_all = min(worst_all, worst)
        print(
            f"  {name:22s} worst equivalent i.i.d. draws {worst:9.0f} (coef {int(equivalent.argmin())}), "
            f"median {np.median(equivalent):9.0f}; coverage {covered:.2f}; log-evidence RMSE {rmse_z:.3g}"
        )
    warned = np.mean([r[1] > 0 for r in runs])
    seconds = np.mean([r[2] for r in runs])
    print(f"  runs with a warning {warned:.2f}; {seconds:.1f} s per run")
    return {"worst": worst_all, "warned": warned}


def main() -> None:
    logging.getLogger("pymc").setLevel(logging.ERROR)  # the baselines' progress messages
    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=31)
    parser.add_argument("--priors", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--ref-draws", type=int, default=1_000_000)
    parser.add_argument("--option", action="append", default=[], help="a pa.estimate option, key=value")
    parser.add_argument("--no-separate", action="store_true", help="skip the one-run-per-prior baseline")
    parser.add_argument("--nuts", action="store_true", help="NUTS refits per prior, in the same run")
    parser.add_argument("--smc", action="store_true", help="pm.sample_smc's log evidence per prior")
    parser.add_argument("--baseline-seeds", type=int, default=4)
    args = parser.parse_args()
    options = {}
    for item in args.option:
        key, value = item.split("=", 1)
        options[key] = parse_value(value)
    x, y = data(args.dim)
    names = list(PRIORS)[: args.priors]
    rng = np.random.default_rng(1)
    refs = {name: reference(x, y, PRIORS[name], args.ref_draws, rng) for name in names}
    for name in names:
        r = refs[name]
        print(
            f"reference {name:22s} log Z {r['log_evidence']:.4f}; proposal ESS {r['ess']:.0f}; "
            f"largest mcse / posterior sd {np.max(r['mcse'] / np.sqrt(r['var'])):.2g}"
        )
    models = {name: model(x, y, PRIORS[name]) for name in names}
    exprs = {"beta": next(iter(models.values()))["beta"]}
    shared = [run(exprs, models, args.draws, seed, **options) for seed in range(args.seeds)]
    summarise(f"one sample, {len(names)} priors, {args.draws} evaluations (d = {args.dim})", shared, refs, names)
    if not args.no_separate:
        share = args.draws // len(names)
        separate = separate_runs(
            lambda n, seed: run({"beta": models[n]["beta"]}, {n: models[n]}, share, seed, **options), names, args.seeds
        )
        summarise(f"separate runs, {share} evaluations per prior", separate, refs, names)
    if args.nuts or args.smc:
        print(f"\nbaselines, {args.baseline_seeds} seeds")
        baselines_per_prior(
            models,
            refs,
            args.baseline_seeds,
            args.nuts,
            args.smc,
            lambda post: post["beta"].mean(dim=("chain", "draw")).values,
        )


if __name__ == "__main__":
    main()
