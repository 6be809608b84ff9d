"""Posterior expectations, evidences and Bayes factors against closed-form truths.

Every check is within 4 reported standard errors of an exact value (conjugate models,
a Potential with a Gaussian answer, 1-D quadrature), so it fails when an estimate or
its error bar is wrong.
"""

import warnings

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from conftest import within_run
from pymc.exceptions import ImputationWarning
from scipy import integrate, stats
from scipy.special import betaln, gammaln

import pymc_ais as pa

Y = np.array([0.8, 1.9, 1.2, 0.4, 1.5, 2.2, 0.9, 1.1, 1.6, 0.7])
PRIOR_SDS = {"tight": 0.5, "medium": 2.0, "wide": 10.0}


def normal_model(prior_sd: float) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, prior_sd)
        pm.Normal("y", mu, 1.0, observed=Y)
    return model


def normal_truth(prior_sd: float) -> dict:
    precision = 1.0 / prior_sd**2 + Y.size
    mean, var = Y.sum() / precision, 1.0 / precision
    cov = np.eye(Y.size) + prior_sd**2
    return {
        "mu": mean,
        "mu2": var + mean**2,
        "p": stats.norm(mean, np.sqrt(var)).sf(1.5),
        "log_evidence": stats.multivariate_normal(np.zeros(Y.size), cov).logpdf(Y),
    }


def within(est, truth, k=4.0):
    return abs(float(est["mean"]) - truth) <= k * float(est["mcse"])


def test_normal_normal_under_three_priors():
    models = {name: normal_model(sd) for name, sd in PRIOR_SDS.items()}
    mu = models["tight"]["mu"]
    idata = pa.estimate(
        {"mu": mu, "mu2": mu**2, "p": mu > 1.5}, models=models, draws=6_000, random_seed=3, progressbar=False
    )
    est, ev = idata["estimates"].to_dataset(), idata["evidence"].to_dataset()
    for name, sd in PRIOR_SDS.items():
        truth = normal_truth(sd)
        for q in ("mu", "mu2", "p"):
            cell = est.sel(model=name, expectation=q)
            assert within(cell, truth[q]), (name, q, float(cell["mean"]), truth[q], float(cell["mcse"]))
        cell = ev.sel(model=name)
        assert abs(float(cell["log_evidence"]) - truth["log_evidence"]) <= 4 * float(cell["mcse"]), name
    assert idata.attrs["evaluations"] <= 6_000
    assert idata.attrs["evaluations_search"] > 0
    bf = pa.bayes_factors(idata)
    exact = normal_truth(0.5)["log_evidence"] - normal_truth(10.0)["log_evidence"]
    row = bf.loc[("tight", "wide")]
    assert abs(row["log_bf"] - exact) <= 4 * row["mcse"]
    assert bf.loc[("wide", "tight"), "log_bf"] == pytest.approx(-row["log_bf"])


BETA_PRIORS = {"uniform": (1.0, 1.0), "jeffreys": (0.5, 0.5), "informative": (8.0, 4.0)}
TRIALS, SUCCESSES = 20, 7


def test_beta_binomial_with_a_discrete_observed_variable():
    def model(a, b):
        with pm.Model() as m:
            p = pm.Beta("p", a, b)
            pm.Binomial("k", n=TRIALS, p=p, observed=SUCCESSES)
        return m

    models = {name: model(*ab) for name, ab in BETA_PRIORS.items()}
    idata = pa.estimate({"p": "p"}, models=models, draws=4_000, random_seed=5, progressbar=False)
    for name, (a, b) in BETA_PRIORS.items():
        post_a, post_b = a + SUCCESSES, b + TRIALS - SUCCESSES
        cell = idata["estimates"].to_dataset().sel(model=name, expectation="p")
        assert within(cell, post_a / (post_a + post_b)), name
        log_choose = gammaln(TRIALS + 1) - gammaln(SUCCESSES + 1) - gammaln(TRIALS - SUCCESSES + 1)
        exact = log_choose + betaln(post_a, post_b) - betaln(a, b)
        ev = idata["evidence"].to_dataset().sel(model=name)
        assert abs(float(ev["log_evidence"]) - exact) <= 4 * float(ev["mcse"]), name


def test_potential_is_part_of_the_posterior():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
        pm.Potential("penalty", -(x**2))
    idata = pa.estimate({"x2": x**2}, model=model, draws=3_000, random_seed=2, progressbar=False)
    assert within(idata["estimates"].to_dataset().sel(expectation="x2"), 1 / 3)
    ev = idata["evidence"].to_dataset()
    assert abs(float(ev["log_evidence"]) - np.log(1 / np.sqrt(3.0))) <= 4 * float(ev["mcse"])


