"""Covariate distributions of a virtual trial population, and drawing patients from them.

The defaults (``data/population.yaml``, section ``covariates``) describe a treatment-resistant
depression trial population; a trial spec overrides any of them::

    population:
      covariates:
        bipolar_share: 1.0
        comedication: {none: 0.0, lithium_or_valproate: 1.0}
        bmi_kg_m2: {median: 32}

Each patient's numbers come from its own generator, seeded by ``(seed, STREAM, patient id)``,
in a fixed order: a patient is the same whichever others are drawn beside it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from ketasim.errors import KetasimInputError
from ketasim.symptoms.severity import DIMENSIONS

#: Random stream of the population draws (PK variability and rating error use others).
STREAM = 7001
COMEDICATIONS: tuple[str, ...] = ("none", "antidepressants", "lithium_or_valproate")
GENOTYPES: tuple[str, ...] = ("val_val", "val_met", "met_met")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Continuous(_Spec):
    """A normal or log-normal covariate, truncated to ``[min, max]``."""

    distribution: Literal["normal", "lognormal"]
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    cv: float | None = Field(default=None, gt=0)
    min: float
    max: float
    source: str = "user"
    reason: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Continuous:
        if self.distribution == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("a normal covariate needs mean and sd")
        if self.distribution == "lognormal" and (self.median is None or self.cv is None):
            raise ValueError("a lognormal covariate needs median and cv")
        if not self.min < self.max:
            raise ValueError("min must be below max")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at uniform draws ``u`` (inverse CDF of the truncated distribution)."""
        if self.distribution == "normal":
            assert self.mean is not None
            assert self.sd is not None
            loc, scale = self.mean, self.sd
            lo, hi = (self.min - loc) / scale, (self.max - loc) / scale
            f_lo, f_hi = stats.norm.cdf(lo), stats.norm.cdf(hi)
            return np.asarray(loc + scale * stats.norm.ppf(f_lo + u * (f_hi - f_lo)))
        assert self.median is not None
        assert self.cv is not None
        s = float(np.sqrt(np.log1p(self.cv**2)))
        lo, hi = np.log(self.min / self.median) / s, np.log(self.max / self.median) / s
        f_lo, f_hi = stats.norm.cdf(lo), stats.norm.cdf(hi)
        return np.asarray(self.median * np.exp(s * stats.norm.ppf(f_lo + u * (f_hi - f_lo))))


class Share(_Spec):
    """A yes/no covariate: the share of patients with it."""

    value: float = Field(ge=0.0, le=1.0)
    source: str = "user"
    reason: str = ""


class Heights(_Spec):
    female: float = Field(gt=1.0, lt=2.5)
    male: float = Field(gt=1.0, lt=2.5)
    sd: float = Field(gt=0.0, lt=0.3)
    source: str = "user"
    reason: str = ""


class Comedication(_Spec):
    """Shares of patients on no medication, antidepressants, or lithium or valproate."""

    none: float = Field(default=0.0, ge=0.0, le=1.0)
    antidepressants: float = Field(default=0.0, ge=0.0, le=1.0)
    lithium_or_valproate: float = Field(default=0.0, ge=0.0, le=1.0)
    source: str = "user"
    reason: str = ""

    @model_validator(mode="after")
    def _adds_up(self) -> Comedication:
        total = self.none + self.antidepressants + self.lithium_or_valproate
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the comedication shares add up to {total:g}, not 1")
        return self


class Genotypes(_Spec):
    """BDNF Val66Met genotype frequencies."""

    val_val: float = Field(ge=0.0, le=1.0)
    val_met: float = Field(ge=0.0, le=1.0)
    met_met: float = Field(ge=0.0, le=1.0)
    source: str = "user"
    reason: str = ""

    @model_validator(mode="after")
    def _adds_up(self) -> Genotypes:
        total = self.val_val + self.val_met + self.met_met
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the genotype frequencies add up to {total:g}, not 1")
        return self


class Severity(_Spec):
    """Latent baseline severity (0-1) of each symptom dimension, correlated between them."""

    mean: float = Field(gt=0.0, lt=1.0)
    sd: float = Field(ge=0.0, lt=0.5)
    correlation: float = Field(ge=0.0, le=1.0)
    min: float = Field(ge=0.0, lt=1.0)
    max: float = Field(gt=0.0, le=1.0)
    source: str = "user"
    reason: str = ""


