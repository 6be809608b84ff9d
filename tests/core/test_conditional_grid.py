"""Conditional Laplace grids along a scale, on densities whose marginals and moments are known.

The test density: a scale ``v ~ N(1, s^2)`` and ``x | v ~ N(c v, exp(2 v) I)`` in
``d - 1`` more dimensions: the spread and the centre of ``x`` move with ``v`` (the
shape of group effects beside their scale). Its normalising constant and moments are
known in closed form, so the grid, used as an importance proposal, is checked against
them in its own standard errors.

Over one standard deviation of ``v`` the log-determinant of the conditional precision
changes by ``2 (d - 1) s``; ``s = min(0.5, 5 / (d - 1))`` keeps that near 10, as in a
non-centred model with 50 groups (about 9) or a regression with 100 coefficients beside
its noise scale (about 8).
"""

import numpy as np
import pytest
from scipy.special import logsumexp

from pymc_ais.core.densities.conditional_grid import GridFailure, conditional_grid, grid_cost, shared_conditional_grids

V_MEAN, V_SD, DRIFT = 1.0, 0.5, 0.7


def curved(d: int, v_sd: float | None = None):
    """``(logp_and_grad, log normalising constant)`` of the test density in ``d`` dimensions."""
    n = d - 1
    v_sd = min(V_SD, 5.0 / n) if v_sd is None else v_sd

    def logp(z):
        v, x = z[0], z[1:]
        r = x - DRIFT * v
        scale = np.exp(-2 * v)
        value = -0.5 * (v - V_MEAN) ** 2 / v_sd**2 - 0.5 * scale * (r @ r) - n * v
        dv = -(v - V_MEAN) / v_sd**2 + scale * (r @ r) + DRIFT * scale * r.sum() - n
        return value, np.concatenate([[dv], -scale * r])

    log_z = 0.5 * np.log(2 * np.pi * v_sd**2) + 0.5 * n * np.log(2 * np.pi)
    return logp, log_z


def draws_of(grid, rng, size):
    """Draws of the grid's Gaussian mixture and its log-density at them."""
    which = rng.choice(grid.weights.size, size=size, p=grid.weights)
    chols = np.linalg.cholesky(grid.covariances)
    x = grid.means[which] + np.einsum("nij,nj->ni", chols[which], rng.standard_normal((size, grid.means.shape[1])))
    log_q = []
    for m, c in zip(grid.means, chols):
        u = np.linalg.solve(c, (x - m).T)
        log_q.append(-0.5 * np.sum(u * u, axis=0) - np.log(np.diag(c)).sum() - 0.5 * m.size * np.log(2 * np.pi))
    return x, logsumexp(np.stack(log_q, axis=1) + np.log(grid.weights), axis=1)


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_the_grid_is_an_importance_proposal_that_recovers_known_moments(d):
    """log Z, E[v] and E[x_d] from grid draws within 4 of their standard errors, with most draws counting."""
    logp, log_z = curved(d)
    rng = np.random.default_rng(d)
    grid = conditional_grid(logp, 0, np.zeros(d), np.eye(d), rng)
    x, log_q = draws_of(grid, rng, 4000)
    log_w = np.array([logp(p)[0] for p in x]) - log_q
    w = np.exp(log_w - log_w.max())
    share = w.sum() ** 2 / (w @ w) / w.size
    assert share > 0.9, share
    z_hat = np.log(w.mean()) + log_w.max()
    se_log_z = w.std() / w.mean() / np.sqrt(w.size)
    assert abs(z_hat - log_z) < 4 * se_log_z + 1e-12
    wn = w / w.sum()
    for values, truth in ((x[:, 0], V_MEAN), (x[:, -1], DRIFT * V_MEAN)):
        mean = wn @ values
        se = np.sqrt(np.sum(wn**2 * (values - mean) ** 2))
        assert abs(mean - truth) < 4 * se, (mean, truth, se)


def test_one_gaussian_cannot_follow_the_curve_but_fits_a_gaussian_posterior():
    """The grid reports how far it is from one Gaussian: far on the curved density, near one on a Gaussian."""
    logp, _ = curved(30, V_SD)
    curved_grid = conditional_grid(logp, 0, np.zeros(30), np.eye(30), np.random.default_rng(1))
    precision = np.diag(np.linspace(1.0, 4.0, 30))

    def gaussian(z):
        return -0.5 * z @ precision @ z, -precision @ z

    flat_grid = conditional_grid(gaussian, 3, np.full(30, 0.2), np.eye(30), np.random.default_rng(1))
    assert curved_grid.gaussian_share < 0.5
    assert flat_grid.gaussian_share > 0.9
    np.testing.assert_allclose(flat_grid.mean, 0.0, atol=0.05)
    others = np.arange(30) != 3
    np.testing.assert_allclose(np.diag(flat_grid.covariance)[others], (1 / np.diag(precision))[others], rtol=0.01)


def test_a_start_far_from_the_marginal_walks_to_it():
    """From a start six marginal deviations off with a tenth of the spread, the grid still centres on v's mean."""
    logp, _ = curved(10, V_SD)
    start_cov = np.eye(10) * 0.05**2
    grid = conditional_grid(logp, 0, np.full(10, V_MEAN - 6 * V_SD), start_cov, np.random.default_rng(2))
    assert abs(grid.mean[0] - V_MEAN) < 0.1 * V_SD
    assert abs(np.sqrt(grid.covariance[0, 0]) / V_SD - 1.0) < 0.2


