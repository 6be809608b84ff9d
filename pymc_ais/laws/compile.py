"""Compiled, vectorised PyTensor functions of an input law, in flat coordinates.

A point ``z`` (d,) holds every free variable's value in the unconstrained space of
PyMC's value transforms, laid out in blocks (:func:`flat_layout`). Compiled here:

- the sampler ``n -> z (n, d)``: ancestral draws of every free variable at once (each
  root variable resized to ``n`` draws, each dependent one vectorised over its batched
  parents), pushed through the forward value transforms;
- the quantile map ``u (n, d) -> z (n, d)`` from the unit cube (inverse CDFs), and its
  inverse for independent univariate inputs, the CDF map ``z -> u``;
- log-density graphs of a law in another model's value variables (:func:`law_logp`),
  which :mod:`pymc_ais.model.evaluation` compiles with the outputs into one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.shape_utils import change_dist_size
from pymc.distributions.transforms import Interval, LogOddsTransform
from pymc.logprob.utils import CheckParameterValue
from pymc.model.transform.conditioning import remove_value_transforms
from pymc.model.transform.optimization import freeze_dims_and_data
from pymc.pytensorf import reseed_rngs
from pytensor.compile.mode import Mode, get_mode
from pytensor.compile.ops import ViewOp
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.traversal import ancestors, io_toposort
from pytensor.link.c.basic import CLinker
from pytensor.tensor.basic import ScalarFromTensor
from pytensor.tensor.random.basic import LogNormalRV, MvNormalRV, NormalRV
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.random.type import RandomGeneratorType
from pytensor.tensor.variable import TensorVariable
from scipy.special import ndtri, ndtri_exp

from ..core.surrogates.control import remember_last
from .function_cache import cached_function


@dataclass(frozen=True)
class Block:
    """Where one free variable lives in the flat coordinates."""

    name: str  # the random variable's name
    value_name: str  # its value variable's name (e.g. "s_log__")
    shape: tuple
    start: int
    stop: int


def flat_layout(model: pm.Model) -> list[Block]:
    """Blocks of the flat coordinates, one per free variable, in model order."""
    point = model.initial_point()
    blocks, start = [], 0
    for rv in model.free_RVs:
        value = model.rvs_to_values[rv]
        shape = tuple(np.shape(point[value.name]))
        size = int(np.prod(shape, dtype=int))
        blocks.append(Block(rv.name, value.name, shape, start, start + size))
        start += size
    return blocks


def runnable_mode(mode: str | Mode = "CVM") -> Mode:
    """``mode`` as a :class:`~pytensor.compile.mode.Mode`, PyTensor's whole-graph C linker run as "CVM".

    Mode "C" links the whole graph into ONE C module, in which only the function's
    inputs have their Python objects in step with their arrays (an intermediate
    result's stays ``None``, an output's holds the previous call's). The C code of
    basic indexing (``Subtensor``) asserts that its input's Python object is its array,
    so the slice of any intermediate result (``x[0]`` of a vector variable, taken from
    the block of ``z`` that holds it) aborted the interpreter; without assertions the
    view would keep the wrong object alive in place of its memory's owner.
    ``IncSubtensor`` and ``TensorFromScalar`` read the same object. "CVM"
    runs the same C code of every operation, each as a module of its own called from
    C, after the same rewrites (the two modes share one optimizer query): its results
    are bitwise those of "C", without the abort.
    """
    resolved = get_mode(mode)
    if isinstance(resolved.linker, CLinker):
        return Mode(linker="cvm", optimizer=resolved.provided_optimizer)
    return resolved


def density_mode(mode: str | Mode = "CVM") -> Mode:
    """A compile mode in which PyMC's parameter checks give ``-inf`` instead of raising.

    A likelihood whose parameters are invalid on part of the prior's support (a
    ``Uniform(0, x)`` at ``x < 0``) has density zero there, as in ``pm.sample``'s
    compiled functions. Mode "C" runs as "CVM" (see :func:`runnable_mode`).
    """
    runnable = runnable_mode(mode)
    return Mode(
        linker=runnable.linker, optimizer=runnable.provided_optimizer.including("local_check_parameter_to_ninf_switch")
    )


def checks_to_switches(outputs: list) -> list:
    """Replace PyMC's parameter checks by ``switch(condition, logp, -inf)`` BEFORE vectorising.

    A check's condition is one scalar for the whole term; vectorised over a batch of
    points and then turned into a switch by PyMC's rewrite, it became one condition for
    the whole batch: a single point with an invalid parameter made every point's
    log-density ``-inf``. Switched first, the condition is batched with the points.
    """
    checks = [
        v
        for v in ancestors(outputs)
        if isinstance(v, TensorVariable)
        and v.owner is not None
        and isinstance(v.owner.op, CheckParameterValue)
        and v.owner.op.can_be_replaced_by_ninf
    ]
    if not checks:
        return outputs
    replace: dict[Variable, Variable] = {}
    for v in checks:
        expr, *conditions = v.owner.inputs
        conditions = [
            c.owner.inputs[0] if c.owner is not None and isinstance(c.owner.op, ScalarFromTensor) else c
            for c in conditions
        ]
        condition = conditions[0] if len(conditions) == 1 else pt.all(pt.stack(conditions))
        replace[v] = pt.cast(pt.switch(condition, expr, -np.inf), v.dtype)
    return graph_replace(outputs, replace, strict=False)


def strip_view_ops(outputs: list) -> list:
    """Replace every ViewOp (how Deterministics are wrapped) by its input."""
    views = [v for v in ancestors(outputs) if v.owner is not None and isinstance(v.owner.op, ViewOp)]
    if not views:
        return outputs
    return graph_replace(outputs, {v: v.owner.inputs[0] for v in views}, strict=False)


def batched_values(model: pm.Model, blocks: list[Block], z):
    """Each value variable of ``model`` replaced by its batched slice of the matrix ``z``."""
    n = z.shape[0]
    values = {v.name: v for v in model.value_vars}
    return {values[b.value_name]: z[:, b.start : b.stop].reshape((n, *b.shape)) for b in blocks}


def law_logp(law: pm.Model, reference: pm.Model, prior_only: bool = False):
    """``law``'s log-density (unconstrained space) written in ``reference``'s value variables.

    With ``prior_only``, the free variables' terms alone (no observations, no Potentials).
    """
    values = {v.name: v for v in reference.value_vars}
    logp = law.logp(vars=law.free_RVs if prior_only else None, jacobian=True, sum=True)
    if law is reference:
        return logp
    return graph_replace(logp, {v: values[v.name] for v in law.value_vars}, strict=False)


def compile_batched_logp(model: pm.Model, blocks: list[Block], logp):
    """Compile ``z (n, d) -> (n, L)`` for an (L,) log-density graph in ``model``'s value variables."""
    z = pt.matrix("z", dtype="float64")
    (logp,) = checks_to_switches([logp])
    batched = vectorize_graph(logp, replace=batched_values(model, blocks, z))
    out = pt.cast(batched, "float64") + pt.zeros((z.shape[0], 1), dtype="float64")
    fn = cached_function([z], out, "density CVM", mode=density_mode(), on_unused_input="ignore")
    fn.trust_input = True
    return lambda points: fn(np.ascontiguousarray(points, dtype=np.float64))


