"""Targets: the non-negative (or sign-constant) integrands the proposals are fitted to.

The zero-variance construction of the method needs ``phi_j >= 0``. An expectation whose
output takes both signs on the initial block is split into its positive and negative
parts, ``phi = phi+ - phi-``: two targets, each with its own auxiliary density and
control variate, recombined with signs ``+1`` and ``-1``. An output of constant sign is a
single target (``part = 0``) fitted to ``|phi| f``. Whatever the split, every target's
estimator is unbiased for its own integrand, so the recombined estimate is unbiased
even if a sign shows up later that the initial block did not see.
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
    """

    pair: np.ndarray
    law: np.ndarray
    output: np.ndarray
    part: np.ndarray

    @property
    def size(self) -> int:
        """Number of targets T."""
        return self.pair.shape[0]

    @property
    def combine_sign(self) -> np.ndarray:
        """Sign of each target in the recombined expectation."""
        return np.where(self.part == -1, -1.0, 1.0)

    def labels(self, pair_names) -> list[str]:
        """Labels of the targets: the pair's name, with (+) or (-) for a signed part."""
        suffix = {0: "", 1: "(+)", -1: "(-)"}
        return [f"{pair_names[p]}{suffix[int(s)]}" for p, s in zip(self.pair, self.part)]


def make_targets(phi: np.ndarray, n_laws: int) -> Targets:
    """Build targets from the outputs seen on the initial block (split signed outputs)."""
    n_outputs = phi.shape[1]
    signed = (phi > 0).any(axis=0) & (phi < 0).any(axis=0)
    pair, law, output, part = [], [], [], []
    for l in range(n_laws):
        for m in range(n_outputs):
            for s in (1, -1) if signed[m] else (0,):
                pair.append(l * n_outputs + m)
                law.append(l)
                output.append(m)
                part.append(s)
    as_int = lambda v: np.asarray(v, dtype=np.int64)
    return Targets(as_int(pair), as_int(law), as_int(output), as_int(part))


def integrand_log_abs(targets: Targets, log_f: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log |phi_t f_t|`` (n, T) and the sign of ``phi_t f_t`` (n, T) at the points."""
    values = phi[:, targets.output]
    values = np.where(targets.part == 1, np.maximum(values, 0.0), values)
    values = np.where(targets.part == -1, np.maximum(-values, 0.0), values)
    with np.errstate(divide="ignore"):
        log_abs = np.log(np.abs(values)) + log_f[:, targets.law]
    return log_abs, np.sign(values)


def ratio(log_abs: np.ndarray, sign: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``phi_t f_t / q`` at the points, formed in log space (``log_q`` is (n,))."""
    with np.errstate(invalid="ignore"):
        out = sign * np.exp(log_abs - log_q[:, None])
    return np.where(sign == 0, 0.0, out)
