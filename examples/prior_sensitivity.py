"""
Prior sensitivity: one question under five priors
=================================================

A hierarchical model of school test scores (group means around a population mean,
a student's score around their school's mean). The question before seeing data: how
likely is a student of a NEW school to score above 80, and how spread are the scores,
under the default priors and a few alternatives? One shared sample serves every prior.
Then a continuous family of priors: the prior scales
become ``pm.Data`` containers, :func:`pymc_ais.sample_grid` draws 40 of their values,
and one run with one compilation answers for all 40.
(The expected score is left out on purpose: under a half-Cauchy between-school spread
it does not exist, and pymc_ais would warn that its error bar cannot be trusted.)

Run:  python examples/prior_sensitivity.py [--quick] [--plot PATH]
"""

import argparse

import matplotlib

matplotlib.use("Agg")

import pymc as pm  # noqa: E402

import pymc_ais as pa  # noqa: E402


def school_model():
    with pm.Model() as model:
        mu = pm.Normal("mu", 60.0, 10.0)  # population mean score
        tau = pm.HalfNormal("tau", 8.0)  # between-school spread
        sigma = pm.HalfNormal("sigma", 12.0)  # within-school spread
        school = pm.Normal("school_new", mu, tau)  # a new school's mean
        pm.Normal("score_new", school, sigma)  # a new student's score
    return model


def school_model_with_data():
    """The same model with two prior scales as ``pm.Data``: a grid of priors, one compilation."""
    with pm.Model() as model:
        tau_scale = pm.Data("tau_scale", 8.0)
        mu_sd = pm.Data("mu_sd", 10.0)
        mu = pm.Normal("mu", 60.0, mu_sd)
        tau = pm.HalfNormal("tau", tau_scale)
        sigma = pm.HalfNormal("sigma", 12.0)
        school = pm.Normal("school_new", mu, tau)
        pm.Normal("score_new", school, sigma)
    return model


def grid_study(draws: int):
    """P(score > 80) over 40 priors drawn in a box of the two scales (Latin hypercube)."""
    model = school_model_with_data()
    laws = pa.sample_grid(model, {"tau_scale": (2.0, 20.0), "mu_sd": (3.0, 20.0)}, n=40, random_seed=1)
    idata = pa.estimate(
        {"P(score > 80)": model["score_new"] > 80}, models=laws, draws=draws, random_seed=7, progressbar=False
    )
    table = pa.summary(idata)[["mean", "mcse"]].droplevel("expectation")
    table.insert(0, "tau_scale", laws.table["tau_scale"])
    table.insert(1, "mu_sd", laws.table["mu_sd"])
    print(f"\n{laws.size} priors on a grid of (tau_scale, mu_sd), one run of {idata.attrs['evaluations']} evaluations:")
    print(table.sort_values("tau_scale").head(8).to_string(float_format=lambda v: f"{v:.4g}"))
    print("...")
    return idata


def main(draws: int, plot: str | None) -> None:
    base = school_model()
    priors = {
        "default": base,
        "mu ~ StudentT(3, 60, 10)": pa.swap_priors(base, {"mu": pm.StudentT.dist(nu=3, mu=60.0, sigma=10.0)}),
        "tau ~ HalfCauchy(5)": pa.swap_priors(base, {"tau": pm.HalfCauchy.dist(beta=5.0)}),
        "sigma ~ Exponential(1/8)": pa.swap_priors(base, {"sigma": pm.Exponential.dist(lam=1 / 8.0)}),
        "tighter: mu ~ N(60, 3)": pa.swap_priors(base, {"mu": pm.Normal.dist(60.0, 3.0)}),
    }
    score = base["score_new"]
    idata = pa.estimate(
        {"P(score > 80)": score > 80, "P(score < 40)": score < 40, "P(score > 95)": score > 95},
        models=priors,
        draws=draws,
        random_seed=7,
    )
    print(pa.summary(idata)[["mean", "mcse", "ci_2.5%", "ci_97.5%"]].to_string(float_format=lambda v: f"{v:.4g}"))
    gridded = grid_study(draws)

    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    pa.plot_estimates(idata, "P(score > 80)", ax=axes[0])
    pa.plot_estimates(idata, "P(score < 40)", ax=axes[1])
    pa.plot_estimates(gridded, "P(score > 80)", against="tau_scale", ax=axes[2])
    if plot:
        fig.savefig(plot, dpi=100)
        print(f"plot saved to {plot}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small budget (a smoke run)")
    parser.add_argument("--plot", default=None, help="save the figure to this file")
    args = parser.parse_args()
    main(draws=3_000 if args.quick else 30_000, plot=args.plot)
