"""`ketasim simulate --show ... --plot` draws the cascade; `--json` carries every layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ketasim.cli import main

BASE = [
    "simulate",
    "--drug",
    "ketamine-racemic",
    "--dose",
    "0.5 mg/kg",
    "--over",
    "40 min",
    "--until",
    "3 d",
]
UNIT_SUFFIXES = ("_fraction", "_rel", "_points", "_mmhg", "_density", "_bpm", "_ng_per_ml", "_um")


def test_show_all_layers_draws_the_cascade_and_prints_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "cascade.png"
    code = main(
        [*BASE, "--show", "pk,receptor,circuit,signalling,synapse,symptoms", "--plot", str(png)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cascade" in out
    assert "mtor_active_rel" in out


def test_json_time_course_has_every_layer_with_units_in_the_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([*BASE, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    layers = doc["layers"]
    assert set(layers) == {"pk", "receptor", "circuit", "signalling", "synapse", "symptoms"}
    row = doc["timecourse"][5]
    for layer, columns in layers.items():
        assert columns, layer
        for column in columns:
            assert column in row
            assert column.endswith(UNIT_SUFFIXES), column


def test_saline_needs_no_dose_and_shows_only_placebo(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--drug", "saline", "--over", "40 min", "--until", "2 d", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert "pk" not in doc["layers"]
    last = doc["timecourse"][-1]
    assert last["placebo_effect_fraction"] > 0
    assert last["cadss_points"] == 0


def test_unknown_layer_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*BASE, "--show", "receptor,mood"])
    _, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: --show")
