"""Failure probabilities under inputs that are not Gaussian in PyMC's flat coordinates.

Gumbel loads, Weibull and gamma strengths, uniform and beta inputs: their tails in the
flat (unconstrained) coordinates are exponential on one side at least. Cases, with
truths by quadrature:

- ``gumbel``: P(W > t) = 1e-4 and 1e-7 for a Gumbel W (one input);
- ``lower_tails``: P(X < q) = 1e-4 for a Weibull(10), a gamma(4), a uniform and a
  beta(2, 5) input (one input each);
- ``upper_tails``: P(X > q) = 1e-4 for an exponential and a gamma(4) input, tails that
  the flat coordinates suit (log-transformed: lighter than Gaussian);
- ``stress_strength``: P(R <= S), R ~ Weibull(10, 1), S a Gumbel load of standard
  deviation 0.06 and mean 0.4, 0.3, 0.25 (3.9e-4, 5.6e-5, 2.0e-5);
- ``cantilever``: the tip displacement ``(P1 + P2 + W) / E`` of a cantilever above t =
  55 and 65 (8.4e-6 and 1.0e-7), P1, P2 correlated lognormal loads (written as a 2-d
  MvNormal of their logarithms), W a Gumbel load, E a lognormal stiffness;
  truth by a three-dimensional quadrature over the normal germs;
- ``product``: P(b d > 13.47) = 1e-5 for b lognormal and d gamma(3, 2) (the warnings
  panel's rare product);
- ``sums``: the sum of d = 2, 10, 30, 100 exponentials below or above its 1e-6 and
  1 - 1e-6 quantiles (gamma laws, exact).

Printed per case: relative RMSE, rms of error / mcse, the runs that warned, and the
runs more than 3 error bars or 50 % off without a warning.

``--peers`` adds OpenTURNS's NAIS, standard-space cross-entropy and subset simulation
(level 0.1, as in ``rare_events.py``) on the stress-strength case at 5.6e-5 and the
cantilever at 1e-7, at the same 2e4 runs.

    python benchmarks/non_gaussian_inputs.py [--seeds 20] [--cases gumbel ...] [--peers]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from scipy import integrate, stats

import pymc_ais as pa


def gumbel():
    with pm.Model() as model:
        w = pm.Gumbel("W", 0.0, 1.0)
    return [(f"Gumbel upper tail {p:g}", model, stats.gumbel_r.isf(p) - w, p) for p in (1e-4, 1e-7)]


def lower_tails():
    cases = []
    for name, make, law in (
        ("Weibull(10)", lambda: pm.Weibull("x", alpha=10.0, beta=1.0), stats.weibull_min(10.0)),
        ("gamma(4)", lambda: pm.Gamma("x", alpha=4.0, beta=1.0), stats.gamma(4.0)),
        ("uniform", lambda: pm.Uniform("x", 0.0, 1.0), stats.uniform()),
        ("beta(2, 5)", lambda: pm.Beta("x", 2.0, 5.0), stats.beta(2.0, 5.0)),
    ):
        with pm.Model() as model:
            x = make()
        cases.append((f"{name} lower tail 1e-4", model, x - law.ppf(1e-4), 1e-4))
    return cases


def upper_tails():
    cases = []
    for name, make, law in (
        ("exponential", lambda: pm.Exponential("x", 1.0), stats.expon()),
        ("gamma(4)", lambda: pm.Gamma("x", alpha=4.0, beta=1.0), stats.gamma(4.0)),
    ):
        with pm.Model() as model:
            x = make()
        cases.append((f"{name} upper tail 1e-4", model, law.isf(1e-4) - x, 1e-4))
    return cases


def stress_strength():
    scale = 0.06 * np.sqrt(6) / np.pi
    cases = []
    for mean in (0.4, 0.3, 0.25):
        loc = mean - np.euler_gamma * scale
        with pm.Model() as model:
            r = pm.Weibull("R", alpha=10.0, beta=1.0)
            s = pm.Gumbel("S", mu=loc, beta=scale)
        truth, _ = integrate.quad(
            lambda v, loc=loc: stats.gumbel_r.pdf(v, loc, scale) * stats.weibull_min.cdf(v, 10.0),
            0.0,
            3.0,
            epsabs=1e-16,
            limit=200,
        )
        cases.append((f"Weibull strength, Gumbel load {mean}", model, r - s, truth))
    return cases


def cantilever():
    rho, s_ln = 0.6, np.sqrt(np.log(1.04))
    m_ln = np.log(10.0) - s_ln**2 / 2  # loads of mean 10, coefficient of variation 0.2
    scale = 1.5 * np.sqrt(6) / np.pi
    loc = 5.0 - np.euler_gamma * scale  # Gumbel load of mean 5, c.o.v. 0.3
    s_e = np.sqrt(np.log(1.01))
    m_e = -(s_e**2) / 2  # stiffness of mean 1, c.o.v. 0.1
    with pm.Model() as model:
        z = pm.MvNormal("z", mu=[m_ln, m_ln], cov=s_ln**2 * np.array([[1.0, rho], [rho, 1.0]]))
        w = pm.Gumbel("W", mu=loc, beta=scale)
        e = pm.LogNormal("E", mu=m_e, sigma=s_e)
    displacement = (pt.exp(z).sum() + w) / e
    u = np.linspace(-9.0, 9.0, 401)
    weight = stats.norm.pdf(u) * (u[1] - u[0])
    p1 = np.exp(m_ln + s_ln * u[:, None, None])
    p2 = np.exp(m_ln + s_ln * (rho * u[:, None, None] + np.sqrt(1 - rho**2) * u[None, :, None]))
    stiffness = np.exp(m_e + s_e * u[None, None, :])
    cases = []
    for t in (55.0, 65.0):
        beyond = -np.expm1(-np.exp(-(t * stiffness - p1 - p2 - loc) / scale))  # P(W > t E - P1 - P2)
        truth = float(np.einsum("ijk,i,j,k->", beyond, weight, weight, weight))
        cases.append((f"cantilever, t = {t:g}", model, t - displacement, truth))
    return cases


def sums():
    """P(sum of d exponentials < q) and P(... > q) at 1e-6, d = 2 to 100: a ladder of sizes."""
    cases = []
    for d in (2, 10, 30, 100):
        with pm.Model() as model:
            e = pm.Exponential("e", 1.0, shape=d)
        law = stats.gamma(d)
        cases.append((f"sum of {d} exponentials, lower 1e-6", model, e.sum() - law.ppf(1e-6), 1e-6))
        cases.append((f"sum of {d} exponentials, upper 1e-6", model, law.isf(1e-6) - e.sum(), 1e-6))
    return cases


def product():
    """The warnings panel's rare product, as a limit state."""
    from warnings_panel import RARE_PRODUCT_THRESHOLD, rare_product

    model, _, truth, _ = rare_product()
    limit_state = RARE_PRODUCT_THRESHOLD - model["b"] * model["d"]
    return [("lognormal times gamma 1e-5", model, limit_state, float(truth[0]))]


