"""Sparse polynomial chaos: orthonormal bases, truncation, and indices of models with known answers."""

from math import comb

import numpy as np
import pytest
from conftest import ISHIGAMI, ishigami_indices
from numpy.polynomial.hermite_e import hermegauss
from numpy.polynomial.legendre import leggauss
from scipy.special import ndtri

from pymc_ais.core.surrogates.chaos import fit_chaos, hyperbolic_indices, orthonormal_table


@pytest.mark.parametrize("germ", ["legendre", "hermite"])
def test_one_dimensional_polynomials_are_orthonormal(germ):
    if germ == "legendre":
        nodes, weights = leggauss(30)
        weights = weights / 2  # the uniform law on [-1, 1]
    else:
        nodes, weights = hermegauss(30)
        weights = weights / np.sqrt(2 * np.pi)  # the standard normal law
    table = orthonormal_table(nodes, germ, 12)
    gram = (table * weights[:, None]).T @ table
    np.testing.assert_allclose(gram, np.eye(13), atol=1e-10)


def test_hyperbolic_truncation():
    full = hyperbolic_indices(4, 5, q=1.0)
    assert full.shape[0] == comb(4 + 5, 5)  # q = 1 is the total-degree basis
    assert np.all(full[0] == 0) and np.all(np.diff(full.sum(axis=1)) >= 0)
    sparse = hyperbolic_indices(4, 5, q=0.5)
    assert sparse.shape[0] < full.shape[0]
    assert np.all(np.sum(np.sqrt(sparse), axis=1) <= np.sqrt(5) + 1e-9)
    # every pure power up to the degree survives any q
    for i in range(4):
        pure = sparse[(sparse > 0).sum(axis=1) == 1]
        assert pure[pure[:, i] > 0, i].max() == 5


def test_a_polynomial_model_is_recovered_with_its_exact_indices():
    # y = 2 + 3 z1 + z1 z2 with z uniform on [-1, 1]: Var = 3 + 1/9, S1 = 3/Var,
    # S2 = S3 = 0, T1 = 1, T2 = (1/9)/Var, T3 = 0
    u = np.random.default_rng(0).random((60, 3))
    z = 2 * u - 1
    y = 2 + 3 * z[:, 0] + z[:, 0] * z[:, 1]
    chaos = fit_chaos(z, y, ("legendre",) * 3)
    variance = 3 + 1 / 9
    first, total = chaos.sobol_indices()
    np.testing.assert_allclose(chaos.mean, 2.0, atol=1e-12)
    np.testing.assert_allclose(chaos.variance, variance, rtol=1e-12)
    np.testing.assert_allclose(first, [3 / variance, 0, 0], atol=1e-12)
    np.testing.assert_allclose(total, [1, 1 / 9 / variance, 0], atol=1e-12)
    np.testing.assert_allclose(chaos(z[:5]), y[:5], atol=1e-12)


def test_normal_inputs_use_the_hermite_germ():
    # x1, x2 standard normal, y = x1^2 + x2: x1^2 = sqrt(2) He2_normalised + 1, so
    # E y = 1, Var y = 2 + 1 = 3, S1 = 2/3, S2 = 1/3
    x = ndtri(np.random.default_rng(1).random((80, 2)))  # a standard normal input is its own germ
    chaos = fit_chaos(x, x[:, 0] ** 2 + x[:, 1], ("hermite", "hermite"))
    first, total = chaos.sobol_indices()
    np.testing.assert_allclose([chaos.mean, chaos.variance], [1.0, 3.0], rtol=1e-10)
    np.testing.assert_allclose(first, [2 / 3, 1 / 3], atol=1e-10)
    np.testing.assert_allclose(total, first, atol=1e-10)


def test_ishigami_indices_from_five_hundred_points():
    a, b = ISHIGAMI
    u = np.random.default_rng(2).random((500, 3))
    x = np.pi * (2 * u - 1)
    y = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    chaos = fit_chaos(2 * u - 1, y, ("legendre",) * 3)
    np.testing.assert_allclose(np.stack(chaos.sobol_indices()), ishigami_indices(), atol=1e-6)
    assert chaos.loo_error < 1e-10


def test_a_discontinuous_output_keeps_a_large_leave_one_out_error():
    u = np.random.default_rng(3).random((400, 2))
    y = (u[:, 0] + u[:, 1] > 1).astype(float)
    chaos = fit_chaos(2 * u - 1, y, ("legendre",) * 2)
    assert chaos.loo_error > 0.01  # the fit says it is poor: the caller can reject it


def test_germs_are_checked():
    with pytest.raises(ValueError, match="germs"):
        fit_chaos(np.random.default_rng(0).random((10, 2)), np.zeros(10), ("legendre",))


def test_matching_pursuit_skips_a_dependent_column_without_a_gap():
    # columns 2 and 3 are equal: the second is skipped, and the kept terms still solve exactly
    from pymc_ais.core.surrogates.chaos import _omp_path

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=200)
    basis = np.column_stack([np.ones(200), x, x**2, x**2, x**3])
    y = 1.0 + 2.0 * x - 0.5 * x**2 + 0.25 * x**3
    chosen, error, coef = _omp_path(basis, y, 5)
    assert len(chosen) == coef.size and len(set(chosen)) == len(chosen)
    assert not {2, 3} <= set(chosen)
    np.testing.assert_allclose(basis[:, chosen] @ coef, y, atol=1e-10)
    assert error < 1e-12