def compile_pointwise_logp(model: pm.Model, names: list[str]):
    """Compile ``{free variable: natural values (n, *shape)} -> {variable: elementwise log-density}``.

    For the free variables (their priors, in the natural space, no Jacobian) and the
    observed ones (pointwise log-likelihoods) of ``model``, batched over n draws: what
    ArviZ's ``log_prior`` and ``log_likelihood`` groups hold. PyMC's
    ``remove_value_transforms`` reorders value variables, so everything is matched by name.
    Dims and data are frozen to constants first: the function reads them once, and an
    unchanged model compiled again (every posterior run does) finds it in the cache.
    """
    natural = remove_value_transforms(freeze_dims_and_data(model))
    by_name = {rv.name: rv for rv in natural.free_RVs}
    values = {rv.name: natural.rvs_to_values[rv] for rv in natural.free_RVs}
    inputs = {name: pt.tensor(name=name, dtype="float64", shape=(None, *v.type.shape)) for name, v in values.items()}
    wanted = [natural[name] for name in [*by_name, *(rv.name for rv in natural.observed_RVs)]]
    terms = checks_to_switches(natural.logp(vars=wanted, sum=False, jacobian=False))
    batched = vectorize_graph(terms, replace={values[k]: inputs[k] for k in values})
    outputs = dict(zip([v.name for v in wanted], batched))
    order = list(inputs)
    fn = cached_function([inputs[k] for k in order], [outputs[k] for k in names], "density CVM", mode=density_mode())

    def pointwise(draws: dict) -> dict:
        n = next(iter(draws.values())).shape[0]
        results = fn(*[np.asarray(draws[k], dtype=np.float64) for k in order])
        return {
            k: np.broadcast_to(r, (n, *np.shape(r)[1:])) if np.ndim(r) else np.full(n, r)
            for k, r in zip(names, results)
        }

    return pointwise


