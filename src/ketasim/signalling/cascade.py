"""The signalling cascade of Figure 1, in relative units (1 = drug-free baseline).

Rest route (Monteggia/Kavalali): spontaneous NMDA activity at rest ``u`` drives eEF2K; its
block lowers eEF2 phosphorylation and frees local BDNF translation::

    d eef2k/dt   = (u^h - eef2k) / tau_K                         u = (1 - b_rest)(1 - I_2B,rest)
    d p_eef2/dt  = k_dp * (eef2k (1 - p_eef2) * q - p_eef2)      q = p0 / (1 - p0)
    translation  = (1 - p_eef2) / (1 - p0) * (1 - anisomycin)

Surge route (Duman/Moghaddam): AMPA drive ``A`` releases BDNF, which activates TrkB, Akt and
mTORC1; Akt inhibits GSK-3 (as lithium and valproate do)::

    d bdnf/dt     = k_syn * translation * (1 - bdnf_ko) - bdnf / tau_B - k_rel * A^r * bdnf
    d bdnf_ext/dt = (k_rel * A^r * bdnf / k_rel0 - bdnf_ext) / tau_ext
    trkb          = x^n (1 + K^n) / (K^n + x^n),   x = bdnf_ext
    d akt/dt      = (trkb - akt) / tau_akt
    d mtor/dt     = (akt^g_m (1 - rapamycin) - mtor) / tau_mtor
    gsk3          = (1 - e * akt / (1 + akt)) (1 - lithium) / (1 - e / 2)
    d proteins/dt = ((mtor * translation / gsk3)^g_s - proteins) / tau_P  (PSD-95, GluA1, synapsin)

The powers ``r``, ``n``, ``g_m`` and ``g_s`` are the cascade's amplification: each is assumed
(with its reason in the data file) until the calibration issue fits them to Li 2010's
fold-changes and the clinical time course.

Synaptic protein synthesis needs both mTORC1 and translation (anisomycin blocks it; there is
no transcription step, so actinomycin D does nothing, as Autry 2011 found).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

STATES: tuple[str, ...] = (
    "eef2k_activity",
    "p_eef2",
    "bdnf_dendritic",
    "bdnf_release",
    "akt_active",
    "mtor_active",
    "synaptic_proteins",
)


@dataclass(frozen=True)
class Perturbations:
    """Interventions on the cascade (0 = none, 1 = complete), used by in-silico experiments.

    ``rest_route`` and ``surge_route`` scale how much of the drug's change of rest NMDA
    activity and of AMPA drive reaches the cascade (1 = all; 0 switches a route off, to
    measure what each route carries).
    """

    anisomycin: float = 0.0
    rapamycin: float = 0.0
    bdnf_knockout: float = 0.0
    lithium: float = 0.0
    bdnf_release_factor: float = 1.0
    rest_route: float = 1.0
    surge_route: float = 1.0


@dataclass(frozen=True)
class SignallingParams:
    """Cascade constants (``data/mechanism/human.yaml``, section ``signalling``)."""

    ek_hill: float
    tau_eef2k_h: float
    k_dephos_per_h: float
    p_eef2_baseline: float
    tau_bdnf_h: float
    k_release: float
    release_hill: float
    tau_bdnf_ext_h: float
    trkb_k: float
    trkb_hill: float
    tau_akt_h: float
    tau_mtor_h: float
    mtor_gain: float
    gsk3_akt_inhibition: float
    tau_protein_h: float
    synthesis_gain: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> SignallingParams:
        values = field_values((n for n in cls.__dataclass_fields__ if n != "k_release"), spec)
        return cls(k_release=spec["k_release"].to("1/h"), **values)


def initial(n: int, p: SignallingParams) -> np.ndarray:
    """Drug-free steady state for ``n`` patients."""
    y = np.ones((n, len(STATES)))
    y[:, STATES.index("p_eef2")] = p.p_eef2_baseline
    return y


def trkb_activation(bdnf_release: np.ndarray, p: SignallingParams) -> np.ndarray:
    """TrkB activation relative to baseline for released BDNF relative to baseline."""
    xn = np.maximum(bdnf_release, 0.0) ** p.trkb_hill
    kn = p.trkb_k**p.trkb_hill
    return xn * (1.0 + kn) / (kn + xn)


def gsk3_activity(akt: np.ndarray, p: SignallingParams, lithium: float = 0.0) -> np.ndarray:
    """Active GSK-3 relative to baseline (Akt's Ser9 phosphorylation; lithium inhibits it)."""
    e = p.gsk3_akt_inhibition
    a = np.maximum(akt, 0.0)
    return (1.0 - e * a / (1.0 + a)) * (1.0 - lithium) / (1.0 - e / 2.0)


def translation(p_eef2: np.ndarray, p: SignallingParams, pert: Perturbations) -> np.ndarray:
    """Local translation capacity relative to baseline (falls when eEF2 is phosphorylated)."""
    return (1.0 - p_eef2) / (1.0 - p.p_eef2_baseline) * (1.0 - pert.anisomycin)


def rhs(
    y: np.ndarray,
    rest_activity: np.ndarray,
    ampa_drive: np.ndarray,
    p: SignallingParams,
    pert: Perturbations,
) -> np.ndarray:
    """dy/dt (per hour) of the cascade states ``y`` (patients, states)."""
    ek, pe, bd, be, akt, mtor, prot = (y[:, i] for i in range(len(STATES)))
    q = p.p_eef2_baseline / (1.0 - p.p_eef2_baseline)
    u = np.clip(rest_activity, 0.0, None)
    tr = translation(pe, p, pert)
    k_rel = p.k_release * pert.bdnf_release_factor
    k_syn = 1.0 / p.tau_bdnf_h + p.k_release
    release = k_rel * np.maximum(ampa_drive, 0.0) ** p.release_hill * bd
    out = np.empty_like(y)
    out[:, 0] = (u**p.ek_hill - ek) / p.tau_eef2k_h
    out[:, 1] = p.k_dephos_per_h * (ek * (1.0 - pe) * q - pe)
    out[:, 2] = k_syn * tr * (1.0 - pert.bdnf_knockout) - bd / p.tau_bdnf_h - release
    out[:, 3] = (release / p.k_release - be) / p.tau_bdnf_ext_h
    out[:, 4] = (trkb_activation(be, p) - akt) / p.tau_akt_h
    akt_pos = np.maximum(akt, 0.0)
    out[:, 5] = (akt_pos**p.mtor_gain * (1.0 - pert.rapamycin) - mtor) / p.tau_mtor_h
    gsk3 = gsk3_activity(akt, p, pert.lithium)
    synthesis = np.maximum(mtor * tr / np.maximum(gsk3, 1e-6), 0.0) ** p.synthesis_gain
    out[:, 6] = (synthesis - prot) / p.tau_protein_h
    return out
