"""Trial specs: the shipped studies load; mistakes are one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ketasim.calibration.fit import study_specs
from ketasim.errors import KetasimInputError
from ketasim.trials import TrialSpec

EXAMPLES = Path(__file__).parents[2] / "examples"
ZARATE = Path(__file__).parents[2] / "src/ketasim/data/trials/zarate-2006a.yaml"


def test_every_shipped_study_and_example_loads() -> None:
    specs = study_specs()
    assert {"zarate-2006a", "murrough-2013a", "murrough-2013b", "lapidus-2014"} <= set(specs)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        TrialSpec.from_yaml(path)


def test_schedules_give_the_published_dose_days() -> None:
    spec = study_specs()["aan-het-rot-2010"]
    assert [t / 24 for t in spec.arms[0].dose_times_h()] == [0, 2, 4, 7, 9, 11]
    weekly = study_specs()["diamond-2014"].arm("weekly")
    assert [t / 24 for t in weekly.dose_times_h()] == [0, 7, 14]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arms": [{"name": "k", "drug": "ketamin"}]}, "arms.0.drug"),
        ({"scale": "MADRS-99"}, "scale"),
        ({"followup": "7 parsecs"}, "followup"),
        ({"design": {"type": "crossover", "washout": "7 kg"}}, "design.washout"),
        ({"population": {"size": 1}}, "population.size"),
        ({"endpoints": [{"name": "r", "type": "response"}]}, "endpoints.0"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_field(change: dict[str, object], field: str) -> None:
    raw = yaml.safe_load(ZARATE.read_text())
    raw.update(change)
    with pytest.raises(KetasimInputError) as info:
        TrialSpec.from_mapping(raw)
    message = str(info.value)
    assert field in message
    assert "\n" not in message
