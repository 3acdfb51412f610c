"""Scenario 7, one patient: a research estimate of one patient's course, not clinical advice.

A patient file (YAML, :class:`PatientFile`) gives the covariates the population module knows
(``docs/scenarios/one-patient.md`` lists every field, unit and default); what it leaves out
takes the typical value of ketasim's virtual trial population (``data/population.yaml``).
:func:`predict_patient` turns it into that patient's covariate row and predicts, for one
administration of a chosen drug and dose:

* the expected MADRS and CADSS course over one week, and
* the probability of response (MADRS rating at most half the baseline rating, as the trials
  score it) at 230 min, 24 h and 1 week, with a 95 % interval over posterior draws of the
  calibrated parameters.

What is not known about the patient is integrated over, so the probability is a probability
and not one virtual patient's yes or no: :data:`PK_COPIES` copies of the patient with their own
PK variability and relapse random effect are simulated once with the full model (the upstream
layers do not read the symptom layer), and each copy is paired with :data:`EFFECT_DRAWS`
scrambled-Sobol draws of the random effects of the clinical gains and of the placebo response;
the symptom layer is re-solved for every posterior draw (:class:`ketasim.calibration.cohort.
Cohort`), and rating error and week-to-week fluctuation enter analytically
(:func:`ketasim.calibration.cohort.p_response`). The copies run in chunks of
:data:`CHUNK_COPIES` through ``run_map``, so the result is the same on one worker or many.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from scipy import stats

from ketasim.calibration.cohort import (
    STEP_H,
    Cohort,
    Group,
    group_signals,
    noise_of,
    p_remission,
    p_response,
)
from ketasim.calibration.reproduce import posterior_values
from ketasim.errors import KetasimInputError, UnitError
from ketasim.population import PopulationSpec
from ketasim.population.covariates import DIMENSIONS
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import RunMap, Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials.runner import Course, simulate_course
from ketasim.trials.spec import Arm, Design, Endpoint, Population, TrialSpec
from ketasim.units import parse_time_h, parse_weight_kg, registry

#: Copies of the patient with their own PK variability (and relapse random effect) simulated
#: with the full model; ``quick`` halves them.
PK_COPIES = 16
#: Draws of the symptom-layer random effects paired with each copy (scrambled Sobol points).
EFFECT_DRAWS = 32
#: Copies per task sent through ``run_map`` (fixed by the job, never by the workers).
CHUNK_COPIES = 8
#: Random stream of this scenario's draws (random effects, PK copies).
STREAM = 7701
#: The times at which response is predicted, as the trials name them.
ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("230min", "230 min"),
    ("24h", "24 h"),
    ("1week", "7 d"),
)
#: How long the course is followed after the dose.
FOLLOW = "7 d"
#: Heights a patient file may give (m): the range :func:`sample_patients` draws from.
HEIGHT_RANGE_M = (1.4, 2.1)
#: Relative disagreement allowed between weight / height^2 and a BMI given beside them.
BMI_TOLERANCE = 0.03
#: BDNF Val66Met genotypes and their Met alleles (the population's ``met_alleles``).
MET_ALLELES: dict[str, int] = {"val_val": 0, "val_met": 1, "met_met": 2}
#: Comedications: the values of the population's ``comedication`` column.
COMEDICATIONS: tuple[str, ...] = ("none", "antidepressants", "lithium", "valproate")
EXAMPLE = "example-patient.yaml"
RESEARCH = "research estimate, not clinical advice"

Genotype = Literal["val_val", "val_met", "met_met"]
Comedication = Literal["none", "antidepressants", "lithium", "valproate"]
# the range-checked numbers and the population covariate that sets their range and default
_RANGED: dict[str, str] = {
    "age_years": "age_years",
    "bmi_kg_m2": "bmi_kg_m2",
    "d_serine_um": "d_serine_um",
    "shank3_z": "shank3_z",
    "bdnf_ng_per_ml": "bdnf_ng_per_ml",
}


def _population() -> PopulationSpec:
    return PopulationSpec.default()


def _typical(name: str) -> float:
    """The typical value of a continuous covariate: its mean or median."""
    c = getattr(_population(), name)
    value = c.mean if c.distribution == "normal" else c.median
    assert value is not None
    return float(value)


def _parse_height_m(text: object) -> float:
    example = "'1.70 m' or '170 cm'"
    if not isinstance(text, str) or not text.strip():
        raise UnitError("height", text, f"a height with its unit, e.g. {example}")
    try:
        q: Any = registry().Quantity(text.strip())
    except Exception:  # pint raises many kinds of errors for bad text
        raise UnitError("height", text, f"could not read it as a height, e.g. {example}") from None
    if not hasattr(q, "check") or not dict(q.unit_items()) or not q.check("[length]"):
        raise UnitError("height", text, f"a height with its unit, e.g. {example}")
    m = float(q.to("m").magnitude)
    lo, hi = HEIGHT_RANGE_M
    if not lo <= m <= hi:
        raise KetasimInputError("height", text, f"between {lo:g} m and {hi:g} m")
    return m


def _scale_weights(name: str) -> np.ndarray:
    w = load_scales()[name].weights
    return np.array([w[d] for d in DIMENSIONS], dtype=float)


@dataclass(frozen=True)
class Body:
    """Height, weight and BMI of a patient file, two of them given or defaulted."""

    height_m: float
    weight_kg: float
    bmi_kg_m2: float
    origin: dict[str, str]  # weight, height, bmi_kg_m2 -> given, computed or default


class PatientFile(BaseModel):
    """One patient's covariates, as a patient file (YAML) gives them.

    Every field may be left out: it then takes the typical value of ketasim's virtual trial
    population (``data/population.yaml``; the most common category of a yes/no or categorical
    covariate). Of ``weight``, ``height`` and ``bmi_kg_m2`` any two set the third; three must
    agree within :data:`BMI_TOLERANCE`. ``madrs`` (and optionally ``hdrs17``) set the latent
    baseline severities of the symptom dimensions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    age_years: float | None = None
    sex: Literal["female", "male"] | None = None
    weight: str | None = None
    height: str | None = None
    bmi_kg_m2: float | None = None
    diagnosis: Literal["MDD", "bipolar"] | None = None
    treatment_resistant: bool | None = None
    madrs: float | None = None
    hdrs17: float | None = None
    comedication: Comedication | None = None
    fh_aud: bool | None = None
    suicide_attempt: bool | None = None
    d_serine_um: float | None = None
    shank3_z: float | None = None
    val66met: Genotype | None = None
    bdnf_ng_per_ml: float | None = None

    @field_validator("val66met", mode="before")
    @classmethod
    def _genotype_spelling(cls, v: object) -> object:
        # "Val/Met", "val-met" and "Val_Met" all name the population's "val_met"
        if isinstance(v, str):
            return v.strip().lower().replace("/", "_").replace("-", "_")
        return v

    @field_validator("comedication", mode="before")
    @classmethod
    def _comedication_spelling(cls, v: object) -> object:
        return "antidepressants" if v == "antidepressant" else v

    @field_validator("diagnosis", mode="before")
    @classmethod
    def _diagnosis_spelling(cls, v: object) -> object:
        if isinstance(v, str) and v.strip().lower() in ("mdd", "bipolar"):
            return "MDD" if v.strip().lower() == "mdd" else "bipolar"
        return v

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_has_unit(cls, v: object) -> object:
        # before pydantic's own check, so a bare number is told it lacks a unit
        if v is not None:
            parse_weight_kg(v, "weight")  # type: ignore[arg-type]
        return v

    @field_validator("height", mode="before")
    @classmethod
    def _height_has_unit(cls, v: object) -> object:
        if v is not None:
            _parse_height_m(v)
        return v

    @field_validator(*_RANGED)
    @classmethod
    def _within_population(cls, v: float | None, info: Any) -> float | None:
        if v is None:
            return v
        c = getattr(_population(), _RANGED[info.field_name])
        if not c.min <= v <= c.max:  # NaN fails too
            raise KetasimInputError(
                info.field_name,
                v,
                f"between {c.min:g} and {c.max:g} (the range of ketasim's virtual population)",
            )
        return v

    @field_validator("madrs", "hdrs17")
    @classmethod
    def _score_in_range(cls, v: float | None, info: Any) -> float | None:
        if v is None:
            return v
        scale = load_scales()["MADRS" if info.field_name == "madrs" else "HDRS-17"]
        sev = _population().severity
        lo, hi = sev.min * scale.max_score, sev.max * scale.max_score
        if not lo <= v <= hi:
            raise KetasimInputError(
                info.field_name,
                v,
                f"a baseline {scale.name} between {lo:g} and {hi:g} points (latent severity "
                f"{sev.min:g} to {sev.max:g} of ketasim's virtual population)",
            )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> PatientFile:
        self.body()
        self.severity()
        return self

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | Path) -> PatientFile:
        """Load a patient file (``yaml.safe_load``); any problem is one line naming the field."""
        p = Path(path)
        if not p.is_file():
            raise KetasimInputError("patient", str(path), "an existing patient file (YAML)")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "the file"
            raise KetasimInputError("patient", f"{p.name} ({where})", "valid YAML") from None
        return cls.from_mapping({} if raw is None else raw)

    @classmethod
    def from_mapping(cls, raw: object) -> PatientFile:
        if not isinstance(raw, dict):
            raise KetasimInputError("patient", type(raw).__name__, "a mapping of patient fields")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            inner = (first.get("ctx") or {}).get("error")
            if isinstance(inner, KetasimInputError):
                raise KetasimInputError(inner.field, inner.value, inner.allowed) from None
            where = ".".join(str(p) for p in first["loc"]) or "patient"
            if first["type"] == "extra_forbidden":
                allowed = "not a patient-file field; allowed: " + ", ".join(cls.model_fields)
                raise KetasimInputError(where, first.get("input"), allowed) from None
            msg = str(first["msg"]).removeprefix("Value error, ")
            raise KetasimInputError(where, first.get("input"), msg) from None

    @classmethod
    def example(cls) -> PatientFile:
        """The shipped example patient (``examples/patients/patient.yaml``, also package data)."""
        return _example()

    # --- resolved covariates ---------------------------------------------------------------

    def body(self) -> Body:
        """Height, weight and BMI: two given (or defaulted) set the third."""
        pop = _population()
        h = pop.height_m
        share = pop.female_share.value
        h_default = {
            "female": h.female,
            "male": h.male,
            None: share * h.female + (1 - share) * h.male,
        }
        height = _parse_height_m(self.height) if self.height is not None else None
        weight = parse_weight_kg(self.weight, "weight") if self.weight is not None else None
        bmi = self.bmi_kg_m2
        origin = {k: "given" for k in ("weight", "height", "bmi_kg_m2")}
        if height is not None and weight is not None and bmi is not None:
            implied = weight / height**2
            if abs(implied - bmi) > BMI_TOLERANCE * bmi:
                raise KetasimInputError(
                    "bmi_kg_m2",
                    bmi,
                    f"weight / height^2 is {implied:.1f} kg/m2; give two of weight, height and "
                    "bmi_kg_m2, or three that agree",
                )
        elif weight is not None and bmi is not None:
            height = float(np.sqrt(weight / bmi))
            origin["height"] = "computed"
            lo, hi = HEIGHT_RANGE_M
            if not lo <= height <= hi:
                raise KetasimInputError(
                    "bmi_kg_m2",
                    bmi,
                    f"a BMI that with weight {self.weight} gives a height "
                    f"between {lo:g} m and {hi:g} m (it gives {height:.2f} m)",
                )
        else:
            if height is None:
                height = float(h_default[self.sex])
                origin["height"] = "default (population, by sex)"
            if weight is None:
                if bmi is None:
                    bmi = _typical("bmi_kg_m2")
                    origin["bmi_kg_m2"] = "default (population)"
                weight = bmi * height**2
                origin["weight"] = "computed"
            else:
                bmi = weight / height**2
                origin["bmi_kg_m2"] = "computed"
                c = pop.bmi_kg_m2
                if not c.min <= bmi <= c.max:
                    which = "" if self.height is not None else "the default "
                    raise KetasimInputError(
                        "weight",
                        self.weight,
                        f"a weight giving a BMI between {c.min:g} and {c.max:g} kg/m2 with "
                        f"{which}height {height:.2f} m (it gives {bmi:.1f})",
                    )
        assert weight is not None
        return Body(height, weight, weight / height**2, origin)

    def severity(self) -> np.ndarray:
        """Latent baseline severity (0-1) of each symptom dimension.

        The MADRS alone sets every dimension to ``madrs / 60`` (the population's dimensions
        are correlated and have the same mean). With an HDRS-17 too, the profile is the one
        closest to that uniform profile (least squares) that gives both scores.
        """
        sev = _population().severity
        madrs_max = load_scales()["MADRS"].max_score
        hdrs_max = load_scales()["HDRS-17"].max_score
        if self.madrs is None and self.hdrs17 is None:
            return np.full(len(DIMENSIONS), sev.mean)
        if self.madrs is None:
            assert self.hdrs17 is not None
            return np.full(len(DIMENSIONS), self.hdrs17 / hdrs_max)
        uniform = np.full(len(DIMENSIONS), self.madrs / madrs_max)
        if self.hdrs17 is None:
            return uniform
        W = np.vstack([_scale_weights("MADRS"), _scale_weights("HDRS-17")])
        # s(h) = uniform + b * (h / hdrs_max - w_h . uniform): linear in the HDRS
        b = W.T @ np.linalg.solve(W @ W.T, np.array([0.0, 1.0]))
        profile = uniform + b * (self.hdrs17 / hdrs_max - W[1] @ uniform)
        if np.all(profile >= sev.min - 1e-9) and np.all(profile <= sev.max + 1e-9):
            return profile
        # the HDRS-17 range that keeps every dimension in the population's range
        h_lo, h_hi = -np.inf, np.inf
        for k in range(len(DIMENSIONS)):
            if abs(b[k]) < 1e-12:
                continue
            ends = sorted(
                (W[1] @ uniform + (bound - uniform[k]) / b[k]) * hdrs_max
                for bound in (sev.min, sev.max)
            )
            h_lo, h_hi = max(h_lo, ends[0]), min(h_hi, ends[1])
        raise KetasimInputError(
            "hdrs17",
            self.hdrs17,
            f"an HDRS-17 consistent with MADRS {self.madrs:g}: between {h_lo:.0f} and "
            f"{h_hi:.0f} points",
        )

    def resolved(self) -> dict[str, Any]:
        """Every covariate the model uses, given or defaulted (population typical values)."""
        pop = _population()
        body = self.body()
        madrs = float(
            load_scales()["MADRS"].score(dict(zip(DIMENSIONS, self.severity(), strict=True)))
        )
        hdrs = float(
            load_scales()["HDRS-17"].score(dict(zip(DIMENSIONS, self.severity(), strict=True)))
        )
        shares = pop.comedication
        mood = shares.lithium_or_valproate
        comed_default = max(
            (("none", shares.none), ("antidepressants", shares.antidepressants), ("lithium", mood)),
            key=lambda kv: kv[1],
        )[0]
        g = pop.val66met
        genotype = max(
            (("val_val", g.val_val), ("val_met", g.val_met), ("met_met", g.met_met)),
            key=lambda kv: kv[1],
        )[0]
        return {
            "age_years": self.age_years if self.age_years is not None else _typical("age_years"),
            "sex": self.sex if self.sex is not None else "not given",
            "weight_kg": body.weight_kg,
            "height_m": body.height_m,
            "bmi_kg_m2": body.bmi_kg_m2,
            "diagnosis": self.diagnosis
            if self.diagnosis is not None
            else ("bipolar" if pop.bipolar_share.value > 0.5 else "MDD"),
            "treatment_resistant": self.treatment_resistant
            if self.treatment_resistant is not None
            else bool(pop.trd_share.value >= 0.5),
            "madrs": madrs,
            "hdrs17": hdrs,
            "comedication": self.comedication if self.comedication is not None else comed_default,
            "fh_aud": self.fh_aud
            if self.fh_aud is not None
            else bool(pop.fh_aud_share.value > 0.5),
            "suicide_attempt": self.suicide_attempt
            if self.suicide_attempt is not None
            else bool(pop.suicide_attempt_share.value > 0.5),
            "d_serine_um": self.d_serine_um
            if self.d_serine_um is not None
            else _typical("d_serine_um"),
            "shank3_z": self.shank3_z if self.shank3_z is not None else _typical("shank3_z"),
            "val66met": self.val66met if self.val66met is not None else genotype,
            "bdnf_ng_per_ml": self.bdnf_ng_per_ml
            if self.bdnf_ng_per_ml is not None
            else _typical("bdnf_ng_per_ml"),
        }

    def given(self) -> set[str]:
        """The fields the file names."""
        return {k for k in type(self).model_fields if getattr(self, k) is not None}

    def covariate_row(self) -> pd.DataFrame:
        """The patient as one row of a :func:`~ketasim.population.sample_patients` table, with
        the typical random effects (every ``z_*`` 0)."""
        r = self.resolved()
        row: dict[str, Any] = {
            "patient": 0,
            "age_years": float(r["age_years"]),
            "female": r["sex"] == "female",
            "height_m": r["height_m"],
            "bmi_kg_m2": r["bmi_kg_m2"],
            "weight_kg": r["weight_kg"],
            "bipolar": r["diagnosis"] == "bipolar",
            "trd": bool(r["treatment_resistant"]),
            "comedication": r["comedication"],
            "fh_aud": bool(r["fh_aud"]),
            "suicide_attempt": bool(r["suicide_attempt"]),
            "d_serine_um": float(r["d_serine_um"]),
            "shank3_z": float(r["shank3_z"]),
            "met_alleles": MET_ALLELES[r["val66met"]],
            "bdnf_ng_per_ml": float(r["bdnf_ng_per_ml"]),
        }
        for d, s in zip(DIMENSIONS, self.severity(), strict=True):
            row[f"severity_{d}"] = float(s)
        for name in ("z_fast", "z_sustained", "z_placebo", "z_relapse"):
            row[name] = 0.0
        return pd.DataFrame([row])


