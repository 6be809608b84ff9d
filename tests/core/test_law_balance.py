"""Balanced weights of the laws' parts: the worst-served law gets more effective draws than under equal weights."""

import numpy as np
import pytest

from pymc_ais.core.densities import student_t
from pymc_ais.core.densities.law_balance import PART_FLOOR, balanced_weights
from pymc_ais.core.densities.tempered_refit import effective_share


def four_laws(d: int, apart: float) -> tuple[student_t.StudentTMixture, np.ndarray]:
    """Three posteriors a fraction of a standard deviation apart and a fourth ``apart`` away, the last as two parts."""
    rng = np.random.default_rng(d)
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    cov = a @ a.T + 0.5 * np.eye(d)
    means = np.zeros((5, d))
    means[1, 0], means[2, 0] = 0.2, -0.2
    means[3:, 0] = apart
    means[4, 1] = 0.3
    weights = [0.25, 0.25, 0.25, 0.125, 0.125]
    law = student_t.student_t_mixture(means, np.tile(cov, (5, 1, 1)), df=30.0, weights=weights)
    return law, np.array([0, 1, 2, 3, 3])


def measured_shares(law: student_t.StudentTMixture, parts: np.ndarray, weights: np.ndarray, seed: int) -> np.ndarray:
    """Each part's effective share among 20,000 draws of the mixture with ``weights``, the part as the law."""
    mix = law._replace(log_weights=np.log(weights))
    x = student_t.sample(mix, np.random.default_rng(seed), 20_000)
    log_q = student_t.logpdf(mix, x)
    log_c = student_t.component_logpdf(law, x)
    shares = []
    for p in range(parts.max() + 1):
        own = parts == p
        log_part = np.logaddexp.reduce(log_c[:, own], axis=1) - np.log(own.sum())
        shares.append(effective_share(log_part - log_q))
    return np.array(shares)


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_a_law_apart_gets_more_draws_and_the_least_share_rises(d):
    """Equal weights give the law apart a quarter of the draws; balanced, about half, and no law falls below it."""
    law, parts = four_laws(d, apart=30.0)
    w = balanced_weights(law, parts, np.random.default_rng(1))
    per_part = np.bincount(parts, weights=w)
    assert per_part[3] == pytest.approx(0.5, abs=0.05)
    assert np.all(per_part >= PART_FLOOR / 4 - 1e-9)
    equal = measured_shares(law, parts, law.weights, seed=2)
    balanced = measured_shares(law, parts, w, seed=2)
    # the law apart: 0.25 of the draws before, about 0.5 now; the standard error of a share at 20,000 draws is < 0.01
    assert equal[3] == pytest.approx(0.25, abs=0.02)
    assert balanced.min() > equal.min() + 0.15
    # the inner weights of a part are kept
    assert w[3] / w[4] == pytest.approx(law.weights[3] / law.weights[4])


@pytest.mark.parametrize("d", [2, 30])
def test_laws_that_coincide_keep_equal_weights(d):
    law = student_t.student_t_mixture(np.zeros((3, d)), np.tile(np.eye(d), (3, 1, 1)), df=10.0)
    w = balanced_weights(law, np.arange(3), np.random.default_rng(0))
    np.testing.assert_allclose(w, 1.0 / 3.0, atol=1e-6)


def test_one_law_is_left_alone():
    law = student_t.student_t_mixture(np.zeros((2, 3)), np.tile(np.eye(3), (2, 1, 1)), df=10.0, weights=[0.3, 0.7])
    np.testing.assert_allclose(balanced_weights(law, np.zeros(2, dtype=int), np.random.default_rng(0)), [0.3, 0.7])
