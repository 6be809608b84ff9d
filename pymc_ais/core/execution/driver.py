"""The loop that drives the aISCV kernel: ask for a block, evaluate it, tell the kernel.

The kernel (:mod:`pymc_ais.core.engine.kernel`) only proposes points and learns from
their evaluations; this loop answers it through an
:class:`~pymc_ais.core.execution.evaluator.Evaluator`, which checks, counts and keeps
every batch. How a batch is computed (in this process, in chunks on an executor, or
read back from a checkpoint) is the evaluator's business, so one loop serves them all.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..engine.kernel import RunResult, build_kernel
from ..engine.settings import Settings
from ..engine.state import State, StepInfo
from ..problem import Problem
from .evaluator import evaluator_for


def run(
    problem: Problem,
    settings: Settings,
    rng: np.random.Generator,
    callback: Callable[[State, StepInfo | None], None] | None = None,
    evaluate=None,
    weight_scale=None,
) -> RunResult:
    """Run the adaptive phase then the final phase.

    ``callback(state, info)`` is called after each block (``info`` None after the
    first); ``evaluate`` (points -> :class:`~pymc_ais.core.engine.state.Evaluations`)
    defaults to an :class:`~pymc_ais.core.execution.evaluator.Evaluator` of the problem;
    ``weight_scale`` see :func:`~pymc_ais.core.engine.state.criterion_weights`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from pymc_ais.core import Problem, Settings, run
    >>> problem = Problem(1, lambda rng, n: rng.standard_normal((n, 1)),
    ...                   lambda x: (norm.logpdf(x), x**2), ["m2"])
    >>> result = run(problem, Settings(budget=4000), np.random.default_rng(0))
    >>> bool(abs(result.estimates.mean[0] - 1.0) < 5 * result.estimates.mcse[0])
    True
    """
    evaluate = evaluate or evaluator_for(problem)
    kernel = build_kernel(problem, settings, weight_scale)
    batch = kernel.initial(rng)
    state = kernel.init(batch, evaluate(batch.x))
    if callback is not None:
        callback(state, None)
    reason = kernel.stop(state)
    while reason is None:
        batch = kernel.propose(state, rng)
        state, info = kernel.update(state, batch, evaluate(batch.x))
        if callback is not None:
            callback(state, info)
        reason = kernel.stop(state)
    final = kernel.final(state, rng)
    return kernel.finalize(state, final, evaluate(final.x), reason)
