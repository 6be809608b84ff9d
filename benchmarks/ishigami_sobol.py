"""Sobol' indices of the Ishigami function against SALib and an OpenTURNS polynomial chaos.

``--function ishigami`` (default): y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1,
x ~ U(-pi, pi)^3. ``--function gfunction``: Sobol's g-function in 8 inputs,
prod (|4 u_i - 2| + a_i) / (1 + a_i), u ~ U(0, 1)^8, a = (0, 1, 4.5, 9, 99, 99, 99, 99),
with a kink where no polynomial helps much. ``--function normal``: exp(0.3 x1) + x2^2 +
x1 x3 with x ~ N(0, 1)^3, where a Hermite chaos matches all but the exponential.
``--function squarewave``: (floor(30 u1) mod 2) + u2, u ~ U(0, 1)^3 with u3 unused, 30
jumps that no chaos follows (it is rejected), indices (0.75, 0.25, 0). All
have analytic first-order and total indices. At each budget (model runs), over ``--seeds`` seeds, in one process:

- pa.sobol with ``surrogate="chaos"`` (what the default, "auto", takes on these
  independent inputs) and with ``surrogate="polynomial"``;
- SALib: Saltelli's scheme on scrambled Sobol' points (N a power of two, N (d + 2)
  runs at most the budget), Saltelli 2010 first-order and Jansen total estimators;
- OpenTURNS: a polynomial chaos on i.i.d. points (LARS with the corrected
  leave-one-out error, Legendre polynomials, hyperbolic basis q = 0.75 up to total
  degree 14; 6 for the g-function's eight inputs), its indices read off the coefficients (no error bar); its fit takes
  about 21 s at 2,000 runs, so it is skipped above ``--chaos-max-runs``.

Printed per method and budget: the sum over inputs of the mean squared error of the
first-order and total indices, the coverage of the 95 % intervals (where given) and
the time per run; then each method's MSE over ours with the chaos.

    python benchmarks/ishigami_sobol.py [--function ishigami] [--seeds 50] [--budgets 500 2000 10000 50000]
Needs the benchmark extra: pip install -e ".[bench]" (SALib, OpenTURNS).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pymc as pm

import pymc_ais as pa

A, B = 7.0, 0.1
V1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
VARIANCE = V1 + V2 + V13
G_A = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0])


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def gfunction(x: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * x - 2) + G_A) / (1 + G_A), axis=1)


def normal_case(x: np.ndarray) -> np.ndarray:
    return np.exp(0.3 * x[:, 0]) + x[:, 1] ** 2 + x[:, 0] * x[:, 2]


def squarewave(x: np.ndarray) -> np.ndarray:
    return np.floor(30 * x[:, 0]) % 2 + x[:, 1]


def evaluate(function: str, x: np.ndarray) -> np.ndarray:
    cases = {"ishigami": ishigami, "gfunction": gfunction, "normal": normal_case, "squarewave": squarewave}
    return cases[function](x)


def truth_of(function: str) -> np.ndarray:
    """Analytic (first, total) indices, (2, d)."""
    if function == "normal":  # Var exp(0.3 x) = e^0.09 (e^0.09 - 1), Var x^2 = 2, Var x1 x3 = 1
        v1 = np.exp(0.09) * (np.exp(0.09) - 1)
        return np.stack([np.array([v1, 2.0, 0.0]), np.array([v1 + 1, 2.0, 1.0])]) / (v1 + 3)
    if function == "ishigami":
        return np.stack([np.array([V1, V2, 0.0]), np.array([V1 + V13, V2, V13])]) / VARIANCE
    if function == "squarewave":  # additive: Var = 1/4 + 1/12
        return np.stack([np.array([0.75, 0.25, 0.0])] * 2)
    vi = 1 / (3 * (1 + G_A) ** 2)
    variance = np.prod(1 + vi) - 1
    total = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(G_A.size)])
    return np.stack([vi, total]) / variance


def bounds_of(function: str) -> list:
    """SALib's bounds (for "normal": mean and standard deviation)."""
    if function == "normal":
        return [[0.0, 1.0]] * 3
    if function == "squarewave":
        return [[0.0, 1.0]] * 3
    return [[-np.pi, np.pi]] * 3 if function == "ishigami" else [[0.0, 1.0]] * G_A.size


def ours(function: str, runs: int, seed: int, surrogate: str):
    with pm.Model() as model:
        if function == "normal":
            x = [pm.Normal(f"x{i + 1}", 0.0, 1.0) for i in range(3)]
        else:
            x = [pm.Uniform(f"x{i + 1}", lo, hi) for i, (lo, hi) in enumerate(bounds_of(function))]
    if function == "normal":
        y = pm.math.exp(0.3 * x[0]) + x[1] ** 2 + x[0] * x[2]
    elif function == "ishigami":
        y = pm.math.sin(x[0]) + A * pm.math.sin(x[1]) ** 2 + B * x[2] ** 4 * pm.math.sin(x[0])
    elif function == "squarewave":
        y = pm.math.floor(30 * x[0]) % 2 + x[1] + 0 * x[2]
    else:
        y = 1.0
        for xi, ai in zip(x, G_A):
            y = y * (pm.math.abs(4 * xi - 2) + ai) / (1 + ai)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pa.ReliabilityWarning)
        idata = pa.sobol(y, model=model, draws=runs, random_seed=seed, progressbar=False, surrogate=surrogate)
    s = idata["sensitivity"]
    mean = np.stack([s["mean"].sel(index=k).values for k in ("first", "total")])
    lower = np.stack([s["ci_lower"].sel(index=k).values for k in ("first", "total")])
    upper = np.stack([s["ci_upper"].sel(index=k).values for k in ("first", "total")])
    return mean, lower, upper


