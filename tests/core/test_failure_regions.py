"""One Gaussian per failure region (``densities.failure_regions``), on plain numpy events."""

import numpy as np
import pytest
from scipy import stats

from pymc_ais.core.densities.failure_regions import MAX_REGIONS, fit_regions
from pymc_ais.core.densities.gaussian_mixture import expectation_maximisation


def _event_weights(inside: np.ndarray) -> np.ndarray:
    return np.where(inside, 0.0, -np.inf)


def _mass_near(fit, centres: np.ndarray) -> np.ndarray:
    """The mixture weight of the components nearest to each centre (a component counts for one centre)."""
    distance = np.linalg.norm(fit.means[:, None, :] - centres[None, :, :], axis=2)
    return np.bincount(distance.argmin(axis=1), weights=np.exp(fit.log_weights), minlength=len(centres))


@pytest.mark.parametrize("dim", [2, 10])
def test_four_corners_get_a_component_each(dim):
    # four regions at 2.5 sd along +-e1 and +-e2, mass alike; their weighted means are
    # near 2.9 along their axis (the normal's tail mean beyond 2.5)
    rng = np.random.default_rng(dim)
    x = rng.standard_normal((40_000, dim))
    inside = (np.abs(x[:, 0]) > 2.5) | (np.abs(x[:, 1]) > 2.5)
    fit = fit_regions(x, _event_weights(inside), np.eye(dim))
    assert fit is not None and 4 <= fit.n_components <= MAX_REGIONS
    tail = stats.norm.pdf(2.5) / stats.norm.sf(2.5)  # E[x | x > 2.5]
    centres = np.zeros((4, dim))
    centres[[0, 1], 0] = [tail, -tail]
    centres[[2, 3], 1] = [tail, -tail]
    # each region gets its share; a half-plane's edge may take two components
    np.testing.assert_allclose(_mass_near(fit, centres), 0.25, atol=0.04)
    distance = np.linalg.norm(fit.means[:, None, :] - centres[None, :, :], axis=2)
    assert np.all(distance.min(axis=0) < 0.6)


@pytest.mark.parametrize("dim", [2, 10, 30])
def test_one_region_keeps_one_gaussian(dim):
    # a half-space (the linear limit state) and a ball's outside in two dimensions are
    # one region each: no mixture beats one Gaussian by the margin
    rng = np.random.default_rng(dim)
    x = rng.standard_normal((20_000, dim))
    assert fit_regions(x, _event_weights(x.sum(axis=1) / np.sqrt(dim) > 2.0), np.eye(dim)) is None
    assert fit_regions(x, _event_weights(x[:, 0] > 1.0), np.eye(dim)) is None


def test_weights_choose_the_regions_mass():
    # two sides, the right one made three times heavier by the weights
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20_000, 3))
    log_w = np.where(np.abs(x[:, 0]) > 2.0, np.where(x[:, 0] > 0, np.log(3.0), 0.0), -np.inf)
    fit = fit_regions(x, log_w, np.eye(3))
    assert fit is not None
    assert np.all(np.abs(fit.means[:, 0]) > 1.5)  # no component in the gap
    assert np.exp(fit.log_weights)[fit.means[:, 0] > 0].sum() == pytest.approx(0.75, abs=0.03)


def test_few_points_or_none_give_no_mixture():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2000, 2))
    assert fit_regions(x, np.full(2000, -np.inf), np.eye(2)) is None
    few = np.abs(x[:, 0]) > 3.0  # a handful of points: too few for two components
    assert fit_regions(x, _event_weights(few), np.eye(2)) is None


