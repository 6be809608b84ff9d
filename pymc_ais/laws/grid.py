"""Input laws from a grid of ``pm.Data`` hyper-parameters, without a model per law.

A model whose distribution parameters are ``pm.Data`` containers, plus a table of
values (one row per law), defines J input laws. One compiled function evaluates all J
log-densities at a batch of points (the data containers are replaced by the table and
the log-density graph is vectorised over its rows), so nothing is recompiled per law.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors
from scipy.stats import qmc


@dataclass(frozen=True)
class LawGrid:
    """J input laws: ``model`` with its ``pm.Data`` containers set to each row of ``table``."""

    model: pm.Model
    table: dict  # data name -> array (J, *shape of the container)
    names: tuple  # one label per law

    @property
    def size(self) -> int:
        """Number of laws."""
        return len(self.names)

    def row(self, j: int) -> dict:
        """Data values of law ``j``."""
        return {k: v[j] for k, v in self.table.items()}


def grid(model: pm.Model, values, names=None) -> LawGrid:
    """Laws from a table of ``pm.Data`` values: a dict of arrays or a pandas DataFrame.

    Examples
    --------
    P(x > 1) for x ~ N(mu, 1) at five values of mu, from one sample and one compilation:

    >>> import numpy as np, pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     mu = pm.Data("mu", 0.0)
    ...     x = pm.Normal("x", mu, 1.0)
    >>> laws = pa.grid(m, {"mu": np.linspace(-1, 1, 5)})
    >>> idata = pa.estimate({"p": x > 1}, models=laws, draws=8_000, random_seed=1, progressbar=False)
    >>> est = idata["estimates"].sel(expectation="p")
    >>> est["mean"].sizes["model"], bool(np.all(np.diff(est["mean"].values) > 0))
    (5, True)
    """
    if hasattr(values, "to_dict") and hasattr(values, "columns"):
        values = {c: values[c].to_numpy() for c in values.columns}
    if not isinstance(values, Mapping) or not values:
        raise ValueError("grid values must be a non-empty dict of arrays or a pandas DataFrame")
    data = {v.name: v for v in model.data_vars}
    table, size = {}, None
    for name, column in values.items():
        if name not in data:
            valid = ", ".join(sorted(data)) or "none"
            raise ValueError(f"grid column {name!r} is not a pm.Data container of the model (containers: {valid})")
        column = np.asarray(column, dtype=np.float64)
        shape = tuple(np.shape(data[name].get_value()))
        if column.shape[1:] != shape:
            raise ValueError(
                f"grid column {name!r} has rows of shape {column.shape[1:]}, the container has shape {shape}"
            )
        if size is not None and column.shape[0] != size:
            raise ValueError(f"grid column {name!r} has {column.shape[0]} rows, others have {size}")
        size = column.shape[0]
        table[name] = column
    if size is None or size == 0:
        raise ValueError("the grid has no rows")
    if names is None:
        names = [str(j) for j in range(size)]
    if len(names) != size:
        raise ValueError(f"{len(names)} names for {size} laws")
    return LawGrid(model, table, tuple(str(n) for n in names))


def sample_grid(model: pm.Model, ranges: Mapping, n: int, method: str = "lhs", random_seed=None) -> LawGrid:
    """``n`` laws with scalar ``pm.Data`` values drawn in ``ranges`` {name: (low, high)}.

    ``method`` is "lhs" (Latin hypercube: every range covered evenly, for prior
    sensitivity over a box of hyper-parameters) or "random" (independent uniforms).

    Examples
    --------
    Forty laws N(mu, sigma) over a box of (mu, sigma), for :func:`pymc_ais.estimate`'s ``models=``:

    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     mu, sigma = pm.Data("mu", 0.0), pm.Data("sigma", 1.0)
    ...     x = pm.Normal("x", mu, sigma)
    >>> laws = pa.sample_grid(m, {"mu": (-1.0, 1.0), "sigma": (0.5, 2.0)}, n=40, random_seed=0)
    >>> table = laws.table
    >>> len(table["mu"]), bool(table["sigma"].min() >= 0.5 and table["sigma"].max() <= 2.0)
    (40, True)
    """
    if method not in ("lhs", "random"):
        raise ValueError(f"unknown method={method!r}; valid options are 'lhs', 'random'")
    rng = np.random.default_rng(random_seed)
    names = list(ranges)
    u = qmc.LatinHypercube(len(names), seed=rng).random(n) if method == "lhs" else rng.uniform(size=(n, len(names)))
    lows = np.array([ranges[k][0] for k in names], dtype=np.float64)
    highs = np.array([ranges[k][1] for k in names], dtype=np.float64)
    values = lows + u * (highs - lows)
    return grid(model, {k: values[:, i] for i, k in enumerate(names)})


def grid_logp(work: pm.Model, law_grid: LawGrid, prior_only: bool = False):
    """Every law's log-density at one point, a (J,) graph in ``work``'s value variables.

    The data containers are replaced by a core placeholder and the graph is vectorised
    over the rows of the table, so one compiled function serves all J laws. With
    ``prior_only``, the free variables' terms alone (no observations, no Potentials).
    """
    containers = {v.name: v for v in work.data_vars}
    cores = {name: pt.tensor(dtype="float64", shape=np.shape(col)[1:]) for name, col in law_grid.table.items()}
    terms = work.logp(vars=work.free_RVs if prior_only else None, jacobian=True, sum=True)
    used = set(ancestors([terms]))
    unused = [k for k in cores if containers[k] not in used]
    if unused and not prior_only:
        raise ValueError(
            f"grid column(s) {', '.join(map(repr, unused))} do not enter the input law: a grid varies the "
            "law of the inputs, and every output is the same function under every law. For a design "
            "parameter of the outputs, state one output per value instead (several thresholds of "
            "pa.exceedance, a vector of limit states, or a dict of expressions)"
        )
    logp = graph_replace(terms, {containers[k]: cores[k] for k in cores}, strict=False)
    logp = vectorize_graph(logp, replace={cores[k]: pt.constant(law_grid.table[k]) for k in cores})
    return pt.broadcast_to(logp, (law_grid.size,))  # (J,) even where no column enters (priors alone)