def compile_point_logp(model: pm.Model, blocks: list[Block], logp):
    """Compile ``(z (d,), law) -> (log f_law(z), its gradient (d,))`` for one point.

    ``logp`` is an (L,) graph of every law's log-density in ``model``'s value variables;
    the mode search of a posterior climbs one law at a time with it.
    """
    z = pt.vector("z", dtype="float64")
    law = pt.lscalar("law")
    values = {v.name: v for v in model.value_vars}
    replace = {values[b.value_name]: z[b.start : b.stop].reshape(b.shape) for b in blocks}
    one = pt.cast(graph_replace(logp, replace, strict=False)[law], "float64")
    fn = cached_function([z, law], [one, pt.grad(one, z)], "density CVM", mode=density_mode(), on_unused_input="ignore")
    fn.trust_input = True

    def logp_and_grad(point: np.ndarray, which: int) -> tuple[float, np.ndarray]:
        value, grad = fn(np.ascontiguousarray(point, dtype=np.float64), np.asarray(which, dtype=np.int64))
        return float(value), np.asarray(grad, dtype=np.float64)

    return logp_and_grad


def compile_to_unconstrained(model: pm.Model, blocks: list[Block]):
    """Compile ``{free variable: natural values (n, *shape)} -> z (n, d)``: the forward value transforms.

    Turns draws in the model's own space (a posterior group of an InferenceData) into
    the flat unconstrained coordinates the sampler works in.
    """
    by_name = {rv.name: rv for rv in model.free_RVs}
    inputs, columns = [], []
    for b in blocks:
        rv = by_name[b.name]
        x = pt.tensor(name=b.name, dtype="float64", shape=(None, *b.shape))
        inputs.append(x)
        transform = model.rvs_to_transforms.get(rv)
        params = rv.owner.inputs
        if transform is not None:
            core = pt.tensor(dtype="float64", shape=b.shape)
            z_core = transform.forward(core, *params)
            z = vectorize_graph(z_core, replace={core: x})
        else:
            z = x
        columns.append(pt.reshape(pt.cast(z, "float64"), (x.shape[0], b.stop - b.start)))
    fn = cached_function(inputs, pt.concatenate(columns, axis=1), "CVM", mode="CVM", on_unused_input="ignore")

    def to_unconstrained(values: dict) -> np.ndarray:
        missing = [b.name for b in blocks if b.name not in values]
        if missing:
            raise ValueError(f"the draws have no variable {missing[0]!r}, a free variable of the model")
        return fn(*[np.asarray(values[b.name], dtype=np.float64) for b in blocks])

    return to_unconstrained


