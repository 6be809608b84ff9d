"""Several input laws from one shared sample: ``models=``."""

import numpy as np
import pymc as pm
import pytest
from conftest import within_run

import pymc_ais as pa


def _law(mu, sigma=1.0, scale=0.3):
    with pm.Model() as model:
        pm.Normal("x", mu, sigma)
        pm.LogNormal("s", 0.0, scale)
    return model


def test_shifted_gaussian_laws_analytic():
    mus = [0.0, 0.5, 1.0, 2.0]
    laws = {f"mu={mu}": _law(mu) for mu in mus}
    idata = pa.estimate(
        {"x": "x", "exp_x": lambda d: np.exp(d["x"]), "xs": lambda d: d["x"] * d["s"]},
        models=laws,
        draws=12_000,
        random_seed=21,
        progressbar=False,
    )
    est = idata["estimates"]
    assert est["mean"].dims == ("model", "expectation")
    assert list(est["model"].values) == list(laws)
    mus = np.array(mus)
    truth = np.stack([mus, np.exp(mus + 0.5), mus * np.exp(0.045)], axis=1)
    within_run(idata, truth)
    assert idata["log_weights"]["log_weight"].dims == ("model", "chain", "draw")
    table = pa.summary(idata)
    assert table.index.names == ["model", "expectation"] and len(table) == 12


def test_laws_with_different_distributions():
    with pm.Model() as normal:
        pm.Normal("theta", 0.0, 2.0)
    with pm.Model() as student:
        pm.StudentT("theta", nu=5, mu=0.0, sigma=2.0)
    idata = pa.estimate(
        {"sq": "theta"}, models={"normal": normal, "student": student}, draws=8_000, random_seed=22, progressbar=False
    )
    within_run(idata, [[0.0], [0.0]])
    sq = pa.estimate(
        {"sq": normal["theta"] ** 2},
        models={"normal": normal, "student": student},
        draws=8_000,
        random_seed=23,
        progressbar=False,
    )
    within_run(sq, [[4.0], [4.0 * 5 / 3]])


@pytest.mark.parametrize(
    "other, message",
    [
        (lambda: pm.Normal("y", 0.0, 1.0), "no free variable 'x'"),
        (lambda: pm.HalfNormal("x", 1.0), "supports \\(value transforms\\) differ"),
        (lambda: pm.Normal("x", 0.0, 1.0, shape=2), "has shape \\(2,\\) in law 'bad'"),
    ],
)
def test_mismatched_laws(other, message):
    with pm.Model() as good:
        pm.Normal("x", 0.0, 1.0)
    with pm.Model() as bad:
        other()
    with pytest.raises(ValueError, match=message):
        pa.estimate("x", models={"good": good, "bad": bad}, draws=2_000, progressbar=False)


def _data_model():
    with pm.Model() as model:
        mu = pm.Data("mu", 0.0)
        sd = pm.Data("sd", 1.0)
        x = pm.Normal("x", mu, sd)
        pm.Normal("y", 0.0, 1.0)
    return model, x


def test_hyperparameter_grid_analytic():
    model, x = _data_model()
    laws = pa.sample_grid(model, {"mu": (-1.0, 1.0), "sd": (0.5, 1.5)}, n=40, random_seed=0)
    idata = pa.estimate({"x": x, "ex": pm.math.exp(x)}, models=laws, draws=12_000, random_seed=24, progressbar=False)
    est = idata["estimates"]
    mu, sd = laws.table["mu"], laws.table["sd"]
    np.testing.assert_allclose(est["mu"].values, mu)  # the law parameters are coordinates
    within_run(idata, np.stack([mu, np.exp(mu + sd**2 / 2)], axis=1))


def test_grid_compiles_once_whatever_its_size(monkeypatch):
    import pytensor

    calls = []
    original = pytensor.function

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pytensor, "function", counting)
    counts = []
    for size in (3, 200):
        model, x = _data_model()
        calls.clear()
        laws = pa.grid(model, {"mu": np.linspace(-1, 1, size), "sd": np.linspace(0.5, 1.5, size)})
        idata = pa.estimate({"x": x}, models=laws, draws=4_000, random_seed=25, progressbar=False)
        assert idata["estimates"]["mean"].shape == (size, 1)
        counts.append(len(calls))
    assert counts[0] == counts[1] > 0


