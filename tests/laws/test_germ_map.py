"""The germ map of a chaos: each input's standard germ, accurate in the upper tail too."""

import numpy as np
import pymc as pm
from scipy import stats
from scipy.special import ndtri

from pymc_ais.laws.lawset import LawSet


def germs_of(model, values: dict) -> tuple[dict, dict]:
    """The germ map of ``model``'s law at natural ``values``: germs and kinds by input name."""
    laws = LawSet.from_arguments(model, None)
    to_germs, kinds = laws.germ_map()
    columns = []
    for block in laws.blocks:
        rv = laws.work[block.name]
        transform = laws.work.rvs_to_transforms.get(rv)
        value = values[block.name]
        columns.append(transform.forward(value, *rv.owner.inputs).eval() if transform is not None else value)
    germs = to_germs(np.column_stack(columns))
    names = [block.name for block in laws.blocks]
    return {n: germs[:, i] for i, n in enumerate(names)}, dict(zip(names, kinds))


def test_germs_are_exact_far_in_the_upper_tail():
    with pm.Model() as model:
        pm.Normal("x", 1.0, 2.0)
        pm.LogNormal("y", 0.5, 0.3)
        pm.Gumbel("g", 0.0, 1.0)
        pm.Uniform("u", -1.0, 3.0)
    x = np.array([1.0, 11.0, 17.0, -13.0])  # 0, 5, 8 and -7 standard deviations
    y = np.exp(0.5 + 0.3 * np.array([0.0, 5.0, 8.0, -7.0]))
    g = np.array([0.0, 10.0, 25.0, -2.0])
    u = np.array([1.0, 2.9, -0.5, 0.0])
    germs, kinds = germs_of(model, {"x": x, "y": y, "g": g, "u": u})
    assert kinds == {"x": "hermite", "y": "hermite", "g": "hermite", "u": "legendre"}
    np.testing.assert_allclose(germs["x"], [0.0, 5.0, 8.0, -7.0], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(germs["y"], [0.0, 5.0, 8.0, -7.0], rtol=1e-12, atol=1e-12)
    # a CDF value of 1 - 4.5e-5 or 1 - 1.4e-11 keeps few digits: the germ comes from the survival function
    expected = np.where(g > 0, -ndtri(stats.gumbel_r.sf(g)), ndtri(stats.gumbel_r.cdf(g)))
    np.testing.assert_allclose(germs["g"], expected, rtol=1e-9)
    np.testing.assert_allclose(germs["u"], (u + 1.0) / 2.0 - 1.0, rtol=1e-12, atol=1e-12)


def test_no_germ_map_for_dependent_inputs():
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 1.0)
        pm.Normal("b", a, 1.0)
    assert LawSet.from_arguments(model, None).germ_map() is None