CASES = {
    "gumbel": gumbel,
    "lower_tails": lower_tails,
    "upper_tails": upper_tails,
    "stress_strength": stress_strength,
    "cantilever": cantilever,
    "product": product,
    "sums": sums,
}


def run(name, model, limit_state, truth, seeds, quiet=False) -> dict:
    """Relative RMSE, rms z, warned runs and silent misses over ``seeds`` runs (printed unless ``quiet``)."""
    est, err, warned = [], [], []
    start = time.perf_counter()
    for seed in range(seeds):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            idata = pa.failure_probability(limit_state, model=model, random_seed=seed, progressbar=False)
        failure = idata["failure"]
        est.append(failure["probability"].item())
        err.append(failure["mcse"].item())
        warned.append(any(issubclass(w.category, pa.ReliabilityWarning) for w in caught))
    est, err, warned = np.array(est), np.array(err), np.array(warned)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(err > 0, (est - truth) / err, np.inf)
    off = (np.abs(z) > 3) | (np.abs(est / truth - 1) > 0.5)
    figures = {
        "rel. RMSE": float(np.sqrt(np.mean((est / truth - 1) ** 2))),
        "rms z": float(np.sqrt(np.mean(np.minimum(z**2, 1e12)))),
        "warned": int(warned.sum()),
        "off without a warning": int(np.sum(off & ~warned)),
    }
    if not quiet:
        print(
            f"  {name:38s} truth {truth:.3e}  rel RMSE {figures['rel. RMSE']:.4f}  rms z {figures['rms z']:7.2f}"
            f"  warned {figures['warned']:2d}/{seeds}  off unwarned {figures['off without a warning']:2d}"
            f"  {(time.perf_counter() - start) / seeds:.2f} s/run",
            flush=True,
        )
    return figures


