"""A threshold-linear excitatory/inhibitory mean field in quasi-steady state.

Firing settles in milliseconds, so the rates are the circuit's fixed point for the current
NMDA block (relative units, 1 = drug-free baseline)::

    r_I = w_IE * r_E + d_I * (1 - B_I) - theta_I                  (tonic NMDA drive d_I)
    r_E = g(B_E) * [w_EE (1 - s_EE B_E) r_E - w_EI r_I + H_E (1 - s_E B_E)]
    g(B_E) = 1 / (1 + (B_E / B_c)^n)                               (collapse at heavy block)

Solved in closed form for ``r_E``; ``theta_I`` and ``H_E`` are set so that both rates are 1
without drug. With strong recurrent inhibition (``w_EI`` large), a few per cent of interneuron
block gives a several-fold larger relative rise of pyramidal firing (disinhibition), while
heavy block of pyramidal NMDA receptors at anaesthetic exposure suppresses it (the inverted U
of Moghaddam 1997). The extracellular glutamate signal follows pyramidal output with the
dialysate's time constant::

    dGlu/dt = (r_E - Glu) / tau_glu

The cortex adapts to a lasting change of drive (homeostatic scaling, hours to days;
Turrigiano 2008): a reference level follows glutamate, and what drives the cascade is the
glutamate signal relative to it, so a brief surge counts fully and a slowly built, lasting
block (memantine's weeks of accumulation) is adapted away::

    dRef/dt = (Glu - Ref) / tau_adapt          surge = 1 + Glu - Ref

The AMPA drive that reaches the cascade is the surge times the share of release left and of
AMPA receptors not blocked (NBQX; Maeng 2008)::

    A = surge * release * (1 - ampa_block)

``release`` is 1 unless the Muller 2013 hypothesis is switched on: ketamine reduces the
presynaptic release machinery, modelled as release = 1 - g_pre * B_rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

STATES: tuple[str, ...] = ("glutamate", "glutamate_reference")


@dataclass(frozen=True)
class CircuitParams:
    """Circuit constants (``data/mechanism/human.yaml``, section ``circuit``)."""

    w_ei: float
    w_ie: float
    w_ee: float
    nmda_share_ee: float
    nmda_drive_i: float
    nmda_share_drive_e: float
    collapse_block: float
    collapse_hill: float
    tau_glutamate_h: float
    tau_adaptation_h: float
    presynaptic_gain: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> CircuitParams:
        return cls(**field_values(cls.__dataclass_fields__, spec))


def firing_rates(
    block_i: np.ndarray, block_e: np.ndarray, p: CircuitParams
) -> tuple[np.ndarray, np.ndarray]:
    """Pyramidal and interneuron rates (1 = baseline) for interneuron and pyramidal block."""
    theta_i = p.w_ie + p.nmda_drive_i - 1.0
    h_e = 1.0 - p.w_ee + p.w_ei
    w_ee = p.w_ee * (1.0 - p.nmda_share_ee * block_e)
    drive_i = p.nmda_drive_i * (1.0 - block_i) - theta_i
    drive_e = h_e * (1.0 - p.nmda_share_drive_e * block_e)
    r_e = (drive_e - p.w_ei * drive_i) / (1.0 - w_ee + p.w_ei * p.w_ie)
    r_e = np.maximum(r_e, 0.0)
    r_i = np.maximum(p.w_ie * r_e + drive_i, 0.0)
    collapse = 1.0 / (1.0 + (np.maximum(block_e, 0.0) / p.collapse_block) ** p.collapse_hill)
    return r_e * collapse, r_i


def rhs(y: np.ndarray, r_e: np.ndarray, p: CircuitParams) -> np.ndarray:
    """d(glutamate, reference)/dt (relative units per hour) for states ``y`` (patients, 2)."""
    glu, ref = y[:, 0], y[:, 1]
    out = np.empty_like(y)
    out[:, 0] = (r_e - glu) / p.tau_glutamate_h
    out[:, 1] = (glu - ref) / p.tau_adaptation_h
    return out


def surge(y: np.ndarray) -> np.ndarray:
    """Glutamate relative to its adapted reference (1 = no change), any leading shape."""
    return 1.0 + y[..., 0] - y[..., 1]


def ampa_drive(
    glutamate: np.ndarray, release: np.ndarray | float = 1.0, ampa_block: float = 0.0
) -> np.ndarray:
    """AMPA receptor drive (1 = baseline) from the glutamate signal."""
    return np.asarray(glutamate) * release * (1.0 - ampa_block)


def presynaptic_release(block_rest: np.ndarray, p: CircuitParams, on: bool) -> np.ndarray:
    """Release left under the Muller 2013 hypothesis (1 when it is switched off)."""
    if not on:
        return np.ones_like(block_rest)
    return np.clip(1.0 - p.presynaptic_gain * block_rest, 0.0, 1.0)
