"""What the posterior benchmarks share: one pymc_ais run over several priors, and its report.

A run estimates the posterior means of named expressions under every prior from one
sample and returns the estimates, intervals and log evidences; the report compares them
with exact references over the seeds: equivalent i.i.d. posterior sample size
(posterior variance / MSE), interval coverage, reported mcse over the actual RMSE, and
the log-evidence RMSE.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pymc as pm

import pymc_ais as pa


def add_options(parser) -> None:
    """``--family`` and ``--option key=value`` (repeatable): pa.estimate options to compare."""
    parser.add_argument("--family", default="gaussian", help="pa.estimate's family of auxiliary densities")
    parser.add_argument("--option", action="append", default=[], help="more pa.estimate options, key=value")


def parse_value(value: str):
    """A command-line option's value: None, an int, a float or the string itself."""
    if value == "None":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def parsed_options(args) -> dict:
    """The pa.estimate options given on the command line."""
    options: dict = {"family": args.family}
    for item in args.option:
        key, value = item.split("=", 1)
        options[key] = parse_value(value)
    return options


def run_ours(exprs: dict, models: dict, draws: int, seed: int, **options) -> dict:
    """One pymc_ais run over every prior; warnings are counted, not shown."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pa.ReliabilityWarning)
        idata = pa.estimate(exprs, models=models, draws=draws, random_seed=seed, progressbar=False, **options)
    est = idata["estimates"].to_dataset()
    ev = idata["evidence"].to_dataset()
    return {
        "mean": est["mean"].values,
        "lo": est["ci_lower"].values,
        "hi": est["ci_upper"].values,
        "mcse": est["mcse"].values,
        "log_z": ev["log_evidence"].values,
        "z_lo": ev["ci_lower"].values,
        "z_hi": ev["ci_upper"].values,
        "z_mcse": ev["mcse"].values,
        "evaluations": int(idata.attrs["evaluations"]),
        "warned": any(issubclass(w.category, pa.ReliabilityWarning) for w in caught),
    }


def accuracy(refs: dict, runs: list[dict], names: list[str], quantities: tuple):
    """MSE and equivalent i.i.d. sample size per prior and quantity, and log-evidence RMSE per prior."""
    mean = np.array([r["mean"] for r in runs])
    log_z = np.array([r["log_z"] for r in runs])
    mse = np.array(
        [
            [np.mean((mean[:, i, j] - refs[name]["mean"][q]) ** 2) for j, q in enumerate(quantities)]
            for i, name in enumerate(names)
        ]
    )
    variance = np.array([[refs[name]["var"][q] for q in quantities] for name in names])
    rmse = np.array([np.sqrt(np.mean((log_z[:, i] - refs[name]["log_evidence"]) ** 2)) for i, name in enumerate(names)])
    return mse, variance / mse, rmse


def report(refs: dict, runs: list[dict], names: list[str], quantities: tuple) -> float:
    """Print the table; return the worst equivalent i.i.d. sample size."""
    stack = {k: np.array([r[k] for r in runs]) for k in ("mean", "lo", "hi", "mcse", "log_z", "z_lo", "z_hi", "z_mcse")}
    mse, ess, evidence_rmse = accuracy(refs, runs, names, quantities)
    warned = sum(r["warned"] for r in runs)
    print(
        f"\npymc_ais: one sample for all {len(names)} priors, {runs[0]['evaluations']} evaluations in total, "
        f"{len(runs)} seeds ({warned} runs warned)"
    )
    print(f"{'prior':18s} " + " ".join(f"{q:>26s}" for q in quantities) + f" {'log evidence':>30s}")
    for i, name in enumerate(names):
        cells = []
        for j, q in enumerate(quantities):
            truth = refs[name]["mean"][q]
            cover = np.mean((stack["lo"][:, i, j] <= truth) & (truth <= stack["hi"][:, i, j]))
            calib = np.sqrt(np.mean(stack["mcse"][:, i, j] ** 2)) / np.sqrt(mse[i, j])
            cells.append(f"ess {ess[i, j]:9.0f} cov {cover:.2f} se {calib:.2f}")
        truth = refs[name]["log_evidence"]
        rmse = evidence_rmse[i]
        cover = np.mean((stack["z_lo"][:, i] <= truth) & (truth <= stack["z_hi"][:, i]))
        calib = np.sqrt(np.mean(stack["z_mcse"][:, i] ** 2)) / rmse
        evidence = f"  rmse {rmse:.4f} cov {cover:.2f} se {calib:.2f}"
        print(f"{name:18s} " + " ".join(f"{c:>26s}" for c in cells) + evidence)
    worst = float(ess.min())
    print(f"worst equivalent i.i.d. sample size over priors and quantities: {worst:.0f}")
    print("(ess: posterior variance / MSE; cov: 95 % interval coverage; se: reported mcse / actual RMSE)")
    return worst


def nuts_fits(model: pm.Model, posterior_means, seeds: int) -> tuple[np.ndarray, float, float]:
    """NUTS at its usual settings (4 chains x 1000 draws, 1000 tuning) on ``seeds`` seeds.

    Returns ``posterior_means(posterior)`` of every fit (seeds, ...), and the mean number
    of gradient evaluations and of seconds per fit.
    """
    means, grads, seconds = [], [], []
    for seed in range(seeds):
        start = time.perf_counter()
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace = pm.sample(
                1000, tune=1000, chains=4, random_seed=seed, progressbar=False, compute_convergence_checks=False
            )
        seconds.append(time.perf_counter() - start)
        means.append(np.asarray(posterior_means(trace.posterior), dtype=np.float64))
        grads.append(int(trace.sample_stats["n_steps"].sum()))
    return np.array(means), float(np.mean(grads)), float(np.mean(seconds))


def run_nuts(models: dict, posterior_means, refs: dict, quantities: tuple, seeds: int) -> None:
    """NUTS refits per law: equivalent i.i.d. sizes and gradient evaluations.

    ``posterior_means(posterior) -> list`` gives the quantities' means from a fit's posterior group.
    """
    print(f"\nNUTS refits per prior (4 chains x 1000 draws, 1000 tuning), {seeds} seeds")
    for name, model in models.items():
        means, grads, seconds = nuts_fits(model, posterior_means, seeds)
        cells = [
            f"{q} ess {refs[name]['var'][q] / np.mean((means[:, j] - refs[name]['mean'][q]) ** 2):8.0f}"
            for j, q in enumerate(quantities)
        ]
        print(f"{name:18s} " + "  ".join(cells) + f"  gradient evals {grads:.0f}  {seconds:.1f} s")


def smc_log_evidence(model: pm.Model, seeds: int, draws: int = 2000) -> tuple[np.ndarray, float]:
    """``pm.sample_smc``'s log marginal likelihood (``draws`` particles, 2 chains) per seed, and its mean stages."""
    values, stages = [], []
    for seed in range(seeds):
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trace = pm.sample_smc(
                draws, chains=2, random_seed=seed, progressbar=False, compute_convergence_checks=False
            )
        stats = trace.sample_stats
        values.append(float(np.mean([np.asarray(v)[-1] for v in stats["log_marginal_likelihood"].values])))
        stages.append(stats["beta"].shape[-1])
    return np.array(values), float(np.mean(stages))


