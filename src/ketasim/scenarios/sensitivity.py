"""Scenario 6, global sensitivity: which parameters decide 24-h response, 1-week response and
time to relapse after one 0.5 mg/kg infusion of racemic ketamine over 40 min?

Variance-based (Sobol) indices with SALib: a scrambled Sobol sequence of ``N (D + 2)``
parameter sets (Saltelli's scheme without second-order terms, ``SALib.sample.sobol``), each
evaluated on one fixed virtual cohort of drug-free patients with treatment-resistant
depression (common random numbers: the same patients, PK draws and random effects for every
set), and ``SALib.analyze.sobol`` for first-order (``S1``) and total (``ST``) indices with
bootstrap confidence intervals.

Outputs are expected values over rating error and natural fluctuation (smooth in the
parameters, no count noise), as in :mod:`ketasim.calibration.cohort`:

* 24-h and 1-week response: the cohort's mean probability of a MADRS fall of at least half;
* time to relapse: each patient's time until the expected MADRS rises above half its
  baseline again after 24 h (no rating noise; censored at the end of follow-up), averaged
  over patients weighted by their probability of responding at 24 h (a restricted mean).

Two kinds of parameter are varied. The calibrated clinical-link parameters range over the
central 95 % of their posterior draws (``data/calibrated/human.yaml``), on the log scale
where the fit's prior was log-normal; the mechanistic ones (receptor, cascade, spines,
tolerance) over a stated factor of their literature or assumed value, log-uniformly. A dummy
parameter that the model never reads (SALib practice for a noise floor) checks the
bookkeeping: with a deterministic model its column swaps change no output, so its indices
must come out zero; the bootstrap intervals of the others are the estimator's noise.

The clinical-link parameters act only in the symptom layer, so a set's outcome is the
upstream simulation of its mechanistic values (the full model) followed by a re-solve of the
symptom layer (:meth:`~ketasim.calibration.cohort.Cohort.severities`). Sets that share their
mechanistic values (in Saltelli's scheme every column swap of a clinical parameter) share one
upstream simulation. The distinct mechanistic points are sent to ``settings.run_map`` in
equal tasks of at most :data:`MAX_POINTS_PER_TASK` points, fixed by the design and never by
the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from ketasim.calibration.cohort import STEP_H, ClinicalValues, Cohort, Group, p_response
from ketasim.data import load_drug, load_mechanism
from ketasim.data.library import load_calibration_run
from ketasim.engine.solve import SolveOptions, integrate
from ketasim.model import ChainModel, Mechanism, build_chain
from ketasim.population import PopulationParams, individual_parameters
from ketasim.population.individual import population_parameters
from ketasim.receptor.block import TRAPPING_WASHOUT_S, Blocker
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials.runner import _course, allocate, enroll
from ketasim.trials.spec import TrialSpec

DRUG = "ketamine-racemic"
DOSE = "0.5 mg/kg"
OVER = "40 min"
SCALE = "MADRS"
#: Follow-up after the infusion (days): relapse is censored here.
FOLLOWUP_D, QUICK_FOLLOWUP_D = 28, 14
#: Cohort size: ``min(settings.patients, COHORT_MAX)`` (each set costs a cohort simulation).
COHORT_MAX, QUICK_COHORT_MAX = 16, 10
#: At most this many distinct mechanistic points per task sent to the workers; the points are
#: split into equal tasks fixed by the design, never by the number of workers. A task solves
#: its points x patients as one batch (the right-hand side's cost is mostly per call, so a
#: batch of 16 points costs about a third more than one of 8).
MAX_POINTS_PER_TASK = 16
#: Solver tolerances of the upstream simulations, looser than the engine's default (1e-6):
#: on a check of eight points they moved the expected rates by under 1e-4 and the times to
#: relapse by under 0.01 d against 1e-6, far below the spread the indices decompose, at a
#: fifth of the cost.
SOLVER = SolveOptions(rtol=1e-4, atol=1e-7, chunk_size=1_000_000)
#: Bootstrap resamples of SALib's confidence intervals (95 %).
RESAMPLES = 200
DUMMY = "dummy"
OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("response_24h", "24-h response", "share of patients"),
    ("response_7d", "1-week response", "share of patients"),
    ("relapse_days", "time to relapse among 24-h responders", "d"),
)
DUMMY_NOTE = (
    "a parameter the model never reads: its indices must be zero (swapping its column "
    "changes no output), so any other value would show mixed-up columns"
)


@dataclass(frozen=True)
class Factor:
    """One varied parameter: ``low``-``high`` in its own unit, log-uniform if ``log``."""

    name: str
    layer: str  # receptor, signalling, synapse, symptoms, population, none
    kind: str  # calibrated, literature, derived, assumed, dummy
    nominal: float
    unit: str
    low: float
    high: float
    log: bool
    basis: str
    description: str

    def value(self, u: np.ndarray) -> np.ndarray:
        """Values for unit-interval coordinates ``u``."""
        if self.log:
            return np.asarray(self.low * (self.high / self.low) ** u)
        return np.asarray(self.low + (self.high - self.low) * u)


#: Mechanistic parameters, name -> (layer, unit, description): a field of that layer's
#: constants, or (``nmda_affinity``, ``trapping_escape``) a factor on the drug's blockers. Each
#: varies log-uniformly over FACTOR_RANGE times its value.
MECHANISTIC: dict[str, tuple[str, str, str]] = {
    "nmda_affinity": (
        "receptor",
        "dimensionless",
        "factor on the NMDA affinity of ketamine and norketamine (pore on-rate and "
        "closed-channel 1/IC50)",
    ),
    "trapping_escape": (
        "receptor",
        "dimensionless",
        "factor on the escape rate from closed channels (less trapping above 1)",
    ),
    "k_release": ("signalling", "1/h", "activity-dependent BDNF release per unit AMPA drive"),
    "mtor_k": ("signalling", "dimensionless", "Akt activity half-activating mTORC1"),
    "formation_gain": (
        "synapse",
        "dimensionless",
        "extra spine formation per unit of synaptic protein above baseline",
    ),
    "tau_mature_loss_h": (
        "synapse",
        "h",
        "loss of restored mushroom spines (spine elimination, relapse)",
    ),
    "tolerance_gain_efficacy": (
        "synapse",
        "dimensionless",
        "homeostatic tolerance acting on the synaptic drive",
    ),
}
FACTOR_RANGE = (0.5, 2.0)
#: Calibrated clinical-link parameters varied (bipolar_gain is not read by an MDD cohort and
#: tau_study is a between-study effect, not part of one cohort's expected outcome).
CLINICAL: tuple[str, ...] = (
    "fast_gain",
    "sustained_gain",
    "emax",
    "omega_response",
    "placebo_felt_gain",
    "fluctuation_sd",
)
QUICK_MECHANISTIC = ("nmda_affinity", "formation_gain")
QUICK_CLINICAL = ("fast_gain", "sustained_gain")


def design(size: int = COHORT_MAX) -> TrialSpec:
    """The virtual cohort's protocol: one open-label infusion, MADRS, four weeks."""
    return TrialSpec.from_mapping(
        {
            "name": "sensitivity-single-infusion",
            "source": "ketasim-scenario-sensitivity",
            "description": "One 0.5 mg/kg infusion over 40 min in drug-free TRD.",
            "population": {
                "size": size,
                "covariates": {"comedication": {"none": 1.0}},
                "inclusion": {"scale": SCALE, "min": 22},
            },
            "design": {"type": "open-label"},
            "arms": [
                {
                    "name": "ketamine",
                    "drug": DRUG,
                    "dose": DOSE,
                    "route": "iv-infusion",
                    "over": OVER,
                }
            ],
            "scale": SCALE,
            "followup": f"{FOLLOWUP_D} d",
            "endpoints": [
                {"name": "response_24h", "type": "response", "time": "24 h"},
                {"name": "response_7d", "type": "response", "time": "7 d"},
            ],
        }
    )


