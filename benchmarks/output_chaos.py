"""pa.estimate with a chaos control against the polynomial control and none, same budget.

Cases (single input law, independent inputs, known truths):

- ``ishigami``: mean and second moment of the Ishigami function (three uniforms);
- ``exp``: E[exp(x + 0.75 u)], x ~ N(1, 0.5), u ~ U(0, 2) (a normal germ, not a polynomial);
- ``beam``: mean and second moment of the cantilever deflection (lognormal and normal
  inputs), truths from 4 x 2^21 scrambled Sobol' points of the formula in numpy;
- ``kink``: E[|x1| + x2^2], x ~ N(0, 1)^2 (a kink at 0, where no polynomial helps much);
- ``mixed``: E[x^2] and P(x > 2), x ~ N(0, 1): an event beside an output the chaos
  matches exactly (the event is left to the adaptive sampler).

Per case and method, over ``--seeds`` seeds: the RMSE of each expectation against its
truth, the coverage of the 95 % intervals, the rms z-score, the share of runs that
warned, and the time per run; then the MSE of each method over the chaos's.

    python benchmarks/output_chaos.py [--seeds 20] [--draws 2000] [--cases ishigami exp beam kink]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pymc as pm
from scipy.stats import qmc

import pymc_ais as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from quickstart import beam_model, lognormal_params  # noqa: E402


def ishigami():
    with pm.Model() as model:
        x = [pm.Uniform(f"x{i + 1}", -np.pi, np.pi) for i in range(3)]
    y = pm.math.sin(x[0]) + 7 * pm.math.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * pm.math.sin(x[0])
    variance = 0.5 * (1 + 0.1 * np.pi**4 / 5) ** 2 + 49 / 8 + 0.01 * np.pi**8 * (1 / 18 - 1 / 50)
    return model, {"mean": y, "m2": y**2}, np.array([3.5, 3.5**2 + variance])


def exp_case():
    with pm.Model() as model:
        x = pm.Normal("x", 1.0, 0.5)
        u = pm.Uniform("u", 0.0, 2.0)
    truth = np.exp(1.0 + 0.125) * (np.exp(1.5) - 1) / 1.5
    return model, {"e": pm.math.exp(x + 0.75 * u)}, np.array([truth])


def beam_truth() -> np.ndarray:
    from scipy.special import ndtri

    sums = []
    for seed in range(4):
        z = ndtri(np.clip(qmc.Sobol(6, seed=seed).random(2**21), 1e-16, 1 - 1e-16))
        fx, fy, e = (
            np.exp(mu + s * z[:, i])
            for i, (mu, s) in enumerate(
                [lognormal_params(556.8, 0.08), lognormal_params(453.6, 0.08), lognormal_params(200.0, 0.06)]
            )
        )
        w, t, length = 0.062 + 0.0062 * z[:, 3], 0.0987 + 0.00987 * z[:, 4], 4.29 + 0.429 * z[:, 5]
        d = 4 * length**3 / (e * 1e9 * w * t) * np.sqrt((fx / w**2) ** 2 + (fy / t**2) ** 2)
        sums.append([d.mean(), (d**2).mean()])
    return np.mean(sums, axis=0)


def beam():
    model = beam_model()
    d = model["D"]
    return model, {"mean": d, "m2": d**2}, beam_truth()


def kink():
    with pm.Model() as model:
        x1 = pm.Normal("x1", 0.0, 1.0)
        x2 = pm.Normal("x2", 0.0, 1.0)
    return model, {"e": pm.math.abs(x1) + x2**2}, np.array([np.sqrt(2 / np.pi) + 1.0])


def mixed():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    return model, {"m2": x**2, "p": x > 2.0}, np.array([1.0, 0.5 * math.erfc(2.0 / math.sqrt(2.0))])


CASES = {"ishigami": ishigami, "exp": exp_case, "beam": beam, "kink": kink, "mixed": mixed}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    for name in args.cases:
        model, expectations, truth = CASES[name]()
        print(f"\n{name}: {args.draws} evaluations, {args.seeds} seeds, truths {np.round(truth, 6)}")
        scores = {}
        for surrogate in ("chaos", "polynomial", None):
            means, z, covered, warned = [], [], [], 0
            start = time.perf_counter()
            for seed in range(args.seeds):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pa.ReliabilityWarning)
                    idata = pa.estimate(
                        expectations,
                        model=model,
                        draws=args.draws,
                        surrogate=surrogate,
                        random_seed=seed,
                        progressbar=False,
                    )
                warned += any(issubclass(w.category, pa.ReliabilityWarning) for w in caught)
                est = idata["estimates"]
                means.append(est["mean"].values)
                z.append((est["mean"].values - truth) / est["mcse"].values)
                covered.append((est["ci_lower"].values <= truth) & (truth <= est["ci_upper"].values))
            seconds = (time.perf_counter() - start) / args.seeds
            means, z = np.array(means), np.array(z)
            mse = np.mean((means - truth) ** 2, axis=0)
            scores[surrogate] = mse
            print(
                f"  surrogate={surrogate!s:10s} RMSE {np.array2string(np.sqrt(mse), precision=2)}  "
                f"coverage {np.mean(covered):.2f}  rms z {np.sqrt(np.mean(z**2)):.2f}  "
                f"warned {warned}/{args.seeds}  {seconds:.2f} s/run"
            )
        for surrogate, mse in scores.items():
            ratio = np.array2string(mse / scores["chaos"], precision=2)
            print(f"  MSE / chaos's, surrogate={surrogate!s:10s} {ratio}")


if __name__ == "__main__":
    main()