@cache
def _example() -> PatientFile:
    path = Path(str(resources.files("ketasim.data") / EXAMPLE))
    return PatientFile.from_yaml(path)


# --- prediction -------------------------------------------------------------------------------


def _arm(drug: str, dose: str, route: str, over: str | None) -> Arm:
    """The regimen as a trial arm, checked with one-line errors naming the option."""
    try:
        arm = Arm(name="treatment", drug=drug, dose=dose, route=route, over=over)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "regimen"
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise KetasimInputError(where, first.get("input"), msg) from None
    arm.one_dose()  # dose, route and over parse here
    return arm


def _design(arm: Arm) -> TrialSpec:
    """A one-arm open-label course followed for :data:`FOLLOW` (the cohort's container)."""
    return TrialSpec(
        name="one-patient",
        population=Population(size=2),
        design=Design(type="open-label"),
        arms=[arm],
        scale="MADRS",
        followup=FOLLOW,
        endpoints=[Endpoint(name=f"response_{k}", type="response", time=t) for k, t in ENDPOINTS],
    )


def _copies(person: PatientFile, n: int, seed: int) -> pd.DataFrame:
    """``n`` copies of the patient (ids 0..n-1 seed their PK variability), each with its own
    relapse random effect; the symptom-layer random effects are drawn later."""
    row = person.covariate_row()
    out = pd.concat([row] * n, ignore_index=True)
    out["patient"] = np.arange(n)
    out["z_relapse"] = np.random.default_rng([seed, STREAM, 1]).standard_normal(n)
    return out