def _mechanistic_nominal(mech: Mechanism, name: str) -> tuple[float, str]:
    """A mechanistic parameter's value in use and its kind (factors are 1 by definition)."""
    layer = MECHANISTIC[name][0]
    if name in ("nmda_affinity", "trapping_escape"):
        return 1.0, "literature"
    spec = load_mechanism("human")[layer][name]
    return float(getattr(getattr(mech, layer), name)), str(spec.kind)


def _drug_note(name: str) -> str:
    """What a factor of 1 means in the drug file's own terms."""
    ph = load_drug(DRUG).pharmacology
    blocker = Blocker.from_drug(load_drug(DRUG))
    assert blocker is not None
    if name == "nmda_affinity":
        return (
            f"; at 1: kon {blocker.kon_per_m_s:.3g} 1/M/s, koff {blocker.koff_per_s:g} 1/s, "
            f"Kd {blocker.kd_um:.3g} uM at -70 mV ({ph['kon'].source})"
        )
    if name == "trapping_escape":

        def trapped(factor: float) -> str:
            share = np.exp(-blocker.k_esc_per_s * factor * TRAPPING_WASHOUT_S)
            return f"{100 * share:.0f} %"

        lo, hi = FACTOR_RANGE
        return (
            f"; trapped after {TRAPPING_WASHOUT_S:g} s washout: {trapped(1.0)} at 1 "
            f"({ph['trapped_fraction'].source}), {trapped(lo)} at {lo:g}, {trapped(hi)} at {hi:g}"
        )
    return ""


