"""A fixed virtual cohort for a study, and its expected outcomes under clinical-link values.

Calibration must evaluate many candidate values of a few clinical-link parameters (the gains
of the symptom layer, their between-patient spread, the felt placebo, the bipolar effect).
None of them acts upstream of the symptom layer: receptor, circuit, signalling and synapse
do not read symptom states. So a cohort is simulated once with the full model (common random
numbers: the same patients, the same PK draws), and each candidate re-solves only the symptom
layer, whose equations are linear in their states given the upstream signals::

    fast_i(t)  = fast_gain_i * Fbar_i(t)            (Fbar: the fast state at unit gain)
    dD_k/dt    = (D0_k (1 - E_k(t)) (1 - placebo fall(t)) - D_k) / tau_k

Each severity is the output of a first-order linear system driven by a piecewise-linear
target, solved exactly on the cohort's grid by SciPy's first-order-hold discretisation
(``scipy.signal.cont2discrete``, ``method="foh"``) and ``scipy.signal.lfilter``. A test checks
that the re-solved scores equal the full model's.

Outcome probabilities integrate the rating error analytically: with ratings ``s + sigma z``,
P(response at t) = Phi((0.5 s0 - s_t) / (sigma sqrt(1.25))) and P(remission, score <= c) =
Phi((c + 0.5 - s_t) / sigma) (ratings are rounded to whole points), so the expected rate of a
cohort is smooth in the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, stats

from ketasim.data import load_mechanism
from ketasim.model import Mechanism
from ketasim.population import PopulationParams, individual_parameters
from ketasim.population.covariates import DIMENSIONS
from ketasim.symptoms import SymptomParams
from ketasim.symptoms.scales import Scale, load_scales
from ketasim.symptoms.severity import MOOD_COUPLING
from ketasim.trials.runner import _course, _stop_rule_doses, allocate, enroll, simulate_course
from ketasim.trials.spec import Endpoint, TrialSpec

#: Grid step of a cohort (h): 10 min, a divisor of every visit time the studies use.
STEP_H = 1.0 / 6.0
#: Patients per simulation chunk (fixed by the job, not by the number of workers).
CHUNK = 256


@dataclass(frozen=True)
class ClinicalValues:
    """The values a calibration varies (symptom constants and population spread)."""

    symptoms: SymptomParams
    population: PopulationParams

    @classmethod
    def current(cls) -> ClinicalValues:
        """The values in use (calibrated where a calibration has been run)."""
        return cls(Mechanism.load("human").symptoms, PopulationParams.load())

    @classmethod
    def uncalibrated(cls) -> ClinicalValues:
        """The data files' own values: where every calibration starts, so a fit does not
        depend on the one before it."""
        spec = load_mechanism("human", calibrated=False)["symptoms"]
        return cls(SymptomParams.from_spec(spec), PopulationParams.load(calibrated=False))

    def with_values(self, values: dict[str, float]) -> ClinicalValues:
        sym = {k: v for k, v in values.items() if k in SymptomParams.__dataclass_fields__}
        pop = {k: v for k, v in values.items() if k not in sym}
        return ClinicalValues(replace(self.symptoms, **sym), self.population.with_values(pop))


@dataclass
class Group:
    """Patients with the same course: upstream signals on the grid, their periods."""

    patients: pd.DataFrame
    periods: dict[str, tuple[float, float]]  # arm -> (start, final dose start), h
    t_h: np.ndarray
    fbar: np.ndarray  # fast state at unit gain (patients, times)
    restoration: np.ndarray
    surge: np.ndarray  # glutamate surge - 1
    placebo: np.ndarray
    felt: np.ndarray


@dataclass
class Cohort:
    """A study's virtual cohort (many replicate trials' patients), simulated once."""

    spec: TrialSpec
    groups: list[Group]
    seed: int

    @classmethod
    def build(
        cls,
        spec: TrialSpec,
        replicates: int,
        seed: int = 0,
        mapper: Callable[..., Iterable[Group]] = map,
        screening_sd: float | None = None,
    ) -> Cohort:
        """Enrol ``replicates`` trials' worth of patients and simulate them once.

        Patients are simulated in chunks of ``CHUNK`` fixed by the job (``mapper`` may run the
        chunks anywhere, e.g. on Dask workers: the result is the same). ``screening_sd``: the
        fluctuation of the screening rating (:func:`~ketasim.trials.runner.enroll`)."""
        return build_many([(spec, replicates)], seed, mapper, screening_sd)[0]

    def severities(self, g: Group, values: ClinicalValues) -> dict[str, np.ndarray]:
        """Latent severities of a group's patients on its grid under ``values``."""
        p = values.symptoms
        ind = individual_parameters(g.patients, values.population)
        fast_gain = (p.fast_gain * ind.fast_gain_factor)[:, None]
        sustained_gain = (p.sustained_gain * ind.sustained_gain_factor)[:, None]
        placebo_max = np.minimum(p.placebo_max * ind.placebo_factor, 0.9)[:, None]
        felt_gain = (p.placebo_felt_gain * ind.placebo_factor)[:, None]
        fast = fast_gain * g.fbar
        x = np.maximum(fast, 0.0) + sustained_gain * np.maximum(g.restoration, 0.0)
        e_mood = p.emax * x / (1.0 + x)
        direct_x = np.maximum(fast, 0.0) + fast_gain * np.maximum(g.surge, 0.0)
        e_direct = p.emax * direct_x / (1.0 + direct_x)
        fall = (placebo_max + felt_gain * g.felt) * g.placebo
        out = {}
        for k, dim in enumerate(DIMENSIONS):
            effect = MOOD_COUPLING[dim] * e_mood
            tau = p.tau_severity_h
            if dim == "suicidal_ideation":
                s = p.suicidal_direct_share
                effect = (1.0 - s) * e_mood + s * e_direct
                tau = p.tau_suicidal_h
            base = ind.baseline_severity[:, k][:, None]
            target = base * (1.0 - effect) * (1.0 - fall)
            out[dim] = _first_order(target, tau, STEP_H, base[:, 0])
        return out

    def expected(
        self, values: ClinicalValues, severities: list[dict[str, np.ndarray]] | None = None
    ) -> dict[tuple[str, str], float]:
        """Expected value of every (arm, endpoint) of the spec: a rate (over rating error) or
        a mean; ``pooled`` over all arms too. ``severities``: already solved, per group."""
        sums: dict[tuple[str, str], list[np.ndarray]] = {}
        if severities is None:
            severities = [self.severities(g, values) for g in self.groups]
        noise = noise_of(values)
        for g, sev in zip(self.groups, severities, strict=True):
            for arm, (start, final) in g.periods.items():
                for e in self.spec.endpoints:
                    v = _endpoint(e, self.spec, g, sev, start, final, noise)
                    if v is None:
                        continue
                    sums.setdefault((arm, e.name), []).append(v)
                    if self.spec.design.type in ("parallel", "open-label"):
                        sums.setdefault(("pooled", e.name), []).append(v)
        return {key: float(np.mean(np.concatenate(vs))) for key, vs in sums.items()}


