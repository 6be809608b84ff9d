"""How far the ReliabilityWarning can be trusted: false alarms and detections over fixed panels.

Each case is a PyMC model, some expectations with truths known independently, and a
budget. Every case is run over many seeds with ``pa.estimate`` (default settings); a run
is

- *right* when every estimate is inside its interval and every reported mcse is within
  30 % of the true spread of that estimate (the root-mean-square error over the seeds);
- *wrong* when some estimate is off by more than 3 reported mcse, or reports an mcse
  below half its true spread (an infinite truth makes every run wrong).

Printed: per case, the runs, right runs that warned, wrong runs and wrong runs that
warned; then the false-alarm rate (right runs that warn) over the benign panel and the
detection rate (wrong runs that warn) over the hostile panel. Also printed: the runs
off by more than 3 reported mcse, and all runs that warned. Where the method's accuracy
differs from seed to seed (a run integrated exactly by its quasi-random net next to one
that is not, or collapsed rare-event runs next to accurate ones), the spread over seeds
is not any one run's, and accurate runs count as wrong by the second criterion.
Targets: false alarms <= 2 %, detections >= 90 %.

    python benchmarks/warnings_panel.py [--seeds 50] [--only NAME ...] [--save runs.npz]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm
from rare_events import four_branch_limit_state, four_branch_probability
from scipy import integrate, stats
from scipy.special import ndtr
from scipy.stats import qmc

import pymc_ais as pa

# --- benign panel -------------------------------------------------------------------


def bounded():
    """Uniform and beta inputs, their means and the mean of the product."""
    with pm.Model() as m:
        u = pm.Uniform("u", 0, 2)
        b = pm.Beta("b", 2, 3)
    return m, {"u": u, "b": b, "ub": u * b}, np.array([1.0, 0.4, 0.4]), 5000


def gaussian_moments():
    """Even moments of a standard normal."""
    with pm.Model() as m:
        x = pm.Normal("x", 0, 1)
    return m, {"m2": x**2, "m4": x**4, "m6": x**6}, np.array([1.0, 3.0, 15.0]), 5000


def lognormal_gamma():
    """Means and a product of a lognormal and a gamma input."""
    with pm.Model() as m:
        b = pm.LogNormal("b", 0, 0.3)
        d = pm.Gamma("d", alpha=3, beta=2)
    eb, ed = np.exp(0.045), 1.5
    truth = np.array([eb, ed, eb * ed, np.exp(0.18)])
    return m, {"b": b, "d": d, "bd": b * d, "b2": b**2}, truth, 5000


def cantilever():
    """Moments and a moderate exceedance probability of the cantilever deflection."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cantilever_sobol import deflection, from_uniform

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from quickstart import beam_model

    beam = beam_model()
    d = beam["D"]
    sums = np.zeros(3)
    n = 0
    for seed in range(8):  # reference: 8 x 2^18 scrambled Sobol' points
        y = deflection(from_uniform(qmc.Sobol(6, scramble=True, seed=seed).random(2**18)))
        sums += [np.sum(y), np.sum(y**2), np.sum(y > 0.07)]
        n += y.size
    return beam, {"mean_D": d, "m2_D": d**2, "p_D": d > 0.07}, sums / n, 5000


def moderate_probabilities():
    """P(S > 1) and P(S > 2), S the standardised sum of 10 normals."""
    with pm.Model() as m:
        x = pm.Normal("x", 0, 1, shape=10)
    s = x.sum() / np.sqrt(10)
    return m, {"p1": s > 1, "p2": s > 2}, ndtr(-np.array([1.0, 2.0])), 5000


def normal_posterior():
    """Posterior of a normal mean (prior N(0, 2), ten observations, unit noise): conjugate."""
    y = np.array([0.8, 1.9, 1.2, 0.4, 1.5, 2.2, 0.9, 1.1, 1.6, 0.7])
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 2)
        pm.Normal("y", mu, 1, observed=y)
    precision = 1 / 4 + y.size
    mean, var = y.sum() / precision, 1 / precision
    truth = np.array([mean, var + mean**2, stats.norm(mean, np.sqrt(var)).sf(1.0)])
    return m, {"mu": mu, "mu2": mu**2, "p_mu_above_1": mu > 1}, truth, 5000


