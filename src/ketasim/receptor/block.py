"""Open-channel block of NMDA receptors by trapping blockers that compete with Mg2+.

Kinetic scheme (reference, ``receptor.kinetic``): a receptor population with time-averaged open
probability ``p`` holds a blocker in its pore with fraction ``b``::

    db/dt = p * a * (1 - b) - (p * koff(V) + (1 - p) * k_esc) * b
    a     = kon * C_u * B_Mg(V)         (the pore must be open and free of Mg2+)
    koff(V) = koff(-70 mV) * exp(delta * (V + 70) / 25.4)    (Woodhull)
    B_Mg(V) = 1 / (1 + [Mg]/(K_Mg0 * w) * exp(-0.062 V))     (Jahr & Stevens; w > 1 for 2C/2D)
    k_esc = -ln(trapped_fraction) / 120 s                    (escape from closed channels:
                                                              Mealing 1999 measured the share
                                                              still trapped after 120 s)

Several blockers (parent and metabolite) compete for the same site. Where the population's
receptors open often (tonically active interneurons, active pyramidal synapses), ``b`` settles
in seconds to minutes and the model uses its steady state (:func:`equilibrium_block`); for
spontaneous NMDA activity at rest its time constant is about 10 min (escape from closed
channels caps it), as slow as the fall of brain ketamine after an infusion, and the model keeps
the kinetic state (:func:`rest_block_rates`). ``tests/numerics/test_block_reduction.py``
shows where the reduction holds.

GluN2B-selective drugs (traxoprodil, rislenemdaz, Ro 25-6981) bind the ifenprodil site, not the
pore: they inhibit the GluN2B share of a population whatever its voltage, Mg2+ or activity.

Ketamine also inhibits closed receptors, lowering their opening frequency (Orser 1997), a
route that needs neither an open channel nor a Mg2+-free pore. It is what lets ketamine block
spontaneous NMDA activity at rest in physiological Mg2+, where memantine, a pure open-channel
blocker of similar potency, does not (Gideons 2014)::

    B_closed = x / (1 + x),   x = sum_i C_i / IC50_closed,i
    B_total  = 1 - (1 - B_open) (1 - B_closed)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ketasim.data.spec import Drug, Parameter

#: Neuron populations whose NMDA receptors the drugs act on.
POPULATIONS: tuple[str, ...] = ("interneuron", "pyramidal", "rest")

SECONDS_PER_HOUR = 3600.0
TRAPPING_WASHOUT_S = 120.0  # Mealing 1999: block still trapped after 120 s agonist-free


@dataclass(frozen=True)
class Blocker:
    """One drug's action at the NMDA receptor (a parent or its metabolite).

    ``kon_per_m_s`` and ``koff_per_s`` at -70 mV; ``k_esc_per_s`` escape from closed channels;
    ``glun2b_ic50_um`` for allosteric GluN2B inhibitors (``None`` for pore blockers).
    """

    name: str
    mw_g_per_mol: float
    pore: bool
    kon_per_m_s: float = 0.0
    koff_per_s: float = 1.0
    delta: float = 0.0
    k_esc_per_s: float = 0.0
    glun2b_ic50_um: float | None = None
    glun2b_hill: float = 1.0
    closed_ic50_um: float | None = None
    mu_opioid_ki_um: float | None = None
    kp_uu: float | None = None  # unbound brain : total plasma; None: the mechanism's value

    @property
    def kd_um(self) -> float:
        """Kinetic dissociation constant at -70 mV in 0 Mg2+ (koff/kon), uM."""
        return self.koff_per_s / self.kon_per_m_s * 1e6 if self.kon_per_m_s > 0 else np.inf

    def koff_at(self, v_mv: float) -> float:
        """Unblocking rate at ``v_mv`` (1/s): ``koff(-70) * exp(delta (V + 70) / 25.4)``."""
        return float(self.koff_per_s * np.exp(self.delta * (v_mv + 70.0) / 25.4))

    def weaker(self, factor: float, name: str) -> Blocker:
        """The same blocker with ``factor`` times lower potency (a metabolite)."""
        return Blocker(
            name,
            self.mw_g_per_mol,
            self.pore,
            self.kon_per_m_s * factor,
            self.koff_per_s,
            self.delta,
            self.k_esc_per_s,
            None if self.glun2b_ic50_um is None else self.glun2b_ic50_um / factor,
            self.glun2b_hill,
            None if self.closed_ic50_um is None else self.closed_ic50_um / factor,
            None if self.mu_opioid_ki_um is None else self.mu_opioid_ki_um / factor,
            self.kp_uu,
        )

    def renamed(self, name: str, mw_g_per_mol: float) -> Blocker:
        """The same blocker under another analyte name and molecular weight."""
        return replace(self, name=name, mw_g_per_mol=mw_g_per_mol)

    @classmethod
    def from_drug(cls, drug: Drug) -> Blocker | None:
        """The blocker described by a drug file's ``pharmacology`` (``None``: no NMDA action)."""
        ph = drug.pharmacology
        mw = drug.mw.to("g/mol") if drug.mw is not None else 1.0

        def get(key: str, unit: str) -> float | None:
            p = ph.get(key)
            return None if p is None else p.to(unit)

        glun2b = (
            get("glun2b_ic50_um", "uM")
            or get("ic50_glun2b_um", "uM")
            or get("glun2b_kd_um", "uM")
            or get("glun2b_ki_um", "uM")
        )
        is_pore = (get("channel_blocker", "dimensionless") or 0.0) > 0.5
        if not is_pore and glun2b is None:
            return None
        kon = get("kon", "1/M/s")
        koff = get("koff", "1/s") or 0.22
        if is_pore and kon is None:
            kd = get("ic50_um", "uM") or get("ki_um", "uM")
            if kd is None:
                return None
            kon = koff / (kd * 1e-6)
        tf = get("trapped_fraction", "dimensionless")
        # no trapped fraction given: fully trapped; 0 (never traps): escape within milliseconds
        k_esc = 0.0 if tf is None else -np.log(max(tf, 1e-6)) / TRAPPING_WASHOUT_S
        return cls(
            name=drug.analyte,
            mw_g_per_mol=mw,
            pore=is_pore,
            kon_per_m_s=kon or 0.0,
            koff_per_s=koff,
            delta=get("woodhull_delta", "dimensionless") or 0.0,
            k_esc_per_s=float(k_esc),
            glun2b_ic50_um=glun2b if not is_pore else None,
            closed_ic50_um=get("closed_channel_ic50_um", "uM"),
            mu_opioid_ki_um=get("mu_opioid_ki_um", "uM"),
            kp_uu=get("kp_uu", "dimensionless"),
        )


