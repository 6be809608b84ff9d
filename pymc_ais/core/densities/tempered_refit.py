"""Move a Gaussian approximation of a posterior onto the posterior's bulk by tempered moment matching.

A Laplace approximation sits at the joint mode, which in high dimension can lie far
from the posterior's mass: beside many coefficients, the mode of a scale parameter is
biased by the degrees of freedom the coefficients take (``sqrt((n - p) / n)`` in a linear
regression with ``p`` coefficients and ``n`` observations), and at ``p = 100`` the
importance weights of a Student-t at the mode keep an effective size of 2 in 20,000.

:func:`refit` draws from the current Gaussian, weighs the draws by the target
tempered just enough that a share of them still count (the adaptive tempering of
sequential Monte Carlo; Jasra, Stephens, Doucet & Tsagaris 2011), and moves the Gaussian
to the tempered moments. It moves only the mean and one common scale of the covariance:
a few hundred weighted points fix these ``d + 1`` numbers well, while a full covariance
refitted from them would add more error at every step than the step removes. Steps
repeat until the untempered target is reached or the evaluations allowed are spent.

:func:`refit_laws` moves the Gaussians of several laws at once from shared draws: each
step draws from their equal mixture and every law weighs every draw (the balance
heuristic of Veach & Guibas 1995), so laws whose posteriors overlap (the same data
under other priors) move for the price of one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular

from .gaussian_mixture import kish_ess, normalised_weights

TEMPERED_ESS = 0.25  # share of a step's draws that must count after tempering
MIN_STEP_DRAWS = 100
DRAWS_PER_DIMENSION = 10  # draws of a step per dimension, at least MIN_STEP_DRAWS
MAX_STEPS = 12


class Refit(NamedTuple):
    """The moved Gaussian and what moving it took.

    ``reached`` says whether the last step weighed its draws by the target itself;
    ``start_ess`` is the effective share of the law's own draws in its first step,
    weighed by its target (near one when its Gaussian already fits).
    """

    mean: np.ndarray
    covariance: np.ndarray
    evaluations: int
    steps: int
    reached: bool
    start_ess: float


class _Law(NamedTuple):
    mean: np.ndarray
    chol: np.ndarray


def step_draws(dim: int) -> int:
    """Draws of one step in ``dim`` dimensions."""
    return max(MIN_STEP_DRAWS, DRAWS_PER_DIMENSION * dim)


def effective_share(log_w: np.ndarray) -> float:
    """Kish effective sample size of ``exp(log_w)`` over the number of weights (0 when none is finite)."""
    return kish_ess(normalised_weights(log_w)) / log_w.size


def tempered(ratio: np.ndarray, power: float) -> np.ndarray:
    """``power * ratio``, with ``-inf`` kept where ``ratio`` is not finite (also at power 0)."""
    finite = np.isfinite(ratio)
    return np.where(finite, power * np.where(finite, ratio, 0.0), -np.inf)


def temperature(ratio: np.ndarray, base: np.ndarray, needed: float) -> float:
    """Largest power ``b`` in [0, 1] whose weights ``exp(b * ratio + base)`` keep ``needed`` effective draws.

    ``needed`` is an effective size (Kish); 0 when even the untempered draws hold fewer.
    Draws with ``ratio = -inf`` (outside the target's support) weigh nothing at any power.
    """
    size = ratio.size

    def enough(power: float) -> bool:
        return effective_share(tempered(ratio, power) + base) * size >= needed

    if enough(1.0):
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(50):
        middle = 0.5 * (low + high)
        if enough(middle):
            low = middle
        else:
            high = middle
    return low


def _log_normal(law: _Law, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whitened points and log-density (without the 2 pi term) of ``x`` under ``N(mean, chol chol^T)``."""
    u = solve_triangular(law.chol, (x - law.mean).T, lower=True, check_finite=False).T
    return u, -0.5 * np.einsum("ij,ij->i", u, u) - np.log(np.diag(law.chol)).sum()


def refit_laws(
    log_targets: Callable[[np.ndarray], np.ndarray],
    means: np.ndarray,
    covariances: np.ndarray,
    rng: np.random.Generator,
    max_evaluations: int,
    draws: int | None = None,
) -> list[Refit]:
    """Move ``N(means[l], covariances[l])`` towards the densities ``exp(log_targets(x)[:, l])``, from shared draws.

    ``log_targets(x)`` takes points (n, d) and returns (n, L) unnormalised
    log-densities (``-inf`` outside the support). Each step spends ``draws``
    evaluations (default :func:`step_draws`), split evenly over the laws still moving,
    and weighs all of them for each law: laws whose posteriors overlap share their
    draws, laws apart from the others have only their own share to move on. A law
    stops moving when its first step shows that its own Gaussian already fits (the
    effective share of its own draws, weighed by its target, is at least
    :data:`TEMPERED_ESS`: left as it is), or that no draw of it has a finite target
    (left as it is); when a step weighs by its target untempered (``reached``); after
    :data:`MAX_STEPS` steps, or when its draws no longer give a finite spread; and all
    stop when the next step would pass ``max_evaluations``. A law that stops before
    reaching its target keeps the moves made so far.
    """
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    n_laws, dim = means.shape
    m = draws if draws is not None else step_draws(dim)
    laws = [
        _Law(means[l].copy(), np.linalg.cholesky(np.asarray(covariances[l], dtype=np.float64))) for l in range(n_laws)
    ]
    spent = np.zeros(n_laws, dtype=int)
    steps = np.zeros(n_laws, dtype=int)
    done = np.zeros(n_laws, dtype=bool)
    reached = np.zeros(n_laws, dtype=bool)
    start_ess = np.full(n_laws, np.nan)
    total = 0
    while total + m <= max_evaluations and not done.all():
        active = np.flatnonzero(~done)
        counts = np.full(active.size, m // active.size)
        counts[: m % active.size] += 1
        x = np.vstack([laws[l].mean + rng.standard_normal((c, dim)) @ laws[l].chol.T for l, c in zip(active, counts)])
        total += m
        spent[active] += m
        with np.errstate(invalid="ignore"):
            log_f = np.asarray(log_targets(x), dtype=np.float64).reshape(m, n_laws)
        own = [_log_normal(laws[l], x) for l in active]
        log_mixture = np.logaddexp.reduce(np.stack([q for _, q in own]) + np.log(counts / m)[:, None], axis=0)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for k, ((u, log_q), l) in enumerate(zip(own, active)):
            ratio = np.where(np.isfinite(log_f[:, l]), log_f[:, l] - log_q, -np.inf)
            if np.isnan(start_ess[l]):
                start_ess[l] = effective_share(ratio[offsets[k] : offsets[k + 1]])
                if start_ess[l] >= TEMPERED_ESS or start_ess[l] == 0.0:
                    done[l], reached[l], steps[l] = True, start_ess[l] > 0.0, 1
                    continue
            base = log_q - log_mixture
            power = temperature(ratio, base, TEMPERED_ESS * effective_share(base) * m)
            w = normalised_weights(tempered(ratio, power) + base)
            steps[l] += 1
            if not w.any():  # no draw has a finite target
                done[l] = True
                continue
            shift = w @ u
            centred = u - shift
            spread = float(w @ np.einsum("ij,ij->i", centred, centred)) / dim / max(1.0 - float(w @ w), 1e-12)
            if not (np.isfinite(spread) and spread > 0.0):
                done[l] = True
                continue
            laws[l] = _Law(laws[l].mean + laws[l].chol @ shift, laws[l].chol * np.sqrt(spread))
            reached[l] = power == 1.0
            done[l] = reached[l] or steps[l] >= MAX_STEPS
    return [
        Refit(
            laws[l].mean,
            laws[l].chol @ laws[l].chol.T,
            int(spent[l]),
            int(steps[l]),
            bool(reached[l]),
            float(start_ess[l]),
        )
        for l in range(n_laws)
    ]


def refit(
    log_target: Callable[[np.ndarray], np.ndarray],
    mean: np.ndarray,
    covariance: np.ndarray,
    rng: np.random.Generator,
    max_evaluations: int,
    draws: int | None = None,
) -> Refit:
    """Move ``N(mean, covariance)`` towards the density ``exp(log_target)``: :func:`refit_laws` for one law.

    Examples
    --------
    >>> import numpy as np
    >>> target = lambda x: -0.5 * np.sum((x - 3.0) ** 2, axis=1) / 4.0  # N(3, 4 I) in 10 dimensions
    >>> out = refit(target, np.zeros(10), 0.5 * np.eye(10), np.random.default_rng(0), 20_000, draws=1000)
    >>> out.reached, bool(np.all(np.abs(out.mean - 3.0) < 0.5)), round(float(out.covariance[0, 0]), 0)
    (True, True, 4.0)
    """
    mean = np.asarray(mean, dtype=np.float64)
    covariance = np.asarray(covariance, dtype=np.float64)
    return refit_laws(
        lambda x: np.asarray(log_target(x))[:, None], mean[None], covariance[None], rng, max_evaluations, draws
    )[0]