def beta_binomial_posterior():
    """Posterior of a success probability (prior Beta(2, 2), 14 successes in 20): Beta(16, 8)."""
    with pm.Model() as m:
        p = pm.Beta("p", 2, 2)
        pm.Binomial("k", n=20, p=p, observed=14)
    post = stats.beta(16, 8)
    truth = np.array([post.mean(), post.var() + post.mean() ** 2, post.sf(0.8)])
    return m, {"p": p, "p2": p**2, "p_above_0.8": p > 0.8}, truth, 5000


# --- hostile panel ------------------------------------------------------------------


def bimodal_posterior():
    """A normal mean seen through its square: mu ~ N(0, 5), y ~ N(mu^2, 1), y = 9; modes at +-3.

    A start at one mode (the Laplace approximation) must find the other; E[mu] = 0 and
    P(mu > 0) = 1/2 by symmetry, E[mu^2] by quadrature.
    """
    with pm.Model() as m:
        mu = pm.Normal("mu", 0, 5)
        pm.Normal("y", mu**2, 1, observed=9.0)
    density = lambda z: stats.norm(0, 5).pdf(z) * stats.norm(z**2, 1).pdf(9.0)
    z_norm, _ = integrate.quad(density, -12, 12, points=[-3, 3], epsabs=1e-14)
    m2, _ = integrate.quad(lambda z: z**2 * density(z), -12, 12, points=[-3, 3], epsabs=1e-14)
    return m, {"mu": mu, "mu2": mu**2, "p_positive": mu > 0}, np.array([0.0, m2 / z_norm, 0.5]), 5000


def rare_linear():
    """P(S > t) at 4, 4.5 and 5 sigma, S the standardised sum of 10 normals."""
    with pm.Model() as m:
        x = pm.Normal("x", 0, 1, shape=10)
    s = x.sum() / np.sqrt(10)
    t = np.array([4.0, 4.5, 5.0])
    return m, {f"p{k}": s > k for k in t}, ndtr(-t), 20_000


def student_t_variance():
    """E[x^2] under a Student-t(2.5): finite mean, infinite variance of x^2."""
    with pm.Model() as m:
        x = pm.StudentT("x", nu=2.5, mu=0, sigma=1)
    return m, {"m2": x**2}, np.array([2.5 / 0.5]), 5000


def four_branch():
    """The four-branch series system: four failure regions, p_f = 2.2228e-3 (quadrature)."""
    with pm.Model() as m:
        x1 = pm.Normal("x1", 0, 1)
        x2 = pm.Normal("x2", 0, 1)
    g = four_branch_limit_state(x1, x2, 3.0, 7.0, pm.math.minimum)
    return m, {"p_f": g <= 0}, np.array([four_branch_probability(3.0, 7.0)]), 5000


def cauchy_abs():
    """E|theta| under a Cauchy prior: infinite, every run is wrong."""
    with pm.Model() as m:
        theta = pm.Cauchy("theta", 0, 1)
    return m, {"abs_theta": abs(theta)}, np.array([np.inf]), 5000


RARE_PRODUCT_THRESHOLD = 13.474723


def rare_product():
    """P(b d > 13.474723) = 1e-5 for b ~ LogNormal(0, 0.3), d ~ Gamma(3, 2)."""
    with pm.Model() as m:
        b = pm.LogNormal("b", 0, 0.3)
        d = pm.Gamma("d", alpha=3, beta=2)
    t = RARE_PRODUCT_THRESHOLD
    gam = stats.gamma(3, scale=0.5)
    truth, _ = integrate.quad(lambda z: gam.sf(t / np.exp(0.3 * z)) * stats.norm.pdf(z), -12, 12, epsabs=1e-14)
    return m, {"p": b * d > t}, np.array([truth]), 20_000


def posterior_infinite_moment():
    """E[sigma^2 | y] for sigma ~ HalfCauchy(1), y ~ N(0, sigma), y = 0.5: infinite.

    The posterior's tail falls as sigma^-3, so every run is wrong.
    """
    with pm.Model() as m:
        sigma = pm.HalfCauchy("sigma", 1.0)
        pm.Normal("y", 0.0, sigma, observed=0.5)
    return m, {"sigma2": sigma**2}, np.array([np.inf]), 5000


