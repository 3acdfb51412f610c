"""Symptoms: latent severity by dimension, rating scales, placebo, side effects, suicidality."""

from ketasim.symptoms.scales import SCALES, Scale, load_scales, scale_scores
from ketasim.symptoms.severity import DIMENSIONS, STATES, SymptomParams, initial, rhs
from ketasim.symptoms.side_effects import SideEffects, side_effects

__all__ = [
    "DIMENSIONS",
    "SCALES",
    "STATES",
    "Scale",
    "SideEffects",
    "SymptomParams",
    "initial",
    "load_scales",
    "rhs",
    "scale_scores",
    "side_effects",
]
