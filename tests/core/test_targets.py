"""The importance-sampling terms of the targets: the direct product equals the log-space form."""

import numpy as np
import pytest

from pymc_ais.core.engine.targets import integrand_log_abs, make_targets, ratio, weighted_terms


def _case(rng, n=500):
    phi = np.c_[rng.standard_normal(n), (rng.standard_normal(n) > 1).astype(float), rng.standard_normal(n) ** 2]
    return phi, make_targets(phi, 2, np.array([0.1, 0.0, 0.2, 0.0, 0.5, 0.1]))


def test_direct_terms_equal_the_log_space_terms():
    rng = np.random.default_rng(0)
    phi, targets = _case(rng)
    log_f, log_q = 3 * rng.standard_normal((phi.shape[0], 2)), rng.standard_normal(phi.shape[0])
    direct = weighted_terms(targets, log_f, phi, log_q)
    logged = ratio(*integrand_log_abs(targets, log_f, phi), log_q)
    np.testing.assert_allclose(direct, logged, rtol=1e-13, atol=0.0)


def test_extreme_weights_fall_back_to_log_space():
    # weights e^-800 times outputs e^790: each factor leaves float64, the product does not
    rng = np.random.default_rng(1)
    n = 50
    phi = np.full((n, 1), np.exp(700.0))
    targets = make_targets(phi, 1)
    log_f, log_q = np.full((n, 1), -800.0), np.zeros(n)
    terms = weighted_terms(targets, log_f, phi, log_q)
    np.testing.assert_allclose(terms, np.exp(-100.0), rtol=1e-12)
    log_f[3] = -np.inf  # a point outside the law's support weighs 0, not NaN
    assert weighted_terms(targets, log_f, phi, log_q)[3, 0] == 0.0
    assert np.all(np.isfinite(weighted_terms(targets, log_f, rng.standard_normal((n, 1)), log_q)))


def test_region_targets_are_weighed_as_their_event():
    """An output that only guides the proposal takes its event's criterion weight.

    Relative weights: its scale is the event's running mass, so a region's error counts
    as a share of the event's. Given weights name the events only; regions take theirs.
    """
    from pymc_ais.core.engine.settings import Settings
    from pymc_ais.core.engine.state import criterion_weights

    phi = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])  # the event, then its two regions
    estimates = np.array([0.4, 0.3, 0.1, 2e-3, 1e-3, 1e-3])  # two laws, law-major
    own = make_targets(phi, 2)
    weighed = make_targets(phi, 2, weighted_as=np.array([0, 0, 0]))
    np.testing.assert_array_equal(weighed.reference, [0, 0, 0, 3, 3, 3])
    np.testing.assert_array_equal(weighed.helpers, [False, True, True, False, True, True])  # the regions
    assert not own.helpers.any()
    w = criterion_weights(Settings(budget=100), weighed, estimates)
    expected = np.repeat([1 / 0.4**2, 1 / 2e-3**2], 3)
    np.testing.assert_allclose(w, expected / expected.sum())
    w_own = criterion_weights(Settings(budget=100), own, estimates)
    np.testing.assert_allclose(w_own[1] / w_own[0], 0.4**2 / 0.3**2)  # each its own mass: not the same
    given = criterion_weights(Settings(budget=100, weights=np.array([1.0, 3.0])), weighed, estimates)
    np.testing.assert_allclose(given, np.array([1, 1, 1, 3, 3, 3]) / 12)
    every = criterion_weights(Settings(budget=100, weights=np.arange(1.0, 7.0)), weighed, estimates)
    np.testing.assert_allclose(every, np.arange(1.0, 7.0) / 21)
    with pytest.raises(ValueError, match="weights has 3 entries but there are 2 expectations"):
        criterion_weights(Settings(budget=100, weights=np.ones(3)), weighed, estimates)
