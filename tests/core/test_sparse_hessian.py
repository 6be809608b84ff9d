"""Hessians from gradient differences: the sparse plan gives the full measurement's matrix for fewer gradients."""

import numpy as np
import pytest

from pymc_ais.core.densities import sparse_hessian


def quadratic(precision: np.ndarray):
    """Gradient of -x'Px/2 + sum(sin(x)) (its Hessian's pattern is P's) and a counter of its calls."""
    calls = [0]

    def gradient_at(x):
        calls[0] += 1
        return -precision @ x + np.cos(x)

    return gradient_at, calls


def arrowhead(d: int) -> np.ndarray:
    """Group effects coupled through one mean: a dense first row and column, the rest diagonal."""
    p = np.diag(np.linspace(1.0, 3.0, d))
    p[0, 1:] = p[1:, 0] = 0.1
    p[0, 0] = d
    return p


def banded(d: int) -> np.ndarray:
    return 2.5 * np.eye(d) - np.eye(d, k=1) - np.eye(d, k=-1)


@pytest.mark.parametrize("d", [2, 10, 30, 100])
@pytest.mark.parametrize("shape", [arrowhead, banded])
def test_the_plan_gives_the_full_measurement_for_fewer_gradients(d, shape):
    """Arrowhead: 2 gradients; banded: 3; the matrix equals the full forward differences to their own accuracy."""
    precision = shape(d)
    gradient_at, calls = quadratic(precision)
    x = np.random.default_rng(d).normal(size=d)
    grad, steps = gradient_at(x), 1e-5 * np.maximum(1.0, np.abs(x))
    full = sparse_hessian.measure(gradient_at, x, grad, steps, None)
    exact = precision + np.diag(np.sin(x))
    np.testing.assert_allclose(full, exact, atol=1e-4)
    plan = sparse_hessian.plan(full)
    if d < 10:  # too few coordinates to save much
        assert plan is None or plan.gradients < 0.8 * d
        return
    assert plan is not None and plan.gradients == (2 if shape is arrowhead else 3)
    calls[0] = 0
    planned = sparse_hessian.measure(gradient_at, x, grad, steps, plan)
    assert calls[0] == plan.gradients
    np.testing.assert_allclose(planned, exact, atol=1e-4)


def test_a_dense_hessian_has_no_plan_and_a_failed_gradient_leaves_its_entries_zero():
    d = 12
    a = np.random.default_rng(0).normal(size=(d, d))
    gradient_at, _ = quadratic(a @ a.T + np.eye(d))
    x = np.zeros(d)
    steps = np.full(d, 1e-5)
    assert sparse_hessian.plan(sparse_hessian.measure(gradient_at, x, gradient_at(x), steps, None)) is None
    precision = arrowhead(d)
    good, _ = quadratic(precision)
    plan = sparse_hessian.plan(sparse_hessian.measure(good, x, good(x), steps, None))
    assert plan is not None

    def holed(point):  # not finite when the group effects move together
        return None if np.sum(point[1:] != 0) > 1 else good(point)

    found = sparse_hessian.measure(holed, x, good(x), steps, plan)
    np.testing.assert_allclose(found[:, 0], precision[:, 0], atol=1e-4)
    np.testing.assert_allclose(found[0], precision[0], atol=1e-4)
    assert np.all(np.diag(found)[1:] == 0)
