import numpy as np
import pytest
from scipy.special import factorial2
from scipy.stats import norm
from scipy.stats import t as student_t

from pymc_ais.core import Problem


def within(estimate, mcse, truth, k=4.0, df=np.inf):
    """|estimate - truth| <= k mcse, elementwise, with a readable failure message.

    With errors estimated from R replicates (``df = R - 1``) the statistic is Student-t,
    and ``k`` standard errors of a normal are translated into the t quantile with the
    same tail probability (4 -> about 5.3 at 22 degrees of freedom).
    """
    estimate, mcse, truth = map(np.asarray, (estimate, mcse, truth))
    if np.isfinite(df):
        k = float(student_t.ppf(norm.cdf(k), df))
    z = np.abs(estimate - truth) / mcse
    assert np.all(z <= k), f"|estimate - truth| / mcse = {np.round(z, 2)} exceeds {k:.2f}"


def normal_laws(means: dict, shape) -> dict:
    """Candidate input laws ``x ~ N(mean, 1)`` (``shape`` inputs), one pm.Model per name, for ``models=``."""
    import pymc as pm

    laws = {}
    for name, mean in means.items():
        with pm.Model() as law:
            pm.Normal("x", mean, 1.0, shape=shape)
        laws[name] = law
    return laws


def within_run(idata, truth, k=4.0):
    """``within`` for a pa.estimate result, with its own degrees of freedom."""
    est = idata["estimates"]
    replicates = est.attrs.get("replicates", 0)
    df = replicates - 1 if replicates else np.inf
    within(est["mean"].values, est["mcse"].values, truth, k=k, df=df)


ISHIGAMI = (7.0, 0.1)  # a, b of sin x1 + a sin^2 x2 + b x3^4 sin x1, x ~ U(-pi, pi)^3


def ishigami_indices() -> np.ndarray:
    """Analytic first-order (row 0) and total (row 1) Sobol' indices of the Ishigami function."""
    a, b = ISHIGAMI
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    return np.array([[v1, v2, 0.0], [v1 + v13, v2, v13]]) / (v1 + v2 + v13)


def normal_moments_problem(orders: int, initial_quantile=None):
    """E[X^(2j)], j = 1..orders, X ~ N(0, 1), with no PyMC involved; returns (problem, truths (2j-1)!!)."""
    j = np.arange(1, orders + 1)
    problem = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
        evaluate=lambda x: (norm.logpdf(x), x ** (2 * j)),
        output_names=[f"m{2 * k}" for k in j],
        initial_quantile=initial_quantile,
    )
    return problem, factorial2(2 * j - 1).astype(float)


@pytest.fixture
def gaussian_moments_problem():
    """E[X^(2j)], j = 1..10 (see :func:`normal_moments_problem`)."""
    return normal_moments_problem(10)
