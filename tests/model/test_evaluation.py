"""The compiled evaluation of several MvNormal laws at once stays in compiled code and is exact."""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.blockwise import Blockwise
from scipy.stats import multivariate_normal

import pymc_ais as pa
from pymc_ais.model import build


def _mvnormal_grid():
    means = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    covs = np.array([[[1.0, 0.5], [0.5, 2.0]], [[2.0, -0.3], [-0.3, 1.0]], [[0.5, 0.1], [0.1, 0.5]]])
    with pm.Model() as model:
        mu = pm.Data("mu", means[0])
        cov = pm.Data("cov", covs[0])
        v = pm.MvNormal("v", mu=mu, cov=cov)
    return model, v, pa.grid(model, {"mu": means, "cov": covs}), means, covs


def test_vector_solves_over_points_become_matrix_solves():
    model, v, laws, _, _ = _mvnormal_grid()
    mp = build({"s": v.sum()}, None, laws)
    solves = [n for n in mp._evaluator.maker.fgraph.toposort() if isinstance(n.op, Blockwise)]
    # one solve per law, with every point as a column; not one Python call per point
    assert solves and all(n.op.core_op.b_ndim == 2 for n in solves)


def test_several_mvnormal_laws_match_scipy():
    model, v, laws, means, covs = _mvnormal_grid()
    mp = build({"s": v.sum()}, None, laws)
    z = np.random.default_rng(0).normal(size=(257, 2))
    log_f, phi = mp.evaluate(z)
    expected = np.stack([multivariate_normal(m, c).logpdf(z) for m, c in zip(means, covs)], axis=1)
    np.testing.assert_allclose(log_f, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(phi[:, 0], z.sum(axis=1), rtol=0, atol=0)
    np.testing.assert_array_equal(mp.natural(z)["v"], z)


def test_rewrite_keeps_an_unbatched_solve_alone():
    from pymc_ais.model.rewrites import keep_solves_compiled

    a = pt.matrix("a")
    b = pt.vector("b")
    out = pt.linalg.solve_triangular(a, b, lower=True)
    assert keep_solves_compiled([out])[0] is out