def cohort_jobs(
    spec: TrialSpec, replicates: int, seed: int, screening_sd: float | None = None
) -> list[tuple[Any, ...]]:
    """The simulation tasks of a study's cohort: chunks of patients sharing a course."""
    patients = allocate(spec, enroll(spec, replicates, seed, screening_sd), seed)
    doses = _stop_rule_doses(spec, patients, seed)
    patients["doses"] = [
        doses.get(int(pid), {}).get(arm, spec.arm(arm).doses)
        for pid, arm in zip(patients["patient"], patients["arm"], strict=True)
    ]
    jobs: list[tuple[Any, ...]] = []
    for (first, n_doses), group in patients.groupby(["arm", "doses"], sort=True):
        for start in range(0, len(group), CHUNK):
            chunk = group.iloc[start : start + CHUNK]
            jobs.append((spec, chunk, str(first), int(str(n_doses)), seed))
    return jobs


def build_many(
    studies: list[tuple[TrialSpec, int]],
    seed: int,
    mapper: Callable[..., Iterable[Group]] = map,
    screening_sd: float | None = None,
) -> list[Cohort]:
    """Cohorts of several studies, their chunks mapped together (so workers stay busy)."""
    jobs = [cohort_jobs(spec, reps, seed, screening_sd) for spec, reps in studies]
    flat = [job for js in jobs for job in js]
    groups = list(mapper(simulate_group, *zip(*flat, strict=True)))
    out, start = [], 0
    for (spec, _), js in zip(studies, jobs, strict=True):
        out.append(Cohort(spec, groups[start : start + len(js)], seed))
        start += len(js)
    return out


def simulate_group(
    spec: TrialSpec, group: pd.DataFrame, first: str, n_doses: int, seed: int
) -> Group:
    """Simulate one chunk of patients who share a course, with the full model."""
    course = _course(spec, first, {first: n_doses})
    t = np.arange(0.0, course.end_h + STEP_H / 2, STEP_H)
    return group_signals(simulate_course(course, group, seed, t), group, course.periods, t)


def group_signals(
    res: Any, patients: pd.DataFrame, periods: dict[str, tuple[float, float]], t: np.ndarray
) -> Group:
    """The upstream signals the symptom layer reads, from a full-model result on grid ``t``.

    Copies, not views: a view of one column keeps the whole state array or time-course block
    alive (tens of times the group's own arrays) for as long as the group lives.
    """
    names, y, tc = res.state_names, res.states, res.timecourse
    ind = individual_parameters(patients, PopulationParams.load())
    gain = Mechanism.load("human").symptoms.fast_gain * ind.fast_gain_factor
    n, m = len(patients), t.size
    return Group(
        patients=patients.reset_index(drop=True),
        periods=periods,
        t_h=t,
        fbar=y[..., names.index("fast_drive")] / gain[:, None],
        restoration=tc["spine_restoration_fraction"].to_numpy().reshape(n, m).copy(),
        surge=tc["glutamate_surge_rel"].to_numpy().reshape(n, m) - 1.0,
        placebo=y[..., names.index("placebo_effect")].copy(),
        felt=y[..., names.index("placebo_felt")].copy(),
    )


