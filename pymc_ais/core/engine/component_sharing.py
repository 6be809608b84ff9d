"""Targets share mixture components when there are more than a cap of them.

The method fits one auxiliary density per target; with hundreds of targets (many
thresholds of one output, many laws) most fits nearly coincide, and the proposal's
cost (every component's density at every pooled point, the mixture-weight
optimisation, the control-variate regressions) grows with their number. Here the
fitted components are clustered by the symmetric Kullback-Leibler divergence of their
moment-matched Gaussians: targets in order of decreasing criterion weight either join
the first centre within ``tau`` or open a new one, and ``tau`` doubles until at most
``cap`` centres remain. Each cluster keeps the fit of its heaviest target (a medoid, so
mixtures and kernel blends are shared as they are), and every target records its
``owner``: the component its single control variate and its share of the starting
weights refer to.
"""

from __future__ import annotations

import numpy as np

from ..densities import gaussian_mixture as gm

START_TAU = 0.05
"""First divergence threshold: fits this close are the same density for sampling."""
MAX_TAU = 1e6
"""Past this threshold the fits have nothing in common: the first ``cap`` become centres."""


def moments(component: gm.GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a Gaussian mixture."""
    w = gm.normalised_weights(component.log_weights)
    mean = w @ component.means
    covs = component.chols @ np.swapaxes(component.chols, 1, 2)
    centred = component.means - mean
    cov = np.einsum("k,kij->ij", w, covs) + (centred * w[:, None]).T @ centred
    return mean, cov


def symmetric_kl(mean: np.ndarray, cov: np.ndarray, means: np.ndarray, covs: np.ndarray, precs: np.ndarray):
    """``KL(a||b) + KL(b||a)`` between one Gaussian ``a`` and each of several ``b`` (vectorised)."""
    prec = np.linalg.inv(cov)
    diff = means - mean
    trace = np.einsum("kij,ji->k", precs, cov) + np.einsum("ij,kji->k", prec, covs)
    quad = np.einsum("ki,kij,kj->k", diff, precs, diff) + np.einsum("ki,ij,kj->k", diff, prec, diff)
    return 0.5 * (trace + quad) - mean.shape[0]


def share_components(
    components: tuple, weights: np.ndarray, own: np.ndarray, cap: int | None
) -> tuple[tuple, np.ndarray | None]:
    """At most ``cap`` components for the targets, and each target's owner column (1-based).

    ``own`` marks targets that keep their own component whatever the cap (targets still
    climbing towards a rare event). Returns the components unchanged and ``None`` when
    there are at most ``cap`` of them.

    Examples
    --------
    >>> import numpy as np
    >>> fits = tuple(gm.gaussian(np.array([m]), np.eye(1)) for m in (0.0, 0.01, 3.0, 3.02))
    >>> shared, owner = share_components(fits, np.full(4, 0.25), np.zeros(4, bool), cap=2)
    >>> len(shared), owner.tolist()
    (2, [1, 1, 2, 2])
    """
    t = len(components)
    if cap is None or t <= cap:
        return components, None
    stats = [moments(c) for c in components]
    means = np.stack([m for m, _ in stats])
    covs = np.stack([c for _, c in stats])
    order = np.argsort(-np.asarray(weights), kind="stable")
    order = np.concatenate([order[own[order]], order[~own[order]]])
    precs = np.linalg.inv(covs)
    cap = max(cap, int(own.sum()) + 1)
    tau = START_TAU
    while True:
        centres: list[int] = []
        assign = np.empty(t, dtype=int)
        forced = tau > MAX_TAU  # every divergence so far apart: the nearest centre takes the rest
        for i in order:
            shareable = [j for j, c in enumerate(centres) if not own[c]]
            if not own[i] and shareable and (forced and len(centres) >= cap or not forced):
                c = np.asarray([centres[j] for j in shareable])
                kl = np.nan_to_num(symmetric_kl(means[i], covs[i], means[c], covs[c], precs[c]), nan=np.inf)
                nearest = int(np.argmin(kl))
                if forced or kl[nearest] <= tau:
                    assign[i] = shareable[nearest]
                    continue
            assign[i] = len(centres)
            centres.append(int(i))
            if len(centres) > cap and not own[i]:
                break
        else:
            return tuple(components[i] for i in centres), assign + 1
        tau *= 2.0
