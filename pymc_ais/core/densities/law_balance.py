"""Weights of the laws' parts in a starting law shared by several posteriors.

A starting law for L posteriors is a mixture with one part per law (a Student-t
density at its mode, or a grid of them). With equal weights, laws whose posteriors lie
together draw from each other's parts while a law whose posterior lies apart has only
its own: on a regression with 100 coefficients under four priors, three of which give
nearly the same posterior, the fourth kept half the others' effective sample size.

Drawn from ``q = sum_k w_k c_k``, law ``l``'s effective share of the draws is about
``1 / E_{c_l}[c_l / q]``, its part ``c_l`` standing for its posterior. The weights
maximise the least of these shares over the laws (within a floor per part), measured on
draws of the parts themselves: no model evaluation is spent.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .gaussian_mixture import logsumexp
from .student_t import StudentTMixture, component_logpdf, sample

DRAWS_PER_PART = 256
PART_FLOOR = 0.5  # each part keeps at least this multiple of an equal share
CLUSTER_OVERLAP = 0.5  # parts that overlap this much (one minus total variation) serve each other


def part_densities(law: StudentTMixture, parts: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log density of each part (its components renormalised) at ``x``: (n, L)."""
    log_c = component_logpdf(law, x) + np.log(law.weights)
    n_parts = int(parts.max()) + 1
    out = np.empty((x.shape[0], n_parts))
    for p in range(n_parts):
        own = parts == p
        out[:, p] = logsumexp(log_c[:, own], axis=1) - np.log(law.weights[own].sum())
    return out


def _part(law: StudentTMixture, own: np.ndarray) -> StudentTMixture:
    df = law.df if np.ndim(law.df) == 0 else np.asarray(law.df)[own]
    weights = law.weights[own]
    return StudentTMixture(law.means[own], law.chols[own], df, np.log(weights / weights.sum()))


def inverse_shares(log_parts: list[np.ndarray], w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``E_{c_l}[c_l / q]`` for every law and its gradient in ``w``: (L,), (L, L).

    ``log_parts[l]`` (m, L) holds every part's log density at law ``l``'s draws.
    """
    values, grads = np.empty(len(log_parts)), np.empty((len(log_parts), w.size))
    for l, log_c in enumerate(log_parts):
        log_q = logsumexp(log_c + np.log(w), axis=1)
        ratio = np.exp(log_c[:, l] - log_q)  # c_l / q, at most 1 / w_l
        values[l] = ratio.mean()
        grads[l] = -(ratio[:, None] * np.exp(log_c - log_q[:, None])).mean(axis=0)
    return values, grads


def overlap_clusters(log_parts: list[np.ndarray], threshold: float = CLUSTER_OVERLAP) -> np.ndarray:
    """Each law's cluster (L,): laws linked by parts that overlap by at least ``threshold``.

    The overlap of parts ``l`` and ``k`` is ``E_{c_l}[min(1, c_k / c_l)]`` (one minus their
    total variation distance), the smaller of its two estimates; clusters are its single
    linkage.
    """
    n = len(log_parts)
    share = np.array([[np.mean(np.minimum(1.0, np.exp(log_parts[l][:, k] - log_parts[l][:, l]))) for k in range(n)]
                      for l in range(n)])  # fmt: skip
    linked = np.minimum(share, share.T) >= threshold
    return connected_components(csr_matrix(linked), directed=False)[1]


def balanced_weights(
    law: StudentTMixture, parts: np.ndarray, rng: np.random.Generator, draws: int = DRAWS_PER_PART
) -> np.ndarray:
    """Component weights of ``law`` whose parts serve the worst-served law best.

    ``parts`` (K,) names each component's law (0..L-1). Each part keeps its inner
    weights. Laws whose parts overlap (:func:`overlap_clusters`) serve each other and
    share their cluster's weight evenly; the clusters' weights maximise the least
    effective share over the laws, each law's part keeping at least ``PART_FLOOR / L``.
    Balancing laws inside a cluster would trust the parts too far: there the optimum
    is a corner that starves whichever law its neighbours' parts fit worst.

    Examples
    --------
    Three laws alike and one apart: the one apart gets about half of the mixture.

    >>> import numpy as np
    >>> from pymc_ais.core.densities.student_t import student_t_mixture
    >>> means = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [20.0, 0.0]])
    >>> law = student_t_mixture(means, np.tile(np.eye(2), (4, 1, 1)), df=30.0)
    >>> w = balanced_weights(law, np.arange(4), np.random.default_rng(0))
    >>> np.round(w, 2)
    array([0.17, 0.17, 0.17, 0.5 ])
    """
    parts = np.asarray(parts)
    n_parts = int(parts.max()) + 1
    start = np.bincount(parts, weights=law.weights, minlength=n_parts)
    if n_parts < 2:
        return law.weights
    log_parts = [part_densities(law, parts, sample(_part(law, parts == p), rng, draws)) for p in range(n_parts)]
    cluster = overlap_clusters(log_parts)
    n_clusters = int(cluster.max()) + 1
    if n_clusters < 2:
        return law.weights
    size = np.bincount(cluster).astype(np.float64)
    spread = np.zeros((n_parts, n_clusters))  # part weights from cluster weights: w = spread @ u
    spread[np.arange(n_parts), cluster] = 1.0 / size[cluster]
    even = np.bincount(cluster, weights=start, minlength=n_clusters)
    t0 = float(inverse_shares(log_parts, spread @ even)[0].max())

    def below(v):  # v = (u, t): every inverse share below t
        values, grads = inverse_shares(log_parts, spread @ v[:-1])
        return v[-1] - values, np.hstack([-grads @ spread, np.ones((n_parts, 1))])

    res = minimize(
        lambda v: v[-1],
        np.append(even, t0),
        jac=lambda v: np.append(np.zeros(n_clusters), 1.0),
        method="SLSQP",
        bounds=[(PART_FLOOR * s / n_parts, 1.0) for s in size] + [(0.0, None)],
        constraints=[
            {"type": "eq", "fun": lambda v: v[:-1].sum() - 1.0, "jac": lambda v: np.append(np.ones(n_clusters), 0.0)},
            {"type": "ineq", "fun": lambda v: below(v)[0], "jac": lambda v: below(v)[1]},
        ],
        options={"maxiter": 200, "ftol": 1e-10},
    )
    u = res.x[:-1] if np.all(np.isfinite(res.x)) else even
    w = spread @ (np.maximum(u, 0.0) / np.maximum(u, 0.0).sum())
    if not inverse_shares(log_parts, w)[0].max() < t0:
        w = spread @ even
    return law.weights / start[parts] * w[parts]
