"""Find where a posterior lives: its mode and the curvature there (a Laplace approximation).

With informative data the posterior is far narrower than the prior and sits where
prior draws rarely go; a run starting from the prior wastes its first blocks or never
finds it. :func:`laplace` climbs an unnormalised log-density (L-BFGS with its
gradient) and measures the Hessian at the top by central differences of the gradient.
Every call of the log-density counts as one model evaluation: the search is paid from
the run's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize

from .student_t import positive_definite

HESSIAN_STEP = 1e-4  # central-difference step, relative to max(1, |z_i|)


class Laplace(NamedTuple):
    """A mode of a log-density and the inverse of minus its Hessian there."""

    mode: np.ndarray  # (d,)
    covariance: np.ndarray  # (d, d)
    log_density: float
    evaluations: int
    converged: bool


class SearchError(ValueError):
    """The log-density is not finite where the search starts; ``law`` is the law searched, when known."""

    def __init__(self, message: str, law: int | None = None):
        super().__init__(message)
        self.law = law


def laplace(
    logp_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]], start: np.ndarray, max_evaluations: int
) -> Laplace:
    """Climb to a mode from ``start`` and measure the curvature there.

    ``logp_and_grad(z) -> (log density, gradient)``. The climb stops after
    ``max_evaluations`` calls at the latest; the Hessian costs ``2 d + 1`` more.
    Non-finite values (``-inf`` outside the support) make the line search step back.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda z: (-0.5 * float(z @ z) / 4.0, -z / 4.0)
    >>> found = laplace(f, np.array([3.0, -1.0]), max_evaluations=100)
    >>> np.round(found.mode, 6) + 0.0, np.round(np.diag(found.covariance), 4)
    (array([0., 0.]), array([4., 4.]))
    """
    start = np.asarray(start, dtype=np.float64)
    count = [0]

    def objective(z):
        count[0] += 1
        value, grad = logp_and_grad(z)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(z)
        return -value, -grad

    first, _ = objective(start)
    if not np.isfinite(first):
        raise SearchError("the log-density is not finite at the starting point of the search")
    found = minimize(
        objective, start, jac=True, method="L-BFGS-B", options={"maxfun": max(max_evaluations - 1, 1), "maxiter": 10**6}
    )
    mode = np.asarray(found.x, dtype=np.float64)
    hessian = curvature(objective, mode)
    # no curvature measured at all (a flat log density): unit scale in the unconstrained space
    precision = positive_definite(hessian, floor=1e-8) if np.linalg.eigvalsh(hessian).max() > 0 else np.eye(mode.size)
    covariance = np.linalg.inv(precision)
    return Laplace(mode, 0.5 * (covariance + covariance.T), -float(found.fun), count[0], bool(found.success))


def curvature(objective, mode: np.ndarray) -> np.ndarray:
    """Hessian of ``objective`` (minus the log density) at ``mode`` by differences of its gradient.

    Central differences; one-sided where one side leaves the support (a mode on its
    boundary), and a zero row where both do (that direction is then left wide).
    """
    g0 = objective(mode)[1]
    hessian = np.zeros((mode.size, mode.size))
    for i in range(mode.size):
        h = HESSIAN_STEP * max(1.0, abs(mode[i]))
        up, down = mode.copy(), mode.copy()
        up[i] += h
        down[i] -= h
        (f_up, g_up), (f_down, g_down) = objective(up), objective(down)
        if np.isfinite(f_up) and np.isfinite(f_down):
            hessian[i] = (g_up - g_down) / (2.0 * h)
        elif np.isfinite(f_up):
            hessian[i] = (g_up - g0) / h
        elif np.isfinite(f_down):
            hessian[i] = (g0 - g_down) / h
    hessian = 0.5 * (hessian + hessian.T)
    return np.where(np.isfinite(hessian), hessian, 0.0)


MAX_SEARCHED_LAWS = 8  # with more laws, the modes of this many evenly spread ones
SEARCH_SHARE = 0.1  # the search may use at most this share of the budget
START_DF = 4.0  # least degrees of freedom of the Student-t starting law
DIMENSIONS_PER_DF = 10.0  # and at least one per this many dimensions: see start_df
START_WIDEN = 1.0  # its scale matrix: START_WIDEN^2 times the Laplace covariance


def start_df(dim: int) -> float:
    """Degrees of freedom of the Student-t starting law in ``dim`` dimensions.

    Heavy tails cover a posterior that the approximation makes too narrow, but in many
    dimensions they cost draws: the radius of a Student-t spreads with ``dim / df``, and
    a t with 4 degrees of freedom matched to a Gaussian posterior keeps an effective
    share of 0.68 of its draws at ``dim = 10``, 0.27 at ``dim = 100``. Keeping ``dim / df``
    at most :data:`DIMENSIONS_PER_DF` keeps that share above about 0.4.
    """
    return max(START_DF, dim / DIMENSIONS_PER_DF)


def searched_laws(n_laws: int) -> list[int]:
    """The laws whose modes are searched: all of them, or ``MAX_SEARCHED_LAWS`` evenly spread."""
    if n_laws <= MAX_SEARCHED_LAWS:
        return list(range(n_laws))
    return sorted({int(round(v)) for v in np.linspace(0, n_laws - 1, MAX_SEARCHED_LAWS)})


def search_budget(budget: int, dim: int, n_laws: int) -> int:
    """Evaluations the search may spend: ``SEARCH_SHARE`` of the budget, enough for each Hessian."""
    needed = len(searched_laws(n_laws)) * (2 * dim + 11)
    allowed = int(SEARCH_SHARE * budget)
    if allowed < needed:
        raise ValueError(
            f"draws={budget} is too small to find the posterior: the search of its mode needs at least "
            f"{needed} evaluations ({len(searched_laws(n_laws))} law(s) in {dim} dimensions), more than "
            f"{SEARCH_SHARE:g} of the budget; raise draws or pass init= draws of the posterior"
        )
    return allowed


def find_modes(
    point_logp: Callable[[np.ndarray, int], tuple[float, np.ndarray]], n_laws: int, start: np.ndarray, budget: int
) -> list[Laplace]:
    """Laplace approximations of the searched laws, each search warm-started at the last mode.

    ``point_logp(z, law) -> (log density, gradient)``; ``budget`` evaluations in all.
    """
    laws = searched_laws(n_laws)
    dim = np.asarray(start).size
    found: list[Laplace] = []
    for i, law in enumerate(laws):
        left = budget - sum(f.evaluations for f in found)
        climb = (left // (len(laws) - i)) - 2 * dim - 1
        origin = found[-1].mode if found else start

        def one_law(z: np.ndarray, law: int = law) -> tuple[float, np.ndarray]:
            return point_logp(z, law)

        starts = [origin] if not found else [origin, start]  # the last mode, then the model's initial point
        for attempt, point in enumerate(starts):
            try:
                found.append(laplace(one_law, point, climb))
                break
            except SearchError as err:
                if attempt == len(starts) - 1:
                    raise SearchError(str(err), law) from err
    return found
