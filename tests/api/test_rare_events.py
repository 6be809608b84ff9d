"""Rare events through pa.estimate: indicator expressions reach events no first draw sees."""

import warnings

import numpy as np
import pymc as pm
from conftest import within_run
from scipy.stats import norm

import pymc_ais as pa


def test_one_in_a_million_from_an_indicator_expression():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=10)
    s = x.sum() / np.sqrt(10)
    thresholds = [4.0, 4.753424]  # 3.2e-5 and 1.0e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        idata = pa.estimate(
            {"p4": s > thresholds[0], "p_1e-6": s > thresholds[1]},
            model=model,
            draws=20_000,
            random_seed=3,
            progressbar=False,
        )
    within_run(idata, norm.sf(thresholds))
    relative = idata["estimates"]["mean"].values / norm.sf(thresholds) - 1
    assert np.all(np.abs(relative) < 0.1)


def test_a_rare_event_of_two_skewed_inputs():
    # P(b d > 13.474723) = 1.00e-5 (quadrature) for b ~ LogNormal(0, 0.3), d ~ Gamma(3, 2):
    # written as an expression, the event carries its score and is reached on every seed
    # tried (before the multilevel start, 9 runs in 20 were more than 3 standard errors off)
    from scipy import integrate, stats

    gamma = stats.gamma(3, scale=0.5)
    truth, _ = integrate.quad(lambda z: gamma.sf(13.474723 / np.exp(0.3 * z)) * stats.norm.pdf(z), -12, 12)
    with pm.Model() as model:
        b = pm.LogNormal("b", 0.0, 0.3)
        d = pm.Gamma("d", alpha=3.0, beta=2.0)
    for seed in (0, 1, 7):
        idata = pa.estimate({"p": b * d > 13.474723}, model=model, draws=20_000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])


def test_four_failure_regions_with_a_mixture_family():
    # the four-branch series system; p_f = 2.22280e-3 by 1-D quadrature: in
    # u = (x1 + x2)/sqrt(2), v = (x1 - x2)/sqrt(2) the failure domain is |v| >= 3.5 or
    # |u| >= 3 + v^2/5. Four mixture components find the four regions.
    from scipy import integrate, stats

    inner, _ = integrate.quad(lambda v: stats.norm.pdf(v) * 2 * stats.norm.sf(3 + v**2 / 5), -3.5, 3.5, epsabs=1e-15)
    truth = 2 * stats.norm.sf(3.5) + inner
    with pm.Model() as model:
        x1 = pm.Normal("x1", 0.0, 1.0)
        x2 = pm.Normal("x2", 0.0, 1.0)
    a = 3 + (x1 - x2) ** 2 / 10
    g = pm.math.minimum(
        pm.math.minimum(a - (x1 + x2) / np.sqrt(2), a + (x1 + x2) / np.sqrt(2)),
        pm.math.minimum(x1 - x2 + 7 / np.sqrt(2), x2 - x1 + 7 / np.sqrt(2)),
    )
    for seed in range(5):
        idata = pa.estimate(
            {"p_f": g <= 0},
            model=model,
            draws=20_000,
            random_seed=seed,
            progressbar=False,
            family="mixture",
            n_components=4,
        )
        within_run(idata, [truth])