def openturns_stress_strength(mean: float):
    """The stress-strength case as an OpenTURNS event: the law and the limit state R - S."""
    import openturns as ot

    scale = 0.06 * np.sqrt(6) / np.pi
    law = ot.JointDistribution([ot.WeibullMin(1.0, 10.0, 0.0), ot.Gumbel(scale, mean - np.euler_gamma * scale)])
    return law, lambda x: x[:, 0] - x[:, 1]


def openturns_cantilever():
    """The cantilever as an OpenTURNS event: ln P1, ln P2 (correlated normals), W, E, and the displacement."""
    import openturns as ot

    rho, s_ln = 0.6, np.sqrt(np.log(1.04))
    m_ln = np.log(10.0) - s_ln**2 / 2
    scale = 1.5 * np.sqrt(6) / np.pi
    s_e = np.sqrt(np.log(1.01))
    logs = ot.Normal([m_ln, m_ln], ot.CovarianceMatrix(s_ln**2 * np.array([[1.0, rho], [rho, 1.0]])))
    law = ot.BlockIndependentDistribution(
        [logs, ot.Gumbel(scale, 5.0 - np.euler_gamma * scale), ot.LogNormal(-(s_e**2) / 2, s_e)]
    )
    return law, lambda x: (np.exp(x[:, 0]) + np.exp(x[:, 1]) + x[:, 2]) / x[:, 3]


def peers(name: str, law, response, comparison: str, threshold: float, truth: float, runs: int, seeds: int):
    """NAIS, standard-space cross-entropy and subset simulation (level 0.1) at ``runs`` runs, as rare_events.py."""
    import openturns as ot
    from rare_events import openturns_algorithm

    counter = {"calls": 0}

    def function(sample):
        values = np.asarray(sample)
        counter["calls"] += values.shape[0]
        return response(values)[:, None]

    dim = law.getDimension()
    output = ot.CompositeRandomVector(ot.PythonFunction(dim, 1, func_sample=function), ot.RandomVector(law))
    event = ot.ThresholdEvent(output, getattr(ot, comparison)(), float(threshold))
    steps = max(1, int(np.ceil(np.log(1.0 / truth) / np.log(10.0)))) + 1
    for kind in ("NAIS", "CE", "SubsetSampling"):
        try:
            openturns_algorithm(event, kind, 0.1, 2.0)
        except TypeError as err:  # NAIS: "only adapted to unbounded distribution"
            print(f"  {name:38s} {kind:15s} refused: {str(err).split(':')[-1].strip()}")
            continue
        estimates, used = [], []
        for seed in range(seeds):
            ot.RandomGenerator.SetSeed(seed)
            counter["calls"] = 0
            algo = openturns_algorithm(event, kind, 0.1, 2.0)
            algo.setMaximumOuterSampling(max(100, runs // steps))
            try:
                algo.run()
                estimates.append(algo.getResult().getProbabilityEstimate())
            except (RuntimeError, TypeError):
                estimates.append(0.0)
            used.append(counter["calls"])
        rel = np.array(estimates) / truth - 1
        print(
            f"  {name:38s} {kind:15s} rel RMSE {np.sqrt(np.mean(rel**2)):.4f}"
            f"  off by more than 50 %: {np.sum(np.abs(rel) > 0.5):2d}/{seeds}  runs used {np.mean(used):.0f}",
            flush=True,
        )


def run_peers(seeds: int) -> None:
    """The peers on the stress-strength case at 5.6e-5 and the cantilever at 1e-7."""
    (name, _, _, truth) = stress_strength()[1]
    law, response = openturns_stress_strength(0.3)
    peers(name, law, response, "LessOrEqual", 0.0, truth, 20_000, seeds)
    (name, _, _, truth) = cantilever()[1]
    law, response = openturns_cantilever()
    peers(name, law, response, "Greater", 65.0, truth, 20_000, seeds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--peers", action="store_true", help="also OpenTURNS's NAIS, CE and subset simulation")
    args = parser.parse_args()
    for case in args.cases:
        print(case)
        for name, model, limit_state, truth in CASES[case]():
            run(name, model, limit_state, truth, args.seeds)
    if args.peers:
        print("peers at the same runs (OpenTURNS)")
        run_peers(args.seeds)


if __name__ == "__main__":
    main()
