"""
Posteriors, evidence and Bayes factors under five priors
========================================================

The eight schools model (non-centred): how do the posterior mean of tau, P(tau > 10 | y)
and the evidence change if tau gets a half-normal, an exponential or a half-t prior
instead of a half-Cauchy(5)? pymc_ais answers for all five priors at once from one
sample of 20,000 log-density evaluations (posterior expectations with error bars, log
evidences and Bayes factors), where refitting NUTS costs about 28,000 gradient
evaluations per prior. Beside it, the local diagnostic users know: arviz-stats'
``psense_summary`` on a NUTS fit, which measures the effect of power-scaling the
prior near alpha = 1 but cannot answer for another prior, nor give an evidence.

Run:  python examples/posterior_prior_sensitivity.py [--quick] [--no-nuts]
"""

import argparse
import logging
import warnings

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from arviz_stats import psense_summary

import pymc_ais as pa

Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
TAU_PRIORS = {
    "half-cauchy(5)": lambda: pm.HalfCauchy.dist(beta=5.0),
    "half-normal(5)": lambda: pm.HalfNormal.dist(sigma=5.0),
    "half-normal(25)": lambda: pm.HalfNormal.dist(sigma=25.0),
    "exponential(0.2)": lambda: pm.Exponential.dist(lam=0.2),
    "half-t(3, 5)": lambda: pm.HalfStudentT.dist(nu=3.0, sigma=5.0),
}


def eight_schools() -> pm.Model:
    with pm.Model(coords={"school": np.arange(8)}) as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, dims="school")
        theta = pm.Deterministic("theta", mu + tau * theta_tilde, dims="school")
        pm.Normal("y", theta, SIGMA, observed=Y, dims="school")
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smaller budget, no NUTS fit")
    parser.add_argument("--no-nuts", action="store_true", help="skip the NUTS fit and psense")
    args = parser.parse_args()
    logging.getLogger("pymc").setLevel(logging.ERROR)

    model = eight_schools()
    laws = {name: pa.swap_priors(model, {"tau": prior}) for name, prior in TAU_PRIORS.items()}
    expectations = {
        "mu": model["mu"],
        "tau": model["tau"],
        "tau^2": model["tau"] ** 2,
        "theta[0]": model["theta"][0],
        "P(tau > 10)": model["tau"] > 10.0,
    }
    draws = 5_000 if args.quick else 20_000
    idata = pa.estimate(expectations, model=model, models=laws, draws=draws, random_seed=1, progressbar=False)

    est = idata["estimates"]
    table = est["mean"].to_pandas()
    table["sd(tau)"] = np.sqrt(table["tau^2"] - table["tau"] ** 2)
    table = table.drop(columns="tau^2")
    table["mcse(tau)"] = est["mcse"].sel(expectation="tau").to_pandas()
    evidence = idata["evidence"].to_dataset()
    table["log evidence"] = evidence["log_evidence"].to_pandas()
    table["mcse(log ev.)"] = evidence["mcse"].to_pandas()
    print(f"Posterior under each tau prior, one sample of {idata.attrs['evaluations']} log-density evaluations:")
    with pd.option_context("display.width", 160, "display.max_columns", None, "display.precision", 4):
        print(table)

    bf = pa.bayes_factors(idata).xs("half-cauchy(5)", level="versus")
    print("\nlog Bayes factors against the half-Cauchy(5) prior (errors from the joint covariance):")
    print(bf.round(4))

    posterior = pa.to_posterior(idata, random_seed=1)
    print("\naz.summary of the equally weighted posterior draws (pa.to_posterior):")
    print(az.summary(posterior, var_names=["tau"], kind="stats"))

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    pa.plot_estimates(idata, "tau", ax=axes[0])
    pa.plot_estimates(idata, "P(tau > 10)", ax=axes[1])
    draws_tau = posterior["posterior"]["tau"]
    for name in draws_tau["model"].values if "model" in draws_tau.dims else []:
        axes[2].hist(draws_tau.sel(model=name).values.ravel(), bins=60, range=(0, 30), histtype="step", label=name)
    axes[2].set_xlabel("tau")
    axes[2].set_title("posterior of tau under each prior (pa.to_posterior)")
    axes[2].legend(fontsize="small")

    if args.quick or args.no_nuts:
        return
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pm.sample(
            1000, tune=1000, chains=4, random_seed=1, progressbar=False, idata_kwargs={"log_likelihood": True}
        )
        pm.compute_log_prior(fit, progressbar=False)
    steps = int(fit.sample_stats["n_steps"].sum())
    print(f"\npsense_summary on one NUTS fit (half-Cauchy prior, {steps} gradient evaluations): local power-scaling")
    print(psense_summary(fit, var_names=["mu", "tau"]))


if __name__ == "__main__":
    main()
