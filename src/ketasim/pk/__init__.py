"""Pharmacokinetics: compartments, routes, dosing events and regimens."""

from ketasim.pk.compartments import SITES, PkStructure, PkValues, build_structure, rate_matrix
from ketasim.pk.regimen import Dose, Input, RateStep, Regimen
from ketasim.pk.routes import ROUTES

__all__ = [
    "ROUTES",
    "SITES",
    "Dose",
    "Input",
    "PkStructure",
    "PkValues",
    "RateStep",
    "Regimen",
    "build_structure",
    "rate_matrix",
]
