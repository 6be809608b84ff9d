"""Precise first-order Sobol' indices of the cantilever beam, independent of pymc_ais.

Ten independent scramblings of 2^20 Sobol' points of the pick-freeze design (12
dimensions), the first-order numerator E[(y_A - y_B)^2 - (y_B - y_i)^2] / 2 over
E[(y_A - y_B)^2] / 2 on each; prints the mean over the scramblings and its standard
error. benchmarks/cantilever_sobol.py uses the printed values (PRECISE, PRECISE_SE).
The published reference (1e7 pick-freeze runs) carries errors of about 4e-4.

    python benchmarks/sobol_reference.py      # about a minute
"""

import numpy as np
from cantilever_sobol import REFERENCE, deflection, from_uniform
from scipy.stats import qmc


def main(replicates=10, points=2**20, seed=123):
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(replicates):
        u = qmc.Sobol(12, scramble=True, seed=rng).random(points)
        a, b = from_uniform(u[:, :6]), from_uniform(u[:, 6:])
        ya, yb = deflection(a), deflection(b)
        spread = (ya - yb) ** 2
        numerators = []
        for i in range(6):
            ab = a.copy()
            ab[:, i] = b[:, i]
            numerators.append(np.mean(spread - (yb - deflection(ab)) ** 2) / 2)
        found.append(np.array(numerators) / (spread.mean() / 2))
    found = np.array(found)
    np.set_printoptions(precision=6, suppress=True)
    print("indices        ", found.mean(axis=0))
    print("standard errors", found.std(axis=0, ddof=1) / np.sqrt(replicates))
    print("published - this", REFERENCE - found.mean(axis=0))


if __name__ == "__main__":
    main()
