"""``ketasim predict``: one patient's research estimate on the command line, and bad patient
files as one line naming the field with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketasim.cli import main
from ketasim.scenarios.one_patient import PatientFile

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "patients" / "patient.yaml"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_json_for_the_example_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "course.png"
    argv = ["predict", "--patient", str(EXAMPLE), "--json", "--draws", "4", "--plot", str(png)]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    doc = json.loads(out)
    head = doc["headline"]
    assert head["status"] == "RESEARCH ESTIMATE, NOT CLINICAL ADVICE"
    assert head["posterior_draws"] == 4
    for key in ("230min", "24h", "1week"):
        lo, hi = head[f"p_response_{key}_95ci"]
        assert 0.0 <= lo <= head[f"p_response_{key}"] <= hi <= 1.0
    assert doc["settings"]["dose"] == "0.5 mg/kg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shipped_example_equals_the_package_default() -> None:
    # an installed package has no examples/ folder: its default must be the same patient
    assert PatientFile.from_yaml(EXAMPLE) == PatientFile.example()


BAD_FILES = [
    ("unknown field", "age_years: 40\nshoe_size: 42\n", "shoe_size"),
    ("bad genotype", "val66met: val_leu\n", "val66met"),
    ("weight without unit", "weight: 82\n", "weight"),
    ("weight with a wrong unit", "weight: 82 m\n", "weight"),
    ("height without unit", "height: 170\n", "height"),
    ("age out of range", "age_years: 9\n", "age_years"),
    ("unknown comedication", "comedication: ketamine\n", "comedication"),
    ("unknown diagnosis", "diagnosis: schizophrenia\n", "diagnosis"),
    ("yes/no that is neither", "fh_aud: perhaps\n", "fh_aud"),
    ("MADRS beyond the scale", "madrs: 70\n", "madrs"),
    ("HDRS that contradicts the MADRS", "madrs: 20\nhdrs17: 45\n", "hdrs17"),
    (
        "three body sizes that disagree",
        "weight: 90 kg\nheight: 1.7 m\nbmi_kg_m2: 25\n",
        "bmi_kg_m2",
    ),
    ("not a mapping", "- a list\n", "patient"),
    ("not YAML", "age_years: [40\n", "patient"),
]


@pytest.mark.parametrize(("case", "text", "field"), BAD_FILES, ids=[c for c, _, _ in BAD_FILES])
def test_bad_patient_file_exits_2_with_one_line_naming_the_field(
    case: str, text: str, field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = _run(["predict", "--patient", str(path)], capsys)
    assert code == 2, case
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert field in lines[0]
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["--patient", "no/such/patient.yaml"], "--patient"),
        (["--patient", str(EXAMPLE), "--drug", "ketamin"], "drug"),
        (["--patient", str(EXAMPLE), "--dose", "0.5"], "dose"),
        (["--patient", str(EXAMPLE), "--draws", "1"], "--draws"),
    ],
)
def test_bad_options_exit_2_with_one_line_naming_the_option(
    argv: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["predict", *argv], capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert field in lines[0]
    assert "Traceback" not in err + out


def test_missing_patient_file_in_the_scenario_names_the_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(["scenario", "run", "one-patient", "--patient", "nowhere.yaml"], capsys)
    assert code == 2
    assert "--patient" in err