def _first_order(target: np.ndarray, tau_h: float, dt_h: float, y0: np.ndarray) -> np.ndarray:
    """Exact solution of dy/dt = (target - y)/tau for a target linear between grid points
    (rows: patients), by SciPy's first-order-hold discretisation."""
    b, a, _ = signal.cont2discrete(([1.0], [tau_h, 1.0]), dt_h, method="foh")
    b = np.ravel(b)
    zi = signal.lfilter_zi(b, a)
    # start from the steady state at y0 (the untreated patient is at equilibrium)
    y, _ = signal.lfilter(b, a, target, axis=1, zi=zi[None, :] * y0[:, None])
    return np.asarray(y)


def _scale_scores(scale: Scale, sev: dict[str, np.ndarray]) -> np.ndarray:
    return scale.score(sev)


def _at(g: Group, t_h: float) -> int:
    return round(t_h / STEP_H)


Noise = tuple[float, float]  # natural fluctuation: relative SD and correlation time (h)


def noise_of(values: ClinicalValues) -> Noise:
    v = values.population.variability
    return float(v["fluctuation_sd"]), float(v["fluctuation_tau_h"])


def p_response(
    s0: np.ndarray, st: np.ndarray, dt_h: float, sigma: float, noise: Noise
) -> np.ndarray:
    """P(rating at t <= half the baseline rating): both ratings are ``s (1 + eps) + e`` with
    rating error ``e`` (SD ``sigma``) and fluctuations ``eps`` correlated by exp(-dt/tau)."""
    sd_f, tau = noise
    rho = np.exp(-abs(dt_h) / tau)
    var = sd_f**2 * (st**2 + 0.25 * s0**2 - rho * st * s0) + 1.25 * sigma**2
    return np.asarray(stats.norm.cdf((0.5 * s0 - st) / np.sqrt(var)))


def p_remission(st: np.ndarray, scale: Scale, noise: Noise) -> np.ndarray:
    """P(rating at or below the remission threshold; ratings are whole points)."""
    c = scale.remission_value - (1.0 if scale.remission_operator == "<" else 0.0)
    sd = np.sqrt(scale.measurement_error_sd**2 + (noise[0] * st) ** 2)
    return np.asarray(stats.norm.cdf((c + 0.5 - st) / sd))


def _endpoint(
    e: Endpoint,
    spec: TrialSpec,
    g: Group,
    sev: dict[str, np.ndarray],
    start: float,
    final: float,
    noise: Noise,
) -> np.ndarray | None:
    """Each patient's expected value of endpoint ``e`` (a probability for rates)."""
    name = e.scale or spec.scale
    scale = load_scales()[name]
    s = _scale_scores(scale, sev)
    ref = final if e.after == "final" else start
    s0 = s[:, _at(g, start)]
    if e.type in ("response", "remission", "change", "score"):
        t = ref + e.time_h
        st = s[:, _at(g, t)]
        if e.type == "response":
            return p_response(s0, st, t - start, scale.measurement_error_sd, noise)
        if e.type == "remission":
            return p_remission(st, scale, noise)
        return st - s0 if e.type == "change" else st
    return None  # relapse_time: see relapse_survival; peaks are not fitted


def relapse_survival(
    cohort: Cohort,
    endpoint: str,
    days: tuple[float, ...],
    severities: list[dict[str, np.ndarray]],
    noise: Noise,
) -> dict[float, float]:
    """Among expected responders at the endpoint's time after the final dose, the expected
    share still in response ``days`` after the final dose (the probability of response at
    that day, weighted by the probability of response at the start; ``severities`` per
    group, from :meth:`Cohort.severities`)."""
    e = cohort.spec.endpoint(endpoint)
    scale = load_scales()[e.scale or cohort.spec.scale]
    sigma = scale.measurement_error_sd
    num = dict.fromkeys(days, 0.0)
    den = 0.0
    for g, sev in zip(cohort.groups, severities, strict=True):
        s = _scale_scores(scale, sev)
        for start, final in g.periods.values():
            s0 = s[:, _at(g, start)]
            t0 = final + e.time_h
            p0 = p_response(s0, s[:, _at(g, t0)], t0 - start, sigma, noise)
            den += float(p0.sum())
            for d in days:
                t = final + 24.0 * d
                p_d = p_response(s0, s[:, _at(g, t)], t - start, sigma, noise)
                num[d] += float((p0 * p_d).sum())
    return {d: num[d] / den if den > 0 else float("nan") for d in days}


def describe(cohort: Cohort) -> dict[str, Any]:
    return {
        "study": cohort.spec.name,
        "patients": int(sum(len(g.patients) for g in cohort.groups)),
        "groups": len(cohort.groups),
    }


__all__ = ["ClinicalValues", "Cohort", "noise_of", "p_remission", "p_response", "relapse_survival"]
