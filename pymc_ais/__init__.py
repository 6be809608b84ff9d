"""pymc_ais: many expectations from one shared sample for PyMC models.

Adaptive importance sampling with control variates (aISCV) over the input law given as
a PyMC model; results as an ``xarray.DataTree`` in the ArviZ group schema.
"""

from ._version import __version__
from .core.problem import EvaluationError
from .estimate import estimate
from .exceedance import exceedance
from .laws import grid, sample_grid, swap_priors
from .model.events import event
from .pipeline import Checkpoint, CheckpointMismatch, CheckpointWarning, resume
from .reliability import failure_probability
from .results import (
    ReliabilityWarning,
    plot_adaptation,
    plot_estimates,
    plot_exceedance,
    plot_sensitivity,
    plot_weights,
    summary,
)
from .results.posterior import bayes_factors
from .results.resample import to_posterior
from .sobol import sobol

__all__ = [
    "Checkpoint",
    "CheckpointMismatch",
    "CheckpointWarning",
    "EvaluationError",
    "ReliabilityWarning",
    "__version__",
    "bayes_factors",
    "estimate",
    "event",
    "exceedance",
    "failure_probability",
    "grid",
    "plot_adaptation",
    "plot_estimates",
    "plot_exceedance",
    "plot_sensitivity",
    "plot_weights",
    "resume",
    "sample_grid",
    "sobol",
    "summary",
    "swap_priors",
    "to_posterior",
]
