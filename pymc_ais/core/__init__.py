"""Core layer: the aISCV algorithm on plain numpy problems (no PyMC import here).

- :mod:`~pymc_ais.core.engine`: the adaptive kernel (ask/tell over a plain state),
  the final phase, the estimates and their tail diagnostics;
- :mod:`~pymc_ais.core.densities`: Gaussian mixtures, Student-t starts, samplers;
- :mod:`~pymc_ais.core.surrogates`: surrogate control variates (chaos, polynomial);
- :mod:`~pymc_ais.core.execution`: checked evaluations, chunked dispatch, the driver;
- :mod:`~pymc_ais.core.sensitivity`: the pick-freeze product law and Sobol' indices.
"""

from .engine.kernel import Kernel, RunResult, build_kernel
from .engine.settings import Settings
from .engine.state import Batch, Evaluations, State
from .execution.driver import run
from .execution.evaluator import Evaluator
from .problem import EvaluationError, Problem

__all__ = [
    "Batch",
    "EvaluationError",
    "Evaluations",
    "Evaluator",
    "Kernel",
    "Problem",
    "RunResult",
    "Settings",
    "State",
    "build_kernel",
    "run",
]
