"""The linear trend of each event score over the pooled draws: a direction towards the event.

A rare-event fit in high dimension rests on a few effective elite draws, whose mean is
mostly noise: in d = 300, 300 effective draws leave a shift of length about one in
random directions, which costs the next block's weights a factor ``e``. The score (the
signed distance to the event, ``y - t`` for ``1{y > t}``) is known at every draw at no
extra run, so its least-squares slope over the upper half of the pooled draws gives
the direction towards the event from thousands of points instead. Where the score is
close to linear there, the event is close to a half-space and the fit needs its mean
only along that slope, as the first-order reliability method's design point lies
along the gradient; this is the one-dimensional projection of the cross-entropy
method of El Masri, Morio & Simatos (2021, Reliab. Eng. Syst. Saf. 216), with the
direction read off the score instead of the elite draws.
"""

from __future__ import annotations

import numpy as np

LINEAR_FIT = 0.5  # least R^2 of the linear fit over the upper half for its slope to count
MAX_ROWS = 20_000  # draws the fit uses at most (evenly spaced in score order)


def score_slopes(x: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Least-squares slope (outputs, d) of each score column over its upper half; NaN rows where none.

    ``x`` (n, d) are the pooled draws and ``score`` (n, outputs) their event scores (NaN
    where a point has no score). A column gets no slope when fewer than ``4 (d + 1)``
    of its draws have a score, or when a linear fit explains less than ``LINEAR_FIT``
    of its variance over the upper half (a quadratic or many-sided event: no single
    direction leads to it).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((400, 3))
    >>> slopes = score_slopes(x, np.column_stack([x @ [1.0, 2.0, 0.0] - 4.0, (x * x).sum(axis=1)]))
    >>> np.round(slopes[0], 6).tolist(), bool(np.isnan(slopes[1]).all())
    ([1.0, 2.0, 0.0], True)
    """
    n, d = x.shape
    out = np.full((score.shape[1], d), np.nan)
    for j, column in enumerate(score.T):
        finite = np.flatnonzero(np.isfinite(column))
        if finite.size < 4 * (d + 1):
            continue
        upper = finite[column[finite] >= np.median(column[finite])]
        if upper.size > MAX_ROWS:
            upper = np.sort(upper[np.argsort(column[upper], kind="stable")][:: -(-upper.size // MAX_ROWS)])
        design = x[upper] - x[upper].mean(axis=0)
        response = column[upper] - column[upper].mean()
        total = float(response @ response)
        if not total > 0:
            continue
        slope, *_ = np.linalg.lstsq(design, response, rcond=None)
        residual = response - design @ slope
        if 1.0 - float(residual @ residual) / total >= LINEAR_FIT and np.any(slope != 0):
            out[j] = slope
    return out