def simulate_copies(course: Course, copies: pd.DataFrame, seed: int) -> tuple[Group, np.ndarray]:
    """The full model for copies of the patient: the upstream signals the symptom layer
    reads (:func:`ketasim.calibration.cohort.group_signals`, as the trial cohorts) and the CADSS
    course."""
    t = np.arange(0.0, course.end_h + STEP_H / 2, STEP_H)
    res = simulate_course(course, copies, seed, t)
    group = group_signals(res, copies, course.periods, t)
    return group, res.timecourse["cadss_points"].to_numpy().reshape(len(copies), t.size).copy()


def _with_effects(groups: list[Group], draws: int, seed: int) -> Group:
    """One group of every copy times ``draws`` random-effect draws (scrambled Sobol points
    in z_fast, z_sustained, z_placebo; each copy gets a contiguous, balanced block)."""
    patients = pd.concat([g.patients for g in groups], ignore_index=True)
    k = len(patients)
    n = k * draws
    sobol = stats.qmc.Sobol(d=3, scramble=True, seed=np.random.default_rng([seed, STREAM, 2]))
    m = int(np.log2(n))
    u = sobol.random_base2(m) if 2**m == n else sobol.random(n)
    z = stats.norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
    rows = np.repeat(np.arange(k), draws)
    expanded = patients.iloc[rows].reset_index(drop=True)
    expanded["patient"] = np.arange(n)
    expanded["z_fast"], expanded["z_sustained"], expanded["z_placebo"] = z[:, 0], z[:, 1], z[:, 2]

    def stack(name: str) -> np.ndarray:
        return np.concatenate([getattr(g, name) for g in groups])[rows]

    return Group(
        patients=expanded,
        periods=groups[0].periods,
        t_h=groups[0].t_h,
        fbar=stack("fbar"),
        restoration=stack("restoration"),
        surge=stack("surge"),
        placebo=stack("placebo"),
        felt=stack("felt"),
    )


