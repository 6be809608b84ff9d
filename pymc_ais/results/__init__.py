"""Results: the DataTree groups, run attrs, reliability warnings, summary and plots."""

from .plots import plot_adaptation, plot_estimates, plot_exceedance, plot_sensitivity, plot_weights
from .reliability import ReliabilityWarning, check_result
from .summary import summary

__all__ = [
    "ReliabilityWarning",
    "check_result",
    "plot_adaptation",
    "plot_estimates",
    "plot_exceedance",
    "plot_sensitivity",
    "plot_weights",
    "summary",
]
