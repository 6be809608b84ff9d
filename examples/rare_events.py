"""
Rare events and a tail quantile: five thresholds in one run
===========================================================

:math:`S = X_1 + \\dots + X_{10}` with ten independent standard normal inputs, so
:math:`S / \\sqrt{10}` is standard normal and every exceedance probability and tail
quantile is known exactly. :func:`pymc_ais.exceedance` estimates
:math:`P(S > t)` for thresholds from 2 to 5 standard deviations (probabilities from
2.3e-2 down to 2.9e-7) and the quantiles of three tail probabilities, all from one run.
A plain Monte Carlo sample of the same size would see no draw beyond 4.5 standard
deviations.

Each threshold is an *event* with a score, :math:`S - t`, read off the expression; the
run climbs to the events no first draw reaches through intermediate levels (the
multilevel cross-entropy method) and the thresholds share those levels.

Run: ``python examples/rare_events.py`` (about ten seconds; ``--quick`` changes nothing)
"""

import numpy as np
import pandas as pd
import pymc as pm
from scipy.stats import norm

import pymc_ais as pa

DRAWS = 20_000

with pm.Model() as model:
    x = pm.Normal("x", 0.0, 1.0, shape=10)
s = x.sum()
sd = np.sqrt(10.0)

thresholds = sd * np.array([2.0, 3.0, 4.0, 4.5, 5.0])
tail_probabilities = [1e-3, 1e-5, 1e-6]
idata = pa.exceedance(
    s,
    thresholds,
    tail_probabilities=tail_probabilities,
    model=model,
    draws=DRAWS,
    random_seed=3,
    progressbar=False,
)

# %%
# The exceedance probabilities
# ----------------------------
# The ``exceedance`` group holds one probability per threshold with its standard error
# and interval (and their covariance across thresholds). The z-score is the error in
# units of the reported standard error.

ex = idata["exceedance"].to_dataset()
table = pd.DataFrame(
    {
        "threshold / sd": thresholds / sd,
        "estimate": ex["probability"].values,
        "mcse": ex["mcse"].values,
        "exact": norm.sf(thresholds / sd),
    }
)
table["relative error"] = table["estimate"] / table["exact"] - 1
table["z"] = (table["estimate"] - table["exact"]) / table["mcse"]
table["plain MC draws in the event"] = DRAWS * table["exact"]
print(f"{idata.attrs['evaluations']} model evaluations for all five thresholds")
print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))

# %%
# The tail quantiles
# ------------------
# The ``quantiles`` group: the value :math:`q` with :math:`P(S > q) = p`, read off the
# importance-weighted exceedance curve of the final draws, with an error from the spread
# of the quasi-random replicates. Choose thresholds that bracket the tail probabilities
# you ask for, so that the final draws reach that far.

q = idata["quantiles"].to_dataset()
quantiles = pd.DataFrame(
    {
        "tail probability": q["tail_probability"].values,
        "quantile": q["quantile"].values,
        "mcse": q["mcse"].values,
        "exact": sd * norm.isf(q["tail_probability"].values),
    }
)
print(quantiles.to_string(index=False, float_format=lambda v: f"{v:.4g}"))

# %%
# The exceedance curve
# --------------------
# :func:`pymc_ais.plot_exceedance` draws the estimated curve with its interval band.

ax = pa.plot_exceedance(idata)
grid = np.linspace(thresholds[0], thresholds[-1], 100)
ax.plot(grid, norm.sf(grid / sd), "k:", label="exact")
ax.legend()
