"""Virtual patients: covariates, biomarkers and between-patient variability.

:func:`sample_patients` draws a table of patients (one row each) from a
:class:`PopulationSpec`; :func:`individual_parameters` turns the table into the per-patient
factors the model applies (:class:`Individual`). Patient ``i``'s draws depend only on
``(seed, i)``, never on how many patients are drawn or how they are batched.
"""

from ketasim.population.covariates import PopulationSpec, sample_patients
from ketasim.population.individual import Individual, PopulationParams, individual_parameters

__all__ = [
    "Individual",
    "PopulationParams",
    "PopulationSpec",
    "individual_parameters",
    "sample_patients",
]
