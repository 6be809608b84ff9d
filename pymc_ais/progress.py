"""A progress bar over the adaptive blocks and the final phase (rich, as PyMC uses)."""

from __future__ import annotations

import sys


class ProgressReporter:
    """Shows evaluations used / budget and the predicted weighted variance.

    Disabled when ``enabled`` is False or when standard error is not a terminal, so
    logs of non-interactive runs stay clean.
    """

    def __init__(self, settings, enabled: bool = True):
        self.settings = settings
        self.enabled = bool(enabled) and sys.stderr.isatty()
        self._progress = None
        self._task = None

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
            )
            self._progress.start()
            self._task = self._progress.add_task("adaptive", total=self.settings.budget, info="")
        return self

    def update(self, state, info=None) -> None:
        """After a block: evaluations used and the newest proposal's predicted variance."""
        if self._progress is not None:
            variance = float(state.weights @ state.proposals[-1].sigma2)
            self._progress.update(self._task, completed=state.evaluations, info=f"predicted w.var/pt {variance:.3g}")

    def finish(self, result) -> None:
        """The final phase is done."""
        if self._progress is not None:
            self._progress.update(self._task, description="final", completed=self.settings.budget)

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False