@dataclass(frozen=True)
class ReceptorParams:
    """Receptor-layer constants (``data/mechanism/human.yaml``, section ``receptor``)."""

    kp_uu: float
    mg_mm: float
    mg_k0_mm: float
    mg_slope_per_mv: float
    mg_weakening_2cd: float
    v_mv: Mapping[str, float]
    p_open: Mapping[str, float]
    share_2cd: Mapping[str, float]
    share_2b: Mapping[str, float]
    metabolite_potency: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> ReceptorParams:
        def v(key: str, unit: str = "dimensionless") -> float:
            return spec[key].to(unit)

        return cls(
            kp_uu=v("kp_uu"),
            mg_mm=v("mg_mm", "mM"),
            mg_k0_mm=v("mg_k0_mm", "mM"),
            mg_slope_per_mv=v("mg_slope_per_mv", "1/mV"),
            mg_weakening_2cd=v("mg_weakening_2cd"),
            v_mv={
                "interneuron": v("v_interneuron_mv", "mV"),
                "pyramidal": v("v_pyramidal_active_mv", "mV"),
                "rest": v("v_rest_mv", "mV"),
            },
            p_open={
                "interneuron": v("p_open_interneuron"),
                "pyramidal": v("p_open_pyramidal"),
                "rest": v("p_open_rest"),
            },
            share_2cd={"interneuron": v("share_2cd_interneuron"), "pyramidal": 0.0, "rest": 0.0},
            share_2b={
                "interneuron": v("share_2b_interneuron"),
                "pyramidal": v("share_2b_pyramidal"),
                "rest": v("share_2b_pyramidal"),
            },
            metabolite_potency=v("metabolite_potency"),
        )


def mg_unblocked(
    v_mv: float, mg_mm: float, k0_mm: float, slope: float, weakening: float = 1.0
) -> float:
    """Fraction of receptors free of Mg2+ at potential ``v_mv`` (Jahr & Stevens 1990)."""
    return float(1.0 / (1.0 + mg_mm / (k0_mm * weakening) * np.exp(-slope * v_mv)))


def _rates(
    blocker: Blocker, c_um: np.ndarray, v_mv: float, p_open: float, mg_free: float
) -> tuple[np.ndarray, float]:
    """Binding rate ``p * a`` (1/s, per patient) and unbinding rate ``d`` (1/s)."""
    koff_v = blocker.koff_at(v_mv)
    a = blocker.kon_per_m_s * np.maximum(c_um, 0.0) * 1e-6 * mg_free
    d = p_open * koff_v + (1.0 - p_open) * blocker.k_esc_per_s
    return p_open * a, d


