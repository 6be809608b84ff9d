"""Event scores read off indicator expressions."""

import numpy as np
import pytensor.tensor as pt

from pymc_ais.model.events import event_score


def test_scores_of_each_comparison():
    y = pt.vector("y")
    values = np.array([1.0, 3.0, 5.0])
    np.testing.assert_array_equal(event_score(y > 3.0).eval({y: values}), values - 3.0)
    np.testing.assert_array_equal(event_score(y >= 3.0).eval({y: values}), values - 3.0)
    np.testing.assert_array_equal(event_score(y < 3.0).eval({y: values}), 3.0 - values)
    np.testing.assert_array_equal(event_score(y <= 3.0).eval({y: values}), 3.0 - values)
    # the score is positive exactly inside the event (up to the boundary)
    assert np.all((event_score(y > 3.0).eval({y: values}) > 0) == (values > 3.0))


def test_casts_are_looked_through_and_other_outputs_have_none():
    y = pt.vector("y")
    cast = pt.cast(y > 2.0, "float64")
    np.testing.assert_array_equal(event_score(cast).eval({y: np.array([1.0, 4.0])}), [-1.0, 2.0])
    assert event_score(y**2) is None
    assert event_score(pt.switch(y > 0, y, 0.0)) is None
