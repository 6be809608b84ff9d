"""Rare events: several failure probabilities from one run, against plain MC, NAIS and CE.

Cases (``--case``):

- ``linear``: P(S > t_k) for S = sum(x) / sqrt(d), x ~ N(0, I_d) (``--dim``), thresholds
  2, 3, 4, 4.5 and 5 sigma; exact truths (the normal tail).
- ``four_branch``: the four-branch series system with the usual constants 3 and
  7/sqrt(2), p_f = 2.2228e-3; and ``four_branch_rare``, constants 5 and 10/sqrt(2),
  p_f = 8.983e-7. Both truths by 1-D quadrature (in u = (x1 + x2)/sqrt(2),
  v = (x1 - x2)/sqrt(2) the failure domain is |v| >= k/2 or |u| >= c + v^2/5), four
  failure regions. pa.estimate runs with its default family and with a mixture of four.
- ``blackbox``: P(S > t) = 1e-5 and 1e-7 for S = sum(x) / sqrt(d) computed by a numpy
  callable (``--dim``, default 10): ``pa.event(simulator, ">", t)`` gives each event its
  score from the simulator's response.
- ``series``: a series system of two black-box linear components on disjoint halves of
  ``--dim`` standard normals, 1e-6 each, p_f = 2e-6 (inclusion-exclusion);
  ``pa.failure_probability(g, system="series")``, which also estimates each component.
- ``abs``: P(|S| > t) = 2e-6, two disjoint regions, written ``abs(S) > t`` in PyTensor,
  with the two one-sided events (1e-6 each) as expectations of the same run.
- ``parabolic``: P(x_1 - c sum_{i>=2} x_i^2 > t) over ``--dim`` standard normals (default
  c = 0.01, t = 3.5; ``--curvature`` and ``--threshold``), a failure surface curved in
  every direction but the first; truth by 1-D quadrature over the chi-square law of the
  sum (4.3e-6 at d = 100).
- ``ring``, ``four_sides``, ``unequal_sides``: cases built after the per-region fits
  and not tuned on: P(|x| > 5.3) for two inputs (one region all around, exp(-r^2/2));
  P(max(|x_1|, |x_2|) > 5) among five (four regions of equal mass); P(x_1 > 4.5 or
  x_1 < -5) among three (two regions, one five times the other). Exact normal tails.
- ``half_plane``: P(x_1 > 4.5) among ``--dim`` standard normals, one input deciding:
  where randomized QMC gains most, a test of the error bars (``--runs 6000``).
- ``two_of_three``: at least two of three sums above 3 sigma (three regions whose level
  sets touch, 5.5e-6) beside "both of the first two" (1.8e-6); the inputs are three
  groups of ``--dim // 3`` standard normals. Exact normal tails.
- ``cut_sets``: a system of four limit states ``g_i = t_i - s_i`` (``s_i`` sums of
  ``--dim // 4`` standard normals, ``t`` = 2.5, 3, 3.5, 2.8) that fails when both
  limit states of a cut set fail, cut sets {0, 1}, {1, 2}, {2, 3}, {3, 0} (a ring of
  pairs; four regions from 3e-7 to 1.6e-5, 2.5e-5 in all), written the reliability way
  ``pt.min(pt.max(g[cuts], axis=1)) <= 0``. Built after the hidden region targets and
  not tuned on; truth by enumerating the 16 outcomes of the four independent events.
  Both also run as a black-box simulator returning the limit states ``g_i``, with
  ``pa.failure_probability(g, system=cut sets)`` ("both" is its first cut set);
  ``cut_sets`` also as a simulator returning the system's scalar ``g`` alone, which
  hides the cut sets from the run.
- ``oscillator``: the damped two-degree-of-freedom oscillator (Der Kiureghian & De Stefano
  1991; Dubourg, Sudret & Deheeger 2013), eight lognormal inputs, under three input laws
  (mean force capacity 15, 21.5, 27.5): one pa.estimate run with ``models=`` for the
  three laws; references from ``benchmarks/oscillator_reference.py`` (10^8 draws).

pa.estimate gets ``--runs`` model runs in total for all probabilities at once.
OpenTURNS's NAIS and standard-space cross-entropy importance sampling (quantile level
0.1) and subset simulation (conditional probability ``--sus-level``, random-walk width
``--sus-range``; the defaults 0.25 and 4 were the best of levels 0.1 and 0.25 and widths
1, 2 and 4 on the rare four-branch case, OpenTURNS's own 0.1 and 2 doing half as well)
run once per probability with the budget split evenly: their number of steps is
adaptive, so their per-step sample size is set to reach about that share, and the runs
they actually made are counted and reported. Plain Monte Carlo is given in theory,
sqrt((1 - p) / (N p)). A baseline run that raises counts as an estimate of 0.

Printed per method and probability over ``--seeds`` seeds: relative RMSE, coverage of
the 95 % intervals (where the method gives one), rms of error / error bar (ours; from 40
seeds on also its range over blocks of 20 seeds), runs off by more than 50 % and how
many of those warned (ours), mean model runs; then the summed relative variance, each
method's scaled to the same total budget (relative variance x runs used / runs
allowed), and its ratio to ours.

    python benchmarks/rare_events.py [--case linear] [--seeds 50] [--runs 20000] [--dim 10]
Needs the benchmark extra: pip install -e ".[bench]" (OpenTURNS).
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from oscillator_reference import FS_COV, FS_MEANS, INPUTS, demand
from scipy import integrate, stats

import pymc_ais as pa

# P(g <= 0) of benchmarks/oscillator_reference.py --draws 100000000 (relative error 1.6e-4)
OSCILLATOR_REFERENCE = np.array([4.7722e-3, 4.4131e-5, 3.7834e-7])


@dataclass
class Case:
    """A model (or laws), its event expressions, their truths and the same events for OpenTURNS."""

    title: str
    labels: list[str]
    truths: np.ndarray
    build: Callable[[], tuple]  # () -> (estimate keyword arguments: model or models, expectations)
    openturns_events: Callable[[dict], list]  # counter -> one OpenTURNS event per truth
    variants: dict  # name -> extra pa.estimate keyword arguments
    runner: Callable = pa.estimate  # (expectations, **keywords) -> DataTree with an estimates group


def failure_runner(limit_state, system, pick: list[int]) -> dict:
    """A variant calling ``pa.failure_probability(limit_state, system=system)``; ``pick``: its events in order."""

    def run(expectations, model, **keywords):
        idata = pa.failure_probability(limit_state, model=model, system=system, **keywords)
        estimates = idata["estimates"].to_dataset().isel(expectation=pick, expectation_bis=pick)
        return _tree(idata, estimates)

    return {"runner": run}


def _tree(idata, estimates):
    tree = xr.DataTree.from_dict({"estimates": estimates})
    tree.attrs["evaluations"] = idata.attrs["evaluations"]
    return tree


def linear_case(dim: int, thresholds=None) -> Case:
    thresholds = np.array([2.0, 3.0, 4.0, 4.5, 5.0] if thresholds is None else thresholds, dtype=float)

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=dim)
        s = x.sum() / np.sqrt(dim)
        return {"model": model}, {f"p{t:g}": s > t for t in thresholds}

    def events(counter):
        import openturns as ot

        def limit_state(sample):
            values = np.asarray(sample)
            counter["calls"] += values.shape[0]
            return (values.sum(axis=1) / np.sqrt(dim))[:, None]

        output = ot.CompositeRandomVector(
            ot.PythonFunction(dim, 1, func_sample=limit_state), ot.RandomVector(ot.Normal(dim))
        )
        return [ot.ThresholdEvent(output, ot.Greater(), float(t)) for t in thresholds]

    return Case(
        f"P(S > t), S = sum of {dim} standard normals / sqrt({dim}), t = {thresholds.tolist()} sigma",
        [f"{t:g} sigma" for t in thresholds],
        stats.norm.sf(thresholds),
        build,
        events,
        {"pa.estimate (one run, all t)": {}},
    )


def parabolic_case(dim: int, curvature: float, threshold: float) -> Case:
    chi2 = stats.chi2(dim - 1)
    truth = integrate.quad(
        lambda q: stats.norm.sf(threshold + curvature * q) * chi2.pdf(q), 0, np.inf, limit=200, epsabs=0, epsrel=1e-10
    )[0]

    def response(values):
        return values[:, 0] - curvature * (values[:, 1:] ** 2).sum(axis=1)

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=dim)
        return {"model": model}, {"p": x[0] - curvature * (x[1:] ** 2).sum() > threshold}

    def events(counter):
        return [_standard_normal_event(dim, counter, response, "Greater", threshold)]

    return Case(
        f"P(x1 - {curvature:g} sum(x_i^2, i >= 2) > {threshold:g}) over {dim} standard normals",
        ["p"],
        np.array([truth]),
        build,
        events,
        {"pa.estimate": {}},
    )


def _standard_normal_event(dim: int, counter: dict, response, comparison, threshold: float):
    """An OpenTURNS threshold event on ``response(values (n, dim)) -> (n,)`` of standard normal inputs."""
    import openturns as ot

    def function(sample):
        values = np.asarray(sample)
        counter["calls"] += values.shape[0]
        return response(values)[:, None]

    output = ot.CompositeRandomVector(ot.PythonFunction(dim, 1, func_sample=function), ot.RandomVector(ot.Normal(dim)))
    return ot.ThresholdEvent(output, getattr(ot, comparison)(), float(threshold))


def blackbox_case(dim: int) -> Case:
    probabilities = np.array([1e-5, 1e-7])
    thresholds = stats.norm.isf(probabilities)

    def simulator(values):
        return values["x"].sum(axis=1) / np.sqrt(values["x"].shape[1])

    def build():
        with pm.Model() as model:
            pm.Normal("x", 0.0, 1.0, shape=dim)
        return {"model": model}, {f"p{p:g}": pa.event(simulator, ">", t) for p, t in zip(probabilities, thresholds)}

    def events(counter):
        total = lambda v: v.sum(axis=1) / np.sqrt(dim)
        return [_standard_normal_event(dim, counter, total, "Greater", t) for t in thresholds]

    return Case(
        f"black-box callable, P(S > t), S = sum of {dim} standard normals / sqrt({dim})",
        [f"{p:g}" for p in probabilities],
        probabilities,
        build,
        events,
        {"pa.event on a callable": {}},
    )


def series_case(dim: int) -> Case:
    half = dim // 2
    t = float(stats.norm.isf(1e-6))

    def limit_state(values):
        x = values["x"]
        return t - np.stack([x[:, :half].sum(axis=1), x[:, half:].sum(axis=1)], axis=1) / np.sqrt(half)

    def build():
        with pm.Model() as model:
            pm.Normal("x", 0.0, 1.0, shape=2 * half)
        return {"model": model}, limit_state

    def events(counter):
        components = lambda v: t - np.stack([v[:, :half].sum(axis=1), v[:, half:].sum(axis=1)], axis=1) / np.sqrt(half)
        return [
            _standard_normal_event(2 * half, counter, lambda v: components(v).min(axis=1), "LessOrEqual", 0.0),
            _standard_normal_event(2 * half, counter, lambda v: components(v)[:, 0], "LessOrEqual", 0.0),
            _standard_normal_event(2 * half, counter, lambda v: components(v)[:, 1], "LessOrEqual", 0.0),
        ]

    return Case(
        f"series system of two black-box components on {half} + {half} standard normals, 1e-6 each",
        ["system", "component 0", "component 1"],
        np.array([1 - (1 - 1e-6) ** 2, 1e-6, 1e-6]),
        build,
        events,
        {"pa.failure_probability, series": {}},
        runner=lambda g, **kw: pa.failure_probability(g, system="series", **kw),
    )


def abs_case(dim: int) -> Case:
    t = float(stats.norm.isf(1e-6))

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=dim)
        s = x.sum() / np.sqrt(dim)
        return {"model": model}, {"|S| > t": abs(s) > t, "S > t": s > t, "S < -t": s < -t}

    def events(counter):
        total = lambda v: v.sum(axis=1) / np.sqrt(dim)
        return [
            _standard_normal_event(dim, counter, lambda v: np.abs(total(v)), "Greater", t),
            _standard_normal_event(dim, counter, total, "Greater", t),
            _standard_normal_event(dim, counter, total, "Less", -t),
        ]

    return Case(
        f"two-sided event P(|S| > t), S = sum of {dim} standard normals / sqrt({dim}), and its two sides",
        ["two-sided", "upper", "lower"],
        np.array([2e-6, 1e-6, 1e-6]),
        build,
        events,
        {"pa.estimate (one run, 3 events)": {}},
    )


def ring_case() -> Case:
    """P(|x| > r) in two dimensions: one connected region all around the origin (chi-square)."""
    r = 5.3

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=2)
        return {"model": model}, {"|x| > r": pm.math.sqrt((x**2).sum()) > r}

    def events(counter):
        return [_standard_normal_event(2, counter, lambda v: np.sqrt((v**2).sum(axis=1)), "Greater", r)]

    return Case(
        f"a ring, P(|x| > {r}) for two standard normals",
        ["ring"],
        np.array([np.exp(-(r**2) / 2)]),
        build,
        events,
        {"pa.estimate (default)": {}},
    )


def half_plane_case(dim: int) -> Case:
    """P(x_1 > 4.5) among ``dim`` standard normals: one input decides (a test of the error bars)."""
    t = 4.5

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=dim)
        return {"model": model}, {"x1 > t": x[0] > t}

    def events(counter):
        return [_standard_normal_event(dim, counter, lambda v: v[:, 0], "Greater", t)]

    return Case(
        f"a half-plane, P(x1 > {t}) among {dim} standard normals",
        ["x1 > t"],
        np.array([stats.norm.sf(t)]),
        build,
        events,
        {"pa.estimate (default)": {}},
    )


def four_sides_case() -> Case:
    """P(max(|x_1|, |x_2|) > t) among five standard normals: four regions of equal mass."""
    t = 5.0

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=5)
        return {"model": model}, {"four sides": pm.math.maximum(abs(x[0]), abs(x[1])) > t}

    def events(counter):
        return [_standard_normal_event(5, counter, lambda v: np.abs(v[:, :2]).max(axis=1), "Greater", t)]

    side = 2 * stats.norm.sf(t)
    return Case(
        f"four regions, P(max(|x1|, |x2|) > {t}) among five standard normals",
        ["four sides"],
        np.array([1 - (1 - side) ** 2]),
        build,
        events,
        {"pa.estimate (default)": {}},
    )


def unequal_sides_case() -> Case:
    """P(x_1 > 4.5 or x_1 < -5) among three standard normals: two regions, one five times the other."""

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=3)
        return {"model": model}, {"either side": (x[0] > 4.5) | (x[0] < -5.0)}

    def events(counter):
        distance = lambda v: np.maximum(v[:, 0] - 4.5, -5.0 - v[:, 0])  # > 0 inside either region
        return [_standard_normal_event(3, counter, distance, "Greater", 0.0)]

    return Case(
        "two regions of unequal mass, P(x1 > 4.5 or x1 < -5) among three standard normals",
        ["either side"],
        np.array([stats.norm.sf(4.5) + stats.norm.sf(5.0)]),
        build,
        events,
        {"pa.estimate (default)": {}},
    )


def two_of_three_case(dim: int) -> Case:
    """At least two of three sums above 3 sigma (three regions), beside "both of the first two" (one of them).

    The inputs are three groups of ``max(dim // 3, 1)`` standard normals, each summed and
    scaled to a standard normal ``s_i``.
    """
    group = max(dim // 3, 1)
    t, p = 3.0, stats.norm.sf(3.0)

    def sums(v):
        return v.reshape(v.shape[0], 3, group).sum(axis=2) / np.sqrt(group)

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=(3, group))
        s = x.sum(axis=1) / np.sqrt(group)
        return {"model": model}, {"both": (s[0] > t) & (s[1] > t), "two of three": (s > t).sum() >= 2}

    def events(counter):
        return [
            _standard_normal_event(3 * group, counter, lambda v: sums(v)[:, :2].min(axis=1), "Greater", t),
            _standard_normal_event(3 * group, counter, lambda v: np.sort(sums(v), axis=1)[:, 1], "Greater", t),
        ]

    return Case(
        f"at least two of three sums above {t:g} sigma, among {3 * group} standard normals",
        ["both", "two of three"],
        np.array([p**2, 3 * p**2 * (1 - p) + p**3]),
        build,
        events,
        {
            "pa.estimate (default)": {},
            "black box, g_i and cut sets": failure_runner(
                lambda v: t - sums(v["x"].reshape(v["x"].shape[0], -1)), [[0, 1], [0, 2], [1, 2]], [1, 0]
            ),
        },
    )


def cut_sets_case(dim: int) -> Case:
    """A system failing when both limit states of one of four cut sets (a ring of pairs) fail."""
    group = max(dim // 4, 1)
    t = np.array([2.5, 3.0, 3.5, 2.8])
    cuts = [[0, 1], [1, 2], [2, 3], [3, 0]]
    p = stats.norm.sf(t)
    truth = 0.0
    for outcome in itertools.product((False, True), repeat=4):
        if any(outcome[i] and outcome[j] for i, j in cuts):
            truth += float(np.prod(np.where(outcome, p, 1 - p)))

    def limit_states(v):
        return t - v.reshape(v.shape[0], 4, group).sum(axis=2) / np.sqrt(group)

    def build():
        with pm.Model() as model:
            x = pm.Normal("x", 0.0, 1.0, shape=(4, group))
        g = t - x.sum(axis=1) / np.sqrt(group)
        return {"model": model}, {"system": pt.min(pt.max(g[cuts], axis=1)) <= 0}

    def events(counter):
        system = lambda v: limit_states(v)[:, cuts].max(axis=2).min(axis=1)  # noqa: E731
        return [_standard_normal_event(4 * group, counter, system, "LessOrEqual", 0.0)]

    return Case(
        f"a system of four cut sets (a ring of pairs) over {4 * group} standard normals",
        ["system"],
        np.array([truth]),
        build,
        events,
        {
            "pa.estimate (default)": {},
            "black box, g_i and cut sets": failure_runner(
                lambda v: limit_states(v["x"].reshape(v["x"].shape[0], -1)), cuts, [0]
            ),
            "black box, system's g alone": failure_runner(
                lambda v: limit_states(v["x"].reshape(v["x"].shape[0], -1))[:, cuts].max(axis=2).min(axis=1), None, [0]
            ),
        },
    )


def four_branch_probability(c: float, k: float) -> float:
    """Exact p_f of the four-branch system with constants c and k/sqrt(2), by 1-D quadrature."""
    inner, _ = integrate.quad(
        lambda v: stats.norm.pdf(v) * 2 * stats.norm.sf(c + v**2 / 5), -k / 2, k / 2, epsabs=1e-18, epsrel=1e-12
    )
    return 2 * stats.norm.sf(k / 2) + inner


def four_branch_limit_state(x1, x2, c: float, k: float, minimum=np.minimum):
    """The four-branch limit state g (failure at g <= 0); ``minimum=pm.math.minimum`` builds a graph."""
    a = c + (x1 - x2) ** 2 / 10
    return minimum(
        minimum(a - (x1 + x2) / np.sqrt(2), a + (x1 + x2) / np.sqrt(2)),
        minimum(x1 - x2 + k / np.sqrt(2), x2 - x1 + k / np.sqrt(2)),
    )


def four_branch_case(c: float, k: float) -> Case:
    def g_of(x1, x2, minimum):
        return four_branch_limit_state(x1, x2, c, k, minimum)

    def build():
        with pm.Model() as model:
            x1 = pm.Normal("x1", 0.0, 1.0)
            x2 = pm.Normal("x2", 0.0, 1.0)
        return {"model": model}, {"p_f": g_of(x1, x2, pm.math.minimum) <= 0}

    def events(counter):
        import openturns as ot

        def limit_state(sample):
            values = np.asarray(sample)
            counter["calls"] += values.shape[0]
            return g_of(values[:, 0], values[:, 1], np.minimum)[:, None]

        output = ot.CompositeRandomVector(
            ot.PythonFunction(2, 1, func_sample=limit_state), ot.RandomVector(ot.Normal(2))
        )
        return [ot.ThresholdEvent(output, ot.LessOrEqual(), 0.0)]

    truth = four_branch_probability(c, k)
    return Case(
        f"four-branch series system, constants {c:g} and {k:g}/sqrt(2), p_f = {truth:.4e} (quadrature)",
        ["p_f"],
        np.array([truth]),
        build,
        events,
        {"pa.estimate (default)": {}, "pa.estimate (mixture of 4)": {"family": "mixture", "n_components": 4}},
    )


def lognormal(mean: float, cov: float) -> tuple[float, float]:
    sigma = float(np.sqrt(np.log1p(cov**2)))
    return float(np.log(mean)) - sigma**2 / 2, sigma


def oscillator_case() -> Case:
    def build():
        models = {}
        for fs_mean in FS_MEANS:
            with pm.Model() as model:
                inputs = [pm.LogNormal(name, *lognormal(*moments)) for name, moments in INPUTS.items()]
                fs = pm.LogNormal("Fs", *lognormal(fs_mean, FS_COV))
            models[f"Fs {fs_mean:g}"] = model
            if fs_mean == FS_MEANS[0]:
                g = fs - demand(*inputs)
        return {"models": models}, {"p_f": g <= 0}

    def events(counter):
        # in the standard normal space of the eight inputs (NAIS needs unbounded inputs)
        import openturns as ot

        out = []
        for fs_mean in FS_MEANS:
            mu, sigma = np.array([lognormal(*m) for m in (*INPUTS.values(), (fs_mean, FS_COV))]).T

            def limit_state(sample, mu=mu, sigma=sigma):
                values = np.exp(mu + sigma * np.asarray(sample))
                counter["calls"] += values.shape[0]
                return (values[:, -1] - demand(*values[:, :-1].T))[:, None]

            function = ot.PythonFunction(mu.size, 1, func_sample=limit_state)
            output = ot.CompositeRandomVector(function, ot.RandomVector(ot.Normal(mu.size)))
            out.append(ot.ThresholdEvent(output, ot.LessOrEqual(), 0.0))
        return out

    return Case(
        "damped oscillator, P(g <= 0) under three laws of the force capacity Fs",
        [f"Fs {m:g}" for m in FS_MEANS],
        OSCILLATOR_REFERENCE,
        build,
        events,
        {"pa.estimate (one run, 3 laws)": {}},
    )


def ours(case: Case, options: dict, runs: int, seeds: int):
    """pa.estimate on all probabilities at once: estimates, coverage, warned flags, runs used, error / mcse."""
    where, expectations = case.build()
    options = dict(options)
    runner = options.pop("runner", case.runner)
    means, covered, warned, used, z = [], [], [], [], []
    for seed in range(seeds):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pa.ReliabilityWarning)
            idata = runner(expectations, **where, draws=runs, random_seed=seed, progressbar=False, **options)
        est = idata["estimates"]
        means.append(est["mean"].values.ravel())
        covered.append(
            (est["ci_lower"].values.ravel() <= case.truths) & (case.truths <= est["ci_upper"].values.ravel())
        )
        warned.append(any(issubclass(w.category, pa.ReliabilityWarning) for w in caught))
        used.append(idata.attrs["evaluations"])
        z.append((means[-1] - case.truths) / est["mcse"].values.ravel())
    size = case.truths.size
    return np.array(means), np.array(covered), np.array(warned), np.full(size, np.mean(used) / size), np.array(z)


def openturns_algorithm(event, kind: str, level: float, proposal_range: float):
    """An OpenTURNS rare-event algorithm: NAIS, standard-space CE or subset simulation."""
    import openturns as ot

    if kind == "NAIS":
        return ot.NAIS(event, level)
    if kind == "CE":
        return ot.StandardSpaceCrossEntropyImportanceSampling(event, level)
    algo = ot.SubsetSampling(event, proposal_range, level)
    algo.setKeepSample(False)
    return algo


def openturns_method(case: Case, kind: str, runs: int, seeds: int, level: float = 0.1, proposal_range: float = 2.0):
    """NAIS, standard-space CE or subset simulation, once per probability with an even share.

    ``level`` is the quantile level of NAIS and CE and the conditional probability of
    each subset level; ``proposal_range`` the width of subset simulation's uniform
    random-walk proposal (OpenTURNS's default is 2).
    """
    import openturns as ot

    counter = {"calls": 0}
    events = case.openturns_events(counter)
    share = runs // len(events)
    means = np.empty((seeds, len(events)))
    covered = np.zeros((seeds, len(events)), dtype=bool)
    used = np.zeros(len(events))
    for k, event in enumerate(events):
        # expected steps: about log(1/p) / log(1/level) + 1
        steps = max(1, int(np.ceil(np.log(1.0 / case.truths[k]) / np.log(1.0 / level)))) + 1
        per_step = max(100, share // steps)
        for seed in range(seeds):
            ot.RandomGenerator.SetSeed(seed)
            counter["calls"] = 0
            algo = openturns_algorithm(event, kind, level, proposal_range)
            algo.setMaximumOuterSampling(per_step)
            try:
                algo.run()
            except (RuntimeError, TypeError):  # CE: "sumPdfCritic is equal to zero"; NAIS: "sigma=-nan"
                means[seed, k] = 0.0  # a failed run counts as an estimate of 0
                used[k] += counter["calls"] / seeds
                continue
            result = algo.getResult()
            p = result.getProbabilityEstimate()
            means[seed, k] = p
            covered[seed, k] = abs(p - case.truths[k]) <= 1.96 * result.getStandardDeviation()
            used[k] += counter["calls"] / seeds
    return means, covered, None, used, None


def relative_errors(means, truth, used, runs: int):
    """Relative RMSE per probability over the seeds (rows), and the summed relative variance.

    The sum scales each relative variance to the same total budget (runs used / runs allowed),
    so that methods which stop short are not favoured.
    """
    rel = np.sqrt(np.mean((means / truth - 1) ** 2, axis=0))
    share = runs / truth.size
    return rel, float(np.sum(rel**2 * used / share))


# Seeds per block when the rms z of disjoint blocks is printed: its range shows how much an
# rms z from that many seeds scatters around the whole run's.
BLOCK_SEEDS = 20

CASES = {
    "linear": lambda args: linear_case(args.dim, getattr(args, "thresholds", None)),
    "blackbox": lambda args: blackbox_case(args.dim),
    "series": lambda args: series_case(args.dim),
    "abs": lambda args: abs_case(args.dim),
    "four_branch": lambda args: four_branch_case(3.0, 7.0),
    "four_branch_rare": lambda args: four_branch_case(5.0, 10.0),
    "oscillator": lambda args: oscillator_case(),
    "parabolic": lambda args: parabolic_case(args.dim, args.curvature, args.threshold),
    "ring": lambda args: ring_case(),
    "four_sides": lambda args: four_sides_case(),
    "half_plane": lambda args: half_plane_case(args.dim),
    "unequal_sides": lambda args: unequal_sides_case(),
    "two_of_three": lambda args: two_of_three_case(args.dim),
    "cut_sets": lambda args: cut_sets_case(args.dim),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=sorted(CASES), default="linear")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument(
        "--dim", type=int, default=10, help="inputs (not of four_branch, oscillator, ring, four_sides, unequal_sides)"
    )
    parser.add_argument("--curvature", type=float, default=0.01, help="c of the parabolic case")
    parser.add_argument("--threshold", type=float, default=3.5, help="t of the parabolic case")
    parser.add_argument(
        "--thresholds", type=float, nargs="+", default=None, help="t of the linear case, in sigma (2 3 4 4.5 5)"
    )
    parser.add_argument("--no-baselines", action="store_true", help="run pa.estimate only")
    parser.add_argument("--sus-level", type=float, default=0.25, help="subset simulation's conditional probability")
    parser.add_argument("--sus-range", type=float, default=4.0, help="width of its random-walk proposal")
    args = parser.parse_args()
    case = CASES[args.case](args)
    truth = case.truths
    print(f"{case.title}; {args.runs} runs in total, {args.seeds} seeds")
    print(f"{'':32s} {'':9s} " + " ".join(f"{label:>10s}" for label in case.labels))
    print(f"{'truth':32s} {'':9s} " + " ".join(f"{p:10.3e}" for p in truth))
    print(
        f"{'plain Monte Carlo (theory)':32s} rel. RMSE "
        + " ".join(f"{np.sqrt((1 - p) / (args.runs * p)):10.3f}" for p in truth)
    )
    methods = {
        name: (lambda o=options: ours(case, o, args.runs, args.seeds)) for name, options in case.variants.items()
    }
    if not args.no_baselines:
        methods["OpenTURNS NAIS (per p)"] = lambda: openturns_method(case, "NAIS", args.runs, args.seeds)
        methods["OpenTURNS CE, standard space"] = lambda: openturns_method(case, "CE", args.runs, args.seeds)
        methods["OpenTURNS subset simulation"] = lambda: openturns_method(
            case, "SuS", args.runs, args.seeds, args.sus_level, args.sus_range
        )
    summed = {}
    for name, fn in methods.items():
        start = time.perf_counter()
        try:
            means, covered, warned, used, z = fn()
        except ImportError:
            print(f"{name:32s} skipped: pip install -e '.[bench]' for OpenTURNS")
            continue
        rel, summed[name] = relative_errors(means, truth, used, args.runs)
        print(f"{name:32s} rel. RMSE " + " ".join(f"{r:10.3f}" for r in rel))
        print(f"{'':32s} coverage  " + " ".join(f"{c:10.2f}" for c in covered.mean(axis=0)))
        if z is not None:  # rms of error / reported mcse: 1 when the error bars are right
            print(f"{'':32s} rms z     " + " ".join(f"{r:10.2f}" for r in np.sqrt(np.mean(z**2, axis=0))))
            if z.shape[0] >= 2 * BLOCK_SEEDS:  # how far an rms z from BLOCK_SEEDS seeds alone would scatter
                blocks = np.array(
                    [
                        np.sqrt(np.mean(z[a : a + BLOCK_SEEDS] ** 2, axis=0))
                        for a in range(0, z.shape[0] - BLOCK_SEEDS + 1, BLOCK_SEEDS)
                    ]
                )
                print(
                    f"{'':32s} per {BLOCK_SEEDS:2d}    "
                    + " ".join(f"{lo:4.2f}-{hi:4.2f}".rjust(10) for lo, hi in zip(blocks.min(0), blocks.max(0)))
                )
        off = np.abs(means / truth - 1) > 0.5
        if warned is not None:
            quiet = off & ~warned[:, None]
            print(
                f"{'':32s} off >50 % "
                + " ".join(f"{o:4d} ({q} quiet)" for o, q in zip(off.sum(axis=0), quiet.sum(axis=0)))
            )
        else:
            print(f"{'':32s} off >50 % " + " ".join(f"{o:10d}" for o in off.sum(axis=0)))
        print(
            f"{'':32s} runs      " + " ".join(f"{u:10.0f}" for u in used) + f"   ({time.perf_counter() - start:.1f} s)"
        )
    base = next(iter(summed.values()), None)
    print("summed relative variance at the same total budget (runs used / runs allowed):")
    for name, value in summed.items():
        print(f"  {name:32s} {value:.3e}   {value / base:8.1f}x the first")


if __name__ == "__main__":
    main()
