"""
Reading the diagnostics on cases that go wrong
==============================================

Every estimate comes with diagnostics: ``mcse`` (its standard error), the effective
sample sizes ``ess_iid``, ``ess_weights`` and ``ess_integrand``, and the Pareto k-hat
of its importance weights. When one of them says the error bar cannot be trusted, the
run emits a :class:`pymc_ais.ReliabilityWarning` naming the estimate. This example
shows two runs that go wrong, what the diagnostics say, and the fix.

Run: ``python examples/diagnostics.py [--quick]``
"""

import sys
import warnings

import numpy as np
import pymc as pm
from scipy.special import gamma
from scipy.stats import norm

import pymc_ais as pa

QUICK = "--quick" in sys.argv
DRAWS = 4_000 if QUICK else 20_000
COLUMNS = ["mean", "mcse", "ess_iid", "ess_integrand", "pareto_k"]


def run(expectations, model, **kwargs):
    """pa.estimate, printing the warnings it raises instead of letting them scroll by."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pa.ReliabilityWarning)
        idata = pa.estimate(expectations, model=model, draws=DRAWS, random_seed=2, progressbar=False, **kwargs)
    for w in caught:
        if issubclass(w.category, pa.ReliabilityWarning):
            print("ReliabilityWarning:", w.message)
    print(pa.summary(idata)[COLUMNS].to_string(float_format=lambda v: f"{v:.4g}"))
    return idata


# %%
# A heavy tail: a mean with no variance
# -------------------------------------
# Under a Student-t law with 1.2 degrees of freedom, :math:`E|\theta|` exists but
# :math:`|\theta|` has no variance. No sampling method gives it an honest error bar:
# the standard error of any average converges to nothing. The Pareto k-hat, estimated on
# the tail of the weighted integrand, is above 0.7, and the run says so. The second
# expectation, :math:`P(|\theta| > 3)`, is bounded and its diagnostics are fine.

with pm.Model() as heavy:
    theta = pm.StudentT("theta", nu=1.2, mu=0.0, sigma=1.0)

heavy_run = run({"E|theta|": abs(theta), "P(|theta| > 3)": abs(theta) > 3}, heavy)
nu = 1.2
exact = 2 * np.sqrt(nu) * gamma((nu + 1) / 2) / (np.sqrt(np.pi) * (nu - 1) * gamma(nu / 2))
print(f"exact E|theta| = {exact:.4g}")

# %%
# The weights of the final draws show the same thing from another side: a handful of
# draws carry most of the weight.

pa.plot_weights(heavy_run)

# %%
# What to do: ask a question that has an answer. A quantile of :math:`|\theta|`, an
# exceedance probability or a truncated mean all have finite variance and honest error
# bars.
#
# An event a black box cannot describe
# ------------------------------------
# :math:`P(X > 5)` for a standard normal :math:`X` is 2.9e-7. Given as a black-box
# callable returning an indicator, the run has no way to know how far the event is:
# no draw reaches it, the estimate is 0, and the warning says the event was never
# reached.

with pm.Model() as normal:
    x = pm.Normal("x", 0.0, 1.0)

blind = run({"P(x > 5)": lambda v: (v["x"] > 5.0).astype(float)}, normal)

# %%
# Written as a PyTensor comparison, the same event has a *score*, ``x - 5``, read off the
# expression: the run climbs towards it through intermediate levels and estimates it
# with a few per cent of error.

climbed = run({"P(x > 5)": x > 5.0}, normal)
estimate = float(climbed["estimates"]["mean"].sel(expectation="P(x > 5)"))
print(f"exact {norm.sf(5.0):.4g}, estimated {estimate:.4g}")

# %%
# The adaptive phase behind it: the predicted variance per block and the mixture
# weights, from the input law to the fitted proposal.

pa.plot_adaptation(climbed)

# %%
# What the columns mean
# ---------------------
# - ``mcse``: the standard error of the estimate; ``ci_*`` the interval built on it.
# - ``ess_iid``: the number of independent draws from the input law that would give the
#   same standard error (it can exceed the number of model runs).
# - ``ess_weights``: Kish's effective sample size of the importance weights alone.
# - ``ess_integrand``: the same for the weighted integrand; below 30 the run warns.
# - ``pareto_k``: the shape of the tail of the weighted integrand; above 0.7 the run
#   warns, as the variance may be infinite.
#
# The explanation page of the method says when to distrust an error bar, and the
# Benchmarks page measures how often these warnings fire on right and on wrong runs.
