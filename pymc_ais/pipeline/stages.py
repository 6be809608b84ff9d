"""The stages every entry point shares.

Keyword checks, the budget ledger (pilot / adaptive / final, in model runs, read off
the one :class:`~pymc_ais.core.execution.evaluator.Evaluator` of the run), the surrogate pilot's
place in the budget, the core run with its progress bar and surrogate control, and the
last steps of every result (attrs, reliability warnings).
"""

from __future__ import annotations

import dataclasses
import json
import numbers

import numpy as np
import xarray as xr

from ..core.densities.gaussian_mixture import logsumexp
from ..core.engine.kernel import RunResult
from ..core.engine.settings import Settings
from ..core.execution.dispatch import Dispatcher
from ..core.execution.driver import run
from ..core.surrogates.choice import KINDS
from ..core.surrogates.control import SurrogateControl, add_back, residual_problem
from ..core.surrogates.polynomial import surrogate_requested
from ..core.surrogates.tuning import MAX_PILOT_SHARE, MEANS_REPLICATES, MEANS_SHARE, MIN_GAIN
from ..model.evaluation import check_compile_kwargs
from ..progress import ProgressReporter
from ..results.attrs import write_attrs
from ..results.reliability import check_result

TUNING_OPTIONS = tuple(f.name for f in dataclasses.fields(Settings) if f.name not in ("budget", "weights", "family"))


def check_options(options: dict) -> None:
    """Refuse unknown tuning options, listing the valid ones."""
    unknown = sorted(set(options) - set(TUNING_OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; valid options are {', '.join(TUNING_OPTIONS)}")


def tuning_options(arguments: dict, named) -> dict:
    """The tuning options of a call: its arguments that are not named parameters of the entry point."""
    return {k: v for k, v in arguments.items() if k not in named}


def check_shared(arguments: dict, named) -> dict:
    """The checks every entry point makes, in place; returns the call's tuning options.

    The interval probability, the compile options, the tuning options (listing the
    valid ones), the criterion weights and the surrogate request.
    """
    a = arguments
    a["ci_prob"] = check_ci_prob(a["ci_prob"])
    a["compile_kwargs"] = check_compile_kwargs(a["compile_kwargs"])
    options = tuning_options(a, named)
    check_options(options)
    a["weights"] = check_weights(a["weights"])
    surrogate_requested(a["surrogate"], a["surrogate_pilot"], kinds=KINDS)
    return options


def check_draws(draws, minimum: int = 1, unit: str = "model evaluations") -> int:
    """``draws`` as an int: integers and integral floats (``1e6``) are accepted."""
    integral = isinstance(draws, numbers.Integral) or (isinstance(draws, numbers.Real) and float(draws).is_integer())
    if isinstance(draws, bool) or not integral or not np.isfinite(float(draws)) or int(draws) < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"draws must be {kind} (the total budget of {unit}), got {draws!r}")
    return int(draws)


def check_ci_prob(ci_prob) -> float:
    """The interval probability, in (0, 1)."""
    if not isinstance(ci_prob, numbers.Real) or not 0 < float(ci_prob) < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob!r}")
    return float(ci_prob)


def check_weights(weights):
    """The criterion weights: "relative", "absolute", or a 1-d float64 array (checked by Settings)."""
    if isinstance(weights, str):
        return weights
    return np.asarray(weights, dtype=np.float64).ravel()


def run_sampler(
    problem,
    settings: Settings,
    rng: np.random.Generator,
    progressbar: bool,
    control: SurrogateControl | None = None,
) -> RunResult:
    """The core run with its progress bar.

    With a surrogate control the run samples the residual outputs and the control's
    means are added back after.
    """
    weight_scale = None
    if control is not None:
        problem = residual_problem(problem, control)
        weight_scale = control.mean  # relative weights from the outputs' scale, not the residuals'
    with ProgressReporter(settings, enabled=progressbar) as progress:
        result = run(problem, settings, rng, callback=progress.update, weight_scale=weight_scale)
        progress.finish(result)
    return add_back(result, control) if control is not None else result


