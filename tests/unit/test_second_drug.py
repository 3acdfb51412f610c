"""A second drug given before or with the first, and perturbations given as a mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ketasim
from ketasim import Dose, Regimen
from ketasim.errors import KetasimInputError
from ketasim.experiments import load_experiment, run_experiment

TIMES = np.linspace(0.0, 3.0, 37)


def _ketamine(**kw: object) -> ketasim.SimulationResult:
    return ketasim.simulate(
        "ketamine-racemic",
        dose="3 mg/kg",
        route="intraperitoneal",
        species="mouse",
        until="3 h",
        times_h=TIMES,
        **kw,  # type: ignore[arg-type]
    )


def test_the_second_drug_has_its_own_concentrations_and_competes_at_the_receptor() -> None:
    memantine = Regimen.single(Dose("10 mg/kg", route="intraperitoneal"))
    both = _ketamine(co_drug="memantine", co_regimen=memantine).timecourse
    alone = _ketamine().timecourse
    memantine_alone = ketasim.simulate(
        "memantine", memantine, species="mouse", until="3 h", times_h=TIMES
    ).timecourse
    # the first drug's PK is untouched, the second's matches it given alone
    # (up to the solver tolerance: the coupled system takes other steps)
    np.testing.assert_allclose(both.ketamine_plasma_um, alone.ketamine_plasma_um, rtol=1e-4)
    np.testing.assert_allclose(
        both.memantine_plasma_um, memantine_alone.memantine_plasma_um, rtol=1e-4, atol=1e-7
    )
    # competing blockers share the receptors: more block than either, less than the sum
    block = both.block_interneuron_fraction.to_numpy()
    single = np.maximum(
        alone.block_interneuron_fraction, memantine_alone.block_interneuron_fraction
    )
    total = alone.block_interneuron_fraction + memantine_alone.block_interneuron_fraction
    assert np.all(block[1:] > single.to_numpy()[1:])
    assert np.all(block[1:] < total.to_numpy()[1:])


def test_a_second_drug_needs_its_regimen() -> None:
    with pytest.raises(KetasimInputError, match="co_drug"):
        _ketamine(co_drug="memantine")


def test_an_experiment_condition_can_pretreat_with_a_second_drug(tmp_path: Path) -> None:
    path = tmp_path / "pretreat.yaml"
    path.write_text(
        """
name: pretreat
source: example
claim: "Memantine 1 h before ketamine adds to its interneuron block."
species: mouse
conditions:
  vehicle: {drug: saline}
  ketamine: {drug: ketamine-racemic, dose: 3 mg/kg}
  both: {drug: ketamine-racemic, dose: 3 mg/kg,
         second_drug: {drug: memantine, dose: 10 mg/kg, before: 1 h}}
effects:
  ketamine: [ketamine, vehicle]
  both: [both, vehicle]
readouts:
  - {output: block_interneuron_fraction, at: 10 min}
expectations:
  - {effect: both, relative_to: ketamine, at_least: 1.2, text: "more block with memantine"}
"""
    )
    result = run_experiment(load_experiment(path))
    assert result.passed
    # time runs from the ketamine dose: memantine was already there at time 0
    both = result.timecourses["both"]
    assert both.memantine_plasma_um.iloc[0] > 1.0


@pytest.mark.parametrize(
    ("pert", "field"),
    [
        ({"anisomycin": 2}, "perturbations.anisomycin"),
        ({"anisomicin": 1}, "perturbations.anisomicin"),
    ],
)
def test_perturbations_as_a_mapping_get_one_line_errors(
    pert: dict[str, object], field: str
) -> None:
    with pytest.raises(KetasimInputError, match=field) as info:
        _ketamine(perturbations=pert)
    assert "\n" not in str(info.value)
