"""Targets: the non-negative (or sign-constant) integrands the proposals are fitted to.

The zero-variance construction of the method needs ``phi_j >= 0``. An expectation whose
output takes both signs on the initial block is split into its positive and negative
parts, ``phi = phi+ - phi-``: two targets, each with its own auxiliary density and
control variate, recombined with signs ``+1`` and ``-1``. An output of constant sign is a
single target (``part = 0``) fitted to ``|phi| f``. Whatever the split, every target's
estimator is unbiased for its own integrand, so the recombined estimate is unbiased
even if a sign shows up later that the initial block did not see.

A target may be centred: its integrand is then ``(phi - c) f`` for a constant ``c`` of
its pair. Unnormalised laws (posteriors) centre their outputs at a first estimate of
their posterior mean, so that a posterior expectation ``c + int (phi - c) f / int f``
rests on a numerator close to zero, estimated by its own proposal, instead of on the
difference of two large, separately estimated integrals.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Targets(NamedTuple):
    """Flat description of the T targets.

    pair : (T,) index of the expectation (law-major pair) each target belongs to.
    law : (T,) index of the input law.
    output : (T,) index of the output.
    part : (T,) 0 = whole output, +1 = positive part, -1 = negative part.
    centre : (T,) constant subtracted from the output (0: not centred).
    reference : (T,) pair whose weight in the criterion the target takes (None: its own;
        see ``Problem.weighted_as``).
    """

    pair: np.ndarray
    law: np.ndarray
    output: np.ndarray
    part: np.ndarray
    centre: np.ndarray
    reference: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of targets T."""
        return self.pair.shape[0]

    @property
    def helpers(self) -> np.ndarray:
        """(T,) bool: targets weighted as another expectation (``reference``), parts of it sampled on their own."""
        if self.reference is None:
            return np.zeros(self.size, dtype=bool)
        return self.reference != self.pair

    @property
    def combine_sign(self) -> np.ndarray:
        """Sign of each target in the recombined expectation."""
        return np.where(self.part == -1, -1.0, 1.0)

    def labels(self, pair_names) -> list[str]:
        """Labels of the targets: the pair's name, with (+) or (-) for a signed part."""
        suffix = {0: "", 1: "(+)", -1: "(-)"}
        return [f"{pair_names[p]}{suffix[int(s)]}" for p, s in zip(self.pair, self.part)]


def make_targets(
    phi: np.ndarray, n_laws: int, centre: np.ndarray | None = None, weighted_as: np.ndarray | None = None
) -> Targets:
    """Build targets from the outputs seen on the initial block (split signed outputs).

    ``centre`` (pairs,), law-major, holds the constant each pair's output is centred at;
    ``weighted_as`` (outputs,) the output whose criterion weight each output takes.
    """
    n_outputs = phi.shape[1]
    centre = np.zeros(n_laws * n_outputs) if centre is None else np.asarray(centre, dtype=np.float64)
    pair, law, output, part = [], [], [], []
    for l in range(n_laws):
        values = phi - centre[l * n_outputs : (l + 1) * n_outputs]
        signed = (values > 0).any(axis=0) & (values < 0).any(axis=0)
        for m in range(n_outputs):
            for s in (1, -1) if signed[m] else (0,):
                pair.append(l * n_outputs + m)
                law.append(l)
                output.append(m)
                part.append(s)
    as_int = lambda v: np.asarray(v, dtype=np.int64)
    reference = None
    if weighted_as is not None:
        reference = as_int(law) * n_outputs + np.asarray(weighted_as, dtype=np.int64)[as_int(output)]
    return Targets(as_int(pair), as_int(law), as_int(output), as_int(part), centre[as_int(pair)], reference)


def target_values(targets: Targets, phi: np.ndarray) -> np.ndarray:
    """Each target's output at the points (n, T): centred, and cut to its sign's part."""
    output = targets.output
    if output.size == phi.shape[1] and np.array_equal(output, np.arange(output.size)):
        values = phi.copy()  # one output per target, in order: a plain copy, not a gather
    else:
        values = phi[:, output]
    if np.any(targets.centre):
        values -= targets.centre
    for part in (1, -1):
        columns = targets.part == part
        if columns.any():
            values[:, columns] = np.maximum(part * values[:, columns], 0.0)
    return values


def law_blocks(targets: Targets, n_laws: int) -> np.ndarray | None:
    """Column bounds of each law's targets (they are law-major), or None if not contiguous."""
    if targets.law.size == 0 or np.any(np.diff(targets.law) < 0):
        return None
    return np.searchsorted(targets.law, np.arange(n_laws + 1))


EXP_SAFE = 700.0  # |log weight| below which exp neither overflows nor underflows (limit 709)


def weighted_terms(targets: Targets, log_f: np.ndarray, phi: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``phi_t f_t / q`` at the points (n, T): the importance-sampling terms of every target.

    The same values as ``ratio(*integrand_log_abs(...), log_q)``, but the weights
    ``f_l / q`` are formed in log space once per law (n, L) and then multiply the
    target columns, instead of a log and an exp of every (n, T) entry (a third of a
    run's time with a hundred targets at a million draws). Weights beyond
    ``exp(+-EXP_SAFE)``, infinite or NaN ones fall back to the log-space path.
    """
    with np.errstate(invalid="ignore"):
        log_w = log_f - log_q[:, None]
    finite = np.isfinite(log_w)
    if np.isnan(log_w).any() or np.any(log_w[~finite] > 0) or np.any(np.abs(log_w[finite]) >= EXP_SAFE):
        return ratio(*integrand_log_abs(targets, log_f, phi), log_q)
    weights = np.exp(log_w)
    values = target_values(targets, phi)
    bounds = law_blocks(targets, log_f.shape[1])
    if bounds is None:
        values *= weights[:, targets.law]
        return values
    for law in range(log_f.shape[1]):
        if bounds[law] < bounds[law + 1]:
            values[:, bounds[law] : bounds[law + 1]] *= weights[:, law : law + 1]
    return values


def integrand_log_abs(targets: Targets, log_f: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log |phi_t f_t|`` (n, T) and the sign of ``phi_t f_t`` (n, T) at the points.

    Formed in place on one (n, T) array (with thousands of targets, each temporary
    costs a tenth of a second per call); the laws' columns are contiguous blocks
    (targets are law-major), so each law's log-density is added by broadcasting.
    """
    values = target_values(targets, phi)
    sign = np.sign(values)
    with np.errstate(divide="ignore"):
        log_abs = np.log(np.abs(values, out=values), out=values)
    bounds = law_blocks(targets, log_f.shape[1])
    if bounds is not None:
        for l in range(log_f.shape[1]):
            if bounds[l] < bounds[l + 1]:
                log_abs[:, bounds[l] : bounds[l + 1]] += log_f[:, l : l + 1]
    else:
        log_abs += log_f[:, targets.law]
    return log_abs, sign


def ratio(log_abs: np.ndarray, sign: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``phi_t f_t / q`` at the points, formed in log space (``log_q`` is (n,))."""
    out = np.subtract(log_abs, log_q[:, None])
    with np.errstate(invalid="ignore"):
        np.exp(out, out=out)
    out *= sign
    out[sign == 0] = 0.0
    return out
