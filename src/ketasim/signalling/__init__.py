"""eEF2K/eEF2, BDNF, TrkB, Akt, mTORC1, GSK-3 and synaptic protein synthesis."""

from ketasim.signalling.cascade import (
    STATES,
    SignallingParams,
    SignallingPerturbations,
    gsk3_activity,
    initial,
    potentiation,
    rhs,
    saturating,
    synaptic_drive,
    translation,
    trkb_activation,
)

__all__ = [
    "STATES",
    "SignallingParams",
    "SignallingPerturbations",
    "gsk3_activity",
    "initial",
    "potentiation",
    "rhs",
    "saturating",
    "synaptic_drive",
    "translation",
    "trkb_activation",
]
