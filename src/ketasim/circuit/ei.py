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

    dGlu/dt = (r_E - Glu) / tau_glu           AMPA drive = Glu
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

STATES: tuple[str, ...] = ("glutamate",)


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


def rhs(glutamate: np.ndarray, r_e: np.ndarray, p: CircuitParams) -> np.ndarray:
    """d glutamate / dt (relative units per hour)."""
    return (r_e - glutamate) / p.tau_glutamate_h
