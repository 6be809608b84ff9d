"""Several input laws from one shared sample: ``models=``."""

import numpy as np
import pymc as pm
import pytest

import pymc_ais as pa
from conftest import within


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
    within(est["mean"].values, est["mcse"].values, truth)
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
    est = idata["estimates"]
    within(est["mean"].values[:, 0], est["mcse"].values[:, 0], [0.0, 0.0])
    sq = pa.estimate({"sq": normal["theta"] ** 2}, models={"normal": normal, "student": student},
                     draws=8_000, random_seed=23, progressbar=False)["estimates"]
    within(sq["mean"].values[:, 0], sq["mcse"].values[:, 0], [4.0, 4.0 * 5 / 3])


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
