"""Latent severity in five symptom dimensions, with a fast and a sustained drive, and placebo.

Each dimension ``k`` (core mood, anhedonia, anxiety, suicidal ideation, neurovegetative) is a
severity in [0, 1] that follows its target over hours (an indirect-response model)::

    d D_k/dt = (D0_k * (1 - E_k) * (1 - placebo) - D_k) / tau_k    (tau_SI < tau_sev)
    E_mood   = emax * X / (1 + X)                  X = fast + sustained (synaptic drive)
    E_k      = r_k * E_mood                        (r_k: how much dimension k follows mood)
    E_SI     = (1 - s) * E_mood + s * emax * Xd / (1 + Xd)      s = direct share (Ballard 2014)

The fast drive (hours, before spines; Moda-Sava 2019) follows the synaptic potentiation signal
of the cascade (new synthesis with GSK-3 inhibited) and, when the hypothesis is switched on,
mu-opioid receptor occupancy (``opioid_gain``; Williams 2018, the review's "may be critical");
the sustained drive (days) is the restored share of the spine deficit; the direct antisuicidal
drive follows the glutamate surge and the fast drive. The placebo process is its own state: an
administration charges an expectation that acts within hours and fades over days, more when the
treatment is felt (dissociation or sedation; Murrough 2013's midazolam arm)::

    d expectation/dt = -expectation / tau_off        (+1 at each administration)
    d felt/dt        = (noticed (1 - felt) * 10 - felt / tau_off)
    noticed          = (felt_signal - s0)_+ / (1 - s0)      (s0: below it nothing is noticed)
    d placebo/dt     = ((1 - exp(-expectation)) - placebo) / tau_on
    placebo fall     = (placebo_max + felt_gain * felt) * placebo
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

DIMENSIONS: tuple[str, ...] = (
    "core_mood",
    "anhedonia",
    "anxiety",
    "suicidal_ideation",
    "neurovegetative",
)
#: How strongly each dimension follows the synaptic (mood) drive; the review reports
#: antianhedonic (Lally 2014) and anxiolytic (Irwin 2010) effects.
MOOD_COUPLING: dict[str, float] = {
    "core_mood": 1.0,
    "anhedonia": 1.0,
    "anxiety": 0.8,
    "suicidal_ideation": 1.0,
    "neurovegetative": 0.6,
}
STATES: tuple[str, ...] = (
    *(f"severity_{d}" for d in DIMENSIONS),
    "fast_drive",
    "placebo_expectation",
    "placebo_felt",
    "placebo_effect",
)


@dataclass(frozen=True)
class SymptomParams:
    """Symptom-layer constants (``data/mechanism/human.yaml``, section ``symptoms``)."""

    tau_fast_h: float
    fast_gain: float | np.ndarray  # per patient in a virtual population
    sustained_gain: float | np.ndarray
    emax: float
    tau_severity_h: float
    tau_suicidal_h: float
    suicidal_direct_share: float
    placebo_max: float | np.ndarray
    placebo_felt_gain: float | np.ndarray
    tau_placebo_on_h: float
    tau_placebo_off_h: float
    opioid_gain: float
    felt_threshold: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> SymptomParams:
        return cls(**field_values(cls.__dataclass_fields__, spec))


def initial(n: int, baseline: Mapping[str, float] | np.ndarray) -> np.ndarray:
    """Steady state of ``n`` untreated patients with baseline severities (0-1)."""
    y = np.zeros((n, len(STATES)))
    if isinstance(baseline, np.ndarray):
        y[:, : len(DIMENSIONS)] = baseline
    else:
        y[:, : len(DIMENSIONS)] = [baseline[d] for d in DIMENSIONS]
    return y


def mood_effect(fast: np.ndarray, restoration: np.ndarray, p: SymptomParams) -> np.ndarray:
    """Relative fall of core mood severity driven by the synapse (0 without drug)."""
    x = np.maximum(fast, 0.0) + p.sustained_gain * np.maximum(restoration, 0.0)
    return p.emax * x / (1.0 + x)


def rhs(
    y: np.ndarray,
    baseline: np.ndarray,
    potentiation: np.ndarray,
    restoration: np.ndarray,
    surge: np.ndarray,
    felt_signal: np.ndarray,
    p: SymptomParams,
    opioid: np.ndarray | float = 0.0,
) -> np.ndarray:
    """dy/dt (per hour); ``baseline`` has shape (patients, dimensions).

    ``opioid`` is the mu-opioid signal (occupancy times the share not antagonised), 0 unless
    the opioid hypothesis is switched on.
    """
    nd = len(DIMENSIONS)
    sev = y[:, :nd]
    fast, expectation, felt, placebo = (y[:, nd + i] for i in range(4))
    out = np.empty_like(y)
    e_mood = mood_effect(fast, restoration, p)
    direct_x = np.maximum(fast, 0.0) + p.fast_gain * np.maximum(surge, 0.0)
    e_direct = p.emax * direct_x / (1.0 + direct_x)
    fall_placebo = (p.placebo_max + p.placebo_felt_gain * felt) * placebo
    s0 = p.felt_threshold
    noticed = np.clip((felt_signal - s0) / (1.0 - s0), 0.0, 1.0)
    for k, dim in enumerate(DIMENSIONS):
        effect = MOOD_COUPLING[dim] * e_mood
        if dim == "suicidal_ideation":
            s = p.suicidal_direct_share
            effect = (1.0 - s) * e_mood + s * e_direct
        target = baseline[:, k] * (1.0 - effect) * (1.0 - fall_placebo)
        tau = p.tau_suicidal_h if dim == "suicidal_ideation" else p.tau_severity_h
        out[:, k] = (target - sev[:, k]) / tau
    target = p.fast_gain * np.maximum(potentiation, 0.0) + p.opioid_gain * np.maximum(opioid, 0.0)
    out[:, nd] = (target - fast) / p.tau_fast_h
    out[:, nd + 1] = -expectation / p.tau_placebo_off_h
    out[:, nd + 2] = 10.0 * noticed * (1.0 - felt) - felt / p.tau_placebo_off_h
    out[:, nd + 3] = ((1.0 - np.exp(-np.maximum(expectation, 0.0))) - placebo) / p.tau_placebo_on_h
    return out
