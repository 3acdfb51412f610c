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


def _open_label(arm: dict[str, object]) -> dict[str, object]:
    return {
        "name": "maintenance",
        "population": {"size": 10},
        "design": {"type": "open-label"},
        "arms": [{"name": "k", "drug": "ketamine-racemic", "dose": "0.5 mg/kg", **arm}],
        "scale": "MADRS",
        "followup": "28 d",
        "endpoints": [{"name": "r", "type": "response", "time": "24 h"}],
    }


def test_explicit_dose_times_give_induction_then_boosters() -> None:
    at = ["0 d", "2 d", "4 d", "7 d", "9 d", "11 d", "18 d", "25 d"]
    arm = TrialSpec.from_mapping(_open_label({"at": at})).arm("k")
    assert arm.doses == 8  # the number of doses follows the list
    assert [t / 24 for t in arm.dose_times_h()] == [0, 2, 4, 7, 9, 11, 18, 25]
    assert [t for t, _ in arm.regimen(start_h=10.0).doses][-1] == 10.0 + 25 * 24
    # a stop rule may cut the list short, as it does a schedule
    assert len(arm.regimen(3).doses) == 3


def test_explicit_times_leave_schedules_unchanged() -> None:
    arm = TrialSpec.from_mapping(_open_label({"doses": 6, "schedule": "three-times-weekly"}))
    assert arm.arm("k").at is None
    assert [t / 24 for t in arm.arm("k").dose_times_h()] == [0, 2, 4, 7, 9, 11]


@pytest.mark.parametrize(
    ("arm", "words"),
    [
        ({"at": ["0 d", "2 d", "2 d"]}, "increase"),
        ({"at": ["0 d", "3 d", "1 d"]}, "increase"),
        ({"at": ["1 d", "3 d"]}, "must be 0"),
        ({"at": ["0 d", "3 d"], "every": "3 d"}, "not both"),
        ({"at": ["0 d", "3 d"], "schedule": "weekly"}, "not both"),
        ({"at": ["0 d", "3 d"], "doses": 3}, "lists 2"),
        ({"at": []}, "at least one"),
        ({"at": ["0 d", "3 parsecs"]}, "arms.k.at"),
    ],
)
def test_bad_dose_times_are_one_line(arm: dict[str, object], words: str) -> None:
    with pytest.raises(KetasimInputError) as info:
        TrialSpec.from_mapping(_open_label(arm))
    message = str(info.value)
    assert words in message
    assert "arms.0" in message or "arms.k" in message
    assert "\n" not in message
