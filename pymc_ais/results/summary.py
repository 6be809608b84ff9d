"""``summary``: a pandas table of the estimates, in the spirit of ``az.summary``."""

from __future__ import annotations

import pandas as pd
import xarray as xr


def _table(ds: xr.Dataset, dims: list[str], round_to: int | None) -> pd.DataFrame:
    prob = float(ds.attrs.get("ci_prob", 0.95))
    lo, hi = 100 * (1 - prob) / 2, 100 * (1 + prob) / 2
    columns = {"mean": "mean", "mcse": "mcse", "ci_lower": f"ci_{lo:g}%", "ci_upper": f"ci_{hi:g}%"}
    index = pd.MultiIndex.from_product([ds[d].values for d in dims], names=dims)
    table = pd.DataFrame(
        {label: ds[var].transpose(*dims).values.ravel() for var, label in columns.items()}, index=index
    )
    return table.round(round_to) if round_to is not None else table


def summary(idata: xr.DataTree, round_to: int | None = None) -> pd.DataFrame:
    """A table of the estimates, in the spirit of ``az.summary``.

    One row per expectation (per input law and expectation with several laws): mean,
    mcse, interval bounds, ess_iid, ess_weights, ess_integrand, k-hat. For a :func:`pymc_ais.sobol` result,
    one row per (index, variable): mean, mcse and interval bounds.

    Examples
    --------
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    >>> idata = pa.estimate({"m2": x**2}, model=m, draws=4_000, random_seed=1, progressbar=False)
    >>> list(pa.summary(idata).columns)[:4]
    ['mean', 'mcse', 'ci_2.5%', 'ci_97.5%']
    >>> pa.summary(idata)  # doctest: +SKIP
               mean      mcse  ci_2.5%  ci_97.5%  ess_iid  ess_weights  pareto_k
    m2        1.001     0.004  ...
    """
    if "sensitivity" in idata.children:
        return _table(idata["sensitivity"].to_dataset(), ["index", "variable"], round_to)
    if "estimates" not in idata.children:
        raise ValueError("idata has no 'estimates' group: pass the result of pymc_ais.estimate or pymc_ais.sobol")
    ds = idata["estimates"].to_dataset()
    prob = float(ds.attrs.get("ci_prob", 0.95))
    lo, hi = 100 * (1 - prob) / 2, 100 * (1 + prob) / 2
    columns = {
        "mean": "mean",
        "mcse": "mcse",
        "ci_lower": f"ci_{lo:g}%",
        "ci_upper": f"ci_{hi:g}%",
        "ess_iid": "ess_iid",
        "ess_weights": "ess_weights",
        "ess_integrand": "ess_integrand",
        "pareto_k": "pareto_k",
    }
    if "model" in ds.dims:
        index = pd.MultiIndex.from_product(
            [ds["model"].values, ds["expectation"].values], names=["model", "expectation"]
        )
    else:
        index = pd.Index(ds["expectation"].values, name="expectation")
    table = pd.DataFrame({label: ds[var].values.ravel() for var, label in columns.items()}, index=index)
    return table.round(round_to) if round_to is not None else table
