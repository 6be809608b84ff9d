"""
Quick start: moments and an exceedance probability of a model output
====================================================================

The deflection ``D`` of a cantilever beam depends on six uncertain inputs, given as a
PyMC model (lognormal loads and modulus, normal dimensions). One call to
:func:`pymc_ais.estimate` returns its mean, its second moment, the probability that it
exceeds 0.07, the mean of an input and the mean of a black-box callable, each with its
error bar, from one shared sample. The result is an :class:`xarray.DataTree`; it is
saved to netCDF and reloaded whole.

Run:  ``bash scripts/dev.sh demo`` (or ``python examples/quickstart.py --quick``)
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

import pymc_ais as pa


def lognormal_params(mean, cov):
    sigma = np.sqrt(np.log1p(cov**2))
    return np.log(mean) - sigma**2 / 2, sigma


def beam_model():
    """Cantilever beam inputs (Demange-Chryst, Bachoc & Morio)."""
    with pm.Model() as beam:
        fx = pm.LogNormal("F_X", *lognormal_params(556.8, 0.08))
        fy = pm.LogNormal("F_Y", *lognormal_params(453.6, 0.08))
        e = pm.LogNormal("E", *lognormal_params(200.0, 0.06))
        w = pm.Normal("w", 0.062, 0.0062)
        t = pm.Normal("t", 0.0987, 0.00987)
        length = pm.Normal("L", 4.29, 0.429)
        pm.Deterministic(
            "D",
            4 * length**3 / (e * 1e9 * w * t) * pm.math.sqrt((fx / w**2) ** 2 + (fy / t**2) ** 2),
        )
    return beam


def main(draws: int) -> None:
    beam = beam_model()
    D = beam["D"]

    def stress_ratio(x):  # a black-box output: any numpy code on batched inputs
        return (x["F_X"] / x["w"] ** 2) / (x["F_Y"] / x["t"] ** 2)

    expectations = {
        "mean_D": D,
        "m2_D": D**2,
        "p_D_above_0.07": D > 0.07,
        "E_w": "w",
        "stress_ratio": stress_ratio,
    }
    start = time.perf_counter()
    idata = pa.estimate(expectations, model=beam, draws=draws, random_seed=1)
    elapsed = time.perf_counter() - start
    print(f"{draws} model evaluations, {elapsed:.2f} s (compilation included)\n")
    print(pa.summary(idata).to_string(float_format=lambda v: f"{v:.6g}"))

    est = idata["estimates"]
    sd = np.sqrt(est["mean"].sel(expectation="m2_D") - est["mean"].sel(expectation="mean_D") ** 2)
    print(f"\nstandard deviation of D: {float(sd):.5g}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "beam.nc"
        idata.to_netcdf(path)
        reloaded = xr.open_datatree(path)
        print(f"saved to netCDF and reloaded: identical = {reloaded.identical(idata)}")


if __name__ == "__main__":
    main(draws=2_000 if "--quick" in sys.argv else 20_000)
