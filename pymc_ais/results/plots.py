"""Plots of results: adaptation, weights, estimates across laws, Sobol' indices.

Each function returns the matplotlib ``Axes`` (or array of Axes) it drew on, so
figures can be adjusted and saved by the caller.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def _axes(ax, ncols=1, figsize=None):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, ax = plt.subplots(1, ncols, figsize=figsize or (5 * ncols, 3.5), layout="constrained")
    return ax


def plot_adaptation(idata: xr.DataTree, ax=None):
    """Predicted weighted variance per point and the mixture weights α, per iteration.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    >>> idata = pa.estimate({"m2": x**2, "p": x > 2}, model=m, draws=4_000, random_seed=1, progressbar=False)
    >>> axes = pa.plot_adaptation(idata)
    >>> len(axes)
    2
    """
    ad = idata["adaptation"].to_dataset()
    axes = _axes(ax, 2)
    it = ad["iteration"].values
    axes[0].semilogy(it, ad["predicted_variance"].values, "o-")
    axes[0].set_xlabel("iteration (0 = input law)")
    axes[0].set_ylabel("predicted weighted variance per point")
    axes[0].set_title(f"adaptation (stopped: {ad.attrs.get('stop_reason')})")
    alpha = ad["alpha"].values
    bottom = np.zeros(len(it))
    for k, label in enumerate(ad["component"].values):
        axes[1].bar(it, alpha[:, k], bottom=bottom, label=str(label))
        bottom += alpha[:, k]
    axes[1].set_xlabel("iteration")
    axes[1].set_ylabel("mixture weight α")
    axes[1].set_ylim(0, 1)
    if alpha.shape[1] <= 12:
        axes[1].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return axes


def plot_weights(idata: xr.DataTree, ax=None):
    """Sorted normalised importance weights f/g of the final draws (one line per law).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    >>> idata = pa.estimate({"m2": x**2, "p": x > 2}, model=m, draws=4_000, random_seed=1, progressbar=False)
    >>> pa.plot_weights(idata)  # doctest: +ELLIPSIS
    <Axes: ...>
    """
    lw = idata["log_weights"].to_dataset()["log_weight"]
    ax = _axes(ax)
    laws = lw["model"].values if "model" in lw.dims else [None]
    for law in laws:
        values = (lw.sel(model=law) if law is not None else lw).values.ravel()
        w = np.exp(values - values.max())
        w = np.sort(w / w.sum())[::-1]
        ax.loglog(np.arange(1, w.size + 1), w, label=str(law) if law is not None else None)
    ax.set_xlabel("rank")
    ax.set_ylabel("normalised weight f/g")
    ax.set_title("importance weights of the final draws")
    if laws[0] is not None and len(laws) <= 10:
        ax.legend(fontsize="small")
    return ax


def plot_estimates(idata: xr.DataTree, expectation: str | None = None, against: str | None = None, ax=None):
    """Estimates with their confidence intervals.

    With several laws: one point per law for ``expectation`` (default: the first), on the
    x axis the law parameter ``against`` (a coordinate of a grid) or the law names.
    With one law: one point per expectation.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     mu = pm.Data("mu", 0.0)
    ...     x = pm.Normal("x", mu, 1.0)
    >>> laws = pa.grid(m, {"mu": np.linspace(-1, 1, 5)})
    >>> idata = pa.estimate({"p": x > 1}, models=laws, draws=4_000, random_seed=1, progressbar=False)
    >>> pa.plot_estimates(idata, "p", against="mu")  # doctest: +ELLIPSIS
    <Axes: ...>
    """
    est = idata["estimates"].to_dataset()
    ax = _axes(ax)
    if "model" in est.dims:
        expectation = expectation or str(est["expectation"].values[0])
        sel = est.sel(expectation=expectation)
        if against is not None:
            if against not in sel.coords:
                raise ValueError(f"{against!r} is not a law parameter; available: {', '.join(map(str, sel.coords))}")
            x = sel[against].values
            order = np.argsort(x)
            x = x[order]
            ax.set_xlabel(against)
        else:
            order = np.arange(sel.sizes["model"])
            x = order
            ax.set_xticks(x, sel["model"].values, rotation=30, ha="right")
            ax.set_xlabel("input law")
        mean = sel["mean"].values[order]
        ax.errorbar(
            x,
            mean,
            yerr=[mean - sel["ci_lower"].values[order], sel["ci_upper"].values[order] - mean],
            fmt="o",
            capsize=3,
        )
        ax.set_ylabel(expectation)
    else:
        labels = est["expectation"].values
        mean = est["mean"].values
        x = np.arange(labels.size)
        ax.errorbar(x, mean, yerr=[mean - est["ci_lower"].values, est["ci_upper"].values - mean], fmt="o", capsize=3)
        ax.set_xticks(x, labels, rotation=30, ha="right")
        ax.set_ylabel("estimate")
    ax.set_title(f"estimates with {100 * est.attrs.get('ci_prob', 0.95):g} % intervals")
    return ax


def _group(idata: xr.DataTree, name: str, maker: str) -> xr.Dataset:
    """A result's group, or a clear error naming the function that makes it."""
    if name not in idata.children:
        raise ValueError(f"this result has no {name!r} group: plot it from a {maker} result")
    return idata[name].to_dataset()