def test_the_fit_is_deterministic_and_bounded():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20_000, 2))
    angle = np.arctan2(x[:, 1], x[:, 0])
    ring = (np.hypot(x[:, 0], x[:, 1]) > 2.0) & (np.cos(8 * angle) > 0.5)  # eight wedges
    first = fit_regions(x, _event_weights(ring), np.eye(2))
    second = fit_regions(x.copy(), _event_weights(ring), np.eye(2))
    assert first is not None and first.n_components <= MAX_REGIONS
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_regions_are_found_from_the_draws_positions_when_few_draws_carry_the_weight():
    # three regions 5 sd apart in ten dimensions, 600 draws, log-weights spread by 2.5:
    # an effective size near 10, too few for even two fitted means, where one Gaussian
    # used to span the three; the draws' positions still show the regions, and each
    # region's share is half its weighted mass plus half an even share
    rng = np.random.default_rng(6)
    dim, per_region = 10, 200
    centres = 5.0 * np.eye(dim)[:3]
    x = np.concatenate([c + rng.standard_normal((per_region, dim)) for c in centres])
    log_w = 2.5 * rng.standard_normal(x.shape[0])
    w = np.exp(log_w - log_w.max())
    assert np.sum(w) ** 2 / np.sum(w * w) < 4 * (1 + dim)
    fit = fit_regions(x, log_w, np.eye(dim))
    assert fit is not None and fit.n_components == 3
    distance = np.linalg.norm(fit.means[:, None, :] - centres[None, :, :], axis=2)
    assert np.all(distance.min(axis=1) < 2.5)  # every component sits on a region (7 apart), every region has one
    assert sorted(distance.argmin(axis=1)) == [0, 1, 2]
    mass = np.bincount(np.repeat(np.arange(3), per_region), weights=w) / w.sum()
    expected = 0.5 * mass + 0.5 / 3
    np.testing.assert_allclose(_mass_near(fit, centres), expected, atol=0.02)


def test_tied_components_share_one_covariance():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.standard_normal((300, 4)) + 4.0, rng.standard_normal((300, 4)) * 0.5 - 4.0])
    w = np.full(x.shape[0], 1.0 / x.shape[0])
    start = np.array([[3.0] * 4, [-3.0] * 4])
    covs = np.stack([np.eye(4), np.eye(4)])
    tied = expectation_maximisation(x, w, np.log([0.5, 0.5]), start, covs, np.eye(4), tied=True)
    free = expectation_maximisation(x, w, np.log([0.5, 0.5]), start, covs, np.eye(4))
    np.testing.assert_array_equal(tied.chols[0], tied.chols[1])
    assert not np.allclose(free.chols[0], free.chols[1], atol=0.1)  # the two clouds differ in spread
    np.testing.assert_allclose(tied.means, [[4.0] * 4, [-4.0] * 4], atol=0.2)
    # the shared covariance pools the two clouds' spreads (1 and 0.25), shrunk a little to the identity
    pooled = tied.chols[0] @ tied.chols[0].T
    np.testing.assert_allclose(np.diag(pooled), 0.625, atol=0.1)


def test_regions_are_found_when_the_few_heavy_draws_sit_in_one_of_them():
    # the same three regions, the weight carried by a handful of draws of the first: the
    # weighted draws do not spread, the draws' positions do
    rng = np.random.default_rng(8)
    dim, per_region = 10, 200
    centres = 5.0 * np.eye(dim)[:3]
    x = np.concatenate([c + rng.standard_normal((per_region, dim)) for c in centres])
    log_w = np.full(x.shape[0], -12.0)
    log_w[:5] = 0.0  # five heavy draws, all in the first region
    fit = fit_regions(x, log_w, np.eye(dim))
    assert fit is not None and fit.n_components == 3
    shares = _mass_near(fit, centres)
    assert shares[0] > 0.6 and np.all(shares[1:] >= 0.5 / 3 - 0.01)  # half spread evenly


def test_tied_diagonal_components_share_one_diagonal_covariance():
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.standard_normal((300, 3)) * [1.0, 2.0, 0.5] + 4.0, rng.standard_normal((300, 3)) - 4.0])
    w = np.full(x.shape[0], 1.0 / x.shape[0])
    start = np.array([[3.0] * 3, [-3.0] * 3])
    covs = np.stack([np.eye(3), np.eye(3)])
    tied = expectation_maximisation(x, w, np.log([0.5, 0.5]), start, covs, np.eye(3), "diag", tied=True)
    np.testing.assert_array_equal(tied.chols[0], tied.chols[1])
    pooled = tied.chols[0] @ tied.chols[0].T
    np.testing.assert_allclose(pooled - np.diag(np.diag(pooled)), 0.0, atol=1e-8)
    # the two clouds' own variances (about their own means), pooled and shrunk by 3 / (600 + 3)
    within = 0.5 * (x[:300].var(axis=0) + x[300:].var(axis=0))
    np.testing.assert_allclose(np.diag(pooled), (1 - 3 / 603) * within + 3 / 603, rtol=1e-3)
