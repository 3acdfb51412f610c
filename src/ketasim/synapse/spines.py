"""Spines on prefrontal pyramidal dendrites, in units of the healthy density.

The depressed baseline has lost a share ``deficit`` of mature spines. Synaptic proteins above
baseline raise the formation of new (filopodial and thin) spines; new spines mature into
mushroom spines or are lost; restored mushroom spines are eliminated again over days under the
continuing stress, which is relapse::

    d spines_new/dt      = k_f (1 + g (proteins - 1)_+ free)
                           - spines_new (1/tau_new_loss + 1/tau_mat)
    free                 = clip((1 + n0 - spines_new - spines_mushroom) / deficit, 0, 1)
    d spines_mushroom/dt = spines_new / tau_mat - (spines_mushroom - m_floor) / tau_mature_loss

``k_f`` and ``m_floor`` are set so that the depressed baseline (proteins = 1) is a steady
state with mushroom density ``1 - deficit``. New spines grow back at the sites stress
eliminated (Moda-Sava 2019), so extra formation stops as the deficit closes (``free``).

A homeostatic tolerance state integrates the drug's direct NMDA drive over repeated doses::

    d tolerance/dt = (drive - tolerance) / tau_tol

Tolerance scales down the synaptic drive a little (efficacy: little tachyphylaxis, Phillips
2019) and dissociation more (Singh 2016); ``model.py`` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ketasim.data.spec import Parameter, field_values

STATES: tuple[str, ...] = ("spines_new", "spines_mushroom", "tolerance")
NEW_SPINE_BASELINE = 0.05  # share of new spines in the depressed steady state (assumed)


@dataclass(frozen=True)
class SynapseParams:
    """Spine and tolerance constants (``data/mechanism/human.yaml``, section ``synapse``)."""

    formation_gain: float
    tau_maturation_h: float
    tau_new_loss_h: float
    tau_mature_loss_h: float | np.ndarray  # per patient in a virtual population
    spine_deficit: float
    tolerance_tau_h: float
    tolerance_gain_efficacy: float
    tolerance_gain_dissociation: float

    @classmethod
    def from_spec(cls, spec: Mapping[str, Parameter]) -> SynapseParams:
        return cls(**field_values(cls.__dataclass_fields__, spec))

    @property
    def mushroom_baseline(self) -> float:
        return 1.0 - self.spine_deficit

    @property
    def formation_rate(self) -> float:
        """Formation per hour at baseline protein, keeping new spines at their baseline."""
        return NEW_SPINE_BASELINE * (1.0 / self.tau_new_loss_h + 1.0 / self.tau_maturation_h)

    @property
    def mushroom_floor(self) -> float | np.ndarray:
        """Density the mushroom spines decay toward without new input."""
        return self.mushroom_baseline - NEW_SPINE_BASELINE / self.tau_maturation_h * (
            self.tau_mature_loss_h
        )


def initial(n: int, p: SynapseParams) -> np.ndarray:
    """The depressed steady state for ``n`` patients."""
    y = np.zeros((n, len(STATES)))
    y[:, 0] = NEW_SPINE_BASELINE
    y[:, 1] = p.mushroom_baseline
    return y


def spine_restoration(y: np.ndarray, p: SynapseParams) -> np.ndarray:
    """Share of the spine deficit restored (0 at the depressed baseline, 1 when healthy)."""
    total = y[..., 0] + y[..., 1]
    return (total - (NEW_SPINE_BASELINE + p.mushroom_baseline)) / p.spine_deficit


def rhs(
    y: np.ndarray, proteins: np.ndarray, tolerance_drive: np.ndarray, p: SynapseParams
) -> np.ndarray:
    """dy/dt (per hour) for states ``y`` (patients, states)."""
    new, mush, tol = y[:, 0], y[:, 1], y[:, 2]
    # proteins above baseline speed formation at the eliminated sites still free
    free = np.clip((1.0 + NEW_SPINE_BASELINE - new - mush) / p.spine_deficit, 0.0, 1.0)
    extra = p.formation_gain * np.maximum(proteins - 1.0, 0.0) * free
    formation = p.formation_rate * (1.0 + extra)
    out = np.empty_like(y)
    out[:, 0] = formation - new * (1.0 / p.tau_new_loss_h + 1.0 / p.tau_maturation_h)
    out[:, 1] = new / p.tau_maturation_h - (mush - p.mushroom_floor) / p.tau_mature_loss_h
    out[:, 2] = (tolerance_drive - tol) / p.tolerance_tau_h
    return out