def factors(quick: bool) -> list[Factor]:
    """The varied parameters with their ranges (quick: a few of each kind)."""
    mech = Mechanism.load("human")
    out: list[Factor] = []
    lo_f, hi_f = FACTOR_RANGE
    for name in QUICK_MECHANISTIC if quick else tuple(MECHANISTIC):
        layer, unit, description = MECHANISTIC[name]
        nominal, kind = _mechanistic_nominal(mech, name)
        description += _drug_note(name)
        out.append(
            Factor(
                name,
                layer,
                kind,
                nominal,
                unit,
                nominal * lo_f,
                nominal * hi_f,
                True,
                f"{lo_f:g}x-{hi_f:g}x its {kind} value, log-uniform",
                description,
            )
        )
    out += _clinical_factors(QUICK_CLINICAL if quick else CLINICAL)
    out.append(
        Factor(
            DUMMY, "none", "dummy", 0.5, "dimensionless", 0.0, 1.0, False, "uniform 0-1", DUMMY_NOTE
        )
    )
    return out


def _clinical_factors(names: Sequence[str]) -> list[Factor]:
    """Calibrated parameters over the central 95 % of their posterior draws."""
    current = ClinicalValues.current()
    run = load_calibration_run()
    post = run.get("posterior") or []
    priors = (run.get("run") or {}).get("priors") or {}
    out = []
    for name in names:
        nominal = _clinical_value(current, name)
        log = bool(priors.get(name, {}).get("log", True))
        draws = np.array([float(d[name]) for d in post if name in d])
        if draws.size >= 10:
            lo, hi = (float(x) for x in np.quantile(draws, [0.025, 0.975]))
            basis = f"central 95 % of {draws.size} posterior draws, " + (
                "log-uniform" if log else "uniform"
            )
        else:
            lo, hi = nominal * FACTOR_RANGE[0], nominal * FACTOR_RANGE[1]
            basis = "no posterior: 0.5x-2x its value, log-uniform"
            log = True
        layer = "symptoms" if name in current.symptoms.__dataclass_fields__ else "population"
        out.append(
            Factor(
                name,
                layer,
                "calibrated",
                nominal,
                "dimensionless",
                lo,
                hi,
                log,
                basis,
                _description(layer, name),
            )
        )
    return out


def _description(layer: str, name: str) -> str:
    if layer == "symptoms":
        return str(load_mechanism("human")["symptoms"][name].description)
    specs = population_parameters()
    for group in specs.values():
        if name in group:
            return str(group[name].description)
    return name


def _clinical_value(values: ClinicalValues, name: str) -> float:
    if name in values.symptoms.__dataclass_fields__:
        return float(getattr(values.symptoms, name))
    pop = values.population
    return float(pop.variability[name] if name in pop.variability else pop.effects[name])


# --- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """Distinct mechanistic points and, for each, the clinical values of the sets using it."""

    patients: pd.DataFrame
    seed: int
    followup_d: int
    points: tuple[dict[str, float], ...]
    clinical: tuple[tuple[dict[str, float], ...], ...]


