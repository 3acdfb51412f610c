"""Dendritic spines: formation, maturation and loss; homeostatic tolerance."""

from ketasim.synapse.spines import STATES, SynapseParams, initial, rhs, spine_restoration

__all__ = ["STATES", "SynapseParams", "initial", "rhs", "spine_restoration"]