BENIGN = [
    bounded,
    gaussian_moments,
    lognormal_gamma,
    cantilever,
    moderate_probabilities,
    normal_posterior,
    beta_binomial_posterior,
]
HOSTILE = [
    rare_linear,
    student_t_variance,
    four_branch,
    cauchy_abs,
    rare_product,
    bimodal_posterior,
    posterior_infinite_moment,
]


def run_case(case, seeds):
    """Means, mcse, intervals and warning messages of every seeded run of a case."""
    model, expectations, truth, draws = case()
    rows = []
    for seed in range(seeds):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            idata = pa.estimate(expectations, model=model, draws=draws, random_seed=seed, progressbar=False)
        est = idata["estimates"].to_dataset()
        messages = [str(w.message) for w in caught if issubclass(w.category, pa.ReliabilityWarning)]
        rows.append(
            (
                est["mean"].values,
                est["mcse"].values,
                est["ci_lower"].values,
                est["ci_upper"].values,
                messages,
            )
        )
    return truth, rows


def classify(truth, rows):
    """Right and wrong flags per run, and whether it warned."""
    mean = np.array([r[0] for r in rows])
    mcse = np.array([r[1] for r in rows])
    lower = np.array([r[2] for r in rows])
    upper = np.array([r[3] for r in rows])
    warned = np.array([bool(r[4]) for r in rows])
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        spread = np.sqrt(np.mean((mean - truth) ** 2, axis=0))
        inside = (lower <= truth) & (truth <= upper)
        exact = spread <= 1e-12 * np.maximum(np.abs(truth), 1.0)  # errors at rounding: any covering bar will do
        honest = (np.abs(mcse / spread - 1) <= 0.3) | exact
        right = np.all(inside & honest, axis=1) & np.all(np.isfinite(truth))
        off = np.abs(mean - truth) > 3 * mcse
        small = mcse < 0.5 * spread
        wrong = np.any(off | small | ~np.isfinite(truth), axis=1)
    return right, wrong, warned, spread, np.any(off, axis=1)


def tally(panel: str, right, wrong, warned) -> tuple[int, int]:
    """Benign panel: (right runs that warned, right runs); hostile: (wrong runs that warned, wrong runs)."""
    if panel == "benign":
        return int(np.sum(right & warned)), int(right.sum())
    return int(np.sum(wrong & warned)), int(wrong.sum())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--save", default=None, help="write every run's figures to this .npz")
    args = parser.parse_args()
    totals = {"benign": [0, 0], "hostile": [0, 0]}
    saved = {}
    for panel, cases in (("benign", BENIGN), ("hostile", HOSTILE)):
        print(f"{panel} panel")
        for case in cases:
            if args.only and case.__name__ not in args.only:
                continue
            start = time.perf_counter()
            truth, rows = run_case(case, args.seeds)
            right, wrong, warned, spread, off = classify(truth, rows)
            elapsed = time.perf_counter() - start
            print(
                f"  {case.__name__:24s} runs {len(rows):3d}"
                f"  right {right.sum():3d} (warned {np.sum(right & warned):2d})"
                f"  wrong {wrong.sum():3d} (warned {np.sum(wrong & warned):2d})"
                f"  off by > 3 mcse {off.sum():3d} (warned {np.sum(off & warned):2d})"
                f"  warned {warned.sum():3d}  {elapsed:6.1f} s"
            )
            for seed in np.flatnonzero(wrong & ~warned if panel == "hostile" else right & warned)[:3]:
                mean, mcse = rows[seed][0], rows[seed][1]
                print(f"      seed {seed}: mean {mean} mcse {mcse} truth {truth} {rows[seed][4][:1]}")
            hits, runs = tally(panel, right, wrong, warned)
            totals[panel][0] += hits
            totals[panel][1] += runs
            saved[case.__name__] = np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), warned, truth
    fa, n_right = totals["benign"]
    det, n_wrong = totals["hostile"]
    if n_right:
        print(f"false-alarm rate: {fa}/{n_right} = {fa / n_right:.1%} of right runs warned (target <= 2 %)")
    if n_wrong:
        print(f"detection rate:   {det}/{n_wrong} = {det / n_wrong:.1%} of wrong runs warned (target >= 90 %)")
    if args.save:
        np.savez(args.save, **{f"{k}_{i}": v for k, vals in saved.items() for i, v in enumerate(vals)})


if __name__ == "__main__":
    main()
