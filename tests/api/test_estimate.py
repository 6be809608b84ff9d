"""pa.estimate on PyMC models with known truths (tolerance: 4 mcse of the run)."""

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from conftest import within, within_run
from scipy import stats
from scipy.special import factorial2

import pymc_ais as pa
from pymc_ais.core import Settings


def _est(idata):
    ds = idata["estimates"]
    return ds["mean"].values, ds["mcse"].values


def test_gaussian_moments_pymc():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    j = np.arange(1, 11)
    idata = pa.estimate(
        {f"m{2 * k}": x ** (2 * k) for k in j}, model=model, draws=20_000, random_seed=7, progressbar=False
    )
    within_run(idata, factorial2(2 * j - 1))


def test_lognormal_output_of_20d_gaussian():
    a = np.linspace(-0.3, 0.3, 20)
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=20)
        y = pm.Deterministic("y", pm.math.exp(pm.math.dot(x, a)))
    s2 = float(a @ a)
    idata = pa.estimate(
        {"mean": y, "m2": y**2, "m3": y**3}, model=model, draws=10_000, random_seed=2, progressbar=False
    )
    within_run(idata, np.exp(np.array([1, 4, 9]) * s2 / 2))


def test_exceedance_probability_near_one_percent():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=2)
        s = pm.Deterministic("s", x.sum() / np.sqrt(2.0))
    level = 2.33
    idata = pa.estimate({"p": s > level}, model=model, draws=10_000, random_seed=3, progressbar=False)
    mean, mcse = _est(idata)
    within_run(idata, [stats.norm.sf(level)])
    # far better than Monte Carlo's relative error at this budget
    p = stats.norm.sf(level)
    assert mcse[0] < 0.5 * np.sqrt(p * (1 - p) / 10_000)


def test_bounded_inputs_closed_form():
    with pm.Model() as model:
        u = pm.Uniform("u", 0.0, 2.0)
        b = pm.Beta("b", 2.0, 3.0)
    idata = pa.estimate(
        {"ub": u * b, "b2": b**2, "u_high": u > 1.5, "u": "u"},
        model=model,
        draws=8_000,
        random_seed=4,
        progressbar=False,
    )
    within_run(idata, [1.0 * 0.4, 0.04 + 0.16, 0.25, 1.0])


def test_signed_output_with_zero_mean_pymc():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
        y = pm.Normal("y", 1.0, 2.0)
    idata = pa.estimate(
        {"x": "x", "xy": x * y, "shift": y - 1}, model=model, draws=8_000, random_seed=5, progressbar=False
    )
    within_run(idata, [0.0, 0.0, 0.0])


def _mostly_positive_sum():
    # s ~ N(2.5, 1): a signed output whose negative part is tiny (E[s; s < 0] ~ -2e-3)
    with pm.Model() as model:
        x = pm.Normal("x", 2.5 / np.sqrt(3), 1.0, shape=3)
    s = x.sum() / np.sqrt(3)
    truth = [2.5, stats.norm.sf(1.5), 1.0 + 2.5**2]
    return model, {"s": s, "p": s > 4, "s2": s**2}, truth


def test_near_zero_negative_part_does_not_take_the_mixture():
    # relative weights are per expectation (1 / E|phi|^2), not per signed part: with
    # 1 / I_-^2 the negative part took 99.9 % of the criterion and a third of the
    # mixture, and E[s] came out 3x less precise than plain Monte Carlo
    model, expectations, truth = _mostly_positive_sum()
    idata = pa.estimate(expectations, model=model, draws=5_000, random_seed=0, progressbar=False)
    within_run(idata, truth)
    weights = idata["adaptation"]["target_weight"].to_series()
    assert weights["s(-)"] == weights["s(+)"]
    assert weights["s(-)"] < 0.01


def test_nearly_collinear_control_variates_stay_honest():
    # the adaptive control variates regressed on all but two tiny components put a
    # coefficient of about 780 alpha on the combination that sums to almost zero; seed
    # 46 gave E[s] = 1.82 +- 0.017 (truth 2.5) with no warning
    model, expectations, truth = _mostly_positive_sum()
    for seed in range(40, 60):
        idata = pa.estimate(expectations, model=model, draws=5_000, random_seed=seed, progressbar=False, sampler="mc")
        within_run(idata, truth)


def test_scales_one_and_a_billion():
    with pm.Model() as model:
        x = pm.Gamma("x", 2.0, 1.0)
    idata = pa.estimate({"one": x, "billion": 1e9 * x}, model=model, draws=6_000, random_seed=6, progressbar=False)
    mean, mcse = _est(idata)
    within_run(idata, [2.0, 2e9])
    np.testing.assert_allclose(mean[1] / 1e9, mean[0], rtol=1e-9)


