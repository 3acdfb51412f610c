"""The signalling cascade of Figure 1, in relative units (1 = drug-free baseline).

Rest route (Monteggia/Kavalali): spontaneous NMDA activity at rest ``u`` drives eEF2K; its
block lowers eEF2 phosphorylation and frees local translation of dendritic BDNF mRNA::

    d eef2k/dt   = (u^h (1 - eef2k_inhibitor) - eef2k) / tau_K     u = 1 - B_rest
    d p_eef2/dt  = k_dp * (eef2k (1 - p_eef2) * q - p_eef2)          q = p0 / (1 - p0)
    translation  = (1 - p_eef2) / (1 - p0) * (1 - anisomycin)
    d mrna/dt    = (A^x (1 - actinomycin_d) m_T - mrna) / tau_mrna   (transcription)

BDNF transcription is activity-dependent (Ca2+/CREB; Tao 1998), so it follows the AMPA drive
``A`` with power ``x``: hours of cortical silence under anaesthetic block run the mRNA pool
down, and the pool that later translation reads is smaller (the high arm of Li 2010's
inverted U); a rapid effect reads mRNA already in dendrites, so actinomycin D given shortly
before the drug leaves it intact (Autry 2011). ``m_T`` is the share of transcripts targeted to
dendrites (1 in the wild type): the Val66Met Met allele impairs dendritic trafficking of BDNF
mRNA (Chiaruttini 2009), which leaves Met/Met mice with a smaller dendritic pool, atrophic
synapses and no synaptogenic or forced-swim response to ketamine (Liu 2012).

Surge route (Duman/Moghaddam): AMPA drive ``A`` releases BDNF, which activates TrkB, Akt and
mTORC1; Akt inhibits GSK-3 by Ser9 phosphorylation (lithium, valproate and SB216763 inhibit
it directly; the S9A knock-in removes Akt's hold)::

    release       = k_rel (1 + f_rel (A^r - 1)) bdnf          (f_rel: Val66Met, regulated part)
    d bdnf/dt     = k_syn * translation * mrna (1 - bdnf_ko) - bdnf / tau_B - release
    d bdnf_ext/dt = (release / k_rel - bdnf_ext) / tau_ext
    trkb          = S(x; K_T, n_T),  x = bdnf_ext
    d akt/dt      = (trkb - akt) / tau_akt
    d mtor/dt     = (S(akt; K_m, n_m) (1 - rapamycin) - mtor) / tau_mtor
    gsk3          = [1 - e' akt / (1 + akt)] / (1 - e'/2) * (1 - I_Li)(1 - I_VPA)(1 - I_SB)
                    e' = e (1 - knock_in),  I_Li = Li / (Li + Ki_Li)
    S(x; K, n)    = x^n (1 + K^n) / (K^n + x^n)        (1 at x = 1, saturating at 1 + K^n)

Synaptic potentiation needs new synthesis of synaptic proteins from the stable dendritic mRNAs
that encode them (mTORC1 and eEF2-dependent elongation; Li 2010, Autry 2011) *and* GSK-3
inhibited below its baseline (Beurel 2011: the S9A knock-in abolishes the effect; Zhou 2014:
Akt, not mTOR, phosphorylates GSK-3, yet both are needed)::

    potentiation  = (mtor * translation - 1)_+ * i / (i + K_G),   i = (1 - gsk3)_+
    d ref/dt      = (potentiation - ref) / tau_adapt                  (homeostasis)
    drive         = (potentiation - ref - theta)_+
    d proteins/dt = (1 + g_P * drive - proteins) / tau_P             (PSD-95, GluA1, synapsin)

Synapses scale back a lasting potentiation (Turrigiano 2008): the drive is potentiation above
its adapted reference, so a pulse of an hour or two counts and weeks of steady block do not.
Structural plasticity needs a signal above a threshold ``theta`` (as LTP does), so traces of
potentiation that daily low-dose dosing leaves are not integrated by the spines over weeks.

The product is what makes GSK-3 inhibitors potentiate a subthreshold NMDA antagonist without
acting alone (Liu 2013, Ghasemi 2010): lithium opens the gate, the drug supplies the synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

STATES: tuple[str, ...] = (
    "eef2k_activity",
    "p_eef2",
    "bdnf_mrna",
    "bdnf_dendritic",
    "bdnf_release",
    "akt_active",
    "mtor_active",
    "synaptic_proteins",
    "potentiation_reference",
)


@dataclass(frozen=True)
class SignallingPerturbations:
    """Interventions on the cascade (0 = none, 1 = complete), used by in-silico experiments.

    ``lithium_mm`` is the brain lithium concentration; ``valproate`` and ``sb216763`` the
    fraction of GSK-3 they inhibit; ``gsk3_knockin`` 1 makes GSK-3 insensitive to Akt (S9A);
    ``bdnf_release_factor`` scales the activity-dependent (regulated) part of release, not
    the constitutive part (the Val66Met Met allele impairs regulated secretion; Egan 2003);
    ``mrna_targeting_factor`` scales the share of BDNF transcripts reaching dendrites (the Met
    allele impairs their trafficking; Chiaruttini 2009).
    ``rest_route`` and ``surge_route`` scale how much of the drug's change of rest NMDA
    activity and of AMPA drive reaches the cascade (1 = all; 0 switches a route off).
    """

    anisomycin: float = 0.0
    actinomycin_d: float = 0.0
    rapamycin: float = 0.0
    bdnf_knockout: float = 0.0
    eef2k_inhibitor: float = 0.0
    lithium_mm: float | np.ndarray = 0.0  # per patient in a virtual population
    valproate: float | np.ndarray = 0.0
    sb216763: float = 0.0
    gsk3_knockin: float = 0.0
    bdnf_release_factor: float | np.ndarray = 1.0
    mrna_targeting_factor: float | np.ndarray = 1.0
    rest_route: float = 1.0
    surge_route: float = 1.0


@dataclass(frozen=True)
class SignallingParams:
    """Cascade constants (``data/mechanism/<species>.yaml``, section ``signalling``)."""

    ek_hill: float
    tau_eef2k_h: float
    k_dephos_per_h: float
    p_eef2_baseline: float
    tau_bdnf_mrna_h: float
    transcription_hill: float
    tau_bdnf_h: float
    k_release: float
    release_hill: float
    tau_bdnf_ext_h: float
    trkb_k: float
    trkb_hill: float
    tau_akt_h: float
    mtor_k: float
    mtor_hill: float
    tau_mtor_h: float
    gsk3_akt_inhibition: float
    lithium_ki_mm: float
    gsk3_gate_k: float
    protein_gain: float
    tau_protein_h: float
    tau_adaptation_h: float
    drive_threshold: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> SignallingParams:
        values = field_values(
            (n for n in cls.__dataclass_fields__ if n not in ("k_release", "lithium_ki_mm")),
            spec,
        )
        return cls(
            k_release=spec["k_release"].to("1/h"),
            lithium_ki_mm=spec["lithium_ki_mm"].to("mM"),
            **values,
        )


def initial(n: int, p: SignallingParams) -> np.ndarray:
    """Drug-free steady state for ``n`` patients."""
    y = np.ones((n, len(STATES)))
    y[:, STATES.index("p_eef2")] = p.p_eef2_baseline
    y[:, STATES.index("potentiation_reference")] = 0.0
    return y


def saturating(x: np.ndarray, k: float, hill: float) -> np.ndarray:
    """``x^n (1 + K^n) / (K^n + x^n)``: 0 at 0, 1 at baseline (x = 1), at most 1 + K^n."""
    xn = np.maximum(x, 0.0) ** hill
    kn = k**hill
    return xn * (1.0 + kn) / (kn + xn)


def trkb_activation(bdnf_release: np.ndarray, p: SignallingParams) -> np.ndarray:
    """TrkB activation relative to baseline for released BDNF relative to baseline."""
    return saturating(bdnf_release, p.trkb_k, p.trkb_hill)


def gsk3_activity(
    akt: np.ndarray, p: SignallingParams, pert: SignallingPerturbations | None = None
) -> np.ndarray:
    """Active GSK-3 relative to baseline (Akt's Ser9 phosphorylation; direct inhibitors)."""
    pert = pert or SignallingPerturbations()
    e = p.gsk3_akt_inhibition * (1.0 - pert.gsk3_knockin)
    a = np.maximum(akt, 0.0)
    lithium = pert.lithium_mm / (pert.lithium_mm + p.lithium_ki_mm)
    direct = (1.0 - lithium) * (1.0 - pert.valproate) * (1.0 - pert.sb216763)
    return (1.0 - e * a / (1.0 + a)) / (1.0 - e / 2.0) * direct


def translation(
    p_eef2: np.ndarray, p: SignallingParams, pert: SignallingPerturbations
) -> np.ndarray:
    """Local translation capacity relative to baseline (falls when eEF2 is phosphorylated)."""
    return (1.0 - p_eef2) / (1.0 - p.p_eef2_baseline) * (1.0 - pert.anisomycin)


def potentiation(y: np.ndarray, p: SignallingParams, pert: SignallingPerturbations) -> np.ndarray:
    """Synaptic potentiation signal (0 at baseline): new synthesis gated by GSK-3 inhibition.

    ``y`` holds the cascade states in its last axis (any leading shape).
    """
    pe, akt, mtor = (y[..., STATES.index(name)] for name in ("p_eef2", "akt_active", "mtor_active"))
    synthesis = mtor * translation(pe, p, pert)
    inhibition = np.maximum(1.0 - gsk3_activity(akt, p, pert), 0.0)
    gate = inhibition / (inhibition + p.gsk3_gate_k)
    return np.maximum(synthesis - 1.0, 0.0) * gate


def synaptic_drive(y: np.ndarray, p: SignallingParams, pert: SignallingPerturbations) -> np.ndarray:
    """Potentiation above its homeostatic reference (what builds proteins and moves mood)."""
    ref = y[..., STATES.index("potentiation_reference")]
    return np.maximum(potentiation(y, p, pert) - ref - p.drive_threshold, 0.0)


def rhs(
    y: np.ndarray,
    rest_activity: np.ndarray,
    ampa_drive: np.ndarray,
    p: SignallingParams,
    pert: SignallingPerturbations,
) -> np.ndarray:
    """dy/dt (per hour) of the cascade states ``y`` (patients, states)."""
    ek, pe, mrna, bd, be, akt, mtor, prot, ref = (y[:, i] for i in range(len(STATES)))
    q = p.p_eef2_baseline / (1.0 - p.p_eef2_baseline)
    u = np.clip(rest_activity, 0.0, None)
    tr = translation(pe, p, pert)
    k_syn = 1.0 / p.tau_bdnf_h + p.k_release
    regulated = np.maximum(ampa_drive, 0.0) ** p.release_hill - 1.0
    release = p.k_release * (1.0 + pert.bdnf_release_factor * regulated) * np.maximum(bd, 0.0)
    out = np.empty_like(y)
    out[:, 0] = (u**p.ek_hill * (1.0 - pert.eef2k_inhibitor) - ek) / p.tau_eef2k_h
    out[:, 1] = p.k_dephos_per_h * (ek * (1.0 - pe) * q - pe)
    activity = np.maximum(ampa_drive, 0.0) ** p.transcription_hill
    targeted = activity * (1.0 - pert.actinomycin_d) * pert.mrna_targeting_factor
    out[:, 2] = (targeted - mrna) / p.tau_bdnf_mrna_h
    synthesis = k_syn * tr * np.maximum(mrna, 0.0) * (1.0 - pert.bdnf_knockout)
    out[:, 3] = synthesis - bd / p.tau_bdnf_h - release
    out[:, 4] = (release / p.k_release - be) / p.tau_bdnf_ext_h
    out[:, 5] = (trkb_activation(be, p) - akt) / p.tau_akt_h
    target_mtor = saturating(akt, p.mtor_k, p.mtor_hill) * (1.0 - pert.rapamycin)
    out[:, 6] = (target_mtor - mtor) / p.tau_mtor_h
    pot = potentiation(y, p, pert)
    drive = np.maximum(pot - ref - p.drive_threshold, 0.0)
    out[:, 7] = (1.0 + p.protein_gain * drive - prot) / p.tau_protein_h
    out[:, 8] = (pot - ref) / p.tau_adaptation_h
    return out
