"""PyMC adapter: models and expressions to the core's problem object."""

from .problem import ModelProblem, build

__all__ = ["ModelProblem", "build"]
