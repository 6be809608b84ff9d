"""Prior-sensitivity study: a prior-predictive quantity under alternative priors.

A hierarchical model of school test scores (group means around a population mean,
a student's score around their school's mean). The question before seeing data: how
likely is a student of a NEW school to score above 80, and how spread are the scores,
under the default priors and a few alternatives? One shared sample serves every prior.
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
    if plot:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
        pa.plot_estimates(idata, "P(score > 80)", ax=axes[0])
        pa.plot_estimates(idata, "P(score < 40)", ax=axes[1])
        fig.savefig(plot, dpi=100)
        print(f"plot saved to {plot}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small budget (a smoke run)")
    parser.add_argument("--plot", default="prior_sensitivity.png")
    args = parser.parse_args()
    main(draws=3_000 if args.quick else 30_000, plot=args.plot)
