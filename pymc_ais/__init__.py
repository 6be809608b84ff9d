"""pymc_ais: many expectations from one shared sample for PyMC models.

Adaptive importance sampling with control variates (aISCV) over the input law given as
a PyMC model; results as an ``xarray.DataTree`` in the ArviZ group schema.
"""

__version__ = "0.1.0"

from .api import estimate
from .core.problem import EvaluationError
from .plots import plot_adaptation, plot_estimates, plot_sensitivity, plot_weights
from .pymc.grid import grid, sample_grid
from .pymc.priors import swap_priors
from .reliability import ReliabilityWarning
from .sensitivity import sobol
from .summary import summary

__all__ = [
    "EvaluationError",
    "ReliabilityWarning",
    "__version__",
    "estimate",
    "grid",
    "plot_adaptation",
    "plot_estimates",
    "plot_sensitivity",
    "plot_weights",
    "sample_grid",
    "sobol",
    "summary",
    "swap_priors",
]