def test_likelihood_minus_infinity_on_part_of_the_prior():
    # y ~ Uniform(0, x): the likelihood is 1/x for x > 0.5 and zero elsewhere
    with pm.Model() as model:
        x = pm.Normal("x", 1.0, 1.0)
        pm.Uniform("y", 0.0, x, observed=0.5)
    idata = pa.estimate({"x": "x"}, model=model, draws=4_000, random_seed=4, progressbar=False)
    density = lambda v: stats.norm(1.0, 1.0).pdf(v) / v
    z = integrate.quad(density, 0.5, np.inf)[0]
    mean = integrate.quad(lambda v: v * density(v), 0.5, np.inf)[0] / z
    cell = idata["estimates"].to_dataset().sel(expectation="x")
    assert np.isfinite(float(cell["mean"])) and within(cell, mean)
    ev = idata["evidence"].to_dataset()
    assert abs(float(ev["log_evidence"]) - np.log(z)) <= 4 * float(ev["mcse"])
    assert np.isneginf(idata["log_weights"]["log_weight"].values).any()  # weights there are zero


def test_data_impossible_under_one_law_name_that_law():
    def model(upper):
        with pm.Model() as m:
            theta = pm.Uniform("theta", 0.0, upper)
            pm.Uniform("y", 0.0, theta, observed=np.array([2.0, 1.5]))  # needs theta >= 2
        return m

    with pytest.raises(ValueError, match="law 'narrow': .* the observed data are impossible under this prior"):
        pa.estimate({"t": "theta"}, models={"wide": model(5.0), "narrow": model(1.0)}, draws=3_000, progressbar=False)
    with pytest.raises(ValueError, match="^the posterior's log-density is -inf"):  # one law: nothing to name
        pa.estimate({"t": "theta"}, model=model(1.0), draws=3_000, progressbar=False)


def test_init_draws_place_the_start_without_a_mode_search():
    truth = normal_truth(2.0)
    precision = 1.0 / 2.0**2 + Y.size
    rng = np.random.default_rng(0)
    draws = rng.normal(Y.sum() / precision, np.sqrt(1 / precision), size=(2, 200))
    init = xr.DataTree.from_dict({"posterior": xr.Dataset({"mu": (("chain", "draw"), draws)})})
    idata = pa.estimate({"mu": "mu"}, model=normal_model(2.0), init=init, draws=3_000, random_seed=1, progressbar=False)
    assert idata.attrs["evaluations_search"] == 2 * 50  # the pilot alone: 50 draws from the start and the prior
    assert idata.attrs["posterior_start"] == "init draws"
    assert within(idata["estimates"].to_dataset().sel(expectation="mu"), truth["mu"])


def test_improper_prior_gives_posterior_means_but_no_evidence():
    with pm.Model() as flat:
        mu = pm.Flat("mu")
        pm.Normal("y", mu, 1.0, observed=Y)
    idata = pa.estimate({"mu": mu}, model=flat, draws=3_000, random_seed=1, progressbar=False)
    assert within(idata["estimates"].to_dataset().sel(expectation="mu"), Y.mean())
    assert np.isnan(float(idata["evidence"]["log_evidence"]))
    assert "undefined (NaN) under an improper prior (f: mu)" in idata["evidence"].attrs["note"]
    both = pa.estimate(
        {"mu": "mu"}, models={"flat": flat, "normal": normal_model(2.0)}, draws=3_000, random_seed=1, progressbar=False
    )
    with pytest.raises(ValueError, match="improper prior \\(flat: mu\\)"):
        pa.bayes_factors(both)


def test_barely_overlapping_posteriors_are_right_or_warned():
    def model(centre):
        with pm.Model() as m:
            mu = pm.Normal("mu", centre, 0.3)
            pm.Normal("y", mu, 1.0, observed=Y)
        return m

    models = {"low": model(-3.0), "high": model(5.0)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        idata = pa.estimate({"mu": "mu"}, models=models, draws=4_000, random_seed=7, progressbar=False)
    warned = any(issubclass(w.category, pa.ReliabilityWarning) for w in caught)
    for name, centre in (("low", -3.0), ("high", 5.0)):
        precision = 1 / 0.3**2 + Y.size
        exact = (centre / 0.3**2 + Y.sum()) / precision
        assert warned or within(idata["estimates"].to_dataset().sel(model=name, expectation="mu"), exact)


def test_missing_observations_are_named():
    with pytest.warns(ImputationWarning):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, 1.0)
            pm.Normal("y", mu, 1.0, observed=np.array([0.3, np.nan, 1.0]))
    with pytest.raises(ValueError, match="observed variable 'y' has missing values.*'y_unobserved'"):
        pa.estimate({"mu": mu}, model=model, draws=2_000, progressbar=False)


