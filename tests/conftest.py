import numpy as np
import pytest
from scipy.special import factorial2
from scipy.stats import norm

from pymc_ais.core import Problem


def within(estimate, mcse, truth, k=4.0):
    """|estimate - truth| <= k mcse, elementwise, with a readable failure message."""
    estimate, mcse, truth = map(np.asarray, (estimate, mcse, truth))
    z = np.abs(estimate - truth) / mcse
    assert np.all(z <= k), f"|estimate - truth| / mcse = {np.round(z, 2)} exceeds {k}"


@pytest.fixture
def gaussian_moments_problem():
    """E[X^(2j)], j = 1..10, X ~ N(0, 1): truths (2j-1)!!, with no PyMC involved."""
    j = np.arange(1, 11)
    problem = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
        evaluate=lambda x: (norm.logpdf(x), x ** (2 * j)),
        output_names=[f"m{2 * k}" for k in j],
    )
    return problem, factorial2(2 * j - 1).astype(float)
