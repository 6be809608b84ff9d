"""Compiled functions are reused for equal graphs only, and reuse changes no result."""

import numpy as np
import pymc as pm
import pytensor.tensor as pt

import pymc_ais as pa
from pymc_ais.laws.function_cache import cached_function, fingerprint


def _graph(scale: float):
    z = pt.matrix("z")
    return z, pt.exp(scale * z).sum(axis=1)


def test_an_equal_graph_reuses_the_function_and_another_constant_does_not():
    z1, out1 = _graph(0.5)
    z2, out2 = _graph(0.5)
    z3, out3 = _graph(0.25)
    f1 = cached_function([z1], out1, "test")
    assert cached_function([z2], out2, "test") is f1
    assert cached_function([z2], out2, "other options") is not f1
    f3 = cached_function([z3], out3, "test")
    assert f3 is not f1
    x = np.ones((2, 3))
    np.testing.assert_allclose(f3(x), 3 * np.exp(0.25))
    assert fingerprint([z1], [out1]) == fingerprint([z2], [out2]) != fingerprint([z3], [out3])


def test_shared_data_is_never_read_from_another_model():
    def model(values):
        with pm.Model() as m:
            data = pm.Data("data", np.asarray(values))
            pm.Normal("x", data.sum(), 1.0)
        return m

    first, second = model([1.0, 2.0]), model([1.0, 2.0])
    x1, x2 = first["x"], second["x"]
    run = dict(draws=1000, random_seed=1, progressbar=False, surrogate=None)
    a = pa.estimate({"m": x1}, model=first, **run)
    with second:
        pm.set_data({"data": np.array([10.0, 20.0])})
    b = pa.estimate({"m": x2}, model=second, **run)
    assert abs(float(a["estimates"]["mean"].sel(expectation="m")) - 3.0) < 0.2
    assert abs(float(b["estimates"]["mean"].sel(expectation="m")) - 30.0) < 0.2


def test_a_rebuilt_model_gives_bitwise_the_same_run():
    def run():
        with pm.Model() as m:
            x = pm.Normal("x", 1.0, 2.0)
            y = pm.Gamma("y", 2.0, 1.0)
        idata = pa.estimate({"xy": x * y, "big": pt.gt(x, 3.0)}, model=m, draws=2000, random_seed=3, progressbar=False)
        return idata["estimates"]["mean"].values, idata["samples"]["x"].values

    (m1, x1), (m2, x2) = run(), run()
    np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(x1, x2)
