"""Covariate effects against Niciu 2014: the regression a trial would run, on virtual patients.

Niciu et al. 2014 (n = 108, single 0.5 mg/kg infusion, NIMH trials) regressed the percent
change of HDRS-17 (negative = improvement) on baseline predictors and report standardised
betas: BMI -0.30 at 230 min and -0.37 at day 1; family history of alcohol use disorder -0.27
at day 1 and -0.41 at day 7; lifetime suicide attempt 0.28 at day 7 (attempters improve
less: "no lifetime suicide attempt predicted better response", as the review puts it).
ketasim runs the same regression (statsmodels OLS on z-scored variables) on a virtual cohort
of such a trial, with rating error and natural fluctuation drawn once (common random
numbers), and fits five covariate effects on the clinical gains so the betas match (least
squares, SciPy): BMI and family history on both gains, a suicide attempt on the sustained
one. The effects are then part of the calibrated set, with this run as their source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import optimize

from ketasim.calibration.cohort import ClinicalValues, Cohort, noise_of
from ketasim.symptoms.scales import load_scales
from ketasim.trials.spec import TrialSpec

#: Niciu 2014's standardised betas: (predictor, time) -> beta.
NICIU_BETAS: dict[tuple[str, str], float] = {
    ("bmi", "230 min"): -0.30,
    ("bmi", "1 d"): -0.37,
    ("fh_aud", "1 d"): -0.27,
    ("fh_aud", "7 d"): -0.41,
    ("suicide_attempt", "7 d"): 0.28,
}
TIMES_H: dict[str, float] = {"230 min": 230.0 / 60.0, "1 d": 24.0, "7 d": 168.0}
#: The effects fitted to the betas.
EFFECTS: tuple[str, ...] = (
    "bmi_fast",
    "bmi_sustained",
    "fh_aud_fast",
    "fh_aud_sustained",
    "suicide_attempt_sustained",
)


def niciu_spec(size: int) -> TrialSpec:
    """An open-label single infusion in the NIMH population that Niciu 2014 pooled (MDD and
    bipolar depression, treatment resistant, HDRS-17)."""
    return TrialSpec.from_mapping(
        {
            "name": "niciu-2014",
            "source": "niciu-2014",
            "population": {
                "size": size,
                "covariates": {
                    "bipolar_share": 0.3,
                    "comedication": {"none": 0.75, "lithium_or_valproate": 0.25},
                },
                "inclusion": {"scale": "HDRS-17", "min": 18},
            },
            "design": {"type": "open-label"},
            "arms": [
                {
                    "name": "ketamine",
                    "drug": "ketamine-racemic",
                    "dose": "0.5 mg/kg",
                    "over": "40 min",
                }
            ],
            "scale": "HDRS-17",
            "followup": "7 d",
            "endpoints": [{"name": f"score_{k}", "type": "score", "time": k} for k in TIMES_H],
        }
    )


@dataclass
class CovariateProblem:
    cohort: Cohort
    z_rating: np.ndarray  # (patients, 4 ratings): baseline and the three times
    z_fluct: np.ndarray

    @classmethod
    def build(
        cls,
        size: int,
        seed: int,
        mapper: Callable[..., Iterable[Any]] = map,
        screening_sd: float | None = None,
    ) -> CovariateProblem:
        """The Niciu 2014 cohort (``screening_sd``: see :meth:`Cohort.build`)."""
        cohort = Cohort.build(niciu_spec(size), 1, seed, mapper, screening_sd)
        n = sum(len(g.patients) for g in cohort.groups)
        rng = np.random.default_rng([seed, 9301])
        return cls(cohort, rng.standard_normal((n, 4)), rng.standard_normal((n, 4)))

    def betas(self, values: ClinicalValues) -> dict[tuple[str, str], float]:
        """Standardised betas of the percent change on BMI, family history and attempt."""
        scale = load_scales()["HDRS-17"]
        sd_f, tau = noise_of(values)
        scores, covs = [], []
        for g in self.cohort.groups:
            s = scale.score(self.cohort.severities(g, values))
            idx = [0] + [round(t / (g.t_h[1] - g.t_h[0])) for t in TIMES_H.values()]
            scores.append(s[:, idx])
            covs.append(g.patients)
        expected = np.concatenate(scores)
        frame = np.concatenate(
            [c[["bmi_kg_m2", "fh_aud", "suicide_attempt"]].to_numpy(dtype=float) for c in covs]
        )
        # fluctuation correlated over time (exp(-dt/tau)) and rating error, drawn once
        t = np.array([0.0, *TIMES_H.values()])
        corr = np.exp(-np.abs(t[:, None] - t[None, :]) / tau)
        eps = sd_f * self.z_fluct @ np.linalg.cholesky(corr).T
        observed = np.round(expected * (1 + eps) + scale.measurement_error_sd * self.z_rating)
        observed = np.clip(observed, 1.0, scale.max_score)
        x = frame
        xz = (x - x.mean(axis=0)) / x.std(axis=0)
        out = {}
        for j, label in enumerate(TIMES_H, start=1):
            pct = 100.0 * (observed[:, j] - observed[:, 0]) / observed[:, 0]
            yz = (pct - pct.mean()) / pct.std()
            fit = sm.OLS(yz, sm.add_constant(xz)).fit()
            for k, name in enumerate(("bmi", "fh_aud", "suicide_attempt"), start=1):
                out[(name, label)] = float(fit.params[k])
        return out

    def residuals(self, values: ClinicalValues) -> np.ndarray:
        b = self.betas(values)
        return np.array([b[key] - target for key, target in NICIU_BETAS.items()])


def fit_covariates(problem: CovariateProblem, values: ClinicalValues) -> dict[str, float]:
    """The covariate effects whose betas match Niciu 2014 (least squares)."""
    start = np.array([values.population.effects[e] for e in EFFECTS])

    def resid(x: np.ndarray) -> np.ndarray:
        return problem.residuals(values.with_values(dict(zip(EFFECTS, x, strict=True))))

    # bounded at a factor e^2 (7.4) on a gain: beyond it a covariate would be a switch
    res = optimize.least_squares(resid, start, diff_step=0.05, max_nfev=60, bounds=(-2.0, 2.0))
    return {e: float(v) for e, v in zip(EFFECTS, res.x, strict=True)}


__all__ = ["EFFECTS", "NICIU_BETAS", "CovariateProblem", "fit_covariates", "niciu_spec"]