@dataclass(frozen=True)
class Prediction:
    """What :func:`predict` computes (arrays over posterior draws unless named otherwise)."""

    t_h: np.ndarray
    p_response: dict[str, np.ndarray]  # endpoint key -> (draws,)
    p_remission: dict[str, np.ndarray]
    madrs_mean: np.ndarray  # (draws, times): expected MADRS averaged over random effects
    madrs_p10: np.ndarray  # (draws, times): 10th percentile over random effects
    madrs_p90: np.ndarray
    cadss: np.ndarray  # (copies, times)
    baseline_madrs: float


def predict(
    person: PatientFile,
    *,
    drug: str = "ketamine-racemic",
    dose: str = "0.5 mg/kg",
    route: str = "iv-infusion",
    over: str | None = "40 min",
    draws: int = 40,
    seed: int = 0,
    quick: bool = False,
    run_map: RunMap = map,
) -> Prediction:
    """The numbers behind :func:`predict_patient`."""
    if not isinstance(draws, int) or draws < 2:
        raise KetasimInputError("draws", draws, "2 or more posterior draws")
    arm = _arm(drug, dose, route, over)
    spec = _design(arm)
    regimen = arm.regimen()
    course = Course(
        arm.drug, regimen, {"treatment": (0.0, regimen.doses[-1][0])}, parse_time_h(FOLLOW)
    )
    n_copies = PK_COPIES // 2 if quick else PK_COPIES
    copies = _copies(person, n_copies, seed)
    chunks = [copies.iloc[i : i + CHUNK_COPIES] for i in range(0, n_copies, CHUNK_COPIES)]
    done = list(run_map(simulate_copies, [course] * len(chunks), chunks, [seed] * len(chunks)))
    group = _with_effects([g for g, _ in done], EFFECT_DRAWS, seed)
    cadss = np.concatenate([c for _, c in done])
    cohort = Cohort(spec, [group], seed)
    madrs = load_scales()["MADRS"]
    values, _taus = posterior_values(draws, seed)
    times = {key: round(parse_time_h(t) / STEP_H) for key, t in ENDPOINTS}
    p_resp: dict[str, list[float]] = {k: [] for k in times}
    p_rem: dict[str, list[float]] = {k: [] for k in times}
    means, p10, p90 = [], [], []
    for v in values:
        score = madrs.score(cohort.severities(group, v))
        s0 = score[:, 0]
        noise = noise_of(v)
        for key, i in times.items():
            t_h = float(group.t_h[i])
            p_resp[key].append(
                float(p_response(s0, score[:, i], t_h, madrs.measurement_error_sd, noise).mean())
            )
            p_rem[key].append(float(p_remission(score[:, i], madrs, noise).mean()))
        means.append(score.mean(axis=0))
        lo, hi = np.percentile(score, [10, 90], axis=0)
        p10.append(lo)
        p90.append(hi)
    return Prediction(
        t_h=group.t_h,
        p_response={k: np.array(v) for k, v in p_resp.items()},
        p_remission={k: np.array(v) for k, v in p_rem.items()},
        madrs_mean=np.array(means),
        madrs_p10=np.array(p10),
        madrs_p90=np.array(p90),
        cadss=cadss,
        baseline_madrs=float(person.resolved()["madrs"]),
    )


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    """Estimate (posterior mean) and 95 % interval (2.5th and 97.5th percentiles)."""
    lo, hi = np.percentile(x, [2.5, 97.5])
    return float(np.mean(x)), float(lo), float(hi)


