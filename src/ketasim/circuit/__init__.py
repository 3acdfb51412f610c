"""Cortical microcircuit: interneuron disinhibition, pyramidal output, glutamate and AMPA."""

from ketasim.circuit.ei import (
    STATES,
    CircuitParams,
    ampa_drive,
    firing_rates,
    presynaptic_release,
    rhs,
    surge,
)

__all__ = [
    "STATES",
    "CircuitParams",
    "ampa_drive",
    "firing_rates",
    "presynaptic_release",
    "rhs",
    "surge",
]
