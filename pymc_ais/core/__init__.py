"""Core layer: the aISCV algorithm on plain numpy problems (no PyMC import here)."""

from .engine.aiscv import RunResult, finalize, init, run, step
from .engine.settings import Settings
from .execution.evaluator import Evaluator
from .problem import EvaluationError, Problem

__all__ = ["EvaluationError", "Evaluator", "Problem", "RunResult", "Settings", "finalize", "init", "run", "step"]
