"""eEF2K/eEF2, BDNF, TrkB, Akt, mTORC1, GSK-3 and synaptic protein synthesis."""

from ketasim.signalling.cascade import (
    STATES,
    Perturbations,
    SignallingParams,
    gsk3_activity,
    initial,
    rhs,
    trkb_activation,
)

__all__ = [
    "STATES",
    "Perturbations",
    "SignallingParams",
    "gsk3_activity",
    "initial",
    "rhs",
    "trkb_activation",
]
