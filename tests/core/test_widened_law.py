"""The widened starting law of a chaos's residual: its draws, its density, its scale."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri
from scipy.stats import norm

from pymc_ais.core import Problem
from pymc_ais.core.densities.widened_law import MAX_INFLATION, germ_scale, inflation, widened_problem


def normal_and_uniform() -> Problem:
    """x0 ~ N(0, 1) (a Hermite germ), x1 ~ U(0, 1) (a Legendre one)."""

    def evaluate(x):
        return (norm.logpdf(x[:, 0]) + 0.0 * x[:, 1])[:, None], x**2

    return Problem(
        dim=2,
        sample_initial=lambda rng, n: np.column_stack([rng.standard_normal(n), rng.random(n)]),
        evaluate=evaluate,
        initial_quantile=lambda u: np.column_stack([ndtri(u[:, 0]), u[:, 1]]),
    )


def germ_map():
    """The germs of a standard normal (itself) and of a uniform on [0, 1] (2 x - 1)."""
    return (lambda x: np.column_stack([x[:, 0], 2 * x[:, 1] - 1])), ("hermite", "legendre")


def test_widened_draws_and_density_agree():
    problem, tau = widened_problem(normal_and_uniform(), germ_map())
    assert tau == germ_scale(1) == 1.5
    x = problem.sample_initial(np.random.default_rng(0), 200_000)
    np.testing.assert_allclose(np.std(x[:, 0]), tau, rtol=0.01)  # the normal input is scaled
    assert x[:, 1].min() >= 0 and x[:, 1].max() <= 1 and abs(np.std(x[:, 1]) - 12**-0.5) < 0.01
    log_f, phi = problem.evaluate(x)
    # the log-density of the widened law is N(0, tau^2) x U(0, 1), exactly
    np.testing.assert_allclose(problem.initial_log_density(x, log_f), norm.logpdf(x[:, 0], scale=tau), rtol=1e-12)
    # weights f / h0 are bounded by tau and give back the law's moments (4 standard errors)
    w = np.exp(log_f[:, 0] - problem.initial_log_density(x, log_f))
    assert w.max() <= tau * (1 + 1e-12)
    for terms, truth in ((w, 1.0), (w * phi[:, 0], 1.0), (w * phi[:, 1], 1 / 3)):
        assert abs(terms.mean() - truth) < 4 * terms.std() / np.sqrt(terms.size)


def test_widened_quantile_maps_uniforms_to_the_same_law():
    problem, tau = widened_problem(normal_and_uniform(), germ_map())
    u = np.random.default_rng(1).random((100_000, 2))
    x = problem.initial_quantile(u)
    # through CDF values: a value near 1 keeps few digits of its distance to 1, so the
    # upper tail loses precision (the density is computed from the same values)
    expected = tau * ndtri(u[:, 0])
    inner = expected < 4.0
    np.testing.assert_allclose(x[inner, 0], expected[inner], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(x[~inner, 0], expected[~inner], rtol=1e-3)
    np.testing.assert_array_equal(x[:, 1], u[:, 1])


def test_scale_keeps_the_inflation_bounded_and_leaves_bounded_laws_alone():
    for k in (1, 2, 3, 6, 12, 40):
        tau = germ_scale(k)
        assert 1.0 < tau <= 1.5 and inflation(tau) ** k <= MAX_INFLATION * (1 + 1e-9)
    assert germ_scale(0) == 1.0
    bounded = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.random((n, 1)),
        evaluate=lambda x: (np.zeros((x.shape[0], 1)), x),
        initial_quantile=lambda u: u,
    )
    same, tau = widened_problem(bounded, (lambda x: x, ("legendre",)))
    assert same is bounded and tau == 1.0
    no_quantile = Problem(dim=1, sample_initial=bounded.sample_initial, evaluate=bounded.evaluate)
    assert widened_problem(no_quantile, (lambda x: x, ("hermite",))) == (no_quantile, 1.0)