def test_prior_and_posterior_laws_do_not_mix():
    with pm.Model() as prior_only:
        pm.Normal("mu", 0.0, 1.0)
    with pytest.raises(ValueError, match="law 'prior' is a prior .* the first law is a posterior"):
        pa.estimate(
            {"mu": "mu"}, models={"post": normal_model(1.0), "prior": prior_only}, draws=2_000, progressbar=False
        )


def test_free_variables_must_match_between_posteriors():
    with pm.Model() as other:
        mu = pm.Normal("mu", 0.0, 1.0)
        s = pm.HalfNormal("s", 1.0)
        pm.Normal("y", mu, s, observed=Y)
    with pytest.raises(ValueError, match="extra free variable 's'"):
        pa.estimate({"mu": "mu"}, models={"a": normal_model(1.0), "b": other}, draws=2_000, progressbar=False)


def test_options_that_do_not_apply_to_posteriors():
    with pytest.raises(ValueError, match="is not available for posteriors"):
        pa.estimate({"mu": "mu"}, model=normal_model(1.0), surrogate="polynomial", draws=4_000, progressbar=False)
    with pm.Model() as prior_only:
        pm.Normal("mu", 0.0, 1.0)
    with pytest.raises(ValueError, match="init= places the start of a run on a posterior"):
        pa.estimate({"mu": "mu"}, model=prior_only, init=object(), draws=2_000, progressbar=False)
    with pytest.raises(ValueError, match="Bayes factors compare laws"):
        pa.bayes_factors(
            pa.estimate({"mu": "mu"}, model=normal_model(1.0), draws=2_000, random_seed=0, progressbar=False)
        )


def test_draws_too_small_for_the_search():
    with pytest.raises(ValueError, match="too small to find the posterior"):
        pa.estimate({"mu": "mu"}, model=normal_model(1.0), draws=100, progressbar=False)


def test_grid_of_prior_hyper_parameters():
    with pm.Model() as model:
        scale = pm.Data("scale", 1.0)
        mu = pm.Normal("mu", 0.0, scale)
        pm.Normal("y", mu, 1.0, observed=Y)
    scales = np.array([0.5, 1.0, 2.0, 4.0])
    idata = pa.estimate(
        {"mu": mu}, models=pa.grid(model, {"scale": scales}), draws=6_000, random_seed=1, progressbar=False
    )
    for i, sd in enumerate(scales):
        truth = normal_truth(sd)
        assert within(idata["estimates"].to_dataset().isel(model=i, expectation=0), truth["mu"]), sd
        ev = idata["evidence"].to_dataset().isel(model=i)
        assert abs(float(ev["log_evidence"]) - truth["log_evidence"]) <= 4 * float(ev["mcse"]), sd


def test_same_seed_same_posterior_bitwise():
    models = {name: normal_model(sd) for name, sd in PRIOR_SDS.items()}
    runs = [
        pa.estimate({"mu": "mu"}, models=models, draws=3_000, random_seed=11, progressbar=False) for _ in range(2)
    ]  # the second run hits every compile cache
    for group, var in (("estimates", "mean"), ("estimates", "mcse"), ("evidence", "log_evidence")):
        np.testing.assert_array_equal(runs[0][group][var].values, runs[1][group][var].values)
    assert runs[0].attrs["evaluations"] == runs[1].attrs["evaluations"]


def test_a_callable_expectation_of_a_posterior_matches_the_exact_mean():
    # mu ~ N(0, 1), three unit-variance observations summing to 3: the posterior mean is 3 / 4
    with pm.Model() as post:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=np.array([0.5, 1.5, 1.0]))
    idata = pa.estimate({"m": lambda v: v["mu"]}, model=post, draws=3000, random_seed=1, progressbar=False)
    est = idata["estimates"].sel(expectation="m")
    assert abs(float(est["mean"]) - 0.75) <= 4 * float(est["mcse"])