def predict_patient(
    person: PatientFile,
    *,
    drug: str = "ketamine-racemic",
    dose: str = "0.5 mg/kg",
    route: str = "iv-infusion",
    over: str | None = "40 min",
    draws: int = 40,
    seed: int = 0,
    quick: bool = False,
    run_map: RunMap = map,
    source: str = "patient file",
) -> Report:
    """One patient's predicted MADRS and CADSS course and probability of response at 230 min,
    24 h and 1 week, with 95 % intervals over ``draws`` posterior draws of the calibrated
    parameters. A research estimate, not clinical advice.

    Parameters
    ----------
    person
        The patient (:meth:`PatientFile.from_yaml`).
    drug, dose, route, over
        One administration at time 0 ("0.5 mg/kg" over "40 min" by IV infusion by default).
    draws
        Posterior draws of the calibrated parameters behind each interval.
    seed
        Seed of every random draw (PK variability, random effects, posterior draws).
    quick
        Half the PK copies (a first look).
    run_map
        A ``map``-like function that runs the copies' chunks (results in task order).
    source
        Where the patient came from, for the report.

    Returns
    -------
    Report
        ``figures[0]`` is the trajectory figure (PNG); ``headline`` holds the probabilities
        (``p_response_<time>`` and ``p_response_<time>_95ci``).
    """
    pred = predict(
        person,
        drug=drug,
        dose=dose,
        route=route,
        over=over,
        draws=draws,
        seed=seed,
        quick=quick,
        run_map=run_map,
    )
    amount = "(no drug)" if drug == "saline" else dose
    regimen = f"{drug} {amount} by {route}" + (
        f" over {over}" if over is not None and route in ("iv-infusion", "iv-bolus") else ""
    )
    labels = dict(ENDPOINTS)
    idx = {key: round(parse_time_h(t) / STEP_H) for key, t in ENDPOINTS}
    headline: dict[str, Any] = {"status": RESEARCH.upper(), "regimen": regimen}
    headline["baseline_madrs"] = pred.baseline_madrs
    rows = []
    for key, label in labels.items():
        est, lo, hi = _interval(pred.p_response[key])
        headline[f"p_response_{key}"] = est
        headline[f"p_response_{key}_95ci"] = [lo, hi]
        rem = _interval(pred.p_remission[key])
        mad = _interval(pred.madrs_mean[:, idx[key]])
        headline[f"madrs_expected_{key}"] = mad[0]
        rows.append(
            {
                "time": "230 min" if key == "230min" else ("1 week" if key == "1week" else label),
                "P(response)": est,
                "P(response) 2.5 %": lo,
                "P(response) 97.5 %": hi,
                "P(remission, MADRS < 10)": rem[0],
                "P(remission) 2.5 %": rem[1],
                "P(remission) 97.5 %": rem[2],
                "expected MADRS (points)": mad[0],
                "MADRS 2.5 %": mad[1],
                "MADRS 97.5 %": mad[2],
            }
        )
    peaks = pred.cadss.max(axis=1)
    headline["cadss_peak_points"] = float(np.median(peaks))
    headline["cadss_peak_range_over_pk"] = [float(peaks.min()), float(peaks.max())]
    headline["posterior_draws"] = int(pred.madrs_mean.shape[0])
    tables = [
        Table(
            "Probability of response (MADRS at most half the baseline rating)",
            pd.DataFrame(rows),
            "Estimate: posterior mean of the probability (the patient's unknown random effects, "
            "PK variability, rating error and week-to-week fluctuation integrated over); "
            "2.5 % and 97.5 %: percentiles over posterior draws of the calibrated parameters. "
            "Research estimate, not clinical advice.",
        ),
        _patient_table(person),
        _course_table(pred),
    ]
    return Report(
        name="one-patient",
        title="One patient's predicted course: a research estimate, not clinical advice",
        question=(
            f"For this patient ({source}) and {regimen}, what MADRS and CADSS course and "
            "probability of response at 230 min, 24 h and 1 week does the model predict, "
            "with what uncertainty?"
        ),
        method=(
            "The patient file becomes one covariate row (fields left out take the virtual "
            f"population's typical values). {pred.cadss.shape[0]} copies of the patient with "
            "their own PK variability and relapse random effect are simulated once with the "
            f"full model; each is paired with {EFFECT_DRAWS} scrambled-Sobol draws of the "
            "random effects of the fast and sustained clinical gains and of the placebo "
            f"response. For each of {headline['posterior_draws']} posterior draws of the "
            "calibrated parameters the symptom layer is re-solved for every pairing, and the "
            "probability of response (rating at most half the baseline rating, with rating "
            "error and natural fluctuation at both ratings) is averaged over them. The "
            "estimate is the posterior mean; the interval the 2.5th to 97.5th percentile over "
            "posterior draws."
        ),
        headline=headline,
        tables=tables,
        figures=[_figure(pred, regimen)],
        caveats=_caveats(person),
        settings={
            "drug": drug,
            "dose": dose,
            "route": route,
            "over": over,
            "draws": draws,
            "seed": seed,
            "pk_copies": int(pred.cadss.shape[0]),
            "effect_draws": EFFECT_DRAWS,
            "patient_source": source,
        },
    )


