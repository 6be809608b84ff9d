"""
Sobol' indices with error bars, against the analytic truth
==========================================================

Ishigami: y = sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 with three Uniform(-pi, pi) inputs,
whose first-order and total indices are known in closed form. ``surrogate="chaos"``
fits a sparse polynomial chaos on a pilot and uses it as a control variate, so the
indices stay unbiased whatever the fit and their intervals come from the residual.

Cantilever beam: the deflection D of the quick start's beam (six inputs: lognormal
loads and modulus, normal dimensions), with the same chaos control (Hermite
polynomials of the inputs' normal scores). Its indices have no closed form; the
Benchmarks page compares them with precise reference values and with SALib.

Run:  python examples/sobol_indices.py [--quick] [--plot sobol.png]
"""

import sys
import time
from pathlib import Path

import numpy as np
import pymc as pm

import pymc_ais as pa

try:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
except NameError:  # run by the documentation's gallery, from this folder (already on the path)
    pass
from quickstart import beam_model  # noqa: E402  (the same beam, defined once)

A, B = 7.0, 0.1


def ishigami_truth() -> dict:
    """Analytic first-order and total indices of the Ishigami function."""
    v1 = 0.5 * (1 + B * np.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * np.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return {"first": np.array([v1, v2, 0.0]) / total, "total": np.array([v1 + v13, v2, v13]) / total}


def ishigami(draws: int):
    with pm.Model() as model:
        x1, x2, x3 = (pm.Uniform(f"x{i}", -np.pi, np.pi) for i in (1, 2, 3))
    y = pm.math.sin(x1) + A * pm.math.sin(x2) ** 2 + B * x3**4 * pm.math.sin(x1)
    return pa.sobol(y, model=model, draws=draws, surrogate="chaos", random_seed=1, progressbar=False)


def cantilever(draws: int):
    """The quick start's beam; its deflection D is a Deterministic of the model."""
    beam = beam_model()
    return pa.sobol(beam["D"], model=beam, draws=draws, surrogate="chaos", random_seed=2, progressbar=False)


def table(idata, truth: dict | None = None) -> str:
    """One line per input: first-order and total indices with their intervals."""
    s = idata["sensitivity"]
    lines = [f"{'input':>6}  {'first':>28}  {'total':>28}"]
    for i, name in enumerate(s["variable"].values):
        cells = []
        for kind in ("first", "total"):
            cell = s.sel(variable=name, index=kind)
            text = f"{float(cell['mean']):.4f} [{float(cell['ci_lower']):.4f}, {float(cell['ci_upper']):.4f}]"
            if truth is not None:
                text += f" ({truth[kind][i]:.4f})"
            cells.append(text)
        lines.append(f"{name:>6}  {cells[0]:>28}  {cells[1]:>28}")
    return "\n".join(lines)


def main(quick: bool, plot: str | None) -> None:
    start = time.perf_counter()
    isg = ishigami(500 if quick else 2_000)
    print(f"Ishigami, {isg.attrs['evaluations']} runs, {time.perf_counter() - start:.1f} s")
    print("index [95 % interval] (analytic value)")
    print(table(isg, ishigami_truth()))

    start = time.perf_counter()
    beam = cantilever(2_000)
    print(f"\nCantilever deflection, {beam.attrs['evaluations']} runs, {time.perf_counter() - start:.1f} s")
    print(table(beam))
    print(f"control: {beam.attrs['surrogate']}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    pa.plot_sensitivity(isg, ax=axes[0]).set_title("Ishigami")
    pa.plot_sensitivity(beam, ax=axes[1]).set_title("cantilever deflection")
    fig.tight_layout()
    if plot:
        fig.savefig(plot, dpi=100)
        print(f"\nplot saved to {plot}")


if __name__ == "__main__":
    where = sys.argv.index("--plot") + 1 if "--plot" in sys.argv else None
    main("--quick" in sys.argv, sys.argv[where] if where else None)