def salib(function: str, runs: int, seed: int):
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    bounds = bounds_of(function)
    d = len(bounds)
    problem = {"num_vars": d, "names": [f"x{i + 1}" for i in range(d)], "bounds": bounds}
    if function == "normal":
        problem["dists"] = ["norm"] * d
    n = 2 ** int(np.floor(np.log2(runs / (d + 2))))
    x = sample.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    res = analyze.analyze(problem, evaluate(function, x), calc_second_order=False, seed=seed)
    mean = np.stack([res["S1"], res["ST"]])
    half = np.stack([res["S1_conf"], res["ST_conf"]])
    return mean, mean - half, mean + half


def openturns_chaos(function: str, runs: int, seed: int):
    import openturns as ot

    ot.RandomGenerator.SetSeed(seed)
    bounds = bounds_of(function)
    d = len(bounds)
    if function == "normal":
        law = ot.JointDistribution([ot.Normal()] * d)
        polynomials = [ot.HermiteFactory()] * d
    else:
        law = ot.JointDistribution([ot.Uniform(lo, hi) for lo, hi in bounds])
        polynomials = [ot.LegendreFactory()] * d
    x = law.getSample(runs)
    y = ot.Sample(evaluate(function, np.asarray(x))[:, None])
    enumerate_function = ot.HyperbolicAnisotropicEnumerateFunction(d, 0.75)
    factory = ot.OrthogonalProductPolynomialFactory(polynomials, enumerate_function)
    size = enumerate_function.getBasisSizeFromTotalDegree(14 if d <= 3 else 6)
    selection = ot.LeastSquaresMetaModelSelectionFactory(ot.LARS(), ot.CorrectedLeaveOneOut())
    algo = ot.FunctionalChaosAlgorithm(x, y, law, ot.FixedStrategy(factory, size), ot.LeastSquaresStrategy(selection))
    algo.run()
    indices = ot.FunctionalChaosSobolIndices(algo.getResult())
    mean = np.array([[indices.getSobolIndex(i) for i in range(d)], [indices.getSobolTotalIndex(i) for i in range(d)]])
    return mean, None, None


def summed_mse(mean: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The headline figures: the sum over inputs of the MSE over the seeds, (first, total).

    ``mean`` stacks the seeds' indices, (seeds, 2, d); ``truth`` is (2, d).
    """
    return np.sum(np.mean((mean - truth) ** 2, axis=0), axis=1)


KEYS = ("chaos", "polynomial", "salib", "openturns")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--function", choices=["ishigami", "gfunction", "normal", "squarewave"], default="ishigami")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--budgets", type=int, nargs="*", default=[500, 2000, 10000, 50000])
    parser.add_argument(
        "--chaos-max-runs", type=int, default=2000, help="largest budget of the OpenTURNS chaos (21 s per fit at 2,000)"
    )
    parser.add_argument(
        "--methods", nargs="*", default=list(KEYS), choices=list(KEYS), help="which methods to run (default: all)"
    )
    args = parser.parse_args()
    function = args.function
    truth = truth_of(function)
    methods = {
        'pa.sobol, surrogate="chaos"': lambda r, s: ours(function, r, s, "chaos"),
        'pa.sobol, surrogate="polynomial"': lambda r, s: ours(function, r, s, "polynomial"),
        "SALib, Saltelli on scrambled Sobol'": lambda r, s: salib(function, r, s),
        "OpenTURNS chaos (LARS)": lambda r, s: openturns_chaos(function, r, s),
    }
    methods = {name: m for (name, m), key in zip(methods.items(), KEYS) if key in args.methods}
    print(f"{function}, analytic indices; {args.seeds} seeds; sum over inputs of the MSE")
    for runs in args.budgets:
        print(f"\n{runs} model runs")
        scores = {}
        for name, method in methods.items():
            if name.startswith("OpenTURNS") and runs > args.chaos_max_runs:
                print(f"  {name:38s} skipped above --chaos-max-runs")
                continue
            start = time.perf_counter()
            try:
                found = [method(runs, seed) for seed in range(args.seeds)]
            except ImportError:
                print(f"  {name:38s} skipped: pip install -e '.[bench]'")
                continue
            seconds = (time.perf_counter() - start) / args.seeds
            mean = np.array([f[0] for f in found])
            mse = summed_mse(mean, truth)
            scores[name] = mse
            if found[0][1] is not None:
                lower, upper = np.array([f[1] for f in found]), np.array([f[2] for f in found])
                cover = f"{np.mean((lower <= truth) & (truth <= upper)):.2f}"
            else:
                cover = "  - "
            print(f"  {name:38s} MSE first {mse[0]:.2e}  total {mse[1]:.2e}  coverage {cover}  {seconds:.2f} s/run")
        base = scores.get('pa.sobol, surrogate="chaos"')
        if base is not None:
            for name, mse in scores.items():
                print(f"  {name:38s} MSE / chaos's: first {mse[0] / base[0]:9.2e}  total {mse[1] / base[1]:9.2e}")


if __name__ == "__main__":
    main()
