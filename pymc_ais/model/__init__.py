"""PyMC adapter: input laws and outputs to the core's problem object (compiled functions)."""

from .model_problem import ModelProblem, build

__all__ = ["ModelProblem", "build"]
