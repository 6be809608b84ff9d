"""The chaos-controlled pick-freeze integrands: unbiased whatever the fit, and far less variable."""

import numpy as np
from scipy.stats import qmc

from pymc_ais.core.sensitivity.pick_freeze import pick_freeze_columns, pick_freeze_points
from pymc_ais.core.surrogates.chaos import fit_chaos
from pymc_ais.core.surrogates.pick_freeze_chaos import chaos_integrand_means, residual_integrands

G_A = np.array([0.0, 1.0, 4.5, 9.0])  # Sobol's g-function: a kink no polynomial follows
GROUPS = [np.array([i]) for i in range(G_A.size)]
INDICES = ("first", "total")


def g_function(u):
    return np.prod((np.abs(4 * u - 2) + G_A) / (1 + G_A), axis=1)


def g_numerators():
    """Exact variance, first-order and total numerators of the g-function, in the problem's order."""
    vi = 1 / (3 * (1 + G_A) ** 2)
    total = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(G_A.size)])
    return np.concatenate([[np.prod(1 + vi) - 1], vi, total])


def base_evaluate(x):
    return np.zeros((x.shape[0], 1)), g_function(x)[:, None]


def to_germs(u):
    return 2 * u - 1


def test_integrands_are_unbiased_and_beat_the_differences_of_integrands():
    d = G_A.size
    pilot = qmc.Sobol(d, seed=3).random(256)
    chaos = fit_chaos(to_germs(pilot), g_function(pilot), ("legendre",) * d)
    assert 1e-4 < chaos.loo_error < 0.1  # a real but imperfect fit
    evaluate, h = residual_integrands(base_evaluate, to_germs, chaos, d, GROUPS, INDICES)
    x = np.random.default_rng(0).random((20_000, 2 * d))
    log_f, psi = evaluate(x)
    assert log_f.shape == (x.shape[0], 1) and np.all(log_f == 0)
    estimate = chaos_integrand_means(chaos, GROUPS, INDICES) + psi.mean(axis=0)
    se = psi.std(axis=0, ddof=1) / np.sqrt(x.shape[0])
    np.testing.assert_array_less(np.abs(estimate - g_numerators()), 4 * se)
    # the same means as the pick-freeze integrands of phi - s, at a fraction of the variance
    stacked = pick_freeze_points(x, d, GROUPS)
    phi = pick_freeze_columns(g_function(stacked).reshape(d + 2, -1), INDICES)
    differences = phi - h(x)
    assert np.all(psi.var(axis=0) < differences.var(axis=0))
    assert psi.var(axis=0).sum() < 0.5 * differences.var(axis=0).sum()  # 0.28 measured
    # psi + h is an integrand of the numerators themselves
    np.testing.assert_allclose((psi + h(x)).mean(axis=0), g_numerators(), atol=6 * se.max() + 0.02)
