"""Cortical microcircuit: interneuron disinhibition, pyramidal output, glutamate and AMPA."""

from ketasim.circuit.ei import STATES, CircuitParams, firing_rates, rhs

__all__ = ["STATES", "CircuitParams", "firing_rates", "rhs"]
