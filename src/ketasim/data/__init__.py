"""Data of ketasim: the drug library and species as validated YAML.

The YAML files live beside this module (``drugs/*.yaml``); :func:`load_drug` reads one
into a frozen :class:`~ketasim.data.spec.Drug`.
"""

from ketasim.data.library import (
    SPECIES,
    drug_names,
    load_drug,
    load_drug_file,
    load_mechanism,
    parameter_rows,
)
from ketasim.data.spec import Drug, Parameter

__all__ = [
    "SPECIES",
    "Drug",
    "Parameter",
    "drug_names",
    "load_drug",
    "load_drug_file",
    "load_mechanism",
    "parameter_rows",
]