class PopulationSpec(_Spec):
    """Who the virtual patients are: one distribution per covariate."""

    age_years: Continuous
    female_share: Share
    bmi_kg_m2: Continuous
    height_m: Heights
    bipolar_share: Share
    trd_share: Share
    comedication: Comedication
    fh_aud_share: Share
    suicide_attempt_share: Share
    d_serine_um: Continuous
    shank3_z: Continuous
    val66met: Genotypes
    bdnf_ng_per_ml: Continuous
    severity: Severity

    @classmethod
    def default(cls) -> PopulationSpec:
        """The treatment-resistant trial population of ``data/population.yaml``."""
        return _default()

    def override(
        self, changes: dict[str, Any], field: str = "population.covariates"
    ) -> PopulationSpec:
        """A copy with some covariates changed (a trial spec's ``covariates``), with a one-line
        error naming the field when a change is not allowed."""
        if not isinstance(changes, dict):
            raise KetasimInputError(field, changes, "a mapping of covariate names to values")
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            allowed = "one of " + ", ".join(type(self).model_fields)
            raise KetasimInputError(f"{field}.{unknown[0]}", changes[unknown[0]], allowed)
        merged = self.model_dump()
        for key, value in changes.items():
            if isinstance(value, dict):
                base = merged[key]
                if key in ("comedication", "val66met"):
                    # shares: what a spec does not name is 0, so it names only what it has
                    base = {k: 0.0 for k in base if k not in ("source", "reason")}
                merged[key] = {**base, **value, "source": "trial spec"}
            elif key.endswith("_share"):
                merged[key] = {"value": value, "source": "trial spec", "reason": ""}
            else:
                raise KetasimInputError(f"{field}.{key}", value, "a mapping of its settings")
        try:
            return type(self).model_validate(merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise KetasimInputError(f"{field}.{where}", first.get("input"), first["msg"]) from None


@cache
def _default() -> PopulationSpec:
    path = Path(str(resources.files("ketasim.data") / "population.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["covariates"]
    return PopulationSpec.model_validate(raw)


#: Uniform draws per patient, in this order (the order is part of the seed).
_UNIFORMS: tuple[str, ...] = (
    "age",
    "sex",
    "bmi",
    "bipolar",
    "trd",
    "comedication",
    "lithium_or_valproate",
    "fh_aud",
    "suicide_attempt",
    "d_serine",
    "shank3",
    "genotype",
    "bdnf",
)
#: Standard normal draws per patient: height, the severity factors, the random effects.
_NORMALS: tuple[str, ...] = (
    "height",
    "severity_common",
    *(f"severity_{d}" for d in DIMENSIONS),
    "z_fast",
    "z_sustained",
    "z_placebo",
    "z_relapse",
)


def _draws(patient_ids: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n_u, n_z = len(_UNIFORMS), len(_NORMALS)
    u = np.empty((len(patient_ids), n_u))
    z = np.empty((len(patient_ids), n_z))
    for row, pid in enumerate(patient_ids):
        rng = np.random.default_rng([seed, STREAM, int(pid)])
        u[row] = rng.random(n_u)
        z[row] = rng.standard_normal(n_z)
    return u, z


def sample_patients(
    spec: PopulationSpec, patient_ids: np.ndarray | int, seed: int = 0
) -> pd.DataFrame:
    """One row per patient: covariates, biomarkers, latent baseline severities and the
    standard normal draws of the random effects (``z_*``: scaled by the variability of
    :class:`~ketasim.population.individual.PopulationParams`, so a calibration that changes a
    variance reuses the same patients)."""
    ids = np.arange(patient_ids) if isinstance(patient_ids, int) else np.asarray(patient_ids)
    u, z = _draws(ids, seed)
    U = {name: u[:, i] for i, name in enumerate(_UNIFORMS)}
    Z = {name: z[:, i] for i, name in enumerate(_NORMALS)}
    female = U["sex"] < spec.female_share.value
    heights = np.where(female, spec.height_m.female, spec.height_m.male)
    height = np.clip(heights + spec.height_m.sd * Z["height"], 1.4, 2.1)
    bmi = spec.bmi_kg_m2.ppf(U["bmi"])
    med = spec.comedication
    comed = np.where(
        U["comedication"] < med.none,
        "none",
        np.where(U["comedication"] < med.none + med.antidepressants, "antidepressants", "mood"),
    )
    on_mood = comed == "mood"
    mood_drug = np.where(U["lithium_or_valproate"] < 0.5, "lithium", "valproate")
    comedication = np.where(on_mood, mood_drug, comed)
    g = spec.val66met
    met = np.where(
        U["genotype"] < g.val_val, 0, np.where(U["genotype"] < g.val_val + g.val_met, 1, 2)
    )
    sev = spec.severity
    rho = sev.correlation
    frame: dict[str, Any] = {
        "patient": ids,
        "age_years": spec.age_years.ppf(U["age"]),
        "female": female,
        "height_m": height,
        "bmi_kg_m2": bmi,
        "weight_kg": bmi * height**2,
        "bipolar": U["bipolar"] < spec.bipolar_share.value,
        "trd": U["trd"] < spec.trd_share.value,
        "comedication": comedication,
        "fh_aud": U["fh_aud"] < spec.fh_aud_share.value,
        "suicide_attempt": U["suicide_attempt"] < spec.suicide_attempt_share.value,
        "d_serine_um": spec.d_serine_um.ppf(U["d_serine"]),
        "shank3_z": spec.shank3_z.ppf(U["shank3"]),
        "met_alleles": met,
        "bdnf_ng_per_ml": spec.bdnf_ng_per_ml.ppf(U["bdnf"]),
    }
    for d in DIMENSIONS:
        latent = np.sqrt(rho) * Z["severity_common"] + np.sqrt(1.0 - rho) * Z[f"severity_{d}"]
        frame[f"severity_{d}"] = np.clip(sev.mean + sev.sd * latent, sev.min, sev.max)
    for name in ("z_fast", "z_sustained", "z_placebo", "z_relapse"):
        frame[name] = Z[name]
    return pd.DataFrame(frame)


__all__ = ["COMEDICATIONS", "DIMENSIONS", "GENOTYPES", "PopulationSpec", "sample_patients"]
