"""Acute effects that follow the drug's concentration at its site: dissociation (CADSS),
psychotomimetic symptoms (BPRS positive), blood pressure and heart rate, sedation.

Dissociation and the pressor response follow the block of pyramidal NMDA receptors at active
synapses, expressed as a multiple ``x`` of the block that racemic ketamine produces at its
half-effect effect-site concentration (so the links apply to every drug through its own
receptor pharmacology)::

    CADSS = Emax * x^n / (1 + x^n) * (1 - g_tol * tolerance)      n = 3 (steep)
    dSBP  = Emax_SBP * y^m / (1 + y^m),  dHR likewise              m = 2

The steep link is what lets dissociation resolve within 80-120 min while plasma ketamine is
still a fifth of its peak (Luckenbaugh 2014; Bowdle 1998 found effects rising steeply over
50-200 ng/mL). Sedation (midazolam) is an Emax function of its own effect-site concentration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter

SBP_BASELINE_MMHG = 125.0
HR_BASELINE_BPM = 72.0


@dataclass(frozen=True)
class SideEffects:
    """Side-effect links; ``block_c50_*`` are filled in by ``model.py`` from the receptor."""

    cadss_emax: float
    cadss_hill: float
    bprs_emax: float
    sbp_emax_mmhg: float
    sbp_hill: float
    hr_emax_bpm: float
    block_c50_cadss: float
    block_c50_sbp: float
    sedation_c50_ng_per_ml: float
    tolerance_gain: float

    @classmethod
    def from_spec(
        cls,
        spec: Mapping[str, Parameter],
        block_c50_cadss: float,
        block_c50_sbp: float,
        tolerance_gain: float,
    ) -> SideEffects:
        return cls(
            cadss_emax=spec["cadss_emax"].value,
            cadss_hill=spec["cadss_hill"].to("dimensionless"),
            bprs_emax=spec["bprs_emax"].value,
            sbp_emax_mmhg=spec["sbp_emax_mmhg"].value,
            sbp_hill=spec["sbp_hill"].to("dimensionless"),
            hr_emax_bpm=spec["hr_emax_bpm"].to("1/min"),
            block_c50_cadss=block_c50_cadss,
            block_c50_sbp=block_c50_sbp,
            sedation_c50_ng_per_ml=spec["sedation_c50_ng_per_ml"].to("ng/mL"),
            tolerance_gain=tolerance_gain,
        )


def _emax(x: np.ndarray, hill: float) -> np.ndarray:
    xn = np.maximum(x, 0.0) ** hill
    return xn / (1.0 + xn)


def side_effects(
    block_pyramidal: np.ndarray,
    tolerance: np.ndarray,
    sedative_ng_per_ml: np.ndarray | None,
    p: SideEffects,
) -> dict[str, np.ndarray]:
    """CADSS, BPRS positive, systolic BP, heart rate and sedation (any array shape)."""
    x = block_pyramidal / p.block_c50_cadss
    damp = np.clip(1.0 - p.tolerance_gain * tolerance, 0.0, 1.0)
    dissociation = _emax(x, p.cadss_hill) * damp
    pressor = _emax(block_pyramidal / p.block_c50_sbp, p.sbp_hill)
    sedation = (
        np.zeros_like(block_pyramidal)
        if sedative_ng_per_ml is None
        else sedative_ng_per_ml / (p.sedation_c50_ng_per_ml + np.maximum(sedative_ng_per_ml, 0.0))
    )
    return {
        "cadss": p.cadss_emax * dissociation,
        "bprs_positive": p.bprs_emax * dissociation,
        "sbp_mmhg": SBP_BASELINE_MMHG + p.sbp_emax_mmhg * pressor,
        "heart_rate_bpm": HR_BASELINE_BPM + p.hr_emax_bpm * pressor,
        "sedation": sedation,
        "felt": np.maximum(dissociation, sedation),
    }
