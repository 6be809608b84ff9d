"""Posteriors up to real dimension under several priors, against closed-form truths.

A linear regression with known noise and normal coefficient priors has a Gaussian
posterior and a Gaussian evidence. On a ladder of dimensions the posterior means of
every coefficient under every prior come from one sample; their errors are measured
in the run's own standard errors, and one sample for every prior is compared with one
run per prior on an equal share of the budget.
"""

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import pymc_ais as pa

N_OBS, NOISE = 80, 1.0
PRIOR_SDS = {"narrow": 0.5, "wide": 3.0}


def data(d: int):
    rng = np.random.default_rng(100 + d)
    x = rng.standard_normal((N_OBS, d))
    y = x @ rng.normal(0.0, 0.5, d) + NOISE * rng.standard_normal(N_OBS)
    return x, y


def regression(x, y, sd) -> pm.Model:
    with pm.Model() as model:
        beta = pm.Normal("beta", 0.0, sd, shape=x.shape[1])
        pm.Normal("y", pm.math.dot(x, beta), NOISE, observed=y)
    return model


def truth(x, y, sd):
    precision = np.eye(x.shape[1]) / sd**2 + x.T @ x / NOISE**2
    mean = np.linalg.solve(precision, x.T @ y / NOISE**2)
    evidence = stats.multivariate_normal(np.zeros(N_OBS), NOISE**2 * np.eye(N_OBS) + sd**2 * x @ x.T).logpdf(y)
    return mean, evidence


def z_scores(idata, x, y, laws):
    est, ev = idata["estimates"], idata["evidence"]
    z, z_evidence = [], []
    for name in laws:
        mean, log_z = truth(x, y, PRIOR_SDS[name])
        pick = {"model": name} if "model" in est.dims else {}
        cell = est.sel(**pick)
        z.append((cell["mean"].values - mean) / cell["mcse"].values)
        e = ev.sel(**pick) if pick else ev.isel(model=0) if "model" in ev.dims else ev
        z_evidence.append((float(np.ravel(e["log_evidence"].values)[0]) - log_z) / float(np.ravel(e["mcse"].values)[0]))
    return np.concatenate(z), np.array(z_evidence)


@pytest.mark.parametrize("d", [2, 10, 30])
def test_coefficient_means_under_two_priors_from_one_sample(d):
    """Every coefficient under both priors within the run's own error bars, d = 2 to 30."""
    x, y = data(d)
    models = {name: regression(x, y, sd) for name, sd in PRIOR_SDS.items()}
    idata = pa.estimate({"beta": models["narrow"]["beta"]}, models=models, draws=8_000, random_seed=d,
                        progressbar=False)  # fmt: skip
    z, z_evidence = z_scores(idata, x, y, PRIOR_SDS)
    # 2d standardised errors: their root mean square near 1 (1.5 allows for the
    # Student-t spread of replicate errors), none beyond 4.5
    assert np.sqrt(np.mean(z**2)) <= 1.5, z
    assert np.abs(z).max() <= 4.5, z
    assert np.all(np.abs(z_evidence) <= 4.5), z_evidence


