"""Control variates of the mixture estimator and their coefficients.

Every component's ``g_k / g_alpha - 1`` has mean zero under the mixture, so any linear
combination can be subtracted from the importance-sampling terms without bias as long
as the coefficients are independent of the points they are applied to. Coefficients
come either from an earlier adaptive block (``control_variate_coef``) or, on the
final sample, from the other half of it (``crossfit``).
"""

from __future__ import annotations

import numpy as np

from ..densities.mixture_sampling import replicate_means
from .diagnostics import LIGHT_TAIL_KHAT, ROWS, pareto_khat

RCOND = 1e-3  # singular directions of a standardised design below this share of the largest are dropped
REFIT_MARGIN = 2.0  # a refitted set of control variates must cut the held-out spread this much
# Mixture weight left out of a regression below which its control variates are treated
# as collinear: sum_k alpha_k (g_k / g_alpha - 1) = 0 exactly over all components.
COLLINEAR_MASS = 0.05


def regression_beta(y: np.ndarray, c: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Single control-variate coefficients ``Cov(y_t, c_t) / Var(c_t)`` per column."""
    yc = y - y.mean(axis=0)
    cc = c - c.mean(axis=0)
    var_c = np.einsum("ij,ij->j", cc, cc)
    cov = np.einsum("ij,ij->j", yc, cc)
    scale = np.maximum(np.einsum("ij,ij->j", c, c), np.finfo(float).tiny)
    ok = var_c > 1e-12 * scale
    return np.where(ok, cov / np.where(ok, var_c, 1.0), fallback)


def control_variate_coef(
    y: np.ndarray,
    c: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    mode: str,
    min_points: float,
    cap: int,
    owner: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Estimator coefficients (K, T) and the number of control variates per target.

    "single": target t uses its own component's ``g_t / g_alpha - 1`` with ``beta_t``
    (column ``owner[t]``, by default ``t + 1``).
    "full": every target is regressed (least squares, minimum norm) on the control
    variates of the components with the largest weights: at most ``cap`` of them,
    each expected to have drawn at least ``min_points`` of the block (a component
    sampled a handful of times would give an over-fitted coefficient), and each bounded
    by ``1 / alpha_k``; the largest is left out when the rest of the mixture weighs
    less than ``COLLINEAR_MASS`` (the chosen columns are then nearly collinear).
    """
    k, t = c.shape[1], y.shape[1]
    coef = np.zeros((k, t))
    if mode == "single":
        coef[np.arange(1, k) if owner is None else owner, np.arange(t)] = beta
        return coef, 1
    eligible = np.flatnonzero(alpha * y.shape[0] >= min_points)
    chosen = eligible[np.argsort(alpha[eligible])[::-1][:cap]]
    if alpha[chosen].sum() > 1.0 - COLLINEAR_MASS:
        # The chosen control variates nearly sum to zero with weights alpha; the
        # regression would put a huge coefficient on that combination, which only
        # measures the noise of the few components left out (a component drawn a few
        # times, with g_k / g_alpha up to 1 / alpha_k): rare final samples then land
        # tens of standard errors off. Leaving out the largest loses nothing else.
        chosen = chosen[1:]
    if chosen.size == 0:
        return coef, 0
    design = c[:, chosen] - c[:, chosen].mean(axis=0)
    solution, *_ = np.linalg.lstsq(design, y - y.mean(axis=0), rcond=1e-10)
    coef[chosen] = solution
    return coef, int(chosen.size)


def _least_squares(c: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients of ``y`` on the centred columns of ``c`` (truncated SVD)."""
    if c.shape[1] == 0:
        return np.zeros((0, y.shape[1]))
    centred = c - c.mean(axis=0)
    scale = centred.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    coef, *_ = np.linalg.lstsq(centred / scale, y - y.mean(axis=0), rcond=RCOND)
    return coef / scale[:, None]


def _spread(residual: np.ndarray, weights: np.ndarray, groups: np.ndarray | None) -> float:
    """Weighted variance of the residuals: of the points, or of the group means.

    Under randomized QMC the points of one replicate are not independent: what an
    estimator's variance depends on is the spread of the replicate means, which a
    control variate fitted for i.i.d. points can make worse (measured tenfold on the
    Gaussian moments), so the choice must be scored on replicate means.
    """
    if groups is None:
        return float(weights @ residual.var(axis=0))
    means = replicate_means(residual, groups)
    if means.shape[0] < 2:
        return np.inf
    return float(weights @ means.var(axis=0, ddof=1))


def _halves(n: int, groups: np.ndarray | None) -> np.ndarray:
    """Two halves of the data for held-out scoring: alternate points, or alternate groups."""
    if groups is None:
        return np.arange(n) % 2 == 0
    _, index = np.unique(groups, return_inverse=True)
    return index % 2 == 0


def _choose_columns(
    c: np.ndarray,
    y: np.ndarray,
    candidates: list,
    weights: np.ndarray,
    default_coef: np.ndarray,
    groups: np.ndarray | None = None,
    margin: float = REFIT_MARGIN,
    rows: np.ndarray | None = None,
):
    """Control variates for one fold: the adaptive coefficients, or a refitted set.

    Returns ``(columns, coefficients)``. The adaptive coefficients (fitted on an earlier
    block) are the default; each candidate set, from the simplest (none) to the
    richest, is scored by two-fold held-out residual variance inside the data given
    (never the points the result is applied to), with the criterion weights, and
    replaces the current choice only if it cuts the variance by ``margin``. With
    ``groups`` (replicate labels of a randomized-QMC sample) the halves are alternate
    replicates and the score is the spread of replicate means. Sets containing a
    heavy-tailed control variate (Pareto k-hat of ``g_k / g_alpha`` above ``LIGHT_TAIL_KHAT``) are not
    refitted: such columns can look good on one half and do harm on the other, and the
    error of their coefficients is shared by all replicates of a fold, where the
    replicate spread cannot see it. With replicates the set's light columns are
    refitted alone instead (one heavy law ratio among a hundred otherwise cost the
    cantilever's run its law control variates); with i.i.d. points such a refit's error
    bars came out too small, so the set is skipped. ``rows`` selects the data (all rows
    by default) without copying them.
    """
    rows = np.arange(y.shape[0]) if rows is None else rows
    groups = None if groups is None else groups[rows]
    half = _halves(rows.size, groups)
    every = np.arange(c.shape[1])
    none = np.zeros((0, y.shape[1]))
    with np.errstate(divide="ignore"):
        light = np.array([not (pareto_khat(np.log1p(c[rows, k])) > LIGHT_TAIL_KHAT) for k in every])
    best, best_coef = every, default_coef
    refit = False
    best_score = _spread(residuals(y, c, every, default_coef, rows), weights, groups) * 2
    for cols in candidates:
        if not light[cols].all():  # a heavy-tailed control variate: refitting it is unsafe
            if groups is None or not light[cols].any():
                continue
            cols = cols[light[cols]]  # replicates: refit the light columns alone
        if cols.size == 0:  # nothing to fit: scored on all the data, like the default
            score = _spread(residuals(y, c, cols, none, rows), weights, groups) * 2
            if score * margin < best_score or not np.isfinite(best_score):
                best, best_score, best_coef, refit = cols, score, none, False
            continue
        score = 0.0
        for fit in (half, ~half):
            coef = _least_squares(c[np.ix_(rows[fit], cols)], y[rows[fit]])
            resid = residuals(y, c, cols, coef, rows[~fit])
            score += _spread(resid, weights, None if groups is None else groups[~fit])
        if score * margin < best_score or not np.isfinite(best_score):
            best, best_score, refit = cols, score, True
    if refit:
        best_coef = _least_squares(c[np.ix_(rows, best)], y[rows])
    return best, best_coef


def crossfit(
    y: np.ndarray,
    c: np.ndarray,
    candidates: list,
    fold: np.ndarray,
    weights: np.ndarray,
    default_coef: np.ndarray,
    groups: np.ndarray | None = None,
    overwrite: bool = False,
) -> np.ndarray:
    """Summands ``y - c @ coef`` with coefficients cross-fitted over two folds.

    ``y`` (n, T) are the importance-sampling terms, ``c`` (n, K) control variates of
    mean zero (``g_k / g_alpha - 1``), ``candidates`` the column sets a refit may use,
    from the simplest (usually none, then every sampled component), ``fold`` (n,) in
    {0, 1}, ``groups`` (n,) the replicate of each point when the sample is made of
    replicates (then scores are spreads of replicate means). For each fold, the other
    fold decides between ``default_coef`` (the adaptive coefficients) and a
    least-squares refit on a candidate set, by held-out residual variance; the result
    is applied to the fold. Nothing fitted or chosen ever sees the points it is
    applied to, so each fold's estimate stays exactly unbiased, while the coefficients
    use half the final sample instead of one adaptive block. ``overwrite=True``
    writes the summands into ``y`` (no second (n, T) array).
    """
    choices = []
    for f in (0, 1):
        fit = np.flatnonzero(fold != f)  # rows, not copies of them: (n / 2, T) each
        choices.append(_choose_columns(c, y, candidates, weights, default_coef, groups, rows=fit))
    if not overwrite:
        y = y.copy()
    for f, (cols, coef) in zip((0, 1), choices):  # both choices made: the folds can be overwritten
        rows = np.flatnonzero(fold == f)
        residuals(y, c, cols, coef, rows, out=y)
    return y


def guarded(y: np.ndarray, c: np.ndarray, coef: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Summands ``y - c @ coef``, or ``y`` alone, chosen per target on the other fold.

    The coefficients ``coef`` (K, T) come from earlier draws. For each fold and each
    target, the other fold's points decide whether the control variates lower that
    target's variance; the choice is applied to the fold, which never saw it, so each
    fold's estimate stays unbiased. It guards a target whose adaptive coefficients
    misfit: on a regression posterior, one seed in fifty had a posterior mean's
    variance 25 times that of plain importance sampling. Point variances, not the
    spread of replicate means, decide: a fold holds four or five replicates, too few
    to compare two spreads per target (measured slightly worse).
    """
    with_cv = residuals(y, c, np.arange(c.shape[1]), coef)
    keeps = [with_cv[fold != f].var(axis=0) <= y[fold != f].var(axis=0) for f in (0, 1)]
    for f, keep in zip((0, 1), keeps):  # both choices made: the folds can be overwritten
        rows, drop = np.flatnonzero(fold == f), np.flatnonzero(~keep)
        if drop.size:
            with_cv[np.ix_(rows, drop)] = y[np.ix_(rows, drop)]
    return with_cv


def residuals(
    y: np.ndarray, c: np.ndarray, cols: np.ndarray, coef: np.ndarray, rows=None, out: np.ndarray | None = None
) -> np.ndarray:
    """``y - c[:, cols] @ coef`` on ``rows`` (all by default), by blocks of rows.

    One (rows, T) result and no temporary of that size: at a million draws and a
    hundred targets the plain expression made four of them (400 MB each). With
    ``out=y`` the residuals replace ``y``'s rows in place.
    """
    rows = np.arange(y.shape[0]) if rows is None else rows
    if out is None:
        out, place = np.empty((rows.size, y.shape[1])), False
    else:
        place = True
    for r in range(0, rows.size, ROWS):
        block = rows[r : r + ROWS]
        values = y[block] - c[np.ix_(block, cols)] @ coef
        if place:
            out[block] = values
        else:
            out[r : r + ROWS] = values
    return out
