"""Entry points by name, so that a stored call can be run again (:func:`~pymc_ais.pipeline.resume`).

An entry point is a :class:`Entry`: ``check(arguments) -> arguments`` validates and
normalises a call's arguments before anything is compiled or stored, and
``run(arguments, session) -> DataTree`` does the work. Entries are named here as
``"module:attribute"`` and imported on first use, so the pipeline imports no entry
module and no import cycle arises.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, NamedTuple

ENTRY_POINTS: dict[str, str] = {
    "estimate": "pymc_ais.estimate:ENTRY",
    "sobol": "pymc_ais.sobol:ENTRY",
    "exceedance": "pymc_ais.exceedance:ENTRY",
}


class Entry(NamedTuple):
    """The steps of one public entry point."""

    check: Callable[[dict], dict]
    run: Callable[[dict, Any], Any]


def register(name: str, target: str) -> None:
    """Name an entry point (``"package.module:ENTRY"``) for :func:`find`."""
    ENTRY_POINTS[name] = target


def find(name: str) -> Entry:
    """The entry point registered under ``name``."""
    if name not in ENTRY_POINTS:
        raise ValueError(f"unknown entry point {name!r}; registered: {', '.join(sorted(ENTRY_POINTS))}")
    module, attribute = ENTRY_POINTS[name].split(":")
    return getattr(importlib.import_module(module), attribute)
