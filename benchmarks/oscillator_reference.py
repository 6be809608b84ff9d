"""Reference failure probabilities of the damped two-degree-of-freedom oscillator.

The limit state (Der Kiureghian & De Stefano 1991; used for rare events by Dubourg,
Sudret & Deheeger 2013, "Metamodel-based importance sampling for structural
reliability analysis", Probabilistic Engineering Mechanics 33) is

    g = Fs - 3 ks sqrt(pi S0 / (4 zs ws^3) * za zs / (zp zs (4 za^2 + theta^2) + gamma za^2)
                      * (zp wp^3 + zs ws^3) wp / (4 za wa^4))

with eight independent lognormal inputs. The three input laws differ only in the mean
of the force capacity Fs: 15, 21.5 and 27.5 (probabilities near 5e-3, 5e-5 and 3.5e-7
in the literature). The reference here is computed independently of pymc_ais:

- Fs is integrated out exactly: P(g <= 0) = E[P(Fs <= R)] with R = 3 ks sqrt(...), a
  lognormal CDF, so the remaining integrand is smooth in the other seven inputs;
- the seven are sampled in their standard normal space from a Gaussian centred at the
  mode of phi(z) P(Fs <= R(z)) with the inverse Hessian of its logarithm, inflated by
  1.5^2 in covariance (plain importance sampling, no adaptation), 10^7 draws in chunks.

Prints each probability with its standard error:

    python benchmarks/oscillator_reference.py [--draws 10000000]
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import optimize, stats

# name: (mean, coefficient of variation); Fs's mean is set per law
INPUTS = {
    "mp": (1.5, 0.1),
    "ms": (0.01, 0.1),
    "kp": (1.0, 0.2),
    "ks": (0.01, 0.2),
    "zp": (0.05, 0.4),
    "zs": (0.02, 0.5),
    "S0": (100.0, 0.1),
}
FS_COV = 0.1
FS_MEANS = (15.0, 21.5, 27.5)


def lognormal_parameters(mean: float, cov: float) -> tuple[float, float]:
    """(mu, sigma) of the log of a lognormal with this mean and coefficient of variation."""
    sigma = np.sqrt(np.log1p(cov**2))
    return np.log(mean) - sigma**2 / 2, sigma


def demand(mp, ms, kp, ks, zp, zs, S0):
    """R = 3 ks sqrt(mean square relative displacement): failure when Fs <= R."""
    wp, ws = np.sqrt(kp / mp), np.sqrt(ks / ms)
    wa, za = (wp + ws) / 2, (zp + zs) / 2
    gamma, theta = ms / mp, (wp - ws) / wa
    mean_square = (
        np.pi
        * S0
        / (4 * zs * ws**3)
        * za
        * zs
        / (zp * zs * (4 * za**2 + theta**2) + gamma * za**2)
        * (zp * wp**3 + zs * ws**3)
        * wp
        / (4 * za * wa**4)
    )
    return 3 * ks * np.sqrt(mean_square)


def log_conditional(z: np.ndarray, fs_mean: float) -> np.ndarray:
    """Log P(Fs <= R(z)) for standard normal coordinates z of the seven other inputs."""
    values = [np.exp(mu + s * z[..., i]) for i, (mu, s) in enumerate(lognormal_parameters(*v) for v in INPUTS.values())]
    mu_f, s_f = lognormal_parameters(fs_mean, FS_COV)
    return stats.norm.logcdf((np.log(demand(*values)) - mu_f) / s_f)


def reference(fs_mean: float, draws: int, seed: int = 20131001, chunk: int = 1_000_000) -> tuple[float, float]:
    """Importance-sampling estimate of P(g <= 0) and its standard error."""
    dim = len(INPUTS)

    def negative_log_target(z):
        return -(log_conditional(z, fs_mean) - 0.5 * z @ z)

    mode = optimize.minimize(negative_log_target, np.zeros(dim), method="BFGS").x
    step = 1e-4
    hessian = np.empty((dim, dim))
    for i in range(dim):
        e = np.zeros(dim)
        e[i] = step
        hessian[i] = (
            optimize.approx_fprime(mode + e, negative_log_target, 1e-6)
            - optimize.approx_fprime(mode - e, negative_log_target, 1e-6)
        ) / (2 * step)
    covariance = 1.5**2 * np.linalg.inv((hessian + hessian.T) / 2)
    proposal = stats.multivariate_normal(mode, covariance)
    rng = np.random.default_rng(seed)
    total, total_sq, done = 0.0, 0.0, 0
    while done < draws:
        n = min(chunk, draws - done)
        z = proposal.rvs(size=n, random_state=rng)
        log_w = (
            log_conditional(z, fs_mean) - 0.5 * np.sum(z**2, axis=1) - dim / 2 * np.log(2 * np.pi) - proposal.logpdf(z)
        )
        w = np.exp(log_w)
        total += w.sum()
        total_sq += (w**2).sum()
        done += n
    mean = total / done
    return mean, np.sqrt((total_sq / done - mean**2) / done)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=10_000_000)
    args = parser.parse_args()
    for fs_mean in FS_MEANS:
        p, se = reference(fs_mean, args.draws)
        print(f"mean Fs = {fs_mean:5.1f}: P(g <= 0) = {p:.6e} +- {se:.1e} (relative {se / p:.1e})")


if __name__ == "__main__":
    main()