_UNITS: dict[str, str] = {
    "age_years": "years",
    "weight_kg": "kg",
    "height_m": "m",
    "bmi_kg_m2": "kg/m2",
    "madrs": "points",
    "hdrs17": "points",
    "d_serine_um": "uM",
    "shank3_z": "SD",
    "bdnf_ng_per_ml": "ng/mL",
}
# resolved name -> the patient-file field that sets it
_FIELD: dict[str, str] = {"weight_kg": "weight", "height_m": "height"}


def _patient_table(person: PatientFile) -> Table:
    given = person.given()
    body = person.body()
    rows = []
    for name, value in person.resolved().items():
        field = _FIELD.get(name, name)
        if field in ("weight", "height", "bmi_kg_m2"):
            origin = body.origin[field]
        elif name == "hdrs17" and "hdrs17" not in given:
            origin = "computed from the MADRS" if "madrs" in given else "default"
        else:
            origin = "given" if field in given else "default (population)"
        rows.append(
            {
                "covariate": name,
                "value": value if not isinstance(value, float) else round(value, 3),
                "unit": _UNITS.get(name, ""),
                "origin": origin,
            }
        )
    return Table(
        "The patient, as the model sees them",
        pd.DataFrame(rows),
        "default: the typical value of ketasim's virtual trial population "
        "(data/population.yaml); the most common category for a yes/no or categorical field.",
    )