def compile_sampler(model: pm.Model, blocks: list[Block]):
    """Compile ``n -> z (n, d)``: n ancestral draws of the free variables, transformed."""
    n = pt.lscalar("n")
    free = set(model.free_RVs)
    order = [out for node in io_toposort([], model.free_RVs) for out in node.outputs if out in free]
    batched: dict[Variable, Variable] = {}
    shapes = {b.name: tuple(b.shape) for b in blocks}
    for rv in order:
        parents = [p for p in ancestors([rv], blockers=list(batched)) if p in batched and p is not rv]
        if parents:
            replace = {p: batched[p] for p in parents}
            try:
                batched[rv] = vectorize_graph(rv, replace=replace)
            except ValueError:  # a size given beside parameters that now gain a batch axis
                batched[rv] = vectorize_graph(_sized_by_parameters(rv, shapes[str(rv.name)]), replace=replace)
        else:
            batched[rv] = change_dist_size(rv, (n,), expand=True)
    by_name = {rv.name: rv for rv in model.free_RVs}
    columns = []
    for b in blocks:
        rv = by_name[b.name]
        draw = batched[rv]
        transform = model.rvs_to_transforms.get(rv)
        value = transform.forward(draw, *draw.owner.inputs) if transform is not None else draw
        columns.append(pt.reshape(pt.cast(value, "float64"), (n, b.stop - b.start)))
    # every call reseeds the generators: a function compiled for an equal model serves
    fn = cached_function(
        [n], pt.concatenate(columns, axis=1), "pymc", generators_free=True, compiler=pm.pytensorf.compile, random_seed=0
    )
    rngs = [s for s in fn.get_shared() if isinstance(s.type, RandomGeneratorType)]

    def sample(rng: np.random.Generator, size: int) -> np.ndarray:
        reseed_rngs(rngs, rng.integers(2**63))
        return fn(size)

    return sample


def _sized_by_parameters(rv, shape: tuple):
    """``rv`` drawn with no ``size``: its parameters broadcast to its batch shape instead.

    ``pm.Normal("th", 0.0, tau, shape=3)`` has ``size=(3,)`` and scalar parameters; once
    ``tau`` is a batch of n draws the size no longer matches the parameters' batch axes
    (PyTensor refuses the vectorised node). Without a size, the draws take their shape
    from the parameters, which broadcast the same way batched or not. ``shape`` is the
    variable's own (fixed) shape.
    """
    op = rv.owner.op
    if not isinstance(op, RandomVariable):
        raise NotImplementedError(f"cannot draw {rv.name!r} in batches of its parents' draws")
    rng, _, *params = rv.owner.inputs
    batch = tuple(int(k) for k in shape[: len(shape) - op.ndim_supp])
    cores = op.ndims_params if isinstance(op.ndims_params, (list, tuple)) else [0] * len(params)
    core_shapes = [tuple(p.shape[p.type.ndim - c :]) if c else () for p, c in zip(params, cores)]
    shaped = [pt.broadcast_to(p, batch + core) for p, core in zip(params, core_shapes)]
    return op.make_node(rng, None, *shaped).outputs[1]


def _mvnormal_quantile(rv, u):
    """``mu + chol(cov) Phi^-1(u)``: a multivariate normal from independent uniforms.

    Not a Rosenblatt transform in the strict sense, but the same thing for quasi-Monte
    Carlo: an exact map from the uniform cube onto the law, smooth in ``u``.
    """
    mu, cov = rv.owner.inputs[2:4]
    if rv.ndim != 1 or mu.ndim != 1 or cov.ndim != 2:
        raise NotImplementedError("batched multivariate normal")
    normal = -np.sqrt(2.0) * pt.erfcinv(2.0 * u)
    return mu + pt.dot(pt.linalg.cholesky(cov), normal)


