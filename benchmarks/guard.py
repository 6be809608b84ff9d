"""Benchmark regression guard: a reduced run of every benchmark against its recorded figures.

Each check runs a benchmark's own functions at a quick setting (the published budget and
setting, fewer seeds, no baselines) and compares its headline figures with those in
benchmarks/recorded.json, printing per figure the recorded value, the new one, their
ratio, the allowed ratio and PASS or FAIL; the exit status is 1 when a figure is worse
than its noise allows.

With fixed seeds the library is deterministic, so on the same machine and code every
accuracy figure comes back bitwise (printed as "bitwise equal"). The allowed ratio is
what a change of arithmetic would move a figure by: such a change redraws the seeds'
noise, so a figure over k seeds may move by its own sampling noise (three standard
deviations, stated with each entry). BLAS runs on one thread, so that the figures do
not depend on the number of cores. Wall times, speed-ups and peak memory are shown
against a loose factor (3, and 1.5 for memory) and flagged SLOW beyond it, but do not
fail the guard: the machine is shared and compile caches come and go.

    python benchmarks/guard.py [--only NAME ...]     # check (NAME: a check's name or its prefix)
    python benchmarks/guard.py --record [--only ...]  # write the figures of the current code
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# One BLAS thread, in this process and its children: a reduction split over threads
# rounds differently with their number, so the figures would depend on the machine's
# cores; and spinning BLAS threads on a busy 2-core machine made runs eight times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded.json"
TIME_FACTOR = 3.0
TIME_SOURCE = "wall time on a shared 2-core machine: a loose factor, not a statistical bound"


@dataclass(frozen=True)
class Rule:
    """How a figure is judged: which direction is worse, the allowed ratio, and why."""

    worse: str  # "higher" or "lower"
    allowed: float  # new / recorded may go this far in the worse direction (1 / allowed when lower is worse)
    source: str
    decides: bool = True  # False: beyond the bound prints SLOW but does not fail (times, memory)


def variance_noise(k: int, worse: str = "higher") -> Rule:
    """A variance over k seeds: chi-square with k - 1 degrees of freedom, relative sd sqrt(2 / (k - 1))."""
    return Rule(worse, 1 + 3 * math.sqrt(2 / (k - 1)), f"variance over {k} seeds: 1 + 3 sqrt(2/(k-1)), k = {k}")


def mse_noise(k: int, worse: str = "higher") -> Rule:
    """A mean square error over k seeds against a known truth: k degrees of freedom."""
    return Rule(worse, 1 + 3 * math.sqrt(2 / k), f"mean square error over {k} seeds: 1 + 3 sqrt(2/k), k = {k}")


def rmse_noise(k: int) -> Rule:
    """The square root of a mean square error over k seeds."""
    return Rule(
        "higher", math.sqrt(1 + 3 * math.sqrt(2 / k)), f"root mean square error over {k} seeds: sqrt(1 + 3 sqrt(2/k))"
    )


def wall_time(worse: str = "higher") -> Rule:
    """A wall time (or a speed-up): flagged beyond a loose factor, never failed (the machine is shared)."""
    return Rule(worse, TIME_FACTOR, TIME_SOURCE, decides=False)


EXACT = Rule("lower", 1.0, "a yes/no property of the code: exact")


@dataclass
class Check:
    """One reduced benchmark run: its name, the full command it stands for, its quick setting, its figures."""

    name: str
    command: str
    quick: dict
    run: Callable[[], dict]  # () -> figure name -> value
    rules: dict | Callable[[dict], dict] = field(default_factory=dict)  # figure name -> Rule, or figures -> that


def repeat(fn, seeds: int):
    """fn(seed) for seeds 0 .. seeds - 1, stacked; and the mean seconds per run after the first (which compiles)."""
    out, seconds = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        out.append(fn(seed))
        seconds.append(time.perf_counter() - start)
    return np.array(out), float(np.mean(seconds[1:])) if seeds > 1 else float(seconds[0])


# --- the checks -----------------------------------------------------------------------


def gaussian_moments_checks() -> list[Check]:
    import gaussian_moments as gm

    draws, seeds = 20_000, 10
    quick = {"seeds": seeds, "draws": draws}
    built: dict = {}

    def variant(name: str, timed: bool):
        def run():
            if "variants" not in built:
                built["variants"] = gm.variants(draws)
            est, seconds = repeat(built["variants"][name], seeds)
            figures = {"sum w Var": gm.weighted_variance(est)}
            if timed:
                figures["time per run (s)"] = seconds
            return figures

        return run

    out = []
    for label, name, timed in (
        ("mc, single control variate (published aISCV)", "pa.estimate mc, single control variate", False),
        ("mc, i.i.d. final phase", "pa.estimate mc", False),
        ("rqmc, no surrogate", "pa.estimate rqmc, no surrogate", True),
        ("default (chaos control)", "pa.estimate default (chaos control)", True),
    ):
        rules = {"sum w Var": variance_noise(seeds)}
        if timed:
            rules["time per run (s)"] = wall_time()
        out.append(
            Check(
                f"gaussian_moments: {label}",
                f"python benchmarks/gaussian_moments.py (row '{name}')",
                quick,
                variant(name, timed),
                rules,
            )
        )
    return out


def cantilever_laws_checks() -> list[Check]:
    import cantilever_laws as cl
    import pandas as pd

    draws = 20_000
    built: dict = {}

    def fns():
        if "variants" not in built:
            built["variants"] = cl.variants(cl.law_table(pd.read_csv(cl.DEFAULT_CASES)), draws)
        return built["variants"]

    def variant(name: str, seeds: int):
        def run():
            est, seconds = repeat(fns()[name], seeds)
            return {"sum Var": cl.summed_variance(est), "time per run (s)": seconds}

        return run

    out = []
    for label, name, seeds in (
        ("100 separate models, absolute (published)", cl.PUBLISHED, 8),
        ("pa.grid, randomized QMC (default)", "pa.estimate, randomized QMC (default)", 8),
        ("pa.grid, RQMC + polynomial surrogate", "pa.estimate, RQMC + surrogate", 4),
    ):
        out.append(
            Check(
                f"cantilever_laws: {label}",
                f"python benchmarks/cantilever_laws.py (row '{name}')",
                {"seeds": seeds, "draws": draws, "laws": "benchmarks/data/cantilever_100_distributions.csv"},
                variant(name, seeds),
                {"sum Var": variance_noise(seeds), "time per run (s)": wall_time()},
            )
        )
    return out


def rare_events_checks() -> list[Check]:
    import rare_events as re_

    runs, seeds = 20_000, 4
    out = []
    keys = (
        "linear",
        "four_branch",
        "four_branch_rare",
        "oscillator",
        "blackbox",
        "series",
        "abs",
        "four_sides",
        "two_of_three",
        "cut_sets",
    )
    for key, dim in [(key, 10) for key in keys] + [("linear", 100), ("linear", 300), ("two_of_three", 30)]:
        case = re_.CASES[key](argparse.Namespace(dim=dim))
        label = key if dim == 10 else f"{key} --dim {dim}"
        for variant, options in case.variants.items():
            several = case.truths.size > 1

            def run(case=case, options=options, several=several):
                means, _, _, used, _ = re_.ours(case, options, runs, seeds)
                rel, summed = re_.relative_errors(means, case.truths, used, runs)
                figures = {f"rel. RMSE {label}": float(r) for label, r in zip(case.labels, rel)}
                if several:
                    figures["summed relative variance"] = summed
                return figures

            rules = {f"rel. RMSE {label}": rmse_noise(seeds) for label in case.labels}
            if several:
                rules["summed relative variance"] = mse_noise(seeds)
            out.append(
                Check(
                    f"rare_events {label}: {variant}",
                    f"python benchmarks/rare_events.py --case {label} (row '{variant}')",
                    {"seeds": seeds, "runs": runs, "baselines": False},
                    run,
                    rules,
                )
            )
    return out


def ishigami_checks() -> list[Check]:
    import ishigami_sobol as ish

    budgets, seeds = (500, 2000), 4
    truth = ish.truth_of("ishigami")

    def run():
        figures = {}
        for runs in budgets:
            found = [ish.ours("ishigami", runs, seed, "chaos") for seed in range(seeds)]
            first, total = ish.summed_mse(np.array([f[0] for f in found]), truth)
            figures[f"MSE first, {runs} runs"] = float(first)
            figures[f"MSE total, {runs} runs"] = float(total)
        return figures

    rules = {f"MSE {k}, {r} runs": mse_noise(seeds) for r in budgets for k in ("first", "total")}
    return [
        Check(
            'ishigami_sobol: surrogate="chaos" (the default)',
            "python benchmarks/ishigami_sobol.py --methods chaos",
            {"seeds": seeds, "budgets": list(budgets)},
            run,
            rules,
        )
    ]


def posterior_checks() -> list[Check]:
    import eight_schools_priors as es
    import posterior_report as pr
    import regression_priors as rp

    draws, seeds = 20_000, 4
    out = []
    for module, label in ((es, "eight_schools_priors"), (rp, "regression_priors")):

        def run(module=module):
            refs = module.all_references()
            models, exprs = module.laws()
            runs = [pr.run_ours(exprs, models, draws, seed, family="gaussian") for seed in range(seeds)]
            _, ess, evidence_rmse = pr.accuracy(refs, runs, list(module.PRIORS), module.QUANTITIES)
            return {
                "worst equivalent i.i.d. size": float(ess.min()),
                "worst log-evidence RMSE": float(evidence_rmse.max()),
            }

        out.append(
            Check(
                f"{label}: one sample, all priors",
                f"python benchmarks/{label}.py",
                {"seeds": seeds, "draws": draws, "baselines": False},
                run,
                {
                    "worst equivalent i.i.d. size": mse_noise(seeds, "lower"),
                    "worst log-evidence RMSE": rmse_noise(seeds),
                },
            )
        )
    return out


def posterior_tails_checks() -> list[Check]:
    import posterior_tails as tails

    draws, seeds, dim = 20_000, 4, 10
    x, y = tails.data(dim)
    t = tails.thresholds(x, y)
    out = []
    for label in ("two events and their union", "two priors"):

        def run(label=label):
            expectations, laws, names = tails.variants(x, y, t)[label]
            quantities = list(expectations)
            exact, absolute = tails.exact_values(x, y, t, quantities, names)
            rmse, _ = tails.figures(
                [tails.run_ours(expectations, laws, draws, s) for s in range(seeds)], exact, absolute
            )
            return {"worst rel. RMSE of a probability": float(rmse[:, ~absolute].max())}

        out.append(
            Check(
                f"posterior_tails d = {dim}: {label}",
                f"python benchmarks/posterior_tails.py --dim {dim}",
                {"seeds": seeds, "draws": draws, "dim": dim},
                run,
                {"worst rel. RMSE of a probability": rmse_noise(seeds)},
            )
        )
    return out


def non_gaussian_checks() -> list[Check]:
    import non_gaussian_inputs as ng

    seeds = 4
    made = [case for make in (ng.stress_strength, ng.cantilever) for case in make()]
    cases = {name: (model, g, truth) for name, model, g, truth in made}
    out = []
    for name in ("Weibull strength, Gumbel load 0.3", "cantilever, t = 65"):

        def run(name=name):
            model, g, truth = cases[name]
            return {"rel. RMSE": ng.run(name, model, g, truth, seeds, quiet=True)["rel. RMSE"]}

        out.append(
            Check(
                f"non_gaussian_inputs: {name}",
                "python benchmarks/non_gaussian_inputs.py",
                {"seeds": seeds},
                run,
                {"rel. RMSE": rmse_noise(seeds)},
            )
        )
    return out


def logistic_checks() -> list[Check]:
    import logistic_priors as lp

    draws, seeds, dim = 20_000, 4, 31

    def run():
        x, y = lp.data(dim)
        names = list(lp.PRIORS)
        rng = np.random.default_rng(1)
        refs = {n: lp.reference(x, y, lp.PRIORS[n], 1_000_000, rng) for n in names}
        models = {n: lp.model(x, y, lp.PRIORS[n]) for n in names}
        exprs = {"beta": models[names[0]]["beta"]}
        return lp.figures([lp.run(exprs, models, draws, seed) for seed in range(seeds)], refs, names)

    return [
        Check(
            f"logistic_priors d = {dim}: one sample, three priors",
            f"python benchmarks/logistic_priors.py --dim {dim} --no-separate",
            {"seeds": seeds, "draws": draws, "dim": dim, "reference_draws": 1_000_000},
            run,
            {
                "worst equivalent i.i.d. size": mse_noise(seeds, "lower"),
                "worst log-evidence RMSE": rmse_noise(seeds),
            },
        )
    ]


def posterior_scale_checks() -> list[Check]:
    import hierarchical_priors as hp
    import logistic_priors as lp
    import regression_scale as rs

    draws, seeds, coefficients = 20_000, 4, 100
    rules = {"worst equivalent i.i.d. size": mse_noise(seeds, "lower"), "worst log-evidence RMSE": rmse_noise(seeds)}

    def hierarchical(groups: int):
        y, sigma = hp.data(groups)
        names = list(hp.PRIORS)
        refs = {n: hp.reference(y, sigma, hp.PRIORS[n][1]) for n in names}
        models = {n: hp.model(y, sigma, hp.PRIORS[n][0]) for n in names}
        return lp.figures([hp.run(models, draws, seed) for seed in range(seeds)], refs, names)

    def regression():
        x, y = rs.data(coefficients)
        names = list(rs.PRIORS)
        refs = {n: rs.reference(x, y, rs.PRIORS[n]) for n in names}
        models = {n: rs.model(x, y, rs.PRIORS[n]) for n in names}
        first = models[names[0]]
        exprs = {"beta": first["beta"], "sigma": first["sigma"]}
        return lp.figures([lp.run(exprs, models, draws, seed) for seed in range(seeds)], refs, names)

    hierarchical_checks = [
        Check(
            f"hierarchical_priors, {groups} groups: one sample, four priors",
            f"python benchmarks/hierarchical_priors.py --groups {groups} --no-separate",
            {"seeds": seeds, "draws": draws, "groups": groups},
            functools.partial(hierarchical, groups),
            rules,
        )
        for groups in (50, 100)
    ]
    return [
        *hierarchical_checks,
        Check(
            f"regression_scale p = {coefficients}: one sample, four priors",
            f"python benchmarks/regression_scale.py --coefficients {coefficients}",
            {"seeds": seeds, "draws": draws, "coefficients": coefficients},
            regression,
            rules,
        ),
    ]


def cantilever_sobol_checks() -> list[Check]:
    import cantilever_sobol as cs

    runs = 140_000
    built: dict = {}

    def variant(name: str, reps: int):
        def run():
            if "variants" not in built:
                built["variants"] = cs.variants(runs)
            est, seconds = repeat(built["variants"][name], reps)
            return {"sum Var": cs.summed_variance(est), "time per run (s)": seconds}

        return run

    return [
        Check(
            f"cantilever_sobol: {label}",
            f"python benchmarks/cantilever_sobol.py (row '{name}')",
            {"reps": reps, "runs": runs},
            variant(name, reps),
            {"sum Var": variance_noise(reps), "time per run (s)": wall_time()},
        )
        for label, name, reps in (
            ("default (chaos)", "pa.sobol, default (chaos)", 3),
            ("RQMC, no surrogate", "pa.sobol, RQMC, no surrogate", 4),
        )
    ]


def scaling_checks() -> list[Check]:
    import scaling

    n, m, d, cap = 100_000, 100, 10, 64

    def run():
        r = scaling.run(n, m, d, cap)
        if "error" in r:
            raise RuntimeError(r["error"])
        return {"sum relvar": r["relvar"], "run s": r["run"], "peak GB": r["peak_gb"]}

    return [
        Check(
            f"scaling: N = {n}, M = {m}, d = {d}",
            f"python benchmarks/scaling.py --n {n:.0e} --m {m} --d {d}",
            {"n": n, "m": m, "d": d, "max_components": cap},
            run,
            {
                # mcse from the spread of R = 8 replicates: 7 degrees of freedom
                "sum relvar": Rule("higher", 1 + 3 * math.sqrt(2 / 7), "variance from 8 replicates: 1 + 3 sqrt(2/7)"),
                "run s": wall_time(),
                "peak GB": Rule("higher", 1.5, "peak memory: allocation pattern, a loose factor", decides=False),
            },
        )
    ]


def compile_throughput_checks() -> list[Check]:
    import compile_throughput as ct

    points = 100_000

    def run():
        ours, loop = ct.measure(points)
        return {"speed-up over looping": loop / ours}

    return [
        Check(
            "compile_throughput: log-density + output",
            "python benchmarks/compile_throughput.py",
            {"points": points},
            run,
            {"speed-up over looping": wall_time("lower")},
        )
    ]


def executor_checks() -> list[Check]:
    import executor as ex

    points, sleep, workers = 2000, 0.003, 2

    def run():
        m = ex.model()
        ex.timed(ex.make_simulator(0.0), m, 500)  # compile outside the timings
        slow = ex.make_simulator(sleep)
        serial, t_serial = ex.timed(slow, m, points)
        figures = {}
        for label, make, _ in ex.executors([workers]):
            t, same = ex.on_executor(slow, m, points, make, serial)
            kind = label.split(",")[0]
            figures[f"{kind}: bitwise = serial"] = float(same)
            figures[f"{kind}: speed-up"] = t_serial / t
        return figures

    rules = {}
    for kind in ("process pool", "dask LocalCluster"):
        rules[f"{kind}: bitwise = serial"] = EXACT
        rules[f"{kind}: speed-up"] = wall_time("lower")
    return [
        Check(
            f"executor: {workers} workers",
            "python benchmarks/executor.py",
            {"points": points, "sleep": sleep, "workers": workers},
            run,
            rules,
        )
    ]


def binomial_rate(name: str, hits: int, runs: int, floor: float = 0.0) -> Rule:
    """A share of hits among runs, lower is worse: three binomial standard deviations (p at least ``floor``)."""
    p = min(hits / runs, 1 - floor) if runs else 0.0
    low = max(1 - 3 * math.sqrt((1 - p) / (runs * p)), 0.05) if p > 0 else 0.05
    return Rule("lower", 1 / low, f"{name}: binomial, 1 - 3 sqrt((1 - p)/(n p)) with p = {p:.3g}, n = {runs} runs")


def warnings_panel_checks() -> list[Check]:
    import warnings_panel as wp

    seeds = 4

    def run():
        counts = {"benign": [0, 0], "hostile": [0, 0]}
        for panel, cases in (("benign", wp.BENIGN), ("hostile", wp.HOSTILE)):
            for case in cases:
                right, wrong, warned, _, _ = wp.classify(*wp.run_case(case, seeds))
                hits, runs = wp.tally(panel, right, wrong, warned)
                counts[panel][0] += hits
                counts[panel][1] += runs
        (alarms, right), (detected, wrong) = counts["benign"], counts["hostile"]
        return {
            "right runs": right,
            "right runs without a warning (share)": (right - alarms) / right if right else 1.0,
            "wrong runs": wrong,
            "wrong runs that warned (share)": detected / wrong if wrong else 1.0,
        }

    def rules(figures):
        right, wrong = int(figures["right runs"]), int(figures["wrong runs"])
        quiet = round(figures["right runs without a warning (share)"] * right)
        # the counts of right and wrong runs rest on the spread over only a few seeds
        count = Rule("lower", 1 + 3 * math.sqrt(2 / seeds), "a count set by the spread over few seeds, as an MSE")
        return {
            "right runs": count,
            "right runs without a warning (share)": binomial_rate("no false alarm", quiet, right, 0.02),
            "wrong runs": count,
            "wrong runs that warned (share)": binomial_rate(
                "detection", round(figures["wrong runs that warned (share)"] * wrong), wrong
            ),
        }

    return [Check("warnings_panel: both panels", "python benchmarks/warnings_panel.py", {"seeds": seeds}, run, rules)]


def high_dimension_checks() -> list[Check]:
    import high_dimension as hd

    seeds, dim = 4, 100
    truth = np.concatenate([hd.smooth_truths()[0], hd.event_truths()[0]])
    plain = np.concatenate([hd.smooth_truths()[1], hd.event_truths()[1]]) / hd.RUNS
    exact = {"x1^2+x2"}  # a chaos control makes it exact: its MSE is rounding

    def run():
        names, means, _, _ = hd.ours(dim, seeds)
        ratio = np.mean((means - truth) ** 2, axis=0) / plain
        return {f"MSE / plain MC, {n}": float(r) for n, r in zip(names, ratio) if n not in exact}

    names = ["S^2", "exp(0.5S)", "exp(2S)", *(f"P(S>{t:g})" for t in hd.THRESHOLDS)]
    return [
        Check(
            f"high_dimension d = {dim}: smooth outputs and frequent events",
            f"python benchmarks/high_dimension.py --dims {dim}",
            {"seeds": seeds, "runs": hd.RUNS, "dim": dim},
            run,
            {f"MSE / plain MC, {n}": mse_noise(seeds) for n in names},
        )
    ]


def all_checks() -> list[Check]:
    return [
        *gaussian_moments_checks(),
        *cantilever_laws_checks(),
        *rare_events_checks(),
        *high_dimension_checks(),
        *ishigami_checks(),
        *posterior_checks(),
        *posterior_tails_checks(),
        *non_gaussian_checks(),
        *logistic_checks(),
        *posterior_scale_checks(),
        *cantilever_sobol_checks(),
        *scaling_checks(),
        *compile_throughput_checks(),
        *executor_checks(),
        *warnings_panel_checks(),
    ]


NOT_GUARDED = {
    "output_chaos.py": "not part of `dev.sh bench` (a side study of the chaos control)",
    "oscillator_reference.py": "a reference computation (10^8 draws), not a figure of the library",
    "sobol_reference.py": "a reference computation, independent of the library",
}


# --- recording and comparing ----------------------------------------------------------


def judge(value: float, entry: dict) -> tuple[str, float, str]:
    """PASS or FAIL, the ratio new / recorded, and the allowed bound as text."""
    recorded, allowed = entry["value"], entry["allowed_ratio"]
    if value == recorded:
        ratio = 1.0
    elif recorded == 0:
        ratio = math.inf if value > 0 else -math.inf
    else:
        ratio = value / recorded
    if entry["worse"] == "higher":
        ok, bound = ratio <= allowed, f"<= {allowed:.3g}"
    else:
        ok, bound = ratio >= 1 / allowed, f">= {1 / allowed:.3g}"
    if ok and not math.isnan(value):
        return "PASS", ratio, bound
    return ("FAIL" if entry.get("decides", True) else "SLOW"), ratio, bound


def row(name: str, recorded, value, ratio, bound: str, status: str, note: str = "") -> str:
    def fmt(x):
        return f"{x:12.5g}" if isinstance(x, float) else f"{x!s:>12s}"

    return f"{name:80s} {fmt(recorded)} {fmt(value)} {fmt(ratio)} {bound:>9s}  {status:4s} {note}"


def code_version() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "pymc_ais"], cwd=HERE.parent, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes under pymc_ais/" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write the figures of the current code")
    parser.add_argument("--only", nargs="*", default=None, help="run only the checks whose name starts with these")
    args = parser.parse_args()
    import pymc_ais as pa

    warnings.simplefilter("ignore", pa.ReliabilityWarning)  # the checks count warnings where they matter
    checks = [c for c in all_checks() if not args.only or any(c.name.startswith(o) for o in args.only)]
    stored = json.loads(RECORDED.read_text()) if RECORDED.exists() else {"figures": []}
    entries = {(e["check"], e["figure"]): e for e in stored["figures"]}
    for script, reason in NOT_GUARDED.items():
        print(f"skipped benchmarks/{script}: {reason}")
    print(row("check: figure", "recorded", "new", "ratio", "allowed", "", ""))
    failed, slow, start_all = [], [], time.perf_counter()
    for check in checks:
        start = time.perf_counter()
        try:
            figures = check.run()
        except Exception:
            traceback.print_exc()
            figures = {}
        seconds = time.perf_counter() - start
        rules = check.rules(figures) if callable(check.rules) else check.rules
        for name, value in figures.items():
            value = float(value)
            label = f"{check.name}: {name}"
            rule = rules[name]
            if args.record:
                entries[check.name, name] = {
                    "check": check.name,
                    "command": check.command,
                    "quick": check.quick,
                    "figure": name,
                    "value": value,
                    "worse": rule.worse,
                    "allowed_ratio": rule.allowed,
                    "tolerance": rule.source,
                    "decides": rule.decides,
                }
                print(row(label, "-", value, "-", "-", "REC"), flush=True)
                continue
            entry = entries.get((check.name, name))
            if entry is None:
                print(row(label, "-", value, "-", "-", "FAIL", "not recorded: run with --record"), flush=True)
                failed.append(label)
                continue
            if entry["quick"] != check.quick:
                print(row(label, entry["value"], value, "-", "-", "FAIL", "quick setting changed: re-record"))
                failed.append(label)
                continue
            status, ratio, bound = judge(value, entry)
            note = "bitwise equal" if value == entry["value"] else ""
            if not entry.get("decides", True):
                note = "(does not decide)"
            print(row(label, entry["value"], value, ratio, bound, status, note), flush=True)
            if status == "FAIL":
                failed.append(label)
            elif status == "SLOW":
                slow.append(label)
        for (name_, figure), entry in entries.items():
            if name_ == check.name and figure not in figures and not args.record:
                print(row(f"{name_}: {figure}", entry["value"], "-", "-", "-", "FAIL", "not produced"), flush=True)
                failed.append(f"{name_}: {figure}")
        print(f"    ({check.name}: {seconds:.0f} s)", flush=True)
    total = time.perf_counter() - start_all
    if args.record:
        order = {c.name: i for i, c in enumerate(all_checks())}
        stored = {
            "about": (
                "Figures of `bash scripts/dev.sh bench --quick` (benchmarks/guard.py). value: the exact figure of "
                "the quick setting; worse: the direction of a regression; allowed_ratio: how far new / recorded "
                "may go that way (1 / allowed_ratio when lower is worse); tolerance: where that bound comes from."
            ),
            "recorded_on": {
                "code": code_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "numpy": np.__version__,
                "blas_threads": int(os.environ["OPENBLAS_NUM_THREADS"]),
                "pymc_ais": pa.__version__,
            },
            "figures": sorted(entries.values(), key=lambda e: order.get(e["check"], len(order))),
        }
        RECORDED.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"recorded {len(entries)} figures in {RECORDED.relative_to(HERE.parent)} ({total:.0f} s)")
        return
    print(f"{len(failed)} figures failed ({total:.0f} s)" if failed else f"all figures pass ({total:.0f} s)")
    for label in failed:
        print(f"  FAIL {label}")
    for label in slow:
        print(f"  SLOW {label} (beyond the loose factor; does not fail the guard)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