_COURSE_TIMES_H: tuple[float, ...] = (0.0, 40 / 60, 2.0, 230 / 60, 24.0, 72.0, 168.0)


def _course_table(pred: Prediction) -> Table:
    rows = []
    for t in _COURSE_TIMES_H:
        i = round(t / STEP_H)
        mean, lo, hi = _interval(pred.madrs_mean[:, i])
        c = pred.cadss[:, i]
        rows.append(
            {
                "time (h)": float(pred.t_h[i]),
                "expected MADRS (points)": mean,
                "MADRS 2.5 %": lo,
                "MADRS 97.5 %": hi,
                "MADRS, 10 % of courses below": float(np.median(pred.madrs_p10[:, i])),
                "MADRS, 90 % of courses below": float(np.median(pred.madrs_p90[:, i])),
                "CADSS median (points)": float(np.median(c)),
                "CADSS min over PK": float(c.min()),
                "CADSS max over PK": float(c.max()),
            }
        )
    return Table(
        "Predicted course",
        pd.DataFrame(rows),
        "Expected MADRS averaged over the patient's unknown random effects (2.5 % and 97.5 %: "
        "over posterior draws); the 10 % and 90 % columns show the spread of the patient's "
        "possible expected courses (median over draws). CADSS over the PK copies.",
    )


