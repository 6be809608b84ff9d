"""Core layer: the aISCV algorithm on plain numpy problems (no PyMC import here)."""

from .aiscv import Settings, run
from .problem import EvaluationError, Problem

__all__ = ["EvaluationError", "Problem", "Settings", "run"]