def compile_quantile_map(model: pm.Model, blocks: list[Block]):
    """Compile ``u (n, d) -> z (n, d)``: uniforms to the input law through inverse CDFs.

    Each free variable's coordinates take one uniform each, pushed through its
    distribution's inverse CDF (``pm.icdf``) given its batched parents (ancestral), then
    the forward value transform; a multivariate normal takes ``mu + chol(cov) Phi^-1(u)``.
    Returns ``None`` when some distribution has no inverse CDF (other multivariate
    ones such as Dirichlet): the quasi-random sampler then draws the input law's share
    with the ordinary sampler.
    """
    u = pt.matrix("u", dtype="float64")
    n = u.shape[0]
    free = set(model.free_RVs)
    order = [out for node in io_toposort([], model.free_RVs) for out in node.outputs if out in free]
    block_of = {model[b.name]: b for b in blocks}
    natural: dict[Variable, Variable] = {}
    columns: dict[str, Variable] = {}
    try:
        for rv in order:
            b = block_of[rv]
            u_rv = u[:, b.start : b.stop].reshape((n, *b.shape))
            parents = [p for p in ancestors([rv], blockers=list(natural)) if p in natural and p is not rv]
            u_core = pt.tensor(dtype="float64", shape=b.shape)
            x_core = _mvnormal_quantile(rv, u_core) if isinstance(rv.owner.op, MvNormalRV) else pm.icdf(rv, u_core)
            transform = model.rvs_to_transforms.get(rv)
            z_core = transform.forward(x_core, *rv.owner.inputs) if transform is not None else x_core
            x, z = vectorize_graph([x_core, z_core], replace={u_core: u_rv, **{p: natural[p] for p in parents}})
            natural[rv] = x
            columns[b.name] = pt.reshape(pt.cast(z, "float64"), (n, b.stop - b.start))
        # C code: bitwise the same results from a cold or a cached compile (see model.evaluation)
        fn = cached_function([u], pt.concatenate([columns[b.name] for b in blocks], axis=1), "CVM", mode="CVM")
    except (NotImplementedError, TypeError, ValueError, KeyError):
        return None
    fn.trust_input = True
    return lambda points: fn(np.ascontiguousarray(points, dtype=np.float64))


CDF_FLOOR = 1e-16  # CDF values of a bounded input are kept in [CDF_FLOOR, 1 - CDF_FLOOR]
GERM_BOUND = 38.0  # |z| of a normal germ is kept below this (Phi(-38) is about 1e-316)
UPPER_TAIL = 0.999  # above this CDF value, a normal germ comes from the complementary CDF


def _refined_cdf(rv, x):
    """``F(x)`` of a univariate ``rv``, polished by one Newton step on ``icdf(u) = x``.

    PyMC's normal log-CDF is accurate to about 1e-8 only (4e-9 on CDF values near
    0.5): the chaos's exact means then missed by 1e-8 relative, a thousand error bars of
    an exactly matched output. One step ``u + (x - icdf(u)) pdf(x)`` from that start
    brings the error to rounding (quadratic convergence) wherever ``icdf`` exists.
    """
    u = pt.exp(pm.logcdf(rv, x))
    try:
        step = (x - pm.icdf(rv, u)) * pt.exp(pm.logp(rv, x))
    except NotImplementedError:
        return u
    return pt.clip(u + pt.switch(pt.isfinite(step), step, 0.0), 0.0, 1.0)