def ledger(
    budget: int, evaluator, pilot_points: int, result: RunResult, runs_per_point: int = 1, search: int = 0
) -> dict:
    """The budget ledger in model runs.

    Budget, evaluations (the model evaluator's count, plus the ``search`` of a
    posterior's modes) and their split by phase, with ``runs_per_point`` model runs per
    sampled point; ``final_draws_reused`` counts the initial block's draws that joined
    the final ones (paid for in ``evaluations_adaptive``).
    """
    per = runs_per_point
    adaptive = result.state.evaluations * per
    final = (result.final.x.shape[0] - result.final.reused) * per  # the initial block's draws count once
    pilot = pilot_points * per
    if pilot + adaptive + final != evaluator.runs:
        raise RuntimeError(f"ledger mismatch: {pilot} + {adaptive} + {final} model runs counted, {evaluator.runs} made")
    out = {
        "budget": budget,
        "evaluations": evaluator.runs + search,
        "evaluations_pilot": pilot,
        "evaluations_adaptive": adaptive,
        "evaluations_final": final,
    }
    if search:
        out["evaluations_search"] = search
    if result.final.reused:  # the final draws hold the initial block too
        out["final_draws_reused"] = result.final.reused
    return out


def failures_record(dispatcher: Dispatcher, result: RunResult, law_names) -> dict | None:
    """What the failure policy did: runs retried, points dropped and each law's failure probability.

    The probability that a run fails under each law is estimated from the final draws'
    weights (self-normalised, so that it holds for posteriors too).
    """
    if not dispatcher.retried and not dispatcher.dropped:
        return None
    record: dict = {"on_error": dispatcher.on_error, "runs_retried": dispatcher.retried}
    if dispatcher.dropped:
        final = result.final
        lost = {row.tobytes() for z in dispatcher.dropped_points for row in z}
        dropped = np.array([np.ascontiguousarray(row).tobytes() in lost for row in final.x], dtype=bool)
        log_w = final.log_f - final.log_q[:, None]
        share = np.exp(logsumexp(log_w[dropped], axis=0) - logsumexp(log_w, axis=0)) if dropped.any() else 0.0
        record.update(
            points_dropped=dispatcher.dropped,
            final_points_dropped=int(dropped.sum()),
            failure_probability=dict(zip(law_names, np.broadcast_to(share, (len(law_names),)).tolist())),
        )
    return record


def checkpoint_record(dispatcher: Dispatcher) -> dict | None:
    """Where the run's checkpoint is and how many callable evaluations were read back from it."""
    if dispatcher.store is None:
        return None
    return {"path": str(dispatcher.store.path), "evaluations_read": dispatcher.reused}


def settings_record(settings: Settings, surrogate: str | None, surrogate_pilot: float) -> dict:
    """Every setting of the run, surrogate tuning included, for ``attrs["settings"]``."""
    record = {k: v for k, v in dataclasses.asdict(settings).items()}
    record.update(surrogate=surrogate, surrogate_pilot=surrogate_pilot)
    if surrogate is not None:
        record.update(
            surrogate_min_gain=MIN_GAIN,
            surrogate_means_share=MEANS_SHARE,
            surrogate_means_replicates=MEANS_REPLICATES,
            surrogate_max_pilot_share=MAX_PILOT_SHARE,
        )
    return record


def finish(
    tree: xr.DataTree,
    *,
    method: str,
    ledger: dict,
    random_seed,
    result: RunResult,
    settings: dict,
    failures: dict | None = None,
    checkpoint: dict | None = None,
) -> xr.DataTree:
    """Write the attrs and emit the reliability warnings of a result."""
    write_attrs(
        tree, method=method, ledger=ledger, random_seed=random_seed, stop_reason=result.stop_reason, settings=settings
    )
    if failures is not None:
        tree.attrs["failures"] = json.dumps(failures)
    if checkpoint is not None:
        tree.attrs["checkpoint"] = json.dumps(checkpoint)
    check_result(tree)
    return tree