def test_several_tail_probabilities_of_a_posterior_keep_their_precision():
    # Two tail events and their union under a posterior (P about 2.3e-3 each): the final
    # mixture keeps the small components that cover the bulk, so that every probability
    # (a ratio over the evidence) stays as precise as its event's draws allow.
    with pm.Model():
        x = pm.Normal("x", 0.0, 1.0, shape=2)
        pm.Normal("y", x, 1.0, observed=np.ones(2))
        t = 2.5
        events = {"a": x[0] > t, "b": x[1] > t, "either": (x[0] > t) | (x[1] > t)}
        idata = pa.estimate(events, draws=20_000, random_seed=0, progressbar=False)
    p = stats.norm(0.5, np.sqrt(0.5)).sf(t)
    truth = {"a": p, "b": p, "either": 1.0 - (1.0 - p) ** 2}
    for name, value in truth.items():
        cell = idata["estimates"].to_dataset().sel(expectation=name)
        assert within(cell, value), (name, float(cell["mean"]), value, float(cell["mcse"]))
        assert float(cell["mcse"]) < 0.02 * value, name
    log_z = 2 * stats.norm.logpdf(1.0, 0.0, np.sqrt(2.0))
    assert abs(float(idata["evidence"]["log_evidence"]) - log_z) <= 4 * float(idata["evidence"]["mcse"])


def test_tail_probabilities_of_a_thirty_coefficient_posterior_are_precise():
    # A Gaussian regression posterior over 30 coefficients, two tail events at 2e-3 and
    # their union. The first block reaches each event with a few effective draws; the
    # events' fits take the posterior's own fit as reference (not the wide starting
    # law), so the draws stay near the events in all 30 directions.
    rng = np.random.default_rng(0)
    dim, n = 30, 60
    design = rng.standard_normal((n, dim)) / np.sqrt(dim)
    y = design @ (0.5 * rng.standard_normal(dim)) + rng.standard_normal(n)
    cov = np.linalg.inv(design.T @ design + np.eye(dim))
    mean = cov @ design.T @ y
    sd = np.sqrt(np.diag(cov)[:2])
    t = mean[:2] + stats.norm.isf(2e-3) * sd
    with pm.Model():
        beta = pm.Normal("beta", 0.0, 1.0, shape=dim)
        pm.Normal("y", pm.math.dot(design, beta), 1.0, observed=y)
        a, b = beta[0] > t[0], beta[1] > t[1]
        with warnings.catch_warnings():
            warnings.simplefilter("error", pa.ReliabilityWarning)  # the old fits warned three times here
            idata = pa.estimate({"a": a, "b": b, "either": a | b}, draws=20_000, random_seed=0, progressbar=False)
    both = stats.multivariate_normal(-mean[:2], cov[:2, :2]).cdf(-t)
    truth = {"a": 2e-3, "b": 2e-3, "either": 4e-3 - both}
    for name, value in truth.items():
        cell = idata["estimates"].to_dataset().sel(expectation=name)
        assert within(cell, value), (name, float(cell["mean"]), value, float(cell["mcse"]))
        assert float(cell["mcse"]) < 0.1 * value, name  # 0.2 to 0.4 before, with warnings


@pytest.mark.parametrize("form", ["shape", "dims"])
def test_a_centred_random_effect_with_a_sized_constant_mean(form):
    """``pm.Normal("th", 0.0, tau, shape=3)``: its size beside a batched scale used to stop the run.

    E[tau | y] against one-dimensional quadrature (y_i ~ N(0, tau^2 + 1) once th is integrated out).
    """
    y = np.array([0.5, -0.2, 1.0])
    with pm.Model(coords={"g": ["a", "b", "c"]}) as model:
        tau = pm.HalfNormal("tau", 1.0)
        th = pm.Normal("th", 0.0, tau, shape=3) if form == "shape" else pm.Normal("th", 0.0, tau, dims="g")
        pm.Normal("y", th, 1.0, observed=y)

    def density(t):  # the marginal posterior of tau, unnormalised: y_i ~ N(0, tau^2 + 1)
        return stats.halfnorm.pdf(t) * np.prod(stats.norm.pdf(y, 0.0, np.sqrt(t**2 + 1.0)))

    z, _ = integrate.quad(density, 0.0, 12.0, epsabs=1e-13)
    m1, _ = integrate.quad(lambda t: t * density(t), 0.0, 12.0, epsabs=1e-13)
    idata = pa.estimate({"tau": "tau"}, model=model, draws=5_000, random_seed=0, progressbar=False)
    within_run(idata, np.array([m1 / z]))
    ev = idata["evidence"].to_dataset()
    assert abs(float(ev["log_evidence"].values.ravel()[0]) - np.log(z)) <= 4 * float(ev["mcse"].values.ravel()[0])
