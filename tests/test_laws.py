"""Several input laws from one shared sample: ``models=``."""

import numpy as np
import pymc as pm
import pytest

import pymc_ais as pa
from conftest import within_run


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
        models=laws, draws=12_000, random_seed=21, progressbar=False,
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
    idata = pa.estimate({"sq": "theta"}, models={"normal": normal, "student": student},
                        draws=8_000, random_seed=22, progressbar=False)
    within_run(idata, [[0.0], [0.0]])
    sq = pa.estimate({"sq": normal["theta"] ** 2}, models={"normal": normal, "student": student},
                     draws=8_000, random_seed=23, progressbar=False)
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
