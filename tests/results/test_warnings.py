"""Each reliability warning, on a case built to trigger it, naming the expectation; and
easy cases that must not warn."""

import warnings

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from conftest import within_run

import pymc_ais as pa


def _normal():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
    return model


def test_output_constant_on_every_draw():
    model = _normal()
    with pytest.warns(pa.ReliabilityWarning, match="'never': the output is zero on every final draw"):
        pa.estimate({"never": model["x"] > 50, "m": "x"}, model=model, draws=4_000, random_seed=1, progressbar=False)


def test_few_effective_draws():
    model = _normal()
    with pytest.warns(pa.ReliabilityWarning, match="'m': the estimate rests on fewer than 30 effective draws"):
        # surrogate=None: a chaos would match x exactly and leave nothing to warn about
        idata = pa.estimate(
            {"m": "x"}, model=model, draws=60, random_seed=3, progressbar=False, sampler="mc", surrogate=None
        )
    assert 0 < idata["estimates"]["ess_integrand"].item() < 30


def test_collapsed_rare_event_warns():
    # P(b d > 13.474723) = 1.00e-5 as a black-box callable (no event score, so no
    # multilevel start): this seed's final draws reach the event once, and the estimate
    # (5e-8 +- 5e-8) is far off, with a tiny error bar and no k-hat to compute
    with pm.Model() as model:
        pm.LogNormal("b", 0.0, 0.3)
        pm.Gamma("d", alpha=3.0, beta=2.0)
    event = lambda v: v["b"] * v["d"] > 13.474723
    with pytest.warns(pa.ReliabilityWarning, match="'p': the estimate rests on fewer than 30 effective draws"):
        idata = pa.estimate({"p": event}, model=model, draws=20_000, random_seed=7, progressbar=False)
    assert idata["estimates"]["mean"].item() < 1e-6  # the failure this warning is for


def test_heavy_tailed_weights():
    # theta^2 under a Cauchy input law has an infinite mean: no error bar can be trusted
    with pm.Model() as model:
        pm.StudentT("theta", nu=1.0, mu=0.0, sigma=1.0)
    with pytest.warns(pa.ReliabilityWarning, match="Pareto k-hat above 0.7 for 'sq'"):
        pa.estimate({"sq": lambda d: d["theta"] ** 2}, model=model, draws=6_000, random_seed=3, progressbar=False)


def test_infinite_variance_hidden_from_the_final_sample():
    # |theta| under Student-t(1.2) has a finite mean (7.90) but an infinite variance; in
    # this run a very wide Gaussian component hides the tail from the final draws
    # (their k-hat is below 0.5, the estimate 5.9 +- 0.03), while the i.i.d. initial
    # draws show it
    with pm.Model() as model:
        theta = pm.StudentT("theta", nu=1.2, mu=0.0, sigma=2.0)
    with pytest.warns(pa.ReliabilityWarning, match="Pareto k-hat above 0.7 for 'abs'"):
        idata = pa.estimate({"abs": abs(theta)}, model=model, draws=20_000, random_seed=2, progressbar=False)
    assert idata["estimates"]["pareto_k"].item() > 0.7


@pytest.mark.parametrize("nu", [30.0, 1e6])
def test_light_enough_tails_do_not_warn(recwarn, nu):
    # |theta| under Student-t(30) or a near-normal law has a finite variance
    with pm.Model() as model:
        theta = pm.StudentT("theta", nu=nu, mu=0.0, sigma=2.0)
    pa.estimate({"abs": abs(theta), "m4": theta**4}, model=model, draws=8_000, random_seed=6, progressbar=False)
    assert not [w for w in recwarn if issubclass(w.category, pa.ReliabilityWarning)]