def with_mechanism(chain: ChainModel, values: dict[str, Any]) -> ChainModel:
    """The chain with mechanistic ``values`` in place: layer fields, or factors on the
    blockers' affinity and escape rate. A value may be one per patient row (an array), so
    several parameter points share one batched solve."""
    system = chain.system
    mech = system.mech
    layers: dict[str, dict[str, Any]] = {}
    for name, v in values.items():
        if name not in ("nmda_affinity", "trapping_escape"):
            layers.setdefault(MECHANISTIC[name][0], {})[name] = v
    mech = replace(mech, **{k: replace(getattr(mech, k), **f) for k, f in layers.items()})
    affinity = values.get("nmda_affinity", 1.0)
    escape = values.get("trapping_escape", 1.0)
    blockers = tuple(
        replace(
            b,
            kon_per_m_s=b.kon_per_m_s * affinity,
            closed_ic50_um=None if b.closed_ic50_um is None else b.closed_ic50_um / affinity,
            k_esc_per_s=b.k_esc_per_s * escape,
        )
        for b in system.blockers
    )
    return replace(chain, system=replace(system, mech=mech, blockers=blockers))


def _chain(patients: pd.DataFrame, seed: int) -> tuple[ChainModel, Any]:
    course = _course(design(), "ketamine", {"ketamine": 1})
    ind = individual_parameters(patients, PopulationParams.load())
    chain = build_chain(
        DRUG,
        "human",
        course.regimen.routes,
        patients["weight_kg"].to_numpy(dtype=float),
        seed=seed,
        variability=True,
        individual=ind,
        patient_ids=patients["patient"].to_numpy(),
    )
    return chain, course


def upstream(
    patients: pd.DataFrame, seed: int, followup_d: int, points: Sequence[dict[str, float]]
) -> list[Group]:
    """Simulate the cohort under each mechanistic point (one batched solve of points x
    patients; each patient keeps its PK draws and random effects in every point): the
    symptom layer's inputs, one :class:`~ketasim.calibration.cohort.Group` per point."""
    n, k = len(patients), len(points)
    rows = pd.concat([patients] * k, ignore_index=True)
    chain, course = _chain(rows, seed)
    names = sorted({name for p in points for name in p})
    nominal = {name: _nominal_of(chain, name) for name in names}
    batch = {
        name: np.repeat([float(p.get(name, nominal[name])) for p in points], n) for name in names
    }
    batched = with_mechanism(chain, batch)
    bps = batched.breakpoints(course.regimen, None, False, None, None)
    t = np.arange(0.0, 24.0 * followup_d + STEP_H / 2, STEP_H)
    y = integrate(batched.system, batched.system.initial_state(), bps, t, SOLVER)
    one, _ = _chain(patients, seed)
    ind = one.system.individual
    assert ind is not None
    gain = one.system.mech.symptoms.fast_gain * ind.fast_gain_factor
    state = one.state_names.index
    out = []
    for j, point in enumerate(points):
        yj = y[j * n : (j + 1) * n]
        lv = with_mechanism(one, dict(point)).system.layer_values(yj, outputs=False)
        out.append(
            Group(
                patients=patients.reset_index(drop=True),
                periods={"ketamine": (0.0, 0.0)},
                t_h=t,
                fbar=yj[..., state("fast_drive")] / gain[:, None],
                restoration=np.asarray(lv["spine_restoration"]),
                surge=np.asarray(lv["glutamate_surge"]) - 1.0,
                placebo=yj[..., state("placebo_effect")],
                felt=yj[..., state("placebo_felt")],
            )
        )
    return out


def _nominal_of(chain: ChainModel, name: str) -> float:
    if name in ("nmda_affinity", "trapping_escape"):
        return 1.0
    return float(getattr(getattr(chain.system.mech, MECHANISTIC[name][0]), name))


def outcomes(group: Group, values: ClinicalValues, followup_d: int) -> tuple[float, float, float]:
    """Expected 24-h response, 1-week response and time to relapse (d) of a simulated cohort
    under clinical ``values``."""
    sev = Cohort(design(), [group], 0).severities(group, values)
    scale = load_scales()[SCALE]
    s = scale.score(sev)
    v = values.population.variability
    noise = float(v["fluctuation_sd"]), float(v["fluctuation_tau_h"])
    sigma = scale.measurement_error_sd
    s0 = s[:, 0]

    def p_at(t_h: float) -> np.ndarray:
        return p_response(s0, s[:, round(t_h / STEP_H)], t_h, sigma, noise)

    p24, p7 = p_at(24.0), p_at(168.0)
    days = relapse_days(group.t_h, s, s0)
    return float(p24.mean()), float(p7.mean()), float(np.sum(p24 * days) / np.sum(p24))


