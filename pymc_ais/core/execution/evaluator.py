"""The one door every model evaluation goes through: checked, counted and kept.

A run's budget is a number of model evaluations; an :class:`Evaluator` counts them
(``points`` and, when one point costs several model runs as in a pick-freeze design,
``runs``), checks every batch (shapes, NaN, ``+inf``) with messages that name the law or
output at fault, and keeps every finished batch so that a failure late in a long run
hands back all the evaluations done before it (``EvaluationError.completed``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..engine.state import Evaluations
from ..problem import EvaluationError


class Evaluator:
    """Batched evaluation ``x -> Evaluations(log_f (n, L), phi (n, M), score)`` with checks, count and history.

    The raw function returns ``(log_f, phi)`` or ``(log_f, phi, score)``, the event
    scores ``(n, M)`` of indicator outputs (``score > 0`` inside the event, NaN for
    other outputs), which the multilevel start of the adaptive phase climbs with.

    Parameters
    ----------
    evaluate : the raw batched function.
    law_names : names of the L laws (for messages and the shape check).
    output_names : names of the M outputs, or a callable returning them once known
        (black-box outputs have their shape fixed by the first batch), or None.
    natural : optional ``x -> {name: values}``, added to ``completed`` as ``draws``.
    runs_per_point : model runs one point costs (pick-freeze designs: G + 2).
    keep : whether finished batches are kept for ``completed``.

    Examples
    --------
    >>> import numpy as np
    >>> ev = Evaluator(lambda x: (np.zeros((len(x), 1)), x**2), law_names=["f"])
    >>> out = ev(np.ones((3, 1)))
    >>> ev.points, out.phi.shape
    (3, (3, 1))
    """

    def __init__(
        self,
        evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
        *,
        law_names: Sequence[str],
        output_names: Sequence[str] | Callable[[], Sequence[str] | None] | None = None,
        natural: Callable[[np.ndarray], dict] | None = None,
        runs_per_point: int = 1,
        keep: bool = True,
    ):
        self._evaluate = evaluate
        self.law_names = list(law_names)
        self._output_names = output_names
        self._natural = natural
        self.runs_per_point = int(runs_per_point)
        self._keep = keep
        self._history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._n_outputs: int | None = None
        self.points = 0

    @property
    def runs(self) -> int:
        """Model runs spent so far (points times runs per point)."""
        return self.points * self.runs_per_point

    @property
    def output_names(self) -> list[str] | None:
        """Names of the outputs if known."""
        names = self._output_names() if callable(self._output_names) else self._output_names
        return None if names is None else list(names)

    def _name(self, column: int) -> str:
        names = self.output_names
        return repr(names[column]) if names is not None and column < len(names) else f"column {column}"

    def completed(self) -> dict:
        """Every finished evaluation: ``x``, ``log_f``, ``phi`` (and ``draws`` with ``natural``)."""
        if not self._history:
            return {}
        x, log_f, phi = (np.concatenate(part) for part in zip(*self._history))
        out: dict = {"x": x, "log_f": log_f, "phi": phi}
        if self._natural is not None:
            out["draws"] = self._natural(x)
        return out

    def _fail(self, message: str) -> EvaluationError:
        return EvaluationError(message, self.completed())

    def __call__(self, x: np.ndarray) -> Evaluations:
        """Evaluate a batch, check it, count it and keep it."""
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        try:
            result = self._evaluate(x)
        except EvaluationError as err:
            if not err.completed:
                err.completed = self.completed()
            raise
        log_f, phi = result[0], result[1]
        score = None if len(result) < 3 or result[2] is None else np.asarray(result[2], dtype=np.float64)
        log_f = np.asarray(log_f, dtype=np.float64)
        if log_f.ndim == 1:
            log_f = log_f[:, None]
        if np.iscomplexobj(phi):
            raise self._fail("outputs are complex-valued; expectations need real outputs (take .real or abs)")
        phi = np.asarray(phi, dtype=np.float64)
        if phi.ndim == 1:
            phi = phi[:, None]
        if log_f.shape != (n, len(self.law_names)):
            raise self._fail(f"log-densities have shape {log_f.shape}, expected {(n, len(self.law_names))}")
        if phi.ndim != 2 or phi.shape[0] != n:
            raise self._fail(f"outputs have shape {phi.shape} for a batch of {n} points, expected ({n}, outputs)")
        if self._n_outputs is None:
            self._n_outputs = phi.shape[1]
        elif phi.shape[1] != self._n_outputs:
            raise self._fail(f"outputs have {phi.shape[1]} columns, earlier batches had {self._n_outputs}")
        bad_f = np.isnan(log_f) | (log_f == np.inf)
        if bad_f.any():
            law = self.law_names[int(np.argmax(bad_f.any(axis=0)))]
            raise self._fail(f"log-density of input law {law!r} is NaN or +inf at {int(bad_f.sum())} point(s)")
        bad_phi = ~np.isfinite(phi)
        if bad_phi.any():  # where every law's density is zero the weight is zero: the output there cannot count
            outside = np.all(log_f == -np.inf, axis=1)[:, None]
            phi = np.where(bad_phi & outside, 0.0, phi)
            bad_phi = ~np.isfinite(phi)
        if bad_phi.any():
            cols = np.flatnonzero(bad_phi.any(axis=0))
            names = ", ".join(self._name(c) for c in cols[:5])
            raise self._fail(f"output {names} is NaN or infinite at {int(bad_phi[:, cols[0]].sum())} of {n} point(s)")
        self.points += n
        if self._keep:
            self._history.append((x, log_f, phi))
        return Evaluations(log_f, phi, score)


def evaluator_for(problem, keep: bool = True) -> Evaluator:
    """An :class:`Evaluator` of a core problem's ``evaluate`` (itself, if it is one)."""
    if isinstance(problem.evaluate, Evaluator):
        return problem.evaluate
    return Evaluator(problem.evaluate, law_names=problem.law_names, output_names=problem.output_names, keep=keep)
