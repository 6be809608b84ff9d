"""Equally weighted draws for ArviZ from a run's weighted final draws."""

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from arviz_stats import psense_summary
from scipy import stats

import pymc_ais as pa

Y = np.array([0.8, 1.9, 1.2, 0.4, 1.5, 2.2, 0.9, 1.1, 1.6, 0.7])


def regression_like(prior_sd):
    with pm.Model(coords={"obs": np.arange(Y.size)}) as model:
        mu = pm.Normal("mu", 0.0, prior_sd)
        pm.Normal("y", mu, 1.0, observed=Y, dims="obs")
    return model


def test_posterior_group_matches_the_exact_posterior():
    idata = pa.estimate({"mu": "mu"}, model=regression_like(2.0), draws=4_000, random_seed=2, progressbar=False)
    post = pa.to_posterior(idata, random_seed=0)
    draws = post["posterior"]["mu"]
    assert draws.dims == ("chain", "draw")
    precision = 1 / 4.0 + Y.size
    mean, sd = Y.sum() / precision, np.sqrt(1 / precision)
    n = draws.sizes["draw"]
    # resampled draws: the mean within 4 standard errors of n i.i.d. posterior draws (resampling adds little)
    assert abs(float(draws.mean()) - mean) < 4 * sd / np.sqrt(n)
    assert abs(float(draws.std()) / sd - 1) < 0.1
    table = az.summary(post)
    assert "mu" in table.index


def test_several_laws_get_a_model_dim_and_vector_outputs_keep_their_dims():
    with pm.Model(coords={"school": np.arange(3)}) as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("theta", mu, 1.0, dims="school")
    other = pa.swap_priors(model, {"mu": pm.Normal.dist(1.0, 1.0)})
    idata = pa.estimate(
        {"theta": "theta"}, models={"a": model, "b": other}, draws=4_000, random_seed=1, progressbar=False
    )
    assert idata["outputs"]["theta"].dims == ("chain", "draw", "school")
    prior = pa.to_posterior(idata, draws=500, random_seed=0)
    assert list(prior.children) == ["prior"]  # no observed data: the laws are priors
    theta = prior["prior"]["theta"]
    assert theta.dims == ("chain", "draw", "model", "school")
    assert theta.sizes["draw"] == 500
    # law b shifts every theta by one: exact means 0 and 1, sd sqrt(2)
    means = theta.mean(dim=("chain", "draw", "school")).values
    assert np.all(np.abs(means - [0.0, 1.0]) < 4 * np.sqrt(2.0) / np.sqrt(500))


def test_same_seed_same_draws_and_bad_draws():
    idata = pa.estimate({"mu": "mu"}, model=regression_like(1.0), draws=2_000, random_seed=0, progressbar=False)
    a, b = pa.to_posterior(idata, random_seed=5), pa.to_posterior(idata, random_seed=5)
    np.testing.assert_array_equal(a["posterior"]["mu"].values, b["posterior"]["mu"].values)
    with pytest.raises(ValueError, match="draws must be a positive integer"):
        pa.to_posterior(idata, draws=0)
    with pytest.raises(ValueError, match="no 'samples' group"):
        pa.to_posterior(idata["estimates"])


def test_log_prior_and_log_likelihood_groups_match_scipy():
    with pm.Model(coords={"obs": np.arange(Y.size)}) as model:
        mu = pm.Normal("mu", 0.0, 2.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu, sigma, observed=Y, dims="obs")
    idata = pa.estimate({"mu": mu}, model=model, draws=3_000, random_seed=3, progressbar=False)
    post = pa.to_posterior(idata, random_seed=0, model=model)
    assert set(post.children) == {"posterior", "log_prior", "log_likelihood"}
    draw = post["posterior"].to_dataset().isel(chain=0, draw=7)
    m, s = float(draw["mu"]), float(draw["sigma"])
    assert float(post["log_prior"]["mu"].isel(chain=0, draw=7)) == pytest.approx(stats.norm(0, 2).logpdf(m), rel=1e-10)
    assert float(post["log_prior"]["sigma"].isel(chain=0, draw=7)) == pytest.approx(
        stats.halfnorm(scale=1.0).logpdf(s), rel=1e-10
    )
    loglik = post["log_likelihood"]["y"].isel(chain=0, draw=7).values
    np.testing.assert_allclose(loglik, stats.norm(m, s).logpdf(Y), rtol=1e-10)
    assert post["log_likelihood"]["y"].dims == ("chain", "draw", "obs")
    psense_summary(post, var_names=["mu"])  # arviz-stats' power-scaling diagnostic runs on these draws