def test_zero_on_every_draw_does_not_break_the_rest():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    idata = pa.estimate({"never": x > 50, "m2": x**2}, model=model, draws=6_000, random_seed=8, progressbar=False)
    mean, mcse = _est(idata)
    assert mean[0] == 0.0
    within(mean[1:], mcse[1:], [1.0], df=idata["estimates"].attrs["replicates"] - 1)


# one model with every continuous distribution the adapter must handle; analytic means
def _zoo():
    with pm.Model() as model:
        pm.Normal("normal", 1.0, 2.0)
        pm.LogNormal("lognormal", 0.1, 0.4)
        pm.Uniform("uniform", -1.0, 3.0)
        pm.Beta("beta", 2, 5)
        pm.Gamma("gamma", alpha=3, beta=2)
        pm.HalfNormal("halfnormal", 1.5)
        pm.StudentT("studentt", nu=5, mu=0.5, sigma=1.0)
        pm.MvNormal("mvnormal", mu=np.array([0.0, 1.0]), cov=np.array([[1.0, 0.5], [0.5, 2.0]]))
        pm.Dirichlet("dirichlet", a=np.array([1.0, 2.0, 3.0]))
    means = {
        "normal": [1.0],
        "lognormal": [np.exp(0.1 + 0.08)],
        "uniform": [1.0],
        "beta": [2 / 7],
        "gamma": [1.5],
        "halfnormal": [1.5 * np.sqrt(2 / np.pi)],
        "studentt": [0.5],
        "mvnormal": [0.0, 1.0],
        "dirichlet": [1 / 6, 2 / 6, 3 / 6],
    }
    return model, means


def test_distribution_zoo_means():
    model, means = _zoo()
    idata = pa.estimate({k: k for k in means}, model=model, draws=6_000, random_seed=9, progressbar=False)
    mean, mcse = _est(idata)
    within_run(idata, np.concatenate([means[k] for k in means]))


_expit_jacobian = lambda p: np.log(p) + np.log1p(-p)
LOG_DENSITY_CASES = {
    "normal": (lambda: pm.Normal("v", 1.0, 2.0), lambda v: stats.norm(1, 2).logpdf(v)),
    "lognormal": (
        lambda: pm.LogNormal("v", 0.1, 0.4),
        lambda v: stats.lognorm(0.4, scale=np.exp(0.1)).logpdf(v) + np.log(v),
    ),
    "uniform": (
        lambda: pm.Uniform("v", -1.0, 3.0),
        lambda v: stats.uniform(-1, 4).logpdf(v) + np.log(4) + _expit_jacobian((v + 1) / 4),
    ),
    "beta": (lambda: pm.Beta("v", 2, 5), lambda v: stats.beta(2, 5).logpdf(v) + _expit_jacobian(v)),
    "gamma": (lambda: pm.Gamma("v", alpha=3, beta=2), lambda v: stats.gamma(3, scale=0.5).logpdf(v) + np.log(v)),
    "halfnormal": (lambda: pm.HalfNormal("v", 1.5), lambda v: stats.halfnorm(scale=1.5).logpdf(v) + np.log(v)),
    "studentt": (lambda: pm.StudentT("v", nu=5, mu=0.5, sigma=1.0), lambda v: stats.t(5, 0.5, 1.0).logpdf(v)),
    "mvnormal": (
        lambda: pm.MvNormal("v", mu=np.array([0.0, 1.0]), cov=np.array([[1.0, 0.5], [0.5, 2.0]])),
        lambda v: stats.multivariate_normal([0, 1], [[1, 0.5], [0.5, 2]]).logpdf(v),
    ),
}


@pytest.mark.parametrize("case", list(LOG_DENSITY_CASES))
def test_log_density_is_float64_accurate(case):
    """log f in the unconstrained space = scipy's log pdf + log-Jacobian, to 1e-12.

    Python scalars in the model (int8/float32 constants in PyTensor) must not leave
    float32 rounding in the log-density. The Dirichlet's simplex Jacobian is covered by
    the moment test above.
    """
    from pymc_ais.model import build

    make, reference = LOG_DENSITY_CASES[case]
    with pm.Model() as model:
        make()
    mp = build({"v": "v"}, model)
    z = mp.problem.sample_initial(np.random.default_rng(1), 50)
    log_f, _ = mp.problem.evaluate(z)
    np.testing.assert_allclose(log_f[:, 0], reference(mp.natural(z)["v"]), rtol=1e-12, atol=1e-12)


def test_compile_modes_agree():
    with pm.Model() as model:
        x = pm.LogNormal("x", 0.0, 0.5)
        y = pm.Normal("y", x, 1.0)
    exprs = {"xy": x * y, "p": y > 2}
    results = [
        _est(pa.estimate(exprs, model=model, draws=3_000, random_seed=10, progressbar=False, compile_kwargs=kw))[0]
        for kw in (None, {"mode": "NUMBA"}, {"mode": "C"})
    ]
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10)
    np.testing.assert_allclose(results[2], results[0], rtol=1e-10)


