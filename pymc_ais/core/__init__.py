"""Core layer: the aISCV algorithm on plain numpy problems (no PyMC import here)."""

from .aiscv import run
from .problem import EvaluationError, Problem
from .settings import Settings

__all__ = ["EvaluationError", "Problem", "Settings", "run"]
