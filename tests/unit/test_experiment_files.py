"""Experiment files: the shipped ones are valid, a user's bad file gets a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketasim.cli import main
from ketasim.errors import DataError
from ketasim.experiments import experiment_names, load_experiment

GOOD = """
name: mine
source: my-lab-2026
claim: "S-ketamine blocks more than R-ketamine."
species: human
conditions:
  saline: {drug: saline, route: iv-infusion, over: 40 min}
  s: {drug: esketamine, dose: 0.25 mg/kg, route: iv-infusion, over: 40 min}
effects:
  s: [s, saline]
readouts:
  - {output: block_pyramidal_fraction, window: [0 h, 2 h], stat: max}
expectations:
  - {effect: s, direction: increase, min_change: 0.01, text: "S-ketamine blocks"}
"""


def test_every_shipped_experiment_file_is_valid_and_names_its_source() -> None:
    names = experiment_names()
    assert len(names) >= 16
    for name in names:
        exp = load_experiment(name)
        assert exp.name == name
        assert exp.source
        assert exp.claim
        assert exp.expectations


def test_a_user_experiment_file_runs_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD)
    assert main(["experiment", "run", str(path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["name"] == "mine"
    assert row["passed"] is True
    assert row["observed"]["checks"][0]["observed"] > 0.01


def test_an_expectation_that_fails_makes_the_cli_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(GOOD.replace("direction: increase", "direction: decrease"))
    assert main(["experiment", "run", str(path), "--json"]) == 1
    (row,) = json.loads(capsys.readouterr().out)
    assert row["passed"] is False


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "{drug: saline, route: iv-infusion, over: 40 min}",
            "{drug: saline, perturbations: {rapamicin: 1}}",
            "rapamicin",
        ),
        ("min_change: 0.01", "min_change: -1", "min_change"),
        ("effect: s,", "effect: nothing,", "nothing"),
    ],
)
def test_a_bad_user_file_gets_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(DataError):
        load_experiment(path)
    assert main(["experiment", "run", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert field in err
    assert "bad.yaml" in err


def test_unknown_experiment_name_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "run", "no-such-experiment"]) == 2
    assert "li-2010-mtor" in capsys.readouterr().err


def test_experiment_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(experiment_names())


def test_experiment_figures_are_written(tmp_path: Path) -> None:
    out = tmp_path / "fig.png"
    assert main(["experiment", "run", "s-vs-r-ketamine", "--plot", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert main(["experiment", "run", "s-vs-r-ketamine", "--plot-dir", str(tmp_path)]) == 0
    assert (tmp_path / "s-vs-r-ketamine.png").stat().st_size > 10_000