def test_set_data_is_seen_by_cached_functions():
    model, x = _data_model()
    first = pa.estimate({"x": x}, model=model, draws=4_000, random_seed=26, progressbar=False)
    within_run(first, [0.0])
    pm.set_data({"mu": 3.0}, model=model)
    second = pa.estimate({"x": x}, model=model, draws=4_000, random_seed=26, progressbar=False)
    within_run(second, [3.0])


def test_grid_errors():
    model, _ = _data_model()
    with pytest.raises(ValueError, match="'sigma' is not a pm.Data container"):
        pa.grid(model, {"sigma": [1.0, 2.0]})
    with pytest.raises(ValueError, match="has 3 rows, others have 2"):
        pa.grid(model, {"mu": [0.0, 1.0], "sd": [1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="unknown method='sobol'"):
        pa.sample_grid(model, {"mu": (0, 1)}, n=4, method="sobol")


def test_swap_priors_changes_only_the_named_prior():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 3.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu, sigma)
    robust = pa.swap_priors(
        model, {"mu": pm.StudentT.dist(nu=5, mu=1.0, sigma=2.0), "sigma": lambda: pm.Exponential.dist(2.0)}
    )
    assert robust is not model and [rv.name for rv in model.free_RVs] == ["mu", "sigma", "y"]
    assert sorted(v.name for v in robust.value_vars) == ["mu", "sigma_log__", "y"]
    idata = pa.estimate(
        {"y": "y", "sigma": "sigma"},
        models={"base": model, "robust": robust},
        draws=8_000,
        random_seed=27,
        progressbar=False,
    )
    within_run(idata, [[0.0, np.sqrt(2 / np.pi)], [1.0, 0.5]])


def test_swap_priors_errors():
    with pm.Model() as model:
        pm.Normal("mu", 0.0, 3.0, shape=2)
    with pytest.raises(ValueError, match="'nu' is not a free variable"):
        pa.swap_priors(model, {"nu": pm.Normal.dist()})
    with pytest.raises(ValueError, match="has shape \\(3,\\), the variable has shape \\(2,\\)"):
        pa.swap_priors(model, {"mu": pm.Normal.dist(shape=3)})
    with pytest.raises(TypeError, match="made with .dist"):
        pa.swap_priors(model, {"mu": 3.0})


def test_scale_coordinates_are_the_scalar_log_transformed_variables():
    """A hierarchical model's group scale is a candidate; its mean, its group effects and a bounded scalar are not."""
    from pymc_ais.laws.lawset import LawSet

    with pm.Model() as model:
        pm.Normal("mu", 0.0, 5.0)
        pm.HalfCauchy("tau", 2.5)
        pm.Normal("z", 0.0, 1.0, shape=4)
        pm.Uniform("rho", 0.0, 1.0)
        pm.Exponential("sigma", 1.0, shape=2)
        pm.Normal("y", 0.0, 1.0, observed=[0.1, 0.2])
    laws = LawSet.from_arguments(model, None)
    (found,) = laws.scale_coordinates()
    assert [b.name for b in laws.blocks if b.start == found] == ["tau"]


def test_laws_that_differ_only_in_a_scale_prior_are_grouped_along_it():
    """Two priors on tau share tau's grid; a third law that also changes mu's prior does not; identical laws do."""
    from types import SimpleNamespace

    from pymc_ais.laws.lawset import LawSet
    from pymc_ais.model.posterior_start import alike_along

    def hierarchical(tau_prior, mu_sd=5.0):
        with pm.Model() as model:
            mu = pm.Normal("mu", 0.0, mu_sd)
            tau = model.register_rv(tau_prior, "tau")
            z = pm.Normal("z", 0.0, 1.0, shape=12)
            pm.Normal("y", mu + tau * z, 3.0, observed=np.linspace(-4.0, 6.0, 12))
        return model

    models = {
        "half-normal": hierarchical(pm.HalfNormal.dist(5.0)),
        "exponential": hierarchical(pm.Exponential.dist(0.5)),
        "narrow mu": hierarchical(pm.HalfNormal.dist(5.0), mu_sd=1.0),
        "half-normal again": hierarchical(pm.HalfNormal.dist(5.0)),
    }
    laws = LawSet.from_arguments(None, models)
    (tau,) = laws.scale_coordinates()
    rng = np.random.default_rng(0)
    found = [SimpleNamespace(mode=rng.normal(size=laws.dim), covariance=np.eye(laws.dim)) for _ in models]
    groups, spent = alike_along(laws, found, [tau])
    assert groups == {tau: [[0, 1, 3], [2]]}
    assert spent == 2 * len(models)
