"""The score's linear trend: a direction towards an event from every pooled draw."""

import numpy as np
import pytest

from pymc_ais.core.engine.score_trend import LINEAR_FIT, MAX_ROWS, score_slopes


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_a_linear_score_gives_its_gradient(d):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((max(500, 8 * d), d))
    gradient = rng.standard_normal(d)
    slopes = score_slopes(x, (x @ gradient - 4.0)[:, None])
    np.testing.assert_allclose(slopes[0], gradient, rtol=1e-8, atol=1e-10)


def test_a_score_linear_only_in_its_upper_half_gives_the_slope_there():
    # max(x1, x2) - t: in the upper half the score is mostly one coordinate or the other,
    # a mixture whose slope points between them (both positive), with a fair linear fit
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 10))
    slope = score_slopes(x, (np.maximum(x[:, 0], 0.5 * x[:, 0] + x[:, 1]) - 3.0)[:, None])[0]
    assert np.all(slope[:2] > 0.3) and np.abs(slope[2:]).max() < 0.1


@pytest.mark.parametrize("d", [2, 30])
def test_no_slope_where_no_single_direction_leads_to_the_event(d):
    # the sum of squares (a sphere) and the absolute value of a sum (two opposite regions)
    rng = np.random.default_rng(d)
    x = rng.standard_normal((20 * d + 400, d))
    scores = np.column_stack([(x * x).sum(axis=1) - 3.0 * d, np.abs(x.sum(axis=1)) - 3.0])
    assert np.isnan(score_slopes(x, scores)).all()


def test_failed_runs_are_left_out_and_too_few_scores_give_none():
    rng = np.random.default_rng(1)
    d = 10
    x = rng.standard_normal((400, d))
    score = x.sum(axis=1)
    score[::3] = np.nan  # failed runs: no score
    np.testing.assert_allclose(score_slopes(x, score[:, None])[0], 1.0, rtol=1e-8)
    few = score_slopes(x[: 4 * (d + 1) - 1], score[: 4 * (d + 1) - 1, None])  # under 4 (d + 1) with a score
    assert np.isnan(few).all()
    assert np.isnan(score_slopes(x, np.full((400, 1), 2.0))).all()  # a constant score: no direction


def test_many_draws_are_thinned_and_keep_the_slope():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3 * MAX_ROWS, 3))
    noisy = x @ [1.0, -1.0, 0.5] + 0.1 * rng.standard_normal(x.shape[0])
    np.testing.assert_allclose(score_slopes(x, noisy[:, None])[0], [1.0, -1.0, 0.5], atol=0.01)
    assert 0 < LINEAR_FIT < 1