def smc_evaluations(stages: float, draws: int = 2000) -> tuple[float, float]:
    """Bounds of SMC's log-density evaluations: its Metropolis steps per stage (1 to 25 per particle) go unrecorded."""
    return 2 * draws * stages, 2 * draws * 25 * stages


def baselines_per_prior(models: dict, refs: dict, seeds: int, nuts: bool, smc: bool, posterior_means) -> None:
    """Print NUTS's worst and median equivalent i.i.d. draws and SMC's log-evidence RMSE, per prior.

    ``refs[name]`` holds ``mean`` and ``var`` arrays and ``log_evidence``;
    ``posterior_means(posterior) -> array`` gives the same quantities' means from a NUTS fit.
    """
    for name, model in models.items():
        ref = refs[name]
        if nuts:
            means, grads, seconds = nuts_fits(model, posterior_means, seeds)
            equivalent = ref["var"] / np.mean((means - ref["mean"]) ** 2, axis=0)
            print(
                f"  NUTS (4 x 1000 draws, 1000 tuning) {name:22s} worst equivalent i.i.d. draws "
                f"{equivalent.min():7.0f}, median {np.median(equivalent):7.0f}; {grads:.0f} gradient evaluations, "
                f"{seconds:.1f} s per fit"
            )
        if smc:
            values, stages = smc_log_evidence(model, seeds)
            rmse = float(np.sqrt(np.mean((values - ref["log_evidence"]) ** 2)))
            low, high = smc_evaluations(stages)
            print(
                f"  pm.sample_smc (2 x 2000) {name:22s} log-evidence RMSE {rmse:.3g}; {stages:.1f} stages, "
                f"{low:.0f}-{high:.0f} evaluations"
            )
