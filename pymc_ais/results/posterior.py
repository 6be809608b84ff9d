"""Results of a run on posteriors: posterior expectations, the ``evidence`` group and Bayes factors.

The core estimated, per law l, the integrals of the unnormalised posterior
``p_l(theta) p_l(y | theta)`` times each output and times one (the evidence ``Z_l``);
:func:`posterior_result` turns them into posterior expectations (ratios) with their
diagnostics, :func:`evidence_dataset` into log evidences, and :func:`bayes_factors`
compares the laws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..core.densities.gaussian_mixture import normalised_weights
from ..core.engine.final import Estimates
from ..core.engine.kernel import RunResult
from ..core.sensitivity.indices import Reported, posterior
from .datatree import interval_quantile


def posterior_result(
    result: RunResult, n_laws: int, n_outputs: int, log_scale: np.ndarray
) -> tuple[RunResult, Reported]:
    """The run's result restated for the M posterior expectations, and the log evidences.

    The run saw every law's log-density lowered by ``log_scale`` (L,): it is added back
    to the log evidences and to the final draws' log-densities.

    Estimates become ratios (delta-method covariance). ``ess`` is the posterior variance
    over the squared standard error: the number of independent posterior draws giving
    the same error. The k-hat of each expectation is the larger of its numerator's and
    the evidence's, the effective draws the smaller: a ratio is only as sound as its
    worse half.
    """
    est = result.estimates
    targets = result.state.targets
    centre = np.zeros(est.mean.size)
    centre[targets.pair] = targets.centre
    found = posterior(est.mean, est.cov, n_laws, n_outputs, centre)
    final = result.final
    width = n_outputs + 1
    diag = {k: np.asarray(v).reshape(n_laws, width) for k, v in result.diagnostics.items()}
    variance = np.empty((n_laws, n_outputs))
    for law in range(n_laws):
        w = normalised_weights(final.log_f[:, law] - final.log_q)
        phi = final.phi[:, :n_outputs]
        variance[law] = w @ np.square(phi - w @ phi)
    mcse = found.expectations.mcse.reshape(n_laws, n_outputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = np.where(mcse > 0, variance / np.square(mcse), np.nan)
    restated = {
        "ess": ess.ravel(),
        "ess_weights": diag["ess_weights"][:, :n_outputs].ravel(),
        "ess_integrand": np.fmin(diag["ess_integrand"][:, :n_outputs], diag["ess_integrand"][:, n_outputs:]).ravel(),
        "pareto_k": np.fmax(diag["pareto_k"][:, :n_outputs], diag["pareto_k"][:, n_outputs:]).ravel(),
        "evidence_pareto_k": diag["pareto_k"][:, n_outputs],
    }
    estimates = Estimates(found.expectations.mean, found.expectations.mcse, found.expectations.cov, est.n, est.df)
    log_evidence = found.log_evidence._replace(mean=found.log_evidence.mean + log_scale)
    final = final._replace(log_f=final.log_f + log_scale)
    return result._replace(estimates=estimates, diagnostics=restated, final=final), log_evidence


def evidence_dataset(
    log_evidence: Reported,
    result: RunResult,
    law_names: list[str],
    ci_prob: float,
    improper: dict[str, list[str]],
    law_coords: dict | None = None,
) -> xr.Dataset:
    """``log_evidence`` with ``mcse``, an interval and k-hat; dim ``model`` with several laws.

    The evidence is the marginal likelihood of the model as written: PyMC's
    log-density with every normalising constant, integrated over the unconstrained
    space with the Jacobians of the value transforms. It is undefined (NaN) under an
    improper prior; ``attrs["improper"]`` then names the variables.
    """
    z = interval_quantile(ci_prob, result.estimates.df)
    mean = log_evidence.mean.copy()
    cov = log_evidence.cov.copy()
    undefined = np.array([name in improper for name in law_names])
    mean[undefined] = np.nan
    cov[undefined, :] = np.nan
    cov[:, undefined] = np.nan
    mcse = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    khat = result.diagnostics["evidence_pareto_k"]
    several = len(law_names) > 1
    if several:
        ds = xr.Dataset(
            {
                "log_evidence": ("model", mean),
                "mcse": ("model", mcse),
                "ci_lower": ("model", mean - z * mcse),
                "ci_upper": ("model", mean + z * mcse),
                "pareto_k": ("model", khat),
                "covariance": (("model", "model_bis"), cov),
            },
            coords={"model": law_names, "model_bis": law_names},
        )
        if law_coords:
            ds = ds.assign_coords({k: ("model", v) for k, v in law_coords.items()})
    else:
        ds = xr.Dataset(
            {
                "log_evidence": ((), mean[0]),
                "mcse": ((), mcse[0]),
                "ci_lower": ((), mean[0] - z * mcse[0]),
                "ci_upper": ((), mean[0] + z * mcse[0]),
                "pareto_k": ((), khat[0]),
            }
        )
    ds["log_evidence"].attrs["description"] = (
        "log marginal likelihood log p(y) of the model as written (all normalising constants included)"
    )
    ds["mcse"].attrs["description"] = "Monte Carlo standard error of the log evidence"
    ds.attrs["ci_prob"] = ci_prob
    if improper:
        listing = "; ".join(f"{law}: {', '.join(names)}" for law, names in improper.items())
        ds.attrs["improper"] = listing
        ds.attrs["note"] = f"the evidence is undefined (NaN) under an improper prior ({listing})"
    return ds


def bayes_factors(idata: xr.DataTree) -> pd.DataFrame:
    """Log Bayes factors between every pair of laws of a posterior run, with their errors.

    ``log_bf[a, b] = log p(y | a) - log p(y | b)``, its standard error from the joint
    covariance of the log evidences (they come from one shared sample, so their errors
    are correlated and the difference is often far more precise than either).

    Returns
    -------
    pandas.DataFrame
        One row per ordered pair (``law``, ``versus``): ``log_bf``, ``mcse``,
        ``ci_lower``, ``ci_upper``.

    Examples
    --------
    >>> import numpy as np, pymc as pm, pymc_ais as pa
    >>> y = np.array([0.8, 1.3, 0.4])
    >>> def model(prior_sd):
    ...     with pm.Model() as m:
    ...         mu = pm.Normal("mu", 0.0, prior_sd)
    ...         pm.Normal("y", mu, 1.0, observed=y)
    ...     return m
    >>> idata = pa.estimate({"mu": "mu"}, models={"narrow": model(1.0), "wide": model(10.0)},
    ...                     draws=4000, random_seed=1, progressbar=False)
    >>> table = pa.bayes_factors(idata)
    >>> list(table.index[0])
    ['narrow', 'wide']
    """
    if "evidence" not in idata.children:
        raise ValueError("this result has no evidence: Bayes factors need a run on posteriors (observed data)")
    ev = idata["evidence"].to_dataset()
    if "improper" in ev.attrs:
        raise ValueError(f"Bayes factors are undefined: {ev.attrs['note']}")
    if "model" not in ev.dims:
        raise ValueError("Bayes factors compare laws: run with models= (several priors or likelihoods)")
    names = [str(v) for v in ev["model"].values]
    mean, cov = ev["log_evidence"].values, ev["covariance"].values
    replicates = int(idata["estimates"].attrs.get("replicates", 0))
    z = interval_quantile(float(ev.attrs["ci_prob"]), replicates - 1.0 if replicates else np.inf)
    rows = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i == j:
                continue
            value = mean[i] - mean[j]
            se = float(np.sqrt(max(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 0.0)))
            rows.append((a, b, value, se, value - z * se, value + z * se))
    table = pd.DataFrame(rows, columns=["law", "versus", "log_bf", "mcse", "ci_lower", "ci_upper"])
    return table.set_index(["law", "versus"])