def _normal_germ(rv, x):
    """Graphs ``(value, log_upper)`` of the germ ``z = Phi^-1(F(x))`` of an unbounded input.

    A CDF value near 1 keeps only the absolute precision of a double: at five standard
    deviations, ``1 - F`` has six significant digits left, and the chaos of ``x^20``
    came out 1e-8 off, sixty error bars. A normal or lognormal input's germ is its
    standardised (log) value, exactly: ``value`` is ``z`` and ``log_upper`` None.
    Any other gives ``value = F(x)`` and ``log_upper = log(1 - F(x))`` from
    ``pm.logccdf`` (None if it has none), which :func:`compile_germ_map` turns into
    ``z`` in numpy: inside the graph, PyTensor rewrites ``exp(log1mexp(y))`` into
    ``1 - exp(y)`` and the digits are lost again.
    """
    op = rv.owner.op
    if isinstance(op, (NormalRV, LogNormalRV)):
        mu, sigma = rv.owner.inputs[-2:]
        return ((x if isinstance(op, NormalRV) else pt.log(x)) - mu) / sigma, None
    try:
        log_upper = pm.logccdf(rv, x)
    except NotImplementedError:
        log_upper = None
    return _refined_cdf(rv, x), log_upper


def compile_germ_map(model: pm.Model, blocks: list[Block]):
    """Compile ``z (n, d) -> germs (n, d)``: every coordinate's chaos germ, and its kind.

    For independent inputs only (no free variable among another's parents, no
    multivariate distribution): each coordinate is brought back to its natural value
    by the backward value transform and mapped by its distribution's CDF
    (``pm.logcdf``) to its germ (see :mod:`pymc_ais.core.surrogates.chaos`): "legendre",
    ``2 F(x) - 1`` on [-1, 1], for a bounded support (interval or log-odds transform);
    "hermite", ``Phi^-1(F(x))``, otherwise, from the complementary CDF above
    ``F = UPPER_TAIL`` (see :func:`_normal_germ`). Returns ``(to_germs, kinds)``, or
    ``None`` when some input has no CDF or depends on another.
    """
    z = pt.matrix("z", dtype="float64")
    n = z.shape[0]
    free = set(model.free_RVs)
    columns, uppers, germs = [], [], []
    via_cdf = np.zeros(0, dtype=bool)
    try:
        for b in blocks:
            rv = model[b.name]
            if isinstance(rv.owner.op, MvNormalRV) or any(p in free for p in ancestors([rv]) if p is not rv):
                return None
            z_rv = z[:, b.start : b.stop].reshape((n, *b.shape))
            transform = model.rvs_to_transforms.get(rv)
            x = transform.backward(z_rv, *rv.owner.inputs) if transform is not None else z_rv
            bounded = isinstance(transform, (Interval, LogOddsTransform))
            log_upper = None
            if bounded:
                value = 2.0 * pt.clip(_refined_cdf(rv, x), CDF_FLOOR, 1.0 - CDF_FLOOR) - 1.0
            else:
                value, log_upper = _normal_germ(rv, x)
            width = b.stop - b.start
            columns.append(pt.reshape(pt.cast(value, "float64"), (n, width)))
            upper = pt.fill(value, np.nan) if log_upper is None else log_upper
            uppers.append(pt.reshape(pt.cast(upper, "float64"), (n, width)))
            cdf_column = not bounded and not isinstance(rv.owner.op, (NormalRV, LogNormalRV))
            via_cdf = np.concatenate([via_cdf, np.full(width, cdf_column)])
            germs += ["legendre" if bounded else "hermite"] * width
        outputs = [pt.concatenate(columns, axis=1), pt.concatenate(uppers, axis=1)]
        fn = cached_function([z], outputs, "CVM", mode="CVM")
    except (NotImplementedError, TypeError, ValueError, KeyError):
        return None
    fn.trust_input = True

    def to_germs(points: np.ndarray) -> np.ndarray:
        values, log_upper = fn(np.ascontiguousarray(points, dtype=np.float64))
        if via_cdf.any():
            u, upper = values[:, via_cdf], log_upper[:, via_cdf]
            with np.errstate(invalid="ignore"):
                tail = (u > UPPER_TAIL) & np.isfinite(upper)
            values[:, via_cdf] = np.where(tail, -ndtri_exp(np.where(tail, upper, -1.0)), ndtri(u))
        return np.clip(values, -GERM_BOUND, GERM_BOUND)

    # the same draws go through the map twice: the widened law's density and the chaos
    return remember_last(to_germs), tuple(germs)
