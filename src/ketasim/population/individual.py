"""From a patient table to per-patient model factors.

A patient's clinical gains (fast and sustained) are the typical values times::

    fast      = exp(theta_bmi,f (BMI - 30)/5 + theta_fh,f FH + theta_ds (D-serine - 4)
                    + theta_bp bipolar + omega z_f)
    sustained = exp(theta_bmi,s (BMI - 30)/5 + theta_fh,s FH + theta_sa attempt
                    + theta_sh SHANK3 + theta_bp bipolar + omega (rho z_f + sqrt(1 - rho^2) z_s))

(``data/population.yaml``: effects and variability, with sources; a calibration run may
replace some of them through ``data/calibrated/human.yaml``). The placebo response and the
time constant of relapse vary log-normally. The BDNF Met allele and lithium or valproate do
not act here: the model gives them to the signalling layer (:class:`Individual` carries them).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ketasim.data.library import load_calibration
from ketasim.data.spec import Parameter
from ketasim.population.covariates import DIMENSIONS


@dataclass(frozen=True)
class PopulationParams:
    """Covariate effects and between-patient variability (name -> value in its unit)."""

    effects: dict[str, float]
    variability: dict[str, float]

    @classmethod
    def load(cls, calibrated: bool = True) -> PopulationParams:
        """The values of ``data/population.yaml``, with the calibrated ones over them."""
        specs = population_parameters(calibrated)
        return cls(
            {k: p.value for k, p in specs["effects"].items()},
            {k: p.value for k, p in specs["variability"].items()},
        )

    def with_values(self, values: dict[str, float]) -> PopulationParams:
        """A copy with some effects or variabilities changed (a calibration's trial point)."""
        effects, variability = dict(self.effects), dict(self.variability)
        for key, value in values.items():
            if key in effects:
                effects[key] = value
            elif key in variability:
                variability[key] = value
            else:
                raise KeyError(key)
        return PopulationParams(effects, variability)


@cache
def population_parameters(calibrated: bool = True) -> dict[str, dict[str, Parameter]]:
    """``effects`` and ``variability`` of ``data/population.yaml`` as parameters."""
    path = Path(str(resources.files("ketasim.data") / "population.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = {
        section: {k: Parameter.model_validate(v) for k, v in raw[section].items()}
        for section in ("effects", "variability")
    }
    overlay = load_calibration() if calibrated else {}
    for key, param in overlay.get("population", {}).items():
        section = "effects" if key in out["effects"] else "variability"
        out[section][key] = param
    return out


@dataclass(frozen=True)
class Individual:
    """Per-patient factors (arrays with one entry per patient) that the model applies."""

    fast_gain_factor: np.ndarray
    sustained_gain_factor: np.ndarray
    placebo_factor: np.ndarray
    relapse_factor: np.ndarray
    met_alleles: np.ndarray
    lithium_mm: np.ndarray
    valproate: np.ndarray
    baseline_severity: np.ndarray  # (patients, dimensions), 0-1

    @property
    def n_patients(self) -> int:
        return int(self.fast_gain_factor.shape[0])

    def subset(self, rows: np.ndarray) -> Individual:
        return Individual(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def typical(cls, n: int, severity: float) -> Individual:
        """``n`` identical typical patients (every factor 1, no allele, no comedication)."""
        one = np.ones(n)
        return cls(
            one,
            one.copy(),
            one.copy(),
            one.copy(),
            np.zeros(n, dtype=int),
            np.zeros(n),
            np.zeros(n),
            np.full((n, len(DIMENSIONS)), severity),
        )

    def with_severity(self, severity: np.ndarray) -> Individual:
        return replace(self, baseline_severity=np.asarray(severity, dtype=float))


def individual_parameters(patients: pd.DataFrame, params: PopulationParams) -> Individual:
    """The model factors of each patient of ``patients`` (a :func:`sample_patients` table)."""
    e, v = params.effects, params.variability
    fh = patients["fh_aud"].to_numpy(dtype=float)
    bipolar = patients["bipolar"].to_numpy(dtype=float)
    bmi = patients["bmi_kg_m2"].to_numpy(dtype=float)
    z_f = patients["z_fast"].to_numpy(dtype=float)
    z_s = patients["z_sustained"].to_numpy(dtype=float)
    rho = v["fast_sustained_correlation"]
    eta_f = v["omega_response"] * z_f
    eta_s = v["omega_response"] * (rho * z_f + np.sqrt(1.0 - rho**2) * z_s)
    log_fast = (
        e["bmi_fast"] * (bmi - 30.0) / 5.0
        + e["fh_aud_fast"] * fh
        + e["d_serine_fast"] * (patients["d_serine_um"].to_numpy(dtype=float) - 4.0)
        + e["bipolar_gain"] * bipolar
        + eta_f
    )
    log_sustained = (
        e["bmi_sustained"] * (bmi - 30.0) / 5.0
        + e["fh_aud_sustained"] * fh
        + e["suicide_attempt_sustained"] * patients["suicide_attempt"].to_numpy(dtype=float)
        + e["shank3_sustained"] * patients["shank3_z"].to_numpy(dtype=float)
        + e["bipolar_gain"] * bipolar
        + eta_s
    )
    comed = patients["comedication"].to_numpy()
    severity = patients[[f"severity_{d}" for d in DIMENSIONS]].to_numpy(dtype=float)
    return Individual(
        fast_gain_factor=np.exp(log_fast),
        sustained_gain_factor=np.exp(log_sustained),
        placebo_factor=np.exp(v["omega_placebo"] * patients["z_placebo"].to_numpy(dtype=float)),
        relapse_factor=np.exp(v["omega_relapse"] * patients["z_relapse"].to_numpy(dtype=float)),
        met_alleles=patients["met_alleles"].to_numpy(dtype=int),
        lithium_mm=np.where(comed == "lithium", e["lithium_serum_mm"], 0.0),
        valproate=np.where(comed == "valproate", e["valproate_gsk3"], 0.0),
        baseline_severity=severity,
    )


__all__ = ["Individual", "PopulationParams", "individual_parameters", "population_parameters"]
