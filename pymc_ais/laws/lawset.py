"""The input laws of a run, however the user gave them: one model, a dict of models, or a grid.

:class:`LawSet` is the one place that knows the difference. It checks the models,
holds a float64 working clone, the flat layout of the free variables, the law names and
coordinates, and gives the rest of the package what it needs whatever the case:

- ``logp_graph()``: every law's log-density at one point, an (L,) graph in the working
  clone's value variables (compiled with the outputs by :mod:`pymc_ais.model`);
- ``posterior``: whether the laws are posteriors (models with observed data or
  Potentials): their log-density is then the joint ``log p(theta) + log p(y | theta)``,
  unnormalised, and ``point_logp()`` serves the search of their modes;
- ``sample``: draws of the equal mixture of the laws (the starting law of a run);
- ``law_quantile()``: ``(l, u) -> z``, uniforms to law l, or None;
- ``law_data(l)``: a context in which the working clone's ``pm.Data`` hold law l's values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.transforms import LogTransform

from ..core.densities.mixture_sampling import sample_mixture
from .checks import check_input_model, check_same_inputs, float64_clone, improper_variables, is_posterior
from .compile import (
    Block,
    compile_batched_logp,
    compile_germ_map,
    compile_point_logp,
    compile_quantile_map,
    compile_sampler,
    compile_to_unconstrained,
    flat_layout,
    law_logp,
)
from .grid import LawGrid, grid_logp


@dataclass
class LawSet:
    """L input laws over the same free variables (see the module docstring).

    Build it with :meth:`from_arguments`; ``model`` is the model expressions are
    written in, ``work`` its float64 clone, ``law_models`` the working model of each law
    (a grid has one model whose data change per law).
    """

    model: pm.Model
    work: pm.Model
    names: tuple[str, ...]
    blocks: list[Block]
    law_models: list[pm.Model]
    grid: LawGrid | None = None
    _compiled: dict = field(default_factory=dict, repr=False)

    @staticmethod
    def user_model(model: pm.Model | None, models) -> pm.Model:
        """The model expressions are written in.

        ``model``, else the grid's or the first law's, else the context model. Checks the
        form of ``models`` on the way.
        """
        if isinstance(models, LawGrid):
            model = models.model if model is None else model
            if models.model is not model:
                raise ValueError("the grid's model must be the model the expectations are written in")
        elif models is not None:
            if not isinstance(models, Mapping) or not models:
                raise ValueError("models must be a non-empty mapping name -> pm.Model (the alternative input laws)")
            for name, law in models.items():
                if not isinstance(law, pm.Model):
                    raise TypeError(f"input law {name!r} must be a pm.Model, got {type(law).__name__}")
            if model is None:
                model = next(iter(models.values()))
        return pm.modelcontext(model)

    @classmethod
    def from_arguments(cls, model: pm.Model | None, models) -> LawSet:
        """The laws of ``pa.estimate(model=..., models=...)``: one model, a mapping, or a grid."""
        model = cls.user_model(model, models)
        check_input_model(model)
        work = float64_clone(model)
        blocks = flat_layout(work)
        if isinstance(models, LawGrid):
            return cls(model, work, models.names, blocks, [work], grid=models)
        if models is None:
            return cls(model, work, ("f",), blocks, [work])
        law_models = []
        for name, law in models.items():
            check_input_model(law)
            check_same_inputs(model, law, name)
            if is_posterior(law) != is_posterior(model):
                kinds = {True: "a posterior (it has observed data)", False: "a prior (no observed data)"}
                raise ValueError(
                    f"law {name!r} is {kinds[is_posterior(law)]} but the first law is {kinds[is_posterior(model)]}; "
                    "every law must be of the same kind"
                )
            law_models.append(work if law is model else float64_clone(law))
        return cls(model, work, tuple(str(n) for n in models), blocks, law_models)

    # ---- description -------------------------------------------------------------
    @property
    def n_laws(self) -> int:
        """Number of laws L."""
        return len(self.names)

    @property
    def several(self) -> bool:
        """Whether results carry a ``model`` dimension (more than one law)."""
        return self.n_laws > 1

    @property
    def dim(self) -> int:
        """Number of flat coordinates."""
        return self.blocks[-1].stop

    @property
    def coords(self) -> dict:
        """Law parameters as coordinates along ``model`` (a grid's one-dimensional columns)."""
        if self.grid is None:
            return {}
        return {k: v for k, v in self.grid.table.items() if v.ndim == 1}

    @property
    def free_dims(self) -> dict:
        """Free variable name -> its dims in the user's model."""
        return {b.name: self.model.named_vars_to_dims.get(b.name) for b in self.blocks}

    @property
    def model_coords(self) -> dict:
        """The user's model coordinates."""
        return dict(self.model.coords)

    # ---- densities ---------------------------------------------------------------
    def logp_graph(self, prior_only: bool = False):
        """Every law's log-density (unconstrained space, Jacobians included): an (L,) graph.

        With ``prior_only``, the free variables' prior alone (for posteriors).
        """
        if self.grid is not None:
            return grid_logp(self.work, self.grid, prior_only)
        return pt.stack([law_logp(law, self.work, prior_only) for law in self.law_models])

    def prior_logp(self, z: np.ndarray) -> np.ndarray:
        """Every law's prior log-density (n, L) at flat points ``z``, compiled on first use."""
        if "prior" not in self._compiled:
            self._compiled["prior"] = compile_batched_logp(self.work, self.blocks, self.logp_graph(prior_only=True))
        return self._compiled["prior"](z)

    def joint_logp(self, z: np.ndarray) -> np.ndarray:
        """Every law's log-density (n, L) at flat points ``z``, without the outputs; compiled on first use."""
        if "joint" not in self._compiled:
            self._compiled["joint"] = compile_batched_logp(self.work, self.blocks, self.logp_graph())
        return self._compiled["joint"](z)

    @property
    def posterior(self) -> bool:
        """Whether the laws are posteriors: their log-densities are unnormalised joints."""
        return is_posterior(self.model)

    @property
    def improper(self) -> dict[str, list[str]]:
        """Law name -> free variables with an improper prior in that law (laws with none left out)."""
        models = self.law_models if self.grid is None else self.law_models * self.n_laws
        found = {name: improper_variables(law) for name, law in zip(self.names, models)}
        return {name: v for name, v in found.items() if v}

    def point_logp(self):
        """``(z (d,), law) -> (log density, gradient)``, compiled on first use."""
        if "point" not in self._compiled:
            self._compiled["point"] = compile_point_logp(self.work, self.blocks, self.logp_graph())
        return self._compiled["point"]

    def scale_coordinates(self) -> list[int]:
        """Flat coordinates of the scalar free variables sampled as logarithms (scales) in every law.

        A hierarchical model's group scale, a regression's noise scale: the posterior of
        the other variables changes shape with them, which a starting law along them
        can follow (:mod:`~pymc_ais.core.densities.conditional_grid`).
        """
        found = []
        for block in self.blocks:
            if block.stop - block.start != 1:
                continue
            transforms = [law.rvs_to_transforms[law[block.name]] for law in self.law_models]
            if all(isinstance(t, LogTransform) for t in transforms):
                found.append(block.start)
        return found

    def to_unconstrained(self, values: dict) -> np.ndarray:
        """Natural values ``{name: (n, *shape)}`` of the free variables to flat points (n, d)."""
        if "unconstrained" not in self._compiled:
            self._compiled["unconstrained"] = compile_to_unconstrained(self.work, self.blocks)
        return self._compiled["unconstrained"](values)

    def initial_point(self) -> np.ndarray:
        """PyMC's initial point of the working model, as flat coordinates (d,)."""
        point = self.work.initial_point()
        return np.concatenate([np.ravel(point[b.value_name]).astype(np.float64) for b in self.blocks])

    # ---- sampling ----------------------------------------------------------------
    @contextmanager
    def law_data(self, law: int) -> Iterator[None]:
        """Within this context the working clone's data containers hold law ``law``'s values."""
        if self.grid is None:
            yield
            return
        containers = {v.name: v for v in self.work.data_vars}
        saved = {k: containers[k].get_value() for k in self.grid.table}
        try:
            for k, v in self.grid.row(law).items():
                containers[k].set_value(np.asarray(v, dtype=containers[k].dtype))
            yield
        finally:
            for k, v in saved.items():
                containers[k].set_value(v)

    def sync_data(self) -> None:
        """Give the working clone's data containers the user's current values."""
        clones = {v.name: v for v in self.work.data_vars}
        for v in self.model.data_vars:
            if v.name in clones:
                clones[v.name].set_value(v.get_value())

    def _samplers(self) -> list:
        if "samplers" not in self._compiled:
            if self.grid is not None:
                one = compile_sampler(self.work, self.blocks)

                def law_sampler(law):
                    def sample(rng, n):
                        with self.law_data(law):
                            return one(rng, n)

                    return sample

                samplers = [law_sampler(law) for law in range(self.n_laws)]
            else:
                samplers = [compile_sampler(law, self.blocks) for law in self.law_models]
            self._compiled["samplers"] = samplers
        return self._compiled["samplers"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws (n, d) of the equal mixture of the laws."""
        samplers = self._samplers()
        return sample_mixture(np.ones(len(samplers)), samplers, rng, n)

    def initial_quantile(self):
        """``u -> z`` onto the single law, or None (several laws, or no inverse CDF)."""
        if self.n_laws != 1:
            return None
        law_quantile = self.law_quantile()
        return None if law_quantile is None else (lambda u: law_quantile(0, u))

    def germ_map(self):
        """``(z -> germs, kinds)`` of the single law's independent inputs, or None. Compiled on first use.

        See :func:`pymc_ais.laws.compile.compile_germ_map`.
        """
        if "germs" not in self._compiled:
            one_law = self.n_laws == 1 and self.grid is None
            self._compiled["germs"] = compile_germ_map(self.law_models[0], self.blocks) if one_law else None
        return self._compiled["germs"]

    def law_quantile(self):
        """``(l, u) -> z``: uniforms (n, d) to law l through inverse CDFs.

        None if some law has a distribution without one. Compiled on first use.
        """
        if "quantile" not in self._compiled:
            if self.grid is not None:
                one = compile_quantile_map(self.work, self.blocks)

                def maps(law, u):
                    with self.law_data(law):
                        return one(u)

                self._compiled["quantile"] = None if one is None else maps
            else:
                each = [compile_quantile_map(law, self.blocks) for law in self.law_models]
                ok = all(q is not None for q in each)
                self._compiled["quantile"] = (lambda law, u: each[law](u)) if ok else None
        return self._compiled["quantile"]