def test_one_sample_is_not_worse_than_one_run_per_prior():
    """At d = 10 the shared sample's error bars are no wider than separate runs' on half the budget each."""
    d, draws = 10, 8_000
    x, y = data(d)
    models = {name: regression(x, y, sd) for name, sd in PRIOR_SDS.items()}
    shared = pa.estimate({"beta": models["narrow"]["beta"]}, models=models, draws=draws, random_seed=1,
                         progressbar=False)  # fmt: skip
    for name, model in models.items():
        alone = pa.estimate({"beta": model["beta"]}, model=model, draws=draws // 2, random_seed=1, progressbar=False)
        shared_mcse = shared["estimates"].sel(model=name)["mcse"].values
        alone_mcse = alone["estimates"]["mcse"].values
        # the median over the coefficients: one seed's error bars scatter by about 1/sqrt(8)
        assert np.median(shared_mcse / alone_mcse) <= 1.0, (name, shared_mcse, alone_mcse)


def test_a_posterior_apart_from_the_others_gets_as_many_draws():
    """d = 30, two wide priors whose posteriors coincide and a narrow one off-centre whose posterior lies apart.

    With an equal share of the starting law each, the law apart had half the others'
    equivalent draws (770 against 1,530 at 8,000 evaluations); its part now gets the
    share that evens them out, and every law stays within its own error bars.
    """
    d = 30
    x, y = data(d)
    priors = {"wide": (0.0, 3.0), "wider": (0.0, 5.0), "apart": (1.0, 0.15)}
    models = {}
    for name, (m, sd) in priors.items():
        with pm.Model() as models[name]:
            beta = pm.Normal("beta", m, sd, shape=d)
            pm.Normal("y", pm.math.dot(x, beta), NOISE, observed=y)
    idata = pa.estimate({"beta": models["wide"]["beta"]}, models=models, draws=8_000, random_seed=0,
                        progressbar=False)  # fmt: skip
    z, equivalent = [], {}
    for name, (m, sd) in priors.items():
        cov = np.linalg.inv(np.eye(d) / sd**2 + x.T @ x / NOISE**2)
        mean = cov @ (x.T @ y / NOISE**2 + m / sd**2)
        cell = idata["estimates"].sel(model=name)
        z.append((cell["mean"].values - mean) / cell["mcse"].values)
        equivalent[name] = np.median(np.diag(cov) / cell["mcse"].values ** 2)
    z = np.concatenate(z)
    assert np.sqrt(np.mean(z**2)) <= 1.5 and np.abs(z).max() <= 4.5, z
    assert equivalent["apart"] >= 0.8 * min(equivalent["wide"], equivalent["wider"]), equivalent
    # the final draws may hold the initial block (drawn from the same start): its runs count once
    attrs = idata.attrs
    reused = attrs.get("final_draws_reused", 0)
    assert idata["samples"].sizes["draw"] == attrs["evaluations_final"] + reused
    assert reused <= attrs["evaluations_adaptive"]


SIGMA_PRIOR_SCALE = 2.0


def regression_unknown_noise(x, y, sd) -> pm.Model:
    with pm.Model() as model:
        beta = pm.Normal("beta", 0.0, sd, shape=x.shape[1])
        sigma = pm.HalfNormal("sigma", SIGMA_PRIOR_SCALE)
        pm.Normal("y", pm.math.dot(x, beta), sigma, observed=y)
    return model


def truth_unknown_noise(x, y, sd):
    """Posterior means of beta and sigma, their variances and the log evidence, by quadrature over log sigma.

    Given sigma the coefficients are Gaussian (mean and variances in closed form) and
    y is Gaussian with covariance sigma^2 I + sd^2 X X'.
    """
    n, d = x.shape
    log_sigma = np.linspace(np.log(0.2), np.log(5.0), 2001)
    rows = []
    for s in np.exp(log_sigma):
        precision = np.eye(d) / sd**2 + x.T @ x / s**2
        cov = np.linalg.inv(precision)
        mean = cov @ x.T @ y / s**2
        quad = y @ y / s**2 - (x.T @ y) @ mean / s**2
        log_det = np.linalg.slogdet(precision)[1] + 2 * d * np.log(sd) + 2 * n * np.log(s)
        log_lik = -0.5 * (n * np.log(2 * np.pi) + log_det + quad)
        rows.append((log_lik + stats.halfnorm(scale=SIGMA_PRIOR_SCALE).logpdf(s) + np.log(s), mean, np.diag(cov)))
    log_w = np.array([r[0] for r in rows])
    w = np.exp(log_w - log_w.max())
    log_evidence = np.log(w.sum() * (log_sigma[1] - log_sigma[0])) + log_w.max()
    w /= w.sum()
    means, variances, sigmas = np.array([r[1] for r in rows]), np.array([r[2] for r in rows]), np.exp(log_sigma)
    mean = np.append(w @ means, w @ sigmas)
    var = np.append(w @ (variances + means**2) - (w @ means) ** 2, w @ sigmas**2 - (w @ sigmas) ** 2)
    return mean, var, log_evidence


@pytest.mark.parametrize(("d", "draws", "seeds"), [(2, 8_000, 3), (10, 8_000, 3), (30, 8_000, 3), (100, 20_000, 2)])
def test_unknown_noise_scale_from_two_to_a_hundred_coefficients(d, draws, seeds):
    """A noise scale beside d coefficients (3 d observations): right and precise at every d.

    The joint mode underestimates the noise scale by sqrt((n - d) / n) whatever d, which
    is about 4 posterior standard deviations at d = 100: a run that stayed at the mode's
    Laplace approximation reported 50-sigma errors there.
    """
    rng = np.random.default_rng(200 + d)
    x = rng.standard_normal((3 * d, d))
    y = x @ rng.normal(0.0, 0.5, d) + 0.8 * rng.standard_normal(3 * d)
    model = regression_unknown_noise(x, y, 1.0)
    mean, var, log_evidence = truth_unknown_noise(x, y, 1.0)
    z, z_evidence, equivalent = [], [], []
    for seed in range(seeds):  # one run's errors share a common part: pool independent runs
        idata = pa.estimate({"beta": model["beta"], "sigma": model["sigma"]}, model=model, draws=draws,
                            random_seed=100 * d + seed, progressbar=False)  # fmt: skip
        measured = in_own_errors(idata["estimates"], idata["evidence"], mean, var, log_evidence)
        for found, part in zip((z, z_evidence, equivalent), measured):
            found.append(part)
    assert_calibrated(np.concatenate(z), np.array(z_evidence))
    # precise as well as right: the error bars are those of at least 300 i.i.d. posterior draws
    assert np.median(np.concatenate(equivalent)) >= 300, equivalent


def in_own_errors(est, evidence, mean, var, log_evidence):
    """The errors of the means and of the log evidence in their mcse, and the equivalent i.i.d. sizes."""
    z = (est["mean"].values - mean) / est["mcse"].values
    z_evidence = (float(evidence["log_evidence"]) - log_evidence) / float(evidence["mcse"])
    return z, z_evidence, var / est["mcse"].values ** 2


def assert_calibrated(z, z_evidence):
    """Root mean square near one (1.5 allows for the Student-t spread of replicate errors), none beyond 4.5."""
    assert np.sqrt(np.mean(z**2)) <= 1.5, z
    assert np.abs(z).max() <= 4.5, z
    assert np.all(np.abs(z_evidence) <= 4.5), z_evidence


GROUP_MEAN_SD = 5.0
TAU_PRIORS = {
    "half-normal(5)": (lambda: pm.HalfNormal.dist(sigma=5.0), stats.halfnorm(scale=5.0).logpdf),
    "exponential(0.5)": (lambda: pm.Exponential.dist(lam=0.5), stats.expon(scale=2.0).logpdf),
}


def non_centred(y, se, prior, mu_sd=GROUP_MEAN_SD) -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, mu_sd)
        tau = model.register_rv(prior(), "tau")
        z = pm.Normal("z", 0.0, 1.0, shape=y.size)
        pm.Normal("y", mu + tau * z, se, observed=y)
    return model