def relapse_days(t_h: np.ndarray, score: np.ndarray, s0: np.ndarray) -> np.ndarray:
    """Each patient's time to relapse (d after the infusion): when the expected score first
    rises above half its baseline after 24 h, linear between grid points; 1 d for a patient
    not in expected response at 24 h, the end of follow-up for one still in response."""
    i24 = round(24.0 / STEP_H)
    excess = score[:, i24:] - 0.5 * s0[:, None]  # > 0: not in response
    t = t_h[i24:] / 24.0
    lost = excess > 0.0
    first = np.where(lost.any(axis=1), lost.argmax(axis=1), -1)
    out = np.full(score.shape[0], t[-1])
    for i in np.flatnonzero(first > 0):
        k = first[i]
        e0, e1 = excess[i, k - 1], excess[i, k]
        out[i] = t[k - 1] + (0.0 - e0) / (e1 - e0) * (t[k] - t[k - 1])
    out[first == 0] = t[0]
    return out


def evaluate(task: Task) -> list[list[tuple[float, float, float]]]:
    """One task: for each mechanistic point, the outcomes of every set that uses it."""
    base = ClinicalValues.current()
    out = []
    groups = upstream(task.patients, task.seed, task.followup_d, task.points)
    for group, clinical in zip(groups, task.clinical, strict=True):
        out.append([outcomes(group, base.with_values(c), task.followup_d) for c in clinical])
    return out


def cohort(settings: Settings) -> pd.DataFrame:
    """The fixed virtual cohort (the same for every parameter set)."""
    n = min(settings.patients, QUICK_COHORT_MAX if settings.quick else COHORT_MAX)
    spec = design(n)
    return allocate(spec, enroll(spec, 1, settings.seed), settings.seed)


def base_samples(replicates: int) -> int:
    """Base samples N of the Sobol design: the largest power of two up to ``replicates``."""
    return int(2 ** max(2, int(np.floor(np.log2(replicates)))))


@dataclass
class Study:
    factors: list[Factor]
    n_base: int
    values: np.ndarray  # (sets, factors) in the factors' units
    y: np.ndarray  # (sets, outputs)
    nominal: np.ndarray  # (outputs,) at the values in use
    indices: dict[str, dict[str, np.ndarray]]
    points: int
    tasks: int
    patients: int
    followup_d: int
    seconds: float


