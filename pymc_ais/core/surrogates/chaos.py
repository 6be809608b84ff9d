"""Sparse polynomial chaos of a model output, with its moments and Sobol' indices in closed form.

The inputs are independent; each is read through its CDF, ``u_i = F_i(x_i)`` uniform
on the unit interval, and the output is expanded in polynomials of a standard *germ*
of each coordinate that are orthonormal under the germ's law:

- ``"legendre"``: ``z = 2 u - 1`` (uniform on [-1, 1]), for bounded inputs;
- ``"hermite"``: ``z = Phi^-1(u)`` (standard normal), for unbounded ones; a normal input
  is then an affine function of its germ, so polynomials in it are matched exactly.

Everything here takes the germs ``z`` themselves, not ``u``: near ``u = 1`` a double
keeps too few digits of ``1 - u`` for a Hermite germ in the upper tail
(:func:`pymc_ais.laws.compile.compile_germ_map` computes them without that loss).

Tensor products of these are orthonormal under the joint law, so the expansion's
mean is its constant coefficient, its variance the sum of the other squared
coefficients, and every Sobol' index (first order, total, any group) a partial sum of
them: no integration at all.

The basis is truncated hyperbolically (``sum_i alpha_i^q <= p^q``, q < 1 keeps few
interactions of high order) and its terms are selected greedily by orthogonal
matching pursuit, a few best-correlated terms per pass; along the path, the
corrected leave-one-out error (Blatman & Sudret 2011, with Chapelle's small-sample
correction) picks the size, and the degree ``p`` is raised while that error keeps
falling. Written here rather than taken from
scikit-learn: the path, its leave-one-out errors and the correction come from one
incremental QR factorisation, in a few dozen lines of numpy, with no new dependency.
"""

from __future__ import annotations

import functools
from math import lgamma
from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular
from threadpoolctl import threadpool_limits

GERMS = ("legendre", "hermite")
Q_NORM = 0.75  # hyperbolic truncation exponent
MAX_DEGREE = 20
PATIENCE = 2  # degrees tried past the best one before stopping
PATH_PATIENCE = 1.5  # the matching-pursuit path stops at this multiple of its best size (+ 10)
BLOCK_SHARE = 0.1  # matching pursuit takes 1 + this share of the chosen terms per pass
REORTHOGONALISE = 2**-0.5  # a second Gram-Schmidt pass when a column keeps less than this share
# of its norm (the criterion of Daniel, Gragg, Kaufman & Stewart 1976)
EXACT = 1e-20  # a relative leave-one-out error at rounding level: no degree can do better
MAX_DESIGN = 2e7  # candidate basis values (points x terms) of one degree: 160 MB
MAX_TERMS_SHARE = 0.25  # at most this share of the points as selected terms: beyond, the
# leave-one-out error of a greedy path is optimistic (on Ishigami, 40 terms on 80 points
# claimed 1e-16 while index errors of 1e-6 remained near the edges of the cube)


def orthonormal_table(z: np.ndarray, germ: str, degree: int) -> np.ndarray:
    """Values (n, degree + 1) of the orthonormal polynomials of degree 0..degree at ``z``."""
    table = np.empty((z.size, degree + 1))
    table[:, 0] = 1.0
    if degree >= 1:
        table[:, 1] = z
    for n in range(1, degree):  # three-term recurrences of the monic/standard families
        if germ == "legendre":
            table[:, n + 1] = ((2 * n + 1) * z * table[:, n] - n * table[:, n - 1]) / (n + 1)
        else:
            table[:, n + 1] = z * table[:, n] - n * table[:, n - 1]
    orders = np.arange(degree + 1)
    if germ == "legendre":
        return table * np.sqrt(2 * orders + 1)
    return table * np.exp(-0.5 * np.array([lgamma(k + 1) for k in orders]))


