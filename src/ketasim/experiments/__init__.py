"""In-silico experiments: the review's preclinical and drug-contrast evidence as runnable data.

Each experiment (``data/experiments/*.yaml``) simulates its conditions with the one shared
parameter set, reads treated-minus-control effects and judges them against the literature.
"""

from ketasim.experiments.runner import (
    ExperimentResult,
    Verdict,
    experiment_names,
    load_experiment,
    run_experiment,
)
from ketasim.experiments.spec import Condition, Expectation, Experiment, Readout, SecondDrug

__all__ = [
    "Condition",
    "Expectation",
    "Experiment",
    "ExperimentResult",
    "Readout",
    "SecondDrug",
    "Verdict",
    "experiment_names",
    "load_experiment",
    "run_experiment",
]
