"""A public call, bound: what determines its result, and how it is to be run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.execution.dispatch import Dispatcher

RUNTIME = ("executor", "chunk_size", "progressbar", "checkpoint")
"""Arguments that change how a run is carried out, never its result: not fingerprinted."""


@dataclass(frozen=True)
class RunRequest:
    """One call of an entry point.

    ``arguments`` holds everything that determines the result (the expectations, the
    laws, the budget, the seed, every option): it is what a checkpoint fingerprints
    and stores for :func:`~pymc_ais.pipeline.resume`. The other fields say how to run it.
    """

    entry: str
    arguments: dict
    executor: Any = None
    chunk_size: int | None = None
    progressbar: bool = True
    checkpoint: Any = None
    resuming: bool = field(default=False, repr=False)

    @classmethod
    def bind(cls, entry: str, call: dict) -> RunRequest:
        """A request from a public function's ``locals()``: ``options`` flattened, runtime arguments apart."""
        call = dict(call)
        options = call.pop("options", None) or {}
        runtime = {name: call.pop(name) for name in RUNTIME if name in call}
        overlap = sorted(set(options) & set(call))
        if overlap:
            raise TypeError(f"argument(s) {', '.join(overlap)} given twice")
        moved = sorted(set(options) & set(RUNTIME))
        runtime.update({name: options.pop(name) for name in moved})
        return cls(entry, {**call, **options}, **runtime)


@dataclass
class Session:
    """What an entry point's steps run with: the dispatcher of its evaluations, its seed, its display."""

    dispatcher: Dispatcher
    random_seed: Any
    progressbar: bool = True
