"""One Gaussian per failure region (``densities.failure_regions``), on plain numpy events."""

import numpy as np
import pytest
from scipy import stats

from pymc_ais.core.densities.failure_regions import MAX_REGIONS, fit_regions


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