def test_evaluations_are_counted_and_capped():
    """Every call of the density counts; a cap below what the grid needs fails, saying what it spent."""
    logp, _ = curved(10)
    calls = [0]

    def counted(z):
        calls[0] += 1
        return logp(z)

    grid = conditional_grid(counted, 0, np.zeros(10), np.eye(10), np.random.default_rng(3))
    assert grid.evaluations == calls[0] <= grid_cost(10)
    calls[0] = 0
    with pytest.raises(GridFailure, match="ran out") as failed:
        conditional_grid(counted, 0, np.zeros(10), np.eye(10), np.random.default_rng(3), max_evaluations=20)
    assert calls[0] == failed.value.evaluations == 20


def test_curvatures_after_the_first_cost_what_their_sparsity_needs():
    """The test density's conditional Hessian is diagonal: after one full measurement, one gradient per curvature.

    In 100 dimensions the grid costs 176 evaluations, against 1,058 with every curvature
    measured in full, and lays the same components.
    """
    logp, _ = curved(100)
    grid = conditional_grid(logp, 0, np.zeros(100), np.eye(100), np.random.default_rng(100))
    assert grid.evaluations < 2 * 100, grid.evaluations
    x, log_q = draws_of(grid, np.random.default_rng(7), 2000)
    log_w = np.array([logp(p)[0] for p in x]) - log_q
    w = np.exp(log_w - log_w.max())
    assert w.sum() ** 2 / (w @ w) / w.size > 0.9


def test_a_density_not_finite_at_the_start_or_along_the_grid_fails_cleanly():
    """Not finite anywhere, or wherever the grid would lie: a GridFailure with the evaluations spent, no crash."""

    def nowhere(z):
        return -np.inf, np.zeros_like(z)

    with pytest.raises(GridFailure) as failed:
        conditional_grid(nowhere, 0, np.zeros(5), np.eye(5), np.random.default_rng(4))
    assert failed.value.evaluations >= 1
    logp, _ = curved(12, V_SD)

    def holed(z):  # no density near the start's own value of the scale
        return (-np.inf, np.zeros_like(z)) if abs(z[0] - 0.5) < 0.3 else logp(z)

    with pytest.raises(GridFailure):
        conditional_grid(holed, 0, np.full(12, 0.5), np.eye(12) * 0.01, np.random.default_rng(5))


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_laws_differing_only_along_the_scale_share_one_walk(d):
    """Three priors on ``v``, one walk: each law's grid recovers its own log Z, E[v] and E[x_d] within 4 SE.

    The laws' marginals of ``v`` sit a standard deviation and more apart, with different
    spreads; the shared walk covers them all for fewer evaluations than three grids.
    """
    logp, log_z = curved(d)
    v_sd = min(V_SD, 5.0 / (d - 1))
    priors = [(V_MEAN, v_sd), (V_MEAN + 1.5 * v_sd, 0.7 * v_sd), (V_MEAN - v_sd, 1.4 * v_sd)]

    def law(k):
        centre, sd = priors[k]

        def shifted(z):  # the test density with v's prior N(V_MEAN, v_sd^2) swapped for N(centre, sd^2)
            value, grad = logp(z)
            v = z[0]
            value = value + 0.5 * (v - V_MEAN) ** 2 / v_sd**2 - 0.5 * (v - centre) ** 2 / sd**2
            grad = grad.copy()
            grad[0] += (v - V_MEAN) / v_sd**2 - (v - centre) / sd**2
            return value, grad

        return shifted, log_z + np.log(sd / v_sd)

    laws = [law(k) for k in range(3)]
    calls = [0]

    def shifts(z):
        calls[0] += 1
        return np.array([laws[k][0](z)[0] - laws[0][0](z)[0] for k in (1, 2)])

    def lead(z):
        calls[0] += 1
        return laws[0][0](z)

    rng = np.random.default_rng(40 + d)
    grids = shared_conditional_grids(lead, 0, np.zeros(d), np.eye(d), rng, shifts=shifts)
    assert len(grids) == 3 and all(g is not None for g in grids)
    assert grids[0].evaluations == calls[0]
    separate = sum(conditional_grid(f, 0, np.zeros(d), np.eye(d), rng).evaluations for f, _ in laws)
    assert grids[0].evaluations < (0.6 if d >= 30 else 1.0) * separate, (grids[0].evaluations, separate)
    for (f, log_z_k), grid, (centre, _) in zip(laws, grids, priors):
        x, log_q = draws_of(grid, rng, 4000)
        log_w = np.array([f(p)[0] for p in x]) - log_q
        w = np.exp(log_w - log_w.max())
        assert w.sum() ** 2 / (w @ w) / w.size > 0.85
        z_hat = np.log(w.mean()) + log_w.max()
        assert abs(z_hat - log_z_k) < 4 * w.std() / w.mean() / np.sqrt(w.size) + 1e-12
        wn = w / w.sum()
        # v's marginal: its own prior N(centre, sd) times the common factor, which is flat in v for this density
        for values, truth in ((x[:, 0], centre), (x[:, -1], DRIFT * centre)):
            mean = wn @ values
            se = np.sqrt(np.sum(wn**2 * (values - mean) ** 2))
            assert abs(mean - truth) < 4 * se, (mean, truth, se)