@functools.lru_cache(maxsize=64)
def hyperbolic_indices(dim: int, degree: int, q: float = Q_NORM) -> np.ndarray:
    """Multi-indices (K, dim) with ``sum alpha_i^q <= degree^q``, constant term first.

    Sorted by shell (the least degree whose truncation holds the index), then by total
    degree: the basis of degree p is the basis of degree p - 1 followed by new terms,
    so a degree search only builds the new columns. Read-only (the result is cached).
    """
    slack = 1 + 1e-12
    bound = degree**q * slack
    out: list[tuple[int, ...]] = []

    def extend(prefix: list[int], used: float) -> None:
        if len(prefix) == dim:
            out.append(tuple(prefix))
            return
        k = 0
        while used + k**q <= bound:
            extend(prefix + [k], used + (k**q if k else 0.0))
            k += 1

    extend([], 0.0)
    indices = np.array(out, dtype=np.int64).reshape(-1, dim)
    norms = np.sum(np.where(indices > 0, indices.astype(np.float64) ** q, 0.0), axis=1)
    shell = np.argmax(norms[:, None] <= np.arange(degree + 1) ** q * slack, axis=1)
    order = np.lexsort(tuple(indices[:, ::-1].T) + (indices.sum(axis=1), shell))
    indices = indices[order]
    indices.flags.writeable = False
    return indices


def design_matrix(z: np.ndarray, germs: tuple[str, ...], indices: np.ndarray) -> np.ndarray:
    """The basis (n, K) at germ points ``z`` (n, d): products of one-dimensional polynomials."""
    top = indices.max(axis=0) if indices.size else np.zeros(z.shape[1], dtype=np.int64)
    tables = [orthonormal_table(z[:, i], germs[i], int(top[i])) for i in range(z.shape[1])]
    return _products(tables, indices)