def plot_sensitivity(idata: xr.DataTree, ax=None):
    """Bar chart of Sobol' indices per input with their confidence intervals.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     z = pm.Normal("z", 0.0, 1.0)
    >>> idata = pa.sobol(x + 2 * z, model=m, draws=1_000, random_seed=1, progressbar=False)
    >>> ax = pa.plot_sensitivity(idata)
    >>> [tick.get_text() for tick in ax.get_xticklabels()]
    ['x', 'z']
    >>> plt.close(ax.figure)
    """
    sens = _group(idata, "sensitivity", "pa.sobol")
    ax = _axes(ax)
    variables = sens["variable"].values
    kinds = sens["index"].values
    width = 0.8 / len(kinds)
    x = np.arange(variables.size)
    for i, kind in enumerate(kinds):
        s = sens.sel(index=kind)
        mean = s["mean"].values
        ax.bar(
            x + (i - (len(kinds) - 1) / 2) * width,
            mean,
            width,
            yerr=[mean - s["ci_lower"].values, s["ci_upper"].values - mean],
            capsize=3,
            label=str(kind),
        )
    ax.set_xticks(x, variables)
    ax.set_ylabel("Sobol' index")
    ax.set_title(f"Sobol' indices, {100 * sens.attrs.get('ci_prob', 0.95):g} % intervals")
    ax.legend()
    return ax


def plot_exceedance(idata: xr.DataTree, ax=None):
    """The exceedance curve P(Y > t) of :func:`pymc_ais.exceedance` with its interval band.

    Log scale in probability; the band's lower edge is clipped at the smallest positive
    value, and estimated tail quantiles, if any, are marked on the curve. A run under
    several laws (``models=``) gets a curve per law.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    >>> idata = pa.exceedance(x, [2.0, 3.0, 4.0], tail_probabilities=[1e-3], model=m,
    ...                       draws=4_000, random_seed=1, progressbar=False)
    >>> ax = pa.plot_exceedance(idata)
    >>> ax.get_ylabel()
    'P(Y > t)'
    >>> plt.close(ax.figure)
    """
    curve = _group(idata, "exceedance", "pa.exceedance")
    quantiles = idata["quantiles"].to_dataset() if "quantiles" in idata.children else None
    ax = _axes(ax)
    laws = [str(law) for law in curve["model"].values] if "model" in curve.dims else [None]
    for law in laws:
        one = curve if law is None else curve.sel(model=law)
        t = one["threshold"].values
        p = one["probability"].values
        positive = p[p > 0]
        floor = positive.min() / 10 if positive.size else 1e-300
        name = "P(Y > t)" if law is None else f"P(Y > t), {law}"
        (line,) = ax.semilogy(t, np.maximum(p, floor), "o-", label=name)
        ax.fill_between(
            t, np.maximum(one["ci_lower"].values, floor), one["ci_upper"].values, alpha=0.3, color=line.get_color()
        )
        if quantiles is not None:
            q = quantiles if law is None else quantiles.sel(model=law)
            ax.errorbar(
                q["quantile"].values,
                q["tail_probability"].values,
                xerr=q["ci_upper"].values - q["quantile"].values,
                fmt="s",
                color=line.get_color(),
                label="tail quantiles" if law is None else f"tail quantiles, {law}",
            )
    ax.set_xlabel("threshold t")
    ax.set_ylabel("P(Y > t)")
    ax.legend(fontsize="small")
    return ax
