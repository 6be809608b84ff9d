"""Hessians from gradient differences, with fewer gradients when the Hessian is sparse.

A forward-difference Hessian costs one gradient per coordinate. In a hierarchical model
the group effects are coupled only through a few shared variables (the group mean), so
their Hessian is an arrowhead: one dense row and column, the rest diagonal. Once its
pattern of non-zeros is known (from one full measurement), the coordinates whose rows
are dense are perturbed one at a time, which gives their rows and, by symmetry, their
columns; the other coordinates are grouped so that no two in a group share a non-zero
row among the others, and perturbed together, one gradient per group: the difference
in each row then comes from one coordinate of the group alone (the substitution-free
column grouping of Curtis, Powell & Reid 1974, applied to the part of the matrix the
dense rows leave). The arrowhead of 100 group effects and their mean costs two gradients
instead of 101.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

ZERO = 1e-8  # |H_ij| below this times sqrt(|H_ii H_jj|) is a structural zero
WORTH = 0.8  # a plan is used when it needs fewer gradients than this share of the coordinates


class HessianPlan(NamedTuple):
    """Which coordinates to perturb alone (``dense``) and which together (``groups``)."""

    pattern: np.ndarray  # (d, d) bool, symmetric: the entries that may be non-zero
    dense: np.ndarray  # coordinates perturbed one at a time
    groups: list[np.ndarray]  # coordinates perturbed together, one gradient per group

    @property
    def gradients(self) -> int:
        """Gradients one measurement costs."""
        return self.dense.size + len(self.groups)


def plan(matrix: np.ndarray) -> HessianPlan | None:
    """A plan for Hessians with the non-zeros of ``matrix`` (a full measurement), or None when it saves too little.

    Tries the ``k`` densest rows as ``dense`` for every ``k`` and keeps the cheapest
    plan; the groups are coloured greedily, densest columns first.
    """
    d = matrix.shape[0]
    scale = np.sqrt(np.abs(np.outer(np.diag(matrix), np.diag(matrix))))
    pattern = np.abs(matrix) > ZERO * scale
    pattern = pattern | pattern.T | np.eye(d, dtype=bool)
    order = np.argsort(-pattern.sum(axis=1), kind="stable")
    best: HessianPlan | None = None
    for k in range(d + 1):
        if best is not None and k >= best.gradients:
            break
        dense, sparse = order[:k], np.sort(order[k:])
        candidate = HessianPlan(pattern, np.sort(dense), _groups(pattern, sparse))
        if best is None or candidate.gradients < best.gradients:
            best = candidate
    assert best is not None
    return best if best.gradients < WORTH * d else None


def _groups(pattern: np.ndarray, sparse: np.ndarray) -> list[np.ndarray]:
    """Greedy colouring of the columns ``sparse``: no two columns of a group share a non-zero row among ``sparse``."""
    rows = pattern[np.ix_(sparse, sparse)]
    used: list[np.ndarray] = []  # rows already taken by each group
    members: list[list[int]] = []
    for j in np.argsort(-rows.sum(axis=0), kind="stable"):
        for g, taken in enumerate(used):
            if not np.any(taken & rows[:, j]):
                taken |= rows[:, j]
                members[g].append(int(sparse[j]))
                break
        else:
            used.append(rows[:, j].copy())
            members.append([int(sparse[j])])
    return [np.array(sorted(m)) for m in members]


def measure(
    gradient_at: Callable[[np.ndarray], np.ndarray | None],
    x: np.ndarray,
    grad: np.ndarray,
    steps: np.ndarray,
    hessian_plan: HessianPlan | None,
) -> np.ndarray:
    """Minus the Hessian at ``x`` (gradient ``grad``) by forward differences of ``steps``, following the plan.

    ``gradient_at(point)`` returns the gradient there, or None where the density is not
    finite; the entries that perturbation would give stay zero. Without a plan every
    coordinate is perturbed alone.
    """
    d = x.size
    out = np.zeros((d, d))
    if hessian_plan is None:
        singles, groups = np.arange(d), []
    else:
        singles, groups = hessian_plan.dense, hessian_plan.groups
    for j in singles:
        moved = x.copy()
        moved[j] += steps[j]
        found = gradient_at(moved)
        if found is not None:
            out[:, j] = -(found - grad) / steps[j]
    if hessian_plan is None:
        return out
    out[hessian_plan.dense, :] = out[:, hessian_plan.dense].T  # the dense rows, by symmetry
    sparse = np.setdiff1d(np.arange(d), hessian_plan.dense)
    for group in groups:
        moved = x.copy()
        moved[group] += steps[group]
        found = gradient_at(moved)
        if found is None:
            continue
        change = -(found - grad)
        for j in group:
            rows = sparse[hessian_plan.pattern[sparse, j]]
            out[rows, j] = change[rows] / steps[j]
    return out