def _figure(pred: Prediction, regimen: str) -> Figure:
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    t = pred.t_h
    keep = t > 0
    lo, hi = np.percentile(pred.madrs_mean, [2.5, 97.5], axis=0)
    ax.fill_between(
        t[keep],
        np.median(pred.madrs_p10, axis=0)[keep],
        np.median(pred.madrs_p90, axis=0)[keep],
        color="tab:blue",
        alpha=0.15,
        label="10-90 % of the patient's possible courses",
    )
    ax.fill_between(
        t[keep],
        lo[keep],
        hi[keep],
        color="tab:blue",
        alpha=0.35,
        label="95 % interval (parameters)",
    )
    ax.plot(t[keep], pred.madrs_mean.mean(axis=0)[keep], color="tab:blue", label="expected MADRS")
    ax.axhline(0.5 * pred.baseline_madrs, color="k", ls="--", lw=0.8, label="response threshold")
    for key, label in ENDPOINTS:
        th = parse_time_h(label)
        ax.axvline(th, color="0.6", lw=0.6)
        est = float(np.mean(pred.p_response[key]))
        ax.annotate(f"P={est:.2f}", (th, pred.baseline_madrs), fontsize=8, ha="center")
    ax.set_xscale("log")
    ax.set_xlabel("time after the start of the dose (h, log scale)")
    ax.set_ylabel("MADRS (points)")
    ax.set_ylim(0, max(pred.baseline_madrs * 1.15, 10.0))
    ax.set_title("MADRS: research estimate, not clinical advice", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    early = t <= 4.0
    bx.fill_between(
        t[early] * 60,
        pred.cadss.min(axis=0)[early],
        pred.cadss.max(axis=0)[early],
        color="tab:red",
        alpha=0.25,
        label="range over PK copies",
    )
    bx.plot(t[early] * 60, np.median(pred.cadss, axis=0)[early], color="tab:red", label="median")
    bx.set_xlabel("time (min)")
    bx.set_ylabel("CADSS (points)")
    bx.set_title("Dissociation (CADSS)", fontsize=10)
    bx.legend(fontsize=7)
    fig.suptitle(f"One patient, {regimen}", fontsize=11)
    return Figure.from_matplotlib(
        fig,
        "Predicted MADRS and CADSS course",
        "Research estimate, not clinical advice. Left: expected MADRS (mean over the patient's "
        "unknown random effects and the posterior draws), its 95 % interval over posterior "
        "draws, and the 10-90 % spread of the patient's possible courses; P: probability of "
        "response. Right: CADSS during the first 4 h.",
    )


def _caveats(person: PatientFile) -> list[str]:
    r = person.resolved()
    out = [
        "A RESEARCH ESTIMATE, NOT CLINICAL ADVICE: ketasim is calibrated on group-level "
        "outcomes of published trials and has not been validated for predicting an "
        "individual patient's response; do not base treatment decisions on it.",
        "The interval reflects uncertainty in the calibrated parameters only; the patient's "
        "unknown random effects, PK variability, rating error and week-to-week fluctuation "
        "are averaged into the probability. The between-study random effect (tau_study) is "
        "left out.",
        "Covariate effects on the clinical gains (BMI, family history of alcohol use "
        "disorder, suicide attempt, D-serine, SHANK3) are statistical associations from "
        "small studies (Niciu 2014, Moaddel 2015, Ortiz 2015) with sizes set by calibration "
        "or assumption; Val66Met and lithium or valproate act through the modelled "
        "mechanism with assumed sizes.",
        "Age, sex (beyond the default height), treatment-resistance status and baseline BDNF "
        "are recorded but change nothing in the model: no effect of them is established "
        "(baseline BDNF: Laje 2012).",
        "The given MADRS is taken as the patient's expected baseline score; response is "
        "scored against a baseline rating with its own rating error, as in the trials.",
        "One administration at time 0 is simulated; repeated dosing is for the trial and "
        "maintenance tools.",
    ]
    if not r["treatment_resistant"]:
        out.append(
            "The patient is not treatment-resistant: the calibration trials recruited "
            "treatment-resistant patients, so this is an extrapolation."
        )
    return out


def run(settings: Settings) -> Report:
    """The one-patient scenario for ``settings.patient`` (or the shipped example patient),
    with ``settings.replicates`` posterior draws."""
    if settings.patient is not None:
        person = PatientFile.from_yaml(settings.patient)
        source = Path(settings.patient).name
    else:
        person = PatientFile.example()
        source = "the shipped example patient"
    return predict_patient(
        person,
        draws=settings.replicates,
        seed=settings.seed,
        quick=settings.quick,
        run_map=settings.run_map,
        source=source,
    )


__all__ = ["PatientFile", "Prediction", "predict", "predict_patient", "run"]
