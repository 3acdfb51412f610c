"""ketasim: ketamine and NMDA receptor antagonists as rapid antidepressants, simulated.

From the dose to the synapse to the rating scale, in virtual patients and virtual trials.
"""

from ketasim.api import SimulationResult, build_regimen, simulate
from ketasim.data import drug_names, load_drug
from ketasim.model import Perturbations
from ketasim.pk.regimen import Dose, Regimen

__version__ = "0.1.0"

__all__ = [
    "Dose",
    "Perturbations",
    "Regimen",
    "SimulationResult",
    "__version__",
    "build_regimen",
    "drug_names",
    "load_drug",
    "simulate",
]
