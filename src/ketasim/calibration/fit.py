"""``ketasim calibrate``: one set of clinical-link parameters for all studies.

What is fitted (``FREE``, eight values): the fast and sustained clinical gains, the largest
relative fall of severity, their between-patient spread, the bipolar effect on both gains,
the extra placebo response of a felt comparator, the natural fluctuation of ratings, and the
SD of one between-study random effect. Nothing of the PK, receptor, circuit or signalling
layers is fitted: the literature gives those.

What it is fitted to: the calibration cells (``role: fit``): every count of Table 1 and the
relapse claim of murrough-2013b, as binomial counts. Table 2 and lapidus-2014 stay out as
validation. The likelihood of a study integrates its random effect ``u ~ N(0, tau^2)`` on the
logit scale of all its cells (Gauss-Hermite quadrature), so heterogeneity between studies
(Valentine's 2/10 against Zarate's 12/17) widens intervals without moving any prediction.

Each study is a fixed virtual cohort (:class:`~ketasim.calibration.cohort.Cohort`, common
random numbers): candidate values re-solve only the symptom layer, so a fit takes minutes.
Which patients a cohort enrols depends on the natural fluctuation of the screening rating
(inclusion thresholds select patients rated worse than they are), so ``ketasim calibrate``
screens with the starting value, runs a first pass, screens again with its estimate and fits
from there (:func:`screened_fit`): nothing depends on the calibrated file being replaced.
Parameter uncertainty is a Laplace approximation (the inverse Hessian of the negative
log-likelihood at the optimum, by statsmodels' numerical differentiation) sampled into a
posterior set; identifiability is shown by profile likelihoods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import optimize, special, stats
from statsmodels.tools.numdiff import approx_hess3

from ketasim.calibration.cohort import (
    ClinicalValues,
    Cohort,
    build_many,
    noise_of,
    relapse_survival,
)
from ketasim.trials.spec import TrialSpec
from ketasim.units import parse_time_h


@dataclass(frozen=True)
class Free:
    """A fitted parameter: where it lives, its unit, its search range and transform."""

    name: str
    section: str  # symptoms | population | random_effect
    unit: str
    lower: float
    upper: float
    log: bool
    description: str
    prior: float = 1.0  # prior median (natural scale)
    prior_sd: float = 1.0  # prior SD on the internal (log or natural) scale

    def to_internal(self, value: float) -> float:
        return float(np.log(value)) if self.log else float(value)

    def to_value(self, x: float) -> float:
        v = float(np.exp(x)) if self.log else float(x)
        return float(np.clip(v, self.lower, self.upper))


FREE: tuple[Free, ...] = (
    Free("fast_gain", "symptoms", "dimensionless", 0.3, 60.0, True,
         "fast mood improvement per unit of synaptic drive (typical patient)",
         prior=7.0, prior_sd=1.0),
    Free("sustained_gain", "symptoms", "dimensionless", 0.1, 60.0, True,
         "sustained mood improvement per unit of restored spines (typical patient)",
         prior=5.0, prior_sd=1.0),
    Free("emax", "symptoms", "dimensionless", 0.5, 0.98, False,
         "maximal relative fall of the latent severity",
         prior=0.85, prior_sd=0.07),
    Free("omega_response", "population", "dimensionless", 0.05, 2.5, True,
         "between-patient SD of the log fast and of the log sustained gain",
         prior=0.6, prior_sd=0.5),
    Free("bipolar_gain", "population", "dimensionless", -3.0, 3.0, False,
         "log change of both clinical gains in bipolar depression",
         prior=0.0, prior_sd=0.5),
    Free("placebo_felt_gain", "symptoms", "dimensionless", 0.005, 1.5, True,
         "extra placebo fall when the comparator is felt (sedation, dissociation)",
         prior=0.15, prior_sd=1.0),
    Free("fluctuation_sd", "population", "dimensionless", 0.01, 0.6, True,
         "SD of the natural fluctuation of a patient's severity, relative to its expected value",
         prior=0.15, prior_sd=0.4),
    Free("tau_study", "random_effect", "dimensionless", 0.01, 2.0, True,
         "SD of the between-study random effect on the logit of every outcome rate",
         prior=0.3, prior_sd=1.0),
)  # fmt: skip
#: Why each prior (weakly informative; the fit is maximum a posteriori with them).
PRIOR_REASONS: dict[str, str] = {
    "fast_gain": "centred on the assumed value of data/mechanism/human.yaml, a factor e either way",
    "sustained_gain": "centred on the assumed value, a factor e either way",
    "emax": "remission (HDRS-17 <= 7 from about 25) needs a fall of about 70 %, so the largest "
    "fall is near 85 %; without a prior the gains and emax trade off (profile likelihoods)",
    "omega_response": "response rates of 20-70 % at one dose need a log-SD near 0.6",
    "bipolar_gain": "no known mechanism: centred on no effect, a factor 1.6 either way",
    "placebo_felt_gain": "midazolam's 28 % response at 24 h exceeds saline's",
    "fluctuation_sd": "week-to-week variation of depression ratings in placebo arms is about "
    "15 % of the score; without a prior, noise alone explains response",
    "tau_study": "between-trial heterogeneity of response rates of the order of 0.3 on the logit",
}
#: Gauss-Hermite nodes for the study random effect.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(15)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def study_specs() -> dict[str, TrialSpec]:
    """The shipped study specs (``data/trials/*.yaml``), by name."""
    folder = Path(str(resources.files("ketasim.data") / "trials"))
    specs = [TrialSpec.from_yaml(p) for p in sorted(folder.glob("*.yaml"))]
    return {s.name: s for s in specs}


@dataclass(frozen=True)
class Cell:
    """An observed count: ``k`` of ``n`` for an (arm, endpoint) of a study."""

    study: str
    arm: str
    endpoint: str
    k: int
    n: int
    role: str
    at_days: float | None = None
    overlap: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        at = f" at {self.at_days:g} d" if self.at_days is not None else ""
        return f"{self.study} {self.arm} {self.endpoint}{at}"


def cells(specs: Iterable[TrialSpec]) -> list[Cell]:
    """Every observed count of the specs, with its role (fit or validation)."""
    out = []
    for spec in specs:
        for o in spec.observed:
            if o.k is None or o.n is None:
                continue
            role = o.role or ("fit" if spec.calibration == "fit" else "validation")
            at = parse_time_h(o.at, "observed.at") / 24.0 if o.at else None
            overlap = spec.overlaps if "overlap" in o.note else None
            out.append(Cell(spec.name, o.arm, o.endpoint, o.k, o.n, role, at, overlap, o.note))
    return out


def expected_rates(
    cohorts: dict[str, Cohort], targets: Sequence[Cell], values: ClinicalValues
) -> np.ndarray:
    """Each cell's expected rate under ``values`` (cohort means; no random effect)."""
    out = np.empty(len(targets))
    by_study: dict[str, list[int]] = {}
    for i, c in enumerate(targets):
        by_study.setdefault(c.study, []).append(i)
    for study, rows in by_study.items():
        cohort = cohorts[study]
        severities = [cohort.severities(g, values) for g in cohort.groups]
        means = cohort.expected(values, severities)
        for i in rows:
            c = targets[i]
            if c.at_days is not None:
                out[i] = relapse_survival(
                    cohort, c.endpoint, (c.at_days,), severities, noise_of(values)
                )[c.at_days]
            else:
                out[i] = means[(c.arm, c.endpoint)]
    return np.clip(out, 1e-6, 1.0 - 1e-6)


def binomial_nll(
    p: np.ndarray, k: np.ndarray, n: np.ndarray, studies: np.ndarray, tau: float
) -> float:
    """Negative log-likelihood of counts with a study random effect on the logit scale."""
    logit = special.logit(p)
    total = 0.0
    for s in np.unique(studies):
        rows = studies == s
        # log-likelihood of the study's cells at each quadrature node
        pu = special.expit(logit[rows][:, None] + tau * _NODES[None, :])
        ll = stats.binom.logpmf(k[rows][:, None], n[rows][:, None], pu).sum(axis=0)
        total += special.logsumexp(ll, b=_WEIGHTS)
    return -float(total)


@dataclass
class Problem:
    """The calibration problem: cohorts, the fit cells and the starting values."""

    cohorts: dict[str, Cohort]
    targets: list[Cell]
    start: ClinicalValues
    tau0: float = 0.3
    evaluations: int = 0

    def values(self, x: np.ndarray) -> tuple[ClinicalValues, float]:
        vals = {f.name: f.to_value(xi) for f, xi in zip(FREE, x, strict=True)}
        tau = vals.pop("tau_study")
        return self.start.with_values(vals), tau

    def x0(self) -> np.ndarray:
        cur: dict[str, float] = {}
        for f in FREE:
            if f.section == "symptoms":
                cur[f.name] = float(getattr(self.start.symptoms, f.name))
            elif f.section == "population":
                p = self.start.population
                cur[f.name] = p.effects.get(f.name, p.variability.get(f.name, 0.0))
            else:
                cur[f.name] = self.tau0
        return np.array([f.to_internal(cur[f.name]) for f in FREE])

    def nll(self, x: np.ndarray) -> float:
        self.evaluations += 1
        values, tau = self.values(x)
        p = expected_rates(self.cohorts, self.targets, values)
        k = np.array([c.k for c in self.targets])
        n = np.array([c.n for c in self.targets])
        studies = np.array([c.study for c in self.targets])
        value = binomial_nll(p, k, n, studies, tau)
        # keep the search inside the bounds (the transforms clip; this breaks the ties)
        penalty = sum(
            (xi - np.clip(xi, f.to_internal(f.lower), f.to_internal(f.upper))) ** 2
            for f, xi in zip(FREE, x, strict=True)
        )
        prior = sum(
            0.5 * ((xi - f.to_internal(f.prior)) / f.prior_sd) ** 2
            for f, xi in zip(FREE, x, strict=True)
        )
        return value + float(prior) + 100.0 * float(penalty)

    def likelihood_only(self, x: np.ndarray) -> float:
        """The negative log-likelihood without priors (for the goodness of fit)."""
        values, tau = self.values(x)
        p = expected_rates(self.cohorts, self.targets, values)
        k = np.array([c.k for c in self.targets])
        n = np.array([c.n for c in self.targets])
        studies = np.array([c.study for c in self.targets])
        return binomial_nll(p, k, n, studies, tau)


@dataclass
class CalibrationResult:
    estimates: dict[str, float]
    x: np.ndarray
    nll: float
    covariance: np.ndarray
    posterior: list[dict[str, float]]
    fit_cells: list[dict[str, Any]]
    gof: dict[str, float]
    profiles: dict[str, list[dict[str, float]]]
    evaluations: int
    seed: int
    replicates: dict[str, int]
    elapsed_s: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)


def build_cohorts(
    specs: Iterable[TrialSpec],
    patients_per_study: int,
    seed: int,
    mapper: Callable[..., Iterable[Any]] = map,
    screening_sd: float | None = None,
) -> dict[str, Cohort]:
    """A virtual cohort of about ``patients_per_study`` patients per study.

    ``screening_sd``: the fluctuation of the screening rating that decides inclusion (default:
    the value in use). A calibration passes its starting value, so that the patients it fits
    do not depend on the calibrated file it is about to replace."""
    studies = [
        (spec, max(1, int(np.ceil(patients_per_study / spec.population.size)))) for spec in specs
    ]
    return {c.spec.name: c for c in build_many(studies, seed, mapper, screening_sd)}


def fit(
    problem: Problem,
    seed: int,
    posterior_draws: int = 200,
    profile_points: int = 4,
    progress: Callable[[str], None] | None = None,
    max_evaluations: int = 800,
) -> CalibrationResult:
    """Maximum likelihood, Laplace uncertainty, profiles and goodness of fit."""
    say = progress or (lambda _msg: None)
    x0 = problem.x0()
    say("optimising")
    options = _nelder_mead_options(max_evaluations)
    res = optimize.minimize(problem.nll, x0, method="Nelder-Mead", options=options)
    # Nelder-Mead is restarted from its end point, a standard guard against a collapsed simplex
    res = optimize.minimize(problem.nll, res.x, method="Nelder-Mead", options=options)
    x_hat = np.asarray(res.x)
    nll_hat = float(res.fun)
    say("profiles")
    cov = _covariance(approx_hess3(x_hat, problem.nll, epsilon=1e-2))
    profiles, better = _profiles(problem, x_hat, nll_hat, cov, profile_points)
    if better is not None and better[0] < nll_hat - 1e-2:
        say("a profile found a better point: optimising again from it")
        res = optimize.minimize(problem.nll, better[1], method="Nelder-Mead", options=options)
        shift = nll_hat - float(res.fun)
        x_hat, nll_hat = np.asarray(res.x), float(res.fun)
        for rows in profiles.values():
            for row in rows:
                row["delta_nll"] += shift
    say("uncertainty")
    cov = _covariance(approx_hess3(x_hat, problem.nll, epsilon=1e-2))
    rng = np.random.default_rng([seed, 9001])
    draws = rng.multivariate_normal(x_hat, cov, size=posterior_draws, method="eigh")
    posterior = [
        {f.name: round(f.to_value(xi), 6) for f, xi in zip(FREE, d, strict=True)} for d in draws
    ]
    values, tau = problem.values(x_hat)
    p = expected_rates(problem.cohorts, problem.targets, values)
    fit_cells, gof = _goodness(problem.targets, p, tau, len(FREE))
    estimates = {f.name: f.to_value(xi) for f, xi in zip(FREE, x_hat, strict=True)}
    reps = {name: len(c.groups) for name, c in problem.cohorts.items()}
    gof["neg_log_likelihood"] = problem.likelihood_only(x_hat)
    return CalibrationResult(
        estimates,
        x_hat,
        nll_hat,
        cov,
        posterior,
        fit_cells,
        gof,
        profiles,
        problem.evaluations,
        seed,
        reps,
    )


def _nelder_mead_options(max_evaluations: int) -> dict[str, Any]:
    return {"maxfev": max_evaluations, "xatol": 1e-3, "fatol": 1e-3, "adaptive": True}


def screened_fit(
    specs: Sequence[TrialSpec],
    targets: list[Cell],
    patients_per_study: int,
    seed: int,
    mapper: Callable[..., Iterable[Any]] = map,
    max_evaluations: int = 800,
    progress: Callable[[str], None] | None = None,
    **fit_options: Any,
) -> tuple[Problem, CalibrationResult]:
    """The calibration with its inclusion screening: cohorts screened with the starting
    fluctuation, one Nelder-Mead pass, cohorts screened again with its estimate, and the full
    :func:`fit` from there (the two screening values are recorded in the result).

    Inclusion screening (regression to the mean) depends on the natural fluctuation being
    fitted, but a cohort is simulated once; screening with the calibrated file in place would
    make the fit depend on the run it replaces."""
    say = progress or (lambda _msg: None)
    start = ClinicalValues.uncalibrated()
    screening = [start.population.variability["fluctuation_sd"]]
    say(f"first pass (inclusion screened with fluctuation SD {screening[0]:.3f})")
    first = Problem(
        build_cohorts(specs, patients_per_study, seed, mapper, screening[0]), targets, start
    )
    options = _nelder_mead_options(max_evaluations)
    res = optimize.minimize(first.nll, first.x0(), method="Nelder-Mead", options=options)
    values, tau = first.values(np.asarray(res.x))
    screening.append(values.population.variability["fluctuation_sd"])
    say(f"screening again with fluctuation SD {screening[1]:.3f}")
    cohorts = build_cohorts(specs, patients_per_study, seed, mapper, screening[1])
    problem = Problem(cohorts, targets, values, tau0=tau)
    result = fit(problem, seed, progress=say, max_evaluations=max_evaluations, **fit_options)
    result.evaluations += first.evaluations
    result.extras["screening_fluctuation_sd"] = [round(s, 6) for s in screening]
    return problem, result


def _covariance(hess: np.ndarray) -> np.ndarray:
    """Inverse Hessian, with non-positive curvature floored (an unidentified direction gets
    a wide, not a negative, variance)."""
    w, v = np.linalg.eigh((hess + hess.T) / 2.0)
    w = np.maximum(w, 1e-3)
    return np.asarray((v / w) @ v.T)


def _profiles(
    problem: Problem, x_hat: np.ndarray, nll_hat: float, cov: np.ndarray, points: int
) -> tuple[dict[str, list[dict[str, float]]], tuple[float, np.ndarray] | None]:
    """Profile of each parameter over +-2 Laplace SDs: the others re-fitted from the optimum
    by Nelder-Mead with at most 40 evaluations (a coarse profile: an upper bound on it). Also
    the best point any profile reached (a check that the search found the optimum)."""
    out: dict[str, list[dict[str, float]]] = {}
    best: tuple[float, np.ndarray] | None = None
    if points <= 0:
        return out, best
    sd = np.sqrt(np.diag(cov))
    for j, f in enumerate(FREE):
        rows = []
        for step in np.linspace(-2.0, 2.0, points):
            if step == 0:
                continue
            xj = x_hat[j] + step * min(sd[j], 1.5)
            others = np.delete(x_hat, j)

            def sub(o: np.ndarray, j: int = j, xj: float = xj) -> float:
                return problem.nll(np.insert(o, j, xj))

            r = optimize.minimize(
                sub,
                others,
                method="Nelder-Mead",
                options={"maxfev": 40, "adaptive": True},
            )
            rows.append({"value": f.to_value(xj), "delta_nll": float(r.fun - nll_hat)})
            if best is None or r.fun < best[0]:
                best = (float(r.fun), np.insert(np.asarray(r.x), j, xj))
        rows.append({"value": f.to_value(x_hat[j]), "delta_nll": 0.0})
        out[f.name] = sorted(rows, key=lambda r: r["value"])
    return out, best


def _goodness(
    targets: Sequence[Cell], p: np.ndarray, tau: float, n_params: int
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Pearson chi-square of the fitted model over the fit cells.

    Under the model a cell's count has the marginal mean ``n m`` and variance
    ``n m (1 - m) + n (n - 1) v``, where ``m`` and ``v`` are the mean and variance of
    ``expit(logit p + u)`` over the random effect (Gauss-Hermite); the statistic is referred
    to chi-square with cells minus fitted parameters degrees of freedom. The statistic without
    the random effect (``pearson_chi2_no_re``) is reported beside it.
    """
    k = np.array([c.k for c in targets], dtype=float)
    n = np.array([c.n for c in targets], dtype=float)
    pu = special.expit(special.logit(p)[:, None] + tau * _NODES[None, :])
    m = pu @ _WEIGHTS
    v = (pu**2) @ _WEIGHTS - m**2
    pearson = (k - n * m) ** 2 / (n * m * (1.0 - m) + n * (n - 1.0) * v)
    plain = (k - n * p) ** 2 / (n * p * (1.0 - p))
    rows = [
        {
            "cell": c.label,
            "k": c.k,
            "n": c.n,
            "observed": round(c.k / c.n, 4),
            "predicted": round(float(pi), 4),
            "pearson": round(float(x), 3),
        }
        for c, pi, x in zip(targets, p, pearson, strict=True)
    ]
    dof = len(targets) - n_params
    chi2 = float(pearson.sum())
    return rows, {
        "pearson_chi2": chi2,
        "dof": float(dof),
        "p_value": float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan"),
        "pearson_chi2_no_re": float(plain.sum()),
        "cells": float(len(targets)),
    }


def write(
    result: CalibrationResult,
    path: Path,
    command: str,
    covariates: dict[str, float] | None = None,
    betas: dict[str, dict[str, float]] | None = None,
) -> None:
    """Write the fitted set with its provenance (``data/calibrated/human.yaml``).

    ``covariates``: covariate effects fitted to Niciu 2014's betas
    (:mod:`ketasim.calibration.covariates`), with the betas reached (``betas``)."""
    today = dt.date.today().isoformat()
    run_id = f"ketasim-calibrate-{today}"
    params: dict[str, dict[str, Any]] = {}
    for name, value in (covariates or {}).items():
        params.setdefault("population", {})[name] = {
            "value": round(value, 6),
            "unit": "dimensionless",
            "description": f"covariate effect {name} (log change of a clinical gain)",
            "source": run_id,
            "kind": "calibrated",
        }
    for f in FREE:
        section = "population" if f.section == "random_effect" else f.section
        params.setdefault(section, {})[f.name] = {
            "value": round(result.estimates[f.name], 6),
            "unit": f.unit,
            "description": f.description,
            "source": run_id,
            "kind": "calibrated",
        }
    sd = np.sqrt(np.diag(result.covariance))
    doc = {
        "run": {
            "command": command,
            "seed": result.seed,
            "date": today,
            "objective": "negative log-posterior: binomial likelihood of the fit cells with a "
            "between-study random effect (Gauss-Hermite), plus the weakly informative priors "
            "of calibration/fit.py (PRIOR_REASONS)",
            "priors": {
                f.name: {"median": f.prior, "sd_internal_scale": f.prior_sd, "log": f.log}
                for f in FREE
            },
            "objective_value": round(result.nll, 4),
            "evaluations": result.evaluations,
            "elapsed_s": round(result.elapsed_s, 1),
            "cohort_chunks": result.replicates,
            "goodness_of_fit": {k: round(v, 4) for k, v in result.gof.items()},
            "log_scale_sd": {f.name: round(float(s), 4) for f, s in zip(FREE, sd, strict=True)},
            "per_target": result.fit_cells,
            "profiles": result.profiles,
            "covariate_betas": betas or {},
            **result.extras,
        },
        "parameters": params,
        "posterior": result.posterior,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Written by `ketasim calibrate` (src/ketasim/calibration/fit.py). Do not edit by hand:\n"
        "# run the command in `run.command` to repeat the fit.\n"
    )
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")


__all__ = [
    "FREE",
    "Cell",
    "Problem",
    "build_cohorts",
    "cells",
    "fit",
    "screened_fit",
    "study_specs",
    "write",
]