def study(settings: Settings) -> Study:
    """Sample, evaluate (through ``settings.run_map``) and analyse."""
    t0 = time.perf_counter()
    fs = factors(settings.quick)
    problem = {"num_vars": len(fs), "names": [f.name for f in fs], "bounds": [[0.0, 1.0]] * len(fs)}
    n_base = base_samples(settings.replicates)
    u = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=settings.seed)
    values = np.column_stack([f.value(u[:, j]) for j, f in enumerate(fs)])
    mech_cols = [j for j, f in enumerate(fs) if f.name in MECHANISTIC]
    clin_cols = [j for j, f in enumerate(fs) if f.kind == "calibrated"]
    keys: dict[tuple[float, ...], int] = {}
    rows_of: list[list[int]] = []
    for i, row in enumerate(values):
        key = tuple(float(row[j]) for j in mech_cols)
        if key not in keys:
            keys[key] = len(rows_of)
            rows_of.append([])
        rows_of[keys[key]].append(i)
    points = [{fs[j].name: k for j, k in zip(mech_cols, key, strict=True)} for key in keys]
    clinical = [
        tuple({fs[j].name: float(values[i, j]) for j in clin_cols} for i in rows)
        for rows in rows_of
    ]
    # the values in use, last: the outcomes the sampled ranges spread around
    points.append({fs[j].name: fs[j].nominal for j in mech_cols})
    clinical.append(({fs[j].name: fs[j].nominal for j in clin_cols},))
    rows_of.append([len(values)])
    patients = cohort(settings)
    followup = QUICK_FOLLOWUP_D if settings.quick else FOLLOWUP_D
    n_tasks = -(-len(points) // MAX_POINTS_PER_TASK)
    cuts = [len(points) * i // n_tasks for i in range(n_tasks + 1)]
    tasks = [
        Task(patients, settings.seed, followup, tuple(points[a:b]), tuple(clinical[a:b]))
        for a, b in pairwise(cuts)
    ]
    y = np.full((len(values) + 1, len(OUTPUTS)), np.nan)
    done = 0
    for result in settings.run_map(evaluate, tasks):
        for k, res in enumerate(result):
            for i, out in zip(rows_of[done + k], res, strict=True):
                y[i] = out
        done += len(result)
    nominal, y = y[-1], y[:-1]
    indices = {
        key: analyse(problem, y[:, k], settings.seed, k) for k, (key, _, _) in enumerate(OUTPUTS)
    }
    return Study(
        fs,
        n_base,
        values,
        y,
        nominal,
        indices,
        len(points),
        len(tasks),
        len(patients),
        followup,
        time.perf_counter() - t0,
    )


def analyse(
    problem: dict[str, Any], y: np.ndarray, seed: int, stream: int = 0
) -> dict[str, np.ndarray]:
    """SALib's first-order and total indices of outputs ``y`` with 95 % bootstrap intervals.

    The bootstrap gets a generator of its own: SALib seeds it only for a truthy ``seed``, so
    ``--seed 0`` would otherwise draw from NumPy's global state and differ between runs."""
    r = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=False,
        num_resamples=RESAMPLES,
        conf_level=0.95,
        seed=np.random.default_rng([seed, 6101, stream]),
    )
    return {m: np.asarray(r[m], dtype=float) for m in ("S1", "S1_conf", "ST", "ST_conf")}


# --- report -------------------------------------------------------------------------------


def ranking(s: Study, output: str) -> list[str]:
    """Parameters by total index, largest first."""
    st = s.indices[output]["ST"]
    return [s.factors[j].name for j in np.argsort(-st, kind="stable")]


def run(settings: Settings) -> Report:
    """The scenario: the Sobol study and its report."""
    return report(study(settings))


def report(s: Study) -> Report:
    """A study's report: headline (top parameters per output), tables, figure, caveats."""
    names = [f.name for f in s.factors]
    dummy = names.index(DUMMY)
    headline: dict[str, Any] = {}
    for key, _label, _unit in OUTPUTS:
        ix = s.indices[key]
        order = ranking(s, key)
        top = order[:3]
        headline[f"top_{key}"] = top
        headline[f"top_{key}_ST"] = [float(ix["ST"][names.index(n)]) for n in top]
        headline[f"top_{key}_S1"] = [float(ix["S1"][names.index(n)]) for n in top]
        headline[f"dummy_ST_{key}"] = float(ix["ST"][dummy])
        headline[f"{key}_at_values_in_use"] = float(s.nominal[key_index(key)])
    headline["parameters"] = len(s.factors)
    headline["base_samples"] = s.n_base
    headline["evaluations"] = len(s.y)
    headline["upstream_simulations"] = s.points
    headline["cohort_patients"] = s.patients
    headline["seconds"] = round(s.seconds, 1)
    tables = [parameter_table(s), index_table(s), output_table(s)]
    return Report(
        name="sensitivity",
        title="Global sensitivity (Sobol) of response and relapse",
        question=(
            "Which model parameters decide 24-h response, 1-week response and time to relapse "
            "after one 0.5 mg/kg infusion of racemic ketamine over 40 min?"
        ),
        method=(
            f"Sobol indices (SALib: Saltelli sampling without second-order terms, N = "
            f"{s.n_base} base samples, {len(s.factors)} parameters, {len(s.y)} evaluations; "
            f"bootstrap 95 % intervals from {RESAMPLES} resamples). Each parameter set is "
            f"evaluated on one fixed cohort of {s.patients} drug-free TRD patients (common "
            "random numbers) as expected rates over rating error and fluctuation; the "
            f"{s.points} distinct mechanistic points are simulated with the full model (follow-up "
            f"{s.followup_d} d) and the calibrated clinical-link parameters re-solve the symptom "
            "layer only. Calibrated parameters range over their posterior 95 % interval, "
            f"mechanistic ones over {FACTOR_RANGE[0]:g}x-{FACTOR_RANGE[1]:g}x their value; a "
            "dummy parameter that the model never reads checks the bookkeeping."
        ),
        headline=headline,
        tables=tables,
        figures=[figure(s)],
        caveats=caveats(s),
        settings={
            "base_samples": s.n_base,
            "cohort_patients": s.patients,
            "followup_d": s.followup_d,
            "tasks": s.tasks,
        },
    )


def key_index(key: str) -> int:
    return [k for k, _, _ in OUTPUTS].index(key)


def parameter_table(s: Study) -> Table:
    rows = [
        {
            "parameter": f.name,
            "layer": f.layer,
            "kind": f.kind,
            "value in use": f.nominal,
            "unit": f.unit,
            "low": f.low,
            "high": f.high,
            "range": f.basis,
            "meaning": f.description,
        }
        for f in s.factors
    ]
    return Table(
        "Parameters varied and their ranges",
        pd.DataFrame(rows),
        "Mechanistic factors (nmda_affinity, trapping_escape) multiply the drug file's values; "
        "the affinity factor scales the parent's and the metabolite's together.",
    )


def index_table(s: Study) -> Table:
    rows = []
    for key, label, _ in OUTPUTS:
        ix = s.indices[key]
        order = ranking(s, key)
        for j, f in enumerate(s.factors):
            rows.append(
                {
                    "output": label,
                    "parameter": f.name,
                    "rank (by ST)": order.index(f.name) + 1,
                    "S1": ix["S1"][j],
                    "S1 95% CI ±": ix["S1_conf"][j],
                    "ST": ix["ST"][j],
                    "ST 95% CI ±": ix["ST_conf"][j],
                }
            )
    frame = pd.DataFrame(rows).sort_values(["output", "rank (by ST)"], kind="stable")
    return Table(
        "First-order (S1) and total (ST) Sobol indices (dimensionless, share of output variance)",
        frame.reset_index(drop=True),
        "Intervals are SALib's bootstrap half-widths. With few base samples S1 can come out "
        "negative or above ST within those intervals; the dummy's indices are zero by "
        "construction (the model never reads it).",
    )


def output_table(s: Study) -> Table:
    rows = []
    for k, (_key, label, unit) in enumerate(OUTPUTS):
        col = s.y[:, k]
        lo, hi = np.quantile(col, [0.025, 0.975])
        row = {
            "output": label,
            "unit": unit,
            "mean": float(np.mean(col)),
            "at values in use": float(s.nominal[k]),
            "SD": float(np.std(col)),
            "2.5 %": float(lo),
            "97.5 %": float(hi),
        }
        rows.append(row)
    return Table("Spread of the outputs over the sampled parameter sets", pd.DataFrame(rows))


def figure(s: Study) -> Figure:
    names = [f.name for f in s.factors]
    fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(4.2 * len(OUTPUTS), 0.35 * len(names) + 1.6))
    ypos = np.arange(len(names))
    for ax, (key, label, _) in zip(np.atleast_1d(axes), OUTPUTS, strict=True):
        ix = s.indices[key]
        ax.barh(ypos - 0.2, ix["S1"], 0.4, xerr=ix["S1_conf"], label="S1", color="#4c72b0")
        ax.barh(ypos + 0.2, ix["ST"], 0.4, xerr=ix["ST_conf"], label="ST", color="#dd8452")
        ax.set_yticks(ypos, names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0.0, color="#888", lw=0.6)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("Sobol index")
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="lower right")
    return Figure.from_matplotlib(
        fig,
        "Sobol indices per output",
        "First-order (S1) and total (ST) indices with 95 % bootstrap intervals; the dummy "
        "parameter is never read by the model.",
    )


def caveats(s: Study) -> list[str]:
    return [
        f"N = {s.n_base} base samples: the bootstrap intervals are wide; rankings of "
        "parameters whose intervals overlap are not settled (raise --replicates for a larger N, "
        "a power of two).",
        f"One fixed cohort of {s.patients} patients: the indices are those of that cohort's "
        "expected outcomes; another cohort (another --seed) moves them within their noise.",
        "Parameters are varied independently over their ranges: posterior correlations of "
        "the calibrated parameters are ignored, and the 0.5x-2x ranges of mechanistic "
        "parameters are a convention, not measured uncertainty.",
        "Time to relapse is when each patient's expected MADRS (no rating noise) rises above "
        "half its baseline again, averaged over patients weighted by their probability of a "
        f"24-h response and censored at {s.followup_d} d: not the trial runner's two-visit "
        "rule. A single infusion gives tolerance little to act on.",
        "bipolar_gain (not read by an MDD cohort) and tau_study (a between-study effect) "
        "are not varied.",
    ]


__all__ = ["Factor", "Study", "design", "factors", "report", "run", "study"]
