"""Scenario studies: ketasim's answers to the review's open questions.

``ketasim scenario list`` shows them, ``ketasim scenario run NAME`` writes a report (HTML with
figures and tables, and JSON). Each answer comes from the calibrated model with an interval
from replicate trials or from posterior draws of the calibrated parameters.
"""

from __future__ import annotations

import importlib

from ketasim.errors import UnknownNameError
from ketasim.report.document import Report
from ketasim.scenarios.base import Scenario, Settings, run_with

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "dose-response",
            "Dose-response of a single infusion against midazolam",
            "What change, response, dissociation and blood pressure do 0.1, 0.2, 0.5 and "
            "1.0 mg/kg give, and how much power has the NCT01920555 design for each?",
            "ketasim.scenarios.dose_response",
        ),
        Scenario(
            "maintenance",
            "Maintenance after induction: booster schedules over six months",
            "After six induction infusions, which booster interval keeps a target share of "
            "patients in response with the fewest infusions, and at what exposure?",
            "ketasim.scenarios.maintenance",
        ),
        Scenario(
            "routes",
            "Routes matched to 0.5 mg/kg IV",
            "Which dose by each route matches the 24-h effect of 0.5 mg/kg IV, and what "
            "dissociation and blood pressure come with it?",
            "ketasim.scenarios.routes",
        ),
        Scenario(
            "compound-design",
            "Compound design: affinity, trapping and GluN2B selectivity",
            "Where is the window of efficacy without dissociation, and what would a compound "
            "in it need?",
            "ketasim.scenarios.compound_design",
        ),
        Scenario(
            "subgroups",
            "Subgroups, augmentation and enriched trials",
            "Who responds (alcohol family history, BMI, D-serine, Val66Met), what does adding "
            "ketamine to an antidepressant give, and how large must an enriched trial be?",
            "ketasim.scenarios.subgroups",
        ),
        Scenario(
            "sensitivity",
            "Global sensitivity (Sobol) of response and relapse",
            "Which model parameters decide 24-h response, 1-week response and time to relapse?",
            "ketasim.scenarios.sensitivity",
        ),
        Scenario(
            "one-patient",
            "One patient's predicted course (research estimate)",
            "For this patient and regimen, what trajectory and probability of response at "
            "230 min, 24 h and 1 week does the model predict, with what uncertainty?",
            "ketasim.scenarios.one_patient",
        ),
    )
}


def run_scenario(name: str, settings: Settings | None = None) -> Report:
    """Run the scenario ``name`` and return its report."""
    if name not in SCENARIOS:
        raise UnknownNameError("scenario", name, tuple(SCENARIOS))
    module = importlib.import_module(SCENARIOS[name].module)
    return run_with(module.run, settings or Settings())


__all__ = ["SCENARIOS", "Report", "Scenario", "Settings", "run_scenario"]