def test_datatree_groups_and_netcdf_round_trip(tmp_path):
    with pm.Model(coords={"k": ["a", "b", "c"]}) as model:
        x = pm.Normal("x", 0.0, 1.0, dims="k")
        s = pm.HalfNormal("s", 1.0)
    idata = pa.estimate(
        {"sx": s * x, "s": "s", "bb": lambda d: d["x"] ** 2 + d["s"][:, None]},
        model=model,
        draws=3_000,
        random_seed=11,
        progressbar=False,
    )
    for group in ("estimates", "samples", "log_weights", "outputs", "adaptation"):
        assert group in idata.children
    est = idata["estimates"]
    assert list(est["expectation"].values) == ["sx[0]", "sx[1]", "sx[2]", "s", "bb[0]", "bb[1]", "bb[2]"]
    assert est["covariance"].shape == (7, 7)
    np.testing.assert_allclose(np.sqrt(np.diag(est["covariance"].values)), est["mcse"].values)
    samples = idata["samples"]
    assert samples["x"].dims == ("chain", "draw", "k") and list(samples["k"].values) == ["a", "b", "c"]
    assert samples.attrs["weighted"] == 1 and "NOT from the input law" in samples.attrs["description"]
    # the weights turn the proposal's draws into the input law's: E[s] = E|N(0, 1)| = sqrt(2/pi)
    weights = np.exp(idata["log_weights"]["log_weight"].values[0])
    w = weights / weights.sum()
    s_values = samples["s"].values[0]
    self_normalised = w @ s_values
    # its standard error: the weighted spread over Kish's effective sample size
    se = np.sqrt(w @ (s_values - self_normalised) ** 2 / (1 / np.sum(w**2)))
    assert abs(self_normalised - np.sqrt(2 / np.pi)) < 4 * se
    n = samples.sizes["draw"]
    attrs = idata.attrs
    assert n == attrs["evaluations_final"]
    assert attrs["evaluations"] == attrs["evaluations_pilot"] + attrs["evaluations_adaptive"] + n
    # the quasi-random final phase uses whole replicates of a power of two: at most one
    # replicate's worth of the budget stays unused
    replicates = est.attrs["replicates"]
    assert replicates >= Settings.replicates and 0 <= attrs["budget"] - attrs["evaluations"] < n // replicates
    # the outputs are rebuilt as residual + chaos, exact to the chaos's rounding (1e-16 of
    # its scale, here about 1), which a draw of s near 0 sees as a relative error
    np.testing.assert_allclose(idata["outputs"]["s"].values[0], samples["s"].values[0], atol=1e-15)
    np.testing.assert_allclose(
        idata["outputs"]["bb"].values[0], samples["x"].values[0] ** 2 + samples["s"].values[0][:, None]
    )
    within_run(
        idata, [0, 0, 0, np.sqrt(2 / np.pi), 1 + np.sqrt(2 / np.pi), 1 + np.sqrt(2 / np.pi), 1 + np.sqrt(2 / np.pi)]
    )
    import arviz as az

    stats_table = az.summary(idata, group="samples", kind="stats")  # ArviZ works on samples
    assert "s" in stats_table.index
    path = tmp_path / "result.nc"
    idata.to_netcdf(path)
    assert xr.open_datatree(path).identical(idata)
    table = pa.summary(idata)
    assert list(table.index) == list(est["expectation"].values)
    np.testing.assert_allclose(table["mean"].values, est["mean"].values)


def test_context_model_and_single_phi():
    with pm.Model():
        x = pm.Normal("x", 2.0, 1.0)
        idata = pa.estimate(x, draws=2_000, random_seed=12, progressbar=False)
    assert list(idata["estimates"]["expectation"].values) == ["x"]
    within_run(idata, [2.0])


def test_same_seed_same_result():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    a = pa.estimate({"m": x**2}, model=model, draws=2_000, random_seed=13, progressbar=False)
    b = pa.estimate({"m": x**2}, model=model, draws=2_000, random_seed=13, progressbar=False)
    assert a["estimates"]["mean"].item() == b["estimates"]["mean"].item()


def test_user_weights_array():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    idata = pa.estimate(
        {"m2": x**2, "m4": x**4},
        model=model,
        draws=4_000,
        weights=[1.0, 0.01],
        random_seed=14,
        progressbar=False,
        surrogate=None,  # the sampler's criterion weights, which a chaos's plain residual run skips
    )
    within_run(idata, [1.0, 3.0])
    np.testing.assert_allclose(idata["adaptation"]["target_weight"].values, np.array([1.0, 0.01]) / 1.01)
