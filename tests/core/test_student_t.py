"""Student-t mixtures with weights and a df per component: what is drawn is what the density says."""

import numpy as np
import pytest

from pymc_ais.core.densities import student_t


def test_weighted_draws_follow_the_weighted_density_with_a_df_per_component():
    """Binned draws against the integrated density: every bin within 4 binomial standard errors."""
    mix = student_t.student_t_mixture(
        np.array([[-2.0], [1.5]]), np.array([[[0.5]], [[2.0]]]), np.array([3.0, 30.0]), np.array([0.2, 0.8])
    )
    n = 200_000
    x = student_t.sample(mix, np.random.default_rng(0), n)[:, 0]
    edges = np.linspace(-8.0, 8.0, 41)
    fine = np.linspace(-8.0, 8.0, 40 * 200 + 1)
    density = np.exp(student_t.logpdf(mix, fine[:, None]))
    cells = np.add.reduceat(0.5 * (density[1:] + density[:-1]) * np.diff(fine), np.arange(0, fine.size - 1, 200))
    counts = np.histogram(x, edges)[0]
    se = np.sqrt(n * cells * (1 - cells))
    assert np.all(np.abs(counts - n * cells) <= 4 * se + 1), np.max(np.abs(counts - n * cells) / (se + 1e-12))


def test_bad_weights_and_dfs_are_refused():
    means, scales = np.zeros((2, 1)), np.ones((2, 1, 1))
    with pytest.raises(ValueError, match="weights"):
        student_t.student_t_mixture(means, scales, 4.0, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="df"):
        student_t.student_t_mixture(means, scales, np.array([4.0, 5.0, 6.0]))
