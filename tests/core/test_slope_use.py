"""Which fits follow an event's score slope (adaptation._few_elite_draws, _slope_for)."""

from types import SimpleNamespace

import numpy as np
import pytest

from pymc_ais.core.engine.adaptation import _few_elite_draws, _slope_for


def fake_state(dim: int, block: int, bridges=None):
    """What the two rules read: the inputs, the last block's size, targets' outputs, past climbing fits."""
    proposals = [SimpleNamespace(bridges=bridges)]
    return SimpleNamespace(
        x=np.zeros((1, dim)),
        counts=np.array([block]),
        targets=SimpleNamespace(output=np.array([0, 1])),
        proposals=proposals,
    )


@pytest.mark.parametrize(
    ("dim", "block", "few"),
    [
        (10, 2000, False),  # 40 elite draws: four per input
        (20, 2000, False),  # two per input
        (21, 2000, True),  # fewer than two, over ten inputs
        (41, 2000, True),  # fewer than one
        (10, 600, False),  # 12 elite draws, under two per input but not over ten inputs
        (13, 600, True),  # fewer than one: as before, whatever the dimension
    ],
)
def test_slopes_where_an_elite_set_holds_few_draws_per_input(dim, block, few):
    assert _few_elite_draws(fake_state(dim, block)) is few


def test_between_one_and_two_draws_per_input_only_climbing_fits_follow_the_slope():
    slopes = np.array([np.ones(30), np.full(30, np.nan)])
    never_climbed = fake_state(30, 2000, bridges=[None, None])
    assert _slope_for(never_climbed, slopes, 0, climbs=False) is None  # reached by the first block
    np.testing.assert_array_equal(_slope_for(never_climbed, slopes, 0, climbs=True), slopes[0])
    climbed = fake_state(30, 2000, bridges=[object(), None])  # a past level's kernels
    np.testing.assert_array_equal(_slope_for(climbed, slopes, 0, climbs=False), slopes[0])
    assert _slope_for(climbed, slopes, 1, climbs=True) is None  # no slope for that output
    assert _slope_for(climbed, None, 0, climbs=True) is None


def test_beyond_one_input_per_elite_draw_every_fit_follows_the_slope():
    slopes = np.array([np.ones(100), np.ones(100)])
    state = fake_state(100, 2000, bridges=[None, None])
    np.testing.assert_array_equal(_slope_for(state, slopes, 1, climbs=False), slopes[1])
