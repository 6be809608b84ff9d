"""Core layer: the aISCV algorithm on plain numpy problems (no PyMC import here)."""

from .aiscv import RunResult, finalize, init, run, step
from .evaluator import Evaluator
from .problem import EvaluationError, Problem
from .settings import Settings

__all__ = ["EvaluationError", "Evaluator", "Problem", "RunResult", "Settings", "finalize", "init", "run", "step"]
