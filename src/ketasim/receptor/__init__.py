"""NMDA receptor block: use-dependent, trapping open-channel block competing with Mg2+, and
allosteric GluN2B inhibition, for three neuron populations."""

from ketasim.receptor.block import (
    POPULATIONS,
    Blocker,
    ReceptorParams,
    closed_channel_block,
    equilibrium_block,
    glun2b_inhibition,
    mg_unblocked,
    mu_opioid_occupancy,
    population_block,
    rest_block_rates,
)

__all__ = [
    "POPULATIONS",
    "Blocker",
    "ReceptorParams",
    "closed_channel_block",
    "equilibrium_block",
    "glun2b_inhibition",
    "mg_unblocked",
    "mu_opioid_occupancy",
    "population_block",
    "rest_block_rates",
]