def equilibrium_block(
    blockers: Sequence[Blocker],
    c_um: Sequence[np.ndarray],
    v_mv: float,
    p_open: float,
    mg_free: float,
) -> np.ndarray:
    """Steady-state fraction of receptors holding any of the competing pore blockers."""
    x = np.zeros_like(np.asarray(c_um[0], dtype=float))
    for blocker, c in zip(blockers, c_um, strict=True):
        if blocker.pore:
            on, off = _rates(blocker, np.asarray(c, dtype=float), v_mv, p_open, mg_free)
            x = x + on / off
    return x / (1.0 + x)


def glun2b_inhibition(blockers: Sequence[Blocker], c_um: Sequence[np.ndarray]) -> np.ndarray:
    """Fraction of GluN2B receptors inhibited by allosteric (ifenprodil-site) drugs."""
    x = np.zeros_like(np.asarray(c_um[0], dtype=float))
    for blocker, c in zip(blockers, c_um, strict=True):
        if blocker.glun2b_ic50_um is not None:
            x = x + (np.maximum(np.asarray(c, dtype=float), 0.0) / blocker.glun2b_ic50_um) ** (
                blocker.glun2b_hill
            )
    return x / (1.0 + x)


def _competitive_occupancy(
    blockers: Sequence[Blocker], c_um: Sequence[np.ndarray], constant: str
) -> np.ndarray:
    """Occupancy of one site by competing ligands, each with the constant named (uM)."""
    x = np.zeros_like(np.asarray(c_um[0], dtype=float))
    for blocker, c in zip(blockers, c_um, strict=True):
        k = getattr(blocker, constant)
        if k is not None:
            x = x + np.maximum(np.asarray(c, dtype=float), 0.0) / k
    return x / (1.0 + x)


def closed_channel_block(blockers: Sequence[Blocker], c_um: Sequence[np.ndarray]) -> np.ndarray:
    """Fraction of receptors inhibited in the closed state (Mg2+- and voltage-independent)."""
    return _competitive_occupancy(blockers, c_um, "closed_ic50_um")


def mu_opioid_occupancy(blockers: Sequence[Blocker], c_um: Sequence[np.ndarray]) -> np.ndarray:
    """Fraction of mu-opioid receptors occupied by the drugs that bind them (competitive)."""
    return _competitive_occupancy(blockers, c_um, "mu_opioid_ki_um")


def population_block(
    population: str,
    blockers: Sequence[Blocker],
    c_um: Sequence[np.ndarray],
    p: ReceptorParams,
    closed: bool = True,
    allosteric: bool = True,
) -> np.ndarray:
    """Fraction of a population's NMDA conductance removed (pore, closed-state and GluN2B).

    ``closed=False`` leaves out the closed-state route (the open-channel pore block alone);
    ``allosteric=False`` leaves out GluN2B-selective inhibition (the channel block alone).

    The population's receptors are a mix of Mg2+-sensitive GluN2A/2B and less sensitive
    GluN2C/2D (``share_2cd``); allosteric drugs act on the GluN2B share (``share_2b``).
    """
    v = p.v_mv[population]
    pore = np.zeros_like(np.asarray(c_um[0], dtype=float))
    for share, weakening in (
        (1.0 - p.share_2cd[population], 1.0),
        (p.share_2cd[population], p.mg_weakening_2cd),
    ):
        if share <= 0:
            continue
        mg_free = mg_unblocked(v, p.mg_mm, p.mg_k0_mm, p.mg_slope_per_mv, weakening)
        pore = pore + share * equilibrium_block(blockers, c_um, v, p.p_open[population], mg_free)
    allo = p.share_2b[population] * glun2b_inhibition(blockers, c_um) if allosteric else 0.0
    shut = closed_channel_block(blockers, c_um) if closed else np.zeros_like(pore)
    return 1.0 - (1.0 - pore) * (1.0 - allo) * (1.0 - shut)


def rest_block_rates(
    blockers: Sequence[Blocker], c_um: Sequence[np.ndarray], b: np.ndarray, p: ReceptorParams
) -> np.ndarray:
    """d b_i/dt (1/h) of the kinetic block at rest, one column per blocker.

    ``b`` has shape (patients, blockers); blockers compete for the free receptors.
    """
    v = p.v_mv["rest"]
    mg_free = mg_unblocked(v, p.mg_mm, p.mg_k0_mm, p.mg_slope_per_mv)
    free = 1.0 - b.sum(axis=1)
    out = np.zeros_like(b)
    for i, (blocker, c) in enumerate(zip(blockers, c_um, strict=True)):
        if not blocker.pore:
            continue
        on, off = _rates(blocker, np.asarray(c, dtype=float), v, p.p_open["rest"], mg_free)
        out[:, i] = (on * free - off * b[:, i]) * SECONDS_PER_HOUR
    return out