def truth_non_centred(y, se, log_prior, mu_sd=GROUP_MEAN_SD):
    """Posterior means and variances of mu and tau and the log evidence, by quadrature over log tau.

    Given tau, y is Gaussian with covariance diag(se^2 + tau^2) + mu_sd^2 11' (mu integrated out).
    """
    log_tau = np.linspace(np.log(1e-3), np.log(60.0), 6001)
    rows = []
    for tau in np.exp(log_tau):
        v = se**2 + tau**2
        s1, sy = np.sum(1 / v), np.sum(y / v)
        log_det = np.sum(np.log(v)) + np.log1p(mu_sd**2 * s1)
        quad = np.sum(y**2 / v) - mu_sd**2 * sy**2 / (1 + mu_sd**2 * s1)
        mu_var = 1 / (1 / mu_sd**2 + s1)
        log_lik = -0.5 * (y.size * np.log(2 * np.pi) + log_det + quad)
        rows.append((log_lik + log_prior(tau) + np.log(tau), sy * mu_var, mu_var, tau))
    log_w = np.array([r[0] for r in rows])
    w = np.exp(log_w - log_w.max())
    log_evidence = np.log(w.sum() * (log_tau[1] - log_tau[0])) + log_w.max()
    w /= w.sum()
    mu_mean, mu_var, tau = (np.array([r[k] for r in rows]) for k in (1, 2, 3))
    mean = np.array([w @ mu_mean, w @ tau])
    var = np.array([w @ (mu_var + mu_mean**2) - mean[0] ** 2, w @ tau**2 - mean[1] ** 2])
    return mean, var, log_evidence