def test_adaptive_phase_stopped_by_its_cap_is_recorded_not_warned(recwarn):
    # the final phase is unbiased with an honest error bar whatever the adaptive phase
    # reached: a capped adaptation is information (attrs), not a reliability problem
    model = _normal()
    idata = pa.estimate(
        {"m": "x"},
        model=model,
        draws=4_000,
        random_seed=4,
        progressbar=False,
        block_fraction=0.25,
        adaptive_fraction=0.3,
    )
    assert idata.attrs["stop_reason"] == "budget"
    assert not [w for w in recwarn if issubclass(w.category, pa.ReliabilityWarning)]


def test_a_clean_run_warns_nothing(recwarn):
    model = _normal()
    pa.estimate({"m2": model["x"] ** 2}, model=model, draws=8_000, random_seed=5, progressbar=False)
    assert not [w for w in recwarn if issubclass(w.category, pa.ReliabilityWarning)]


def test_bounded_means_do_not_warn_and_keep_an_error_bar():
    # E[u], E[b], E[u b] for u ~ Uniform(0, 2), b ~ Beta(2, 3): trivially easy, so no
    # warning on any of 20 seeds; the mean of u is often integrated exactly by the
    # quasi-random final phase, yet its error bar stays positive and covers the truth
    with pm.Model() as model:
        u = pm.Uniform("u", 0.0, 2.0)
        b = pm.Beta("b", 2.0, 3.0)
    truth = np.array([1.0, 0.4, 0.4])
    for seed in range(20):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            idata = pa.estimate(
                {"u": u, "b": b, "ub": u * b}, model=model, draws=5_000, random_seed=seed, progressbar=False
            )
        assert not [w for w in caught if issubclass(w.category, pa.ReliabilityWarning)], seed
        assert np.all(idata["estimates"]["mcse"].values > 0), seed
        within_run(idata, truth)


def test_sobol_of_a_constant_output_is_nan_and_warns_without_losing_the_run():
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 1.0)
        pm.Normal("b", 0.0, 1.0)
    constant = pm.math.abs(a) * 0.0 + 2.0  # depends on a in the graph, constant in value
    with pytest.warns(pa.ReliabilityWarning, match="the output took one value on every draw"):
        idata = pa.sobol(constant, model=model, draws=400, random_seed=0, progressbar=False)
    assert np.isnan(idata["sensitivity"]["mean"].values).all()
    assert idata["sensitivity"].attrs["output_variance"] == 0.0
    assert 0 < idata.attrs["evaluations"] <= 400 and "estimates" in idata.children


def test_a_negative_variance_estimate_leaves_nan_indices():
    from pymc_ais.core.sensitivity.indices import sobol_indices

    mean = np.array([-1e-4, 0.2, 0.3])
    found = sobol_indices(mean, np.eye(3) * 1e-6, 2, ("first",))
    assert np.isnan(found.mean).all() and np.isnan(found.mcse).all()
    assert found.variance == -1e-4 and found.variance_mcse == pytest.approx(1e-3)


def test_a_posterior_whose_evidence_estimate_is_not_positive_is_named():
    from pymc_ais.results.reliability import check_result

    dims = ("model", "expectation")
    coords = {"model": ["wide", "narrow"], "expectation": ["mu", "tau"]}
    estimates = xr.Dataset(
        {
            "mean": (dims, [[0.5, 1.0], [np.nan, np.nan]]),  # posterior() gives NaN for a non-positive evidence
            "pareto_k": (dims, np.zeros((2, 2))),
            "ess_integrand": (dims, np.full((2, 2), 500.0)),
        },
        coords=coords,
    )
    evidence = xr.Dataset({"log_evidence": ("model", [-3.0, np.nan])}, coords={"model": coords["model"]})
    tree = xr.DataTree.from_dict({"estimates": estimates, "evidence": evidence})
    with pytest.warns(pa.ReliabilityWarning, match="law 'narrow': the estimate of the evidence .* is not positive"):
        check_result(tree)
    fine = xr.DataTree.from_dict({"estimates": estimates.isel(model=[0]), "evidence": evidence.isel(model=[0])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_result(fine) == []