def test_log_prior_and_log_likelihood_of_several_laws_follow_each_laws_prior():
    wide, narrow = regression_like(2.0), regression_like(0.5)
    idata = pa.estimate(
        {"mu": "mu"}, models={"wide": wide, "narrow": narrow}, draws=4_000, random_seed=4, progressbar=False
    )
    post = pa.to_posterior(idata, draws=300, random_seed=0, model={"wide": wide, "narrow": narrow})
    assert post["log_prior"]["mu"].dims == ("chain", "draw", "model")
    assert post["log_likelihood"]["y"].dims == ("chain", "draw", "model", "obs")
    for law, sd in (("wide", 2.0), ("narrow", 0.5)):
        mu = post["posterior"]["mu"].sel(model=law).values[0]
        np.testing.assert_allclose(
            post["log_prior"]["mu"].sel(model=law).values[0], stats.norm(0, sd).logpdf(mu), rtol=1e-10
        )
        loglik = post["log_likelihood"]["y"].sel(model=law).values[0]
        np.testing.assert_allclose(loglik, stats.norm(mu[:, None], 1.0).logpdf(Y), rtol=1e-10)
    with pytest.raises(ValueError, match="pass model= a dict"):
        pa.to_posterior(idata, model=wide)
    with pytest.raises(ValueError, match="no model for law 'narrow'"):
        pa.to_posterior(idata, model={"wide": wide})


@pytest.mark.parametrize("several", [False, True], ids=["one law", "two laws"])
def test_a_posterior_run_stores_the_groups_so_to_posterior_needs_no_model(several, tmp_path):
    wide, narrow = regression_like(2.0), regression_like(0.5)
    laws = {"models": {"wide": wide, "narrow": narrow}} if several else {"model": wide}
    idata = pa.estimate({"mu": "mu"}, draws=3_000, random_seed=6, progressbar=False, **laws)
    assert idata["log_prior"]["mu"].sizes["draw"] == idata["samples"]["mu"].sizes["draw"]
    path = tmp_path / "run.nc"
    idata.to_netcdf(path)
    reread = xr.open_datatree(path)
    stored = pa.to_posterior(reread, random_seed=1)
    computed = pa.to_posterior(idata, random_seed=1, model=laws.get("models", wide))
    for group in ("posterior", "log_prior", "log_likelihood"):
        xr.testing.assert_allclose(stored[group].to_dataset(), computed[group].to_dataset(), rtol=1e-12)
    table = psense_summary(stored, var_names=["mu"])
    assert len(table) == (2 if several else 1)


def test_log_densities_too_large_to_store_are_left_out_with_a_note(monkeypatch):
    from pymc_ais.results import log_densities

    monkeypatch.setattr(log_densities, "MAX_STORED_VALUES", 100)
    idata = pa.estimate({"mu": "mu"}, model=regression_like(1.0), draws=2_000, random_seed=0, progressbar=False)
    assert "log_prior" not in idata.children and "log_likelihood" not in idata.children
    assert "pass model=" in idata.attrs["log_densities"]
    post = pa.to_posterior(idata, random_seed=0)
    assert set(post.children) == {"posterior"}
    with pytest.raises(TypeError, match="log prior not found"):  # arviz-stats' own error
        psense_summary(post, var_names=["mu"])
    thin = pa.estimate(
        {"mu": "mu"}, model=regression_like(1.0), draws=2_000, random_seed=0, keep_draws=False, progressbar=False
    )
    assert "log_prior" not in thin.children


def test_models_with_differently_named_likelihoods_keep_their_result_with_a_note():
    # model comparison: the same free variable under two likelihoods named differently
    with pm.Model() as normal:
        mu = pm.Normal("mu", 0.0, 2.0)
        pm.Normal("y", mu, 1.0, observed=Y)
    with pm.Model() as student:
        mu = pm.Normal("mu", 0.0, 2.0)
        pm.StudentT("y_t", nu=4, mu=mu, sigma=1.0, observed=Y)
    idata = pa.estimate(
        {"mu": "mu"}, models={"normal": normal, "student": student}, draws=3_000, random_seed=2, progressbar=False
    )
    assert "log_likelihood" not in idata.children and "differ in the variables" in idata.attrs["log_densities"]
    assert np.all(np.isfinite(idata["evidence"]["log_evidence"].values))
    post = pa.to_posterior(idata, random_seed=0)
    assert set(post.children) == {"posterior"}