@pytest.mark.parametrize("groups", [12, 30])
def test_a_non_centred_hierarchical_model_under_two_scale_priors(groups):
    """mu and tau under two priors on the group scale, from one sample: right, and precise.

    Given the scale the group effects are Gaussian but their centre and spread move with
    it, which no single Gaussian in d = groups + 2 dimensions follows: at 50 groups a
    Student-t start kept 2 equivalent draws of 20,000 and log evidences 3 units off.
    """
    rng = np.random.default_rng(300 + groups)
    se = rng.uniform(2.0, 6.0, groups)
    y = 2.0 + 3.0 * rng.standard_normal(groups) + se * rng.standard_normal(groups)
    models = {name: non_centred(y, se, prior) for name, (prior, _) in TAU_PRIORS.items()}
    first = models["half-normal(5)"]
    z, z_evidence, equivalent = [], [], []
    for seed in range(2):
        idata = pa.estimate({"mu": first["mu"], "tau": first["tau"]}, models=models, draws=8_000,
                            random_seed=10 * groups + seed, progressbar=False)  # fmt: skip
        assert idata.attrs["posterior_start"] == "mode search and conditional grids along 'tau'"
        for name, (_, log_prior) in TAU_PRIORS.items():
            mean, var, log_evidence = truth_non_centred(y, se, log_prior)
            cell = (idata["estimates"].sel(model=name), idata["evidence"].sel(model=name))
            for found, part in zip((z, z_evidence, equivalent), in_own_errors(*cell, mean, var, log_evidence)):
                found.append(part)
    assert_calibrated(np.concatenate(z), np.array(z_evidence))
    assert np.min(equivalent) >= 300, equivalent


def test_three_laws_two_of_them_alike_along_the_scale():
    """Two priors on tau and a third law with a narrower prior on mu, each with its grid: all three right.

    16 groups, three laws, against quadrature. (Laws alike along the scale share a grid
    only when the budget cannot pay one per law.)
    """
    rng = np.random.default_rng(316)
    se = rng.uniform(2.0, 6.0, 16)
    y = 2.0 + 3.0 * rng.standard_normal(16) + se * rng.standard_normal(16)
    laws = {name: (prior, log_prior, GROUP_MEAN_SD) for name, (prior, log_prior) in TAU_PRIORS.items()}
    laws["narrow mu"] = (*TAU_PRIORS["half-normal(5)"], 1.0)
    models = {name: non_centred(y, se, prior, mu_sd) for name, (prior, _, mu_sd) in laws.items()}
    first = models["half-normal(5)"]
    z, z_evidence, equivalent = [], [], []
    for seed in range(2):
        idata = pa.estimate({"mu": first["mu"], "tau": first["tau"]}, models=models, draws=8_000,
                            random_seed=seed, progressbar=False)  # fmt: skip
        assert idata.attrs["posterior_start"] == "mode search and conditional grids along 'tau'"
        for name, (_, log_prior, mu_sd) in laws.items():
            mean, var, log_evidence = truth_non_centred(y, se, log_prior, mu_sd)
            cell = (idata["estimates"].sel(model=name), idata["evidence"].sel(model=name))
            for found, part in zip((z, z_evidence, equivalent), in_own_errors(*cell, mean, var, log_evidence)):
                found.append(part)
    assert_calibrated(np.concatenate(z), np.array(z_evidence))
    assert np.min(equivalent) >= 300, equivalent


def test_the_start_keeps_a_share_unless_the_user_sets_one():
    """A grid start over 30 groups raises the defensive share; an explicit defensive= or target_share= bounds it."""
    import json

    rng = np.random.default_rng(330)
    se = rng.uniform(2.0, 6.0, 30)
    y = 2.0 + 3.0 * rng.standard_normal(30) + se * rng.standard_normal(30)
    model = non_centred(y, se, TAU_PRIORS["half-normal(5)"][0])

    def defensive(**options):
        idata = pa.estimate({"mu": model["mu"]}, model=model, draws=4_000, random_seed=1, progressbar=False, **options)
        return json.loads(idata.attrs["settings"])["defensive"]

    assert 0.05 < defensive() <= 0.3
    assert defensive(defensive=0.02) == 0.02
    assert defensive(target_share=0.9) < 0.1