def _products(tables: list[np.ndarray], indices: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Basis columns of ``indices`` (K, d) from each input's polynomial table (n, degree + 1).

    The products run term by term over contiguous rows of the transposed tables, so
    that ``out`` may be column-major (the fit's buffer) without strided writes.
    """
    n = tables[0].shape[0]
    out = np.ones((n, indices.shape[0]), order="F") if out is None else out
    rows = out.T  # (K, n), contiguous when ``out`` is column-major
    rows[...] = 1.0
    for i, table in enumerate(tables):
        if indices.size and indices[:, i].max() > 0:
            rows *= np.ascontiguousarray(table.T)[indices[:, i]]
    return out


EVALUATION_ROWS = 1024  # points per block when a chaos is evaluated (fastest of 512 to 4096 measured)


class Chaos(NamedTuple):
    """A sparse polynomial chaos expansion on the unit cube (see the module docstring)."""

    indices: np.ndarray  # (K, d) multi-indices of the selected terms, constant first
    coef: np.ndarray  # (K,) coefficients
    germs: tuple[str, ...]
    degree: int  # the truncation degree p chosen
    loo_error: float  # corrected leave-one-out error relative to the output's variance

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """The expansion at germ points ``z`` (n, d), by blocks of points.

        A block's (points, terms) basis stays in cache; the whole basis at 2.5e5
        pick-freeze points and 300 terms was a 600 MB array built and read once, and
        1.4e5 points on 740 terms took 1.8 s in blocks of 4096 points, 0.9 s in 1024.
        """
        return self.combinations(z, self.coef[:, None])[:, 0]

    def combinations(self, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The basis at germ points ``z`` (n, d) times ``weights`` (K, m): (n, m), by blocks of points."""
        z = np.asarray(z, dtype=np.float64)
        out = np.empty((z.shape[0], weights.shape[1]))
        for a in range(0, z.shape[0], EVALUATION_ROWS):
            out[a : a + EVALUATION_ROWS] = design_matrix(z[a : a + EVALUATION_ROWS], self.germs, self.indices) @ weights
        return out

    @property
    def mean(self) -> float:
        """The expansion's mean under the input law: its constant coefficient."""
        constant = ~self.indices.any(axis=1)
        return float(self.coef[constant].sum())

    @property
    def variance(self) -> float:
        """The expansion's variance: the sum of its other squared coefficients."""
        return float(np.sum(self.coef[self.indices.any(axis=1)] ** 2))

    def terms_of(self, group: list[int] | np.ndarray, total: bool = False) -> np.ndarray:
        """Which terms (K,) are in the inputs of ``group`` only, constant excluded (``total``: touch any)."""
        inside = np.zeros(self.indices.shape[1], dtype=bool)
        inside[np.asarray(group, dtype=np.int64)] = True
        active = self.indices > 0
        if total:
            return active[:, inside].any(axis=1)
        return active.any(axis=1) & ~active[:, ~inside].any(axis=1)

    def partial_variance(self, group: list[int] | np.ndarray, total: bool = False) -> float:
        """Variance of the terms in the inputs of ``group`` only (or, ``total``, touching any)."""
        return float(np.sum(self.coef[self.terms_of(group, total)] ** 2))

    def sobol_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """First-order and total Sobol' indices of every input (d,), (d,)."""
        d = self.indices.shape[1]
        v = self.variance
        first = np.array([self.partial_variance([i]) for i in range(d)])
        total = np.array([self.partial_variance([i], total=True) for i in range(d)])
        if v <= 0:
            return np.zeros(d), np.zeros(d)
        return first / v, total / v


def _omp_path(basis: np.ndarray, y: np.ndarray, max_terms: int) -> tuple[list[int], float, np.ndarray]:
    """Orthogonal matching pursuit with the corrected leave-one-out error along the path.

    Returns the selected columns, the smallest corrected LOO error (relative to the
    variance of ``y``) and the least-squares coefficients at that size. The constant
    column 0 enters first.

    Each pass over the candidates takes the ``1 + BLOCK_SHARE * s`` best-correlated
    columns (``s`` already chosen; generalised OMP, Wang, Kwon & Shim 2012) in order of
    correlation; they are orthogonalised in matrix products and the leave-one-out error
    is still read after every single column. A path of a thousand terms then costs
    about sixty passes over the candidate basis, not a thousand.
    """
    n, k_all = basis.shape
    norms = np.sqrt(np.einsum("ij,ij->j", basis, basis))
    norms[norms == 0] = np.inf
    # the greedy choice only ranks correlations: single precision halves the memory read
    # at every pass (the basis is the largest array), the fit itself stays in double
    basis_single = basis.astype(np.float32)
    inverse_norms = (1.0 / norms).astype(np.float32)
    q = np.empty((max_terms, n))  # orthonormal directions as rows: contiguous products
    r = np.zeros((max_terms, max_terms))
    r_inv = np.zeros((max_terms, max_terms))
    qty = np.zeros(max_terms)
    leverage = np.zeros(n)
    residual = y.astype(np.float64).copy()
    chosen: list[int] = []
    free = np.ones(k_all, dtype=bool)
    var_y = float(np.var(y)) or 1.0
    best = (np.inf, 0)
    frobenius = 0.0  # ||R^-1||_F^2, grown column by column (R^-1 is upper triangular)
    step = 0  # terms accepted so far; a numerically dependent column is skipped, not counted
    while step < max_terms:
        if step == 0:
            block = np.array([0])
        else:
            scale = float(np.max(np.abs(residual)))
            if not scale > 0:
                break
            score = np.abs((residual / scale).astype(np.float32) @ basis_single) * inverse_norms
            score[~free] = -1.0
            m = min(1 + int(BLOCK_SHARE * step), max_terms - step, k_all)
            block = np.argpartition(-score, m - 1)[:m] if m < k_all else np.arange(k_all)
            block = block[np.argsort(-score[block], kind="stable")]
            block = block[score[block] > 0]
            if block.size == 0:
                break
        free[block] = False
        columns = basis[:, block]
        start = step
        # the block off the chosen directions: classical Gram-Schmidt in matrix products
        coeffs = q[:start] @ columns
        v = columns - q[:start].T @ coeffs
        column_norms = np.linalg.norm(columns, axis=0)
        lost = np.linalg.norm(v, axis=0) < REORTHOGONALISE * column_norms
        if start and lost.any():  # cancellation: those columns once more
            again = q[:start] @ v[:, lost]
            v[:, lost] -= q[:start].T @ again
            coeffs[:, lost] += again
        for t in range(block.size):  # then each column off the block's earlier ones
            vt = v[:, t]
            inner = q[start:step] @ vt
            vt = vt - inner @ q[start:step]
            inner2 = q[start:step] @ vt
            vt -= inner2 @ q[start:step]
            rho = float(np.linalg.norm(vt))
            if rho <= 1e-10 * column_norms[t]:  # numerically dependent on the chosen ones
                continue
            q[step] = vt / rho
            r[:start, step] = coeffs[:, t]
            r[start:step, step] = inner + inner2
            r[step, step] = rho
            # the block's own corner of R^-1, column by column (a triangular solve threads badly)
            r_inv[start:step, step] = -(r_inv[start:step, start:step] @ r[start:step, step]) / rho
            r_inv[step, step] = 1.0 / rho
            chosen.append(int(block[t]))
            step += 1
        if step == start:
            if start == 0:
                break
            continue
        # R^-1 of the grown triangle: [[A^-1, -A^-1 B C^-1], [0, C^-1]]
        r_inv[:start, start:step] = -(r_inv[:start, :start] @ r[:start, start:step]) @ r_inv[start:step, start:step]
        column_frobenius = np.einsum("ij,ij->j", r_inv[:step, start:step], r_inv[:step, start:step])
        qty[start:step] = q[start:step] @ y
        stop = False
        for t in range(start, step):
            frobenius += float(column_frobenius[t - start])
            residual -= qty[t] * q[t]
            leverage += q[t] ** 2
            size = t + 1
            if size >= n - 1 or np.any(leverage >= 1.0 - 1e-12):
                stop = True
                break
            loo = np.mean((residual / (1.0 - leverage)) ** 2) / var_y
            # Chapelle's correction: N/(N-P) (1 + tr((A^T A / N)^-1) / N) = N/(N-P) (1 + ||R^-1||_F^2)
            correction = n / (n - size) * (1.0 + frobenius)
            if loo * correction < best[0]:
                best = (loo * correction, size)
            elif size > PATH_PATIENCE * best[1] + 10:  # well past the minimum: the rest only overfits
                stop = True
                break
        if stop:
            break
    size = best[1]
    if size == 0:
        return [0], np.inf, np.array([float(np.mean(y))])
    coef = solve_triangular(r[:size, :size], qty[:size], lower=False)
    return chosen[:size], best[0], coef


def fit_chaos(
    z: np.ndarray,
    y: np.ndarray,
    germs: tuple[str, ...],
    max_degree: int = MAX_DEGREE,
    q: float = Q_NORM,
) -> Chaos:
    """Fit a sparse chaos to outputs ``y`` (n,) at germ points ``z`` (n, d).

    The degree rises from 1 while the best corrected leave-one-out error falls (stopping
    ``PATIENCE`` degrees past the best one, or when the candidate basis outgrows the
    points); at each degree, orthogonal matching pursuit selects at most
    ``MAX_TERMS_SHARE`` of the points as terms.

    Examples
    --------
    The Ishigami function's first-order indices (0.3139, 0.4424, 0) from 500 points:

    >>> import numpy as np
    >>> from scipy.stats import qmc
    >>> u = qmc.Sobol(3, seed=1).random(512)
    >>> x = np.pi * (2 * u - 1)
    >>> y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    >>> chaos = fit_chaos(2 * u - 1, y, ("legendre",) * 3)
    >>> np.round(chaos.sobol_indices()[0], 2)
    array([0.31, 0.44, 0.  ])
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = z.shape
    if len(germs) != d or any(g not in GERMS for g in germs):
        raise ValueError(f"germs must name one of {GERMS} per input, got {germs!r}")
    # one BLAS thread: the path's products are small, and threads waiting on a busy
    # machine made the fit 2-3x slower (same speed on an idle one); one thread also
    # fixes the order of every sum, so the fit is the same whatever the machine
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(z, y, germs, max_degree, q)


def _fit(z: np.ndarray, y: np.ndarray, germs: tuple[str, ...], max_degree: int, q: float) -> Chaos:
    """The degree search of :func:`fit_chaos`."""
    n, d = z.shape
    max_terms = max(2, int(MAX_TERMS_SHARE * n))
    tables = [orthonormal_table(z[:, i], germs[i], max_degree) for i in range(d)]
    max_columns = max(int(MAX_DESIGN // n), 1)
    buffer = np.empty((n, 0), order="F")  # the basis of the last degree, columns contiguous
    built = 0
    best: Chaos | None = None
    for degree in range(1, max_degree + 1):
        indices = hyperbolic_indices(d, degree, q)
        size = indices.shape[0]
        if size > 20 * n or size > max_columns:  # too many candidates
            break
        if size > buffer.shape[1]:  # grow by doubling: each degree only adds its new terms
            grown = np.empty((n, min(max(size, 2 * buffer.shape[1]), max_columns)), order="F")
            grown[:, :built] = buffer[:, :built]
            buffer = grown
        _products(tables, indices[built:], out=buffer[:, built:size])
        built = size
        chosen, error, coef = _omp_path(buffer[:, :size], y, min(max_terms, size))
        candidate = Chaos(np.array(indices[chosen]), coef, tuple(germs), degree, float(error))
        if best is None or candidate.loo_error < best.loo_error:
            best = candidate
        elif degree >= best.degree + PATIENCE:
            break
        if best.loo_error < EXACT:
            break
    assert best is not None
    return best
