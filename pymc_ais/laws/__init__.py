"""Input laws: one model, a dict of models, or a grid of ``pm.Data`` values; swapped priors."""

from .grid import LawGrid, grid, sample_grid
from .lawset import LawSet
from .priors import swap_priors

__all__ = ["LawGrid", "LawSet", "grid", "sample_grid", "swap_priors"]
