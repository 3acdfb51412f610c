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
LAYERS = ("pk", "receptor", "circuit", "signalling", "synapse", "symptoms")
UNIT_SUFFIXES = ("_fraction", "_rel", "_points", "_mmhg", "_density", "_bpm", "_ng_per_ml", "_um")
PNG = b"\x89PNG\r\n\x1a\n"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_show_mechanistic_layers_draws_the_cascade_and_prints_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "cascade.png"
    show = "receptor,circuit,signalling,synapse,symptoms"
    code, out, err = _run([*BASE, "--show", show, "--plot", str(png)], capsys)
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG
    assert "the cascade at a few times" in out
    for column in ("block_interneuron_fraction", "glutamate_rel", "mtor_active_rel"):
        assert column in out
    for column in ("spines_mushroom_density", "hdrs_17_points", "cadss_points"):
        assert column in out
    assert "ketamine_plasma_ng_per_ml" not in out  # pk was not asked for
    for label in ("40 min", "2 h", "1 d", "3 d"):
        assert label in out


def test_plot_without_show_is_still_the_concentration_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pk, cascade = tmp_path / "pk.png", tmp_path / "cascade.png"
    short = [*BASE, "--until", "6 h"]  # the last --until wins
    assert _run([*short, "--plot", str(pk)], capsys)[0] == 0
    assert _run([*short, "--show", " pk, ", "--plot", str(cascade)], capsys)[0] == 0
    assert pk.read_bytes()[:8] == PNG == cascade.read_bytes()[:8]
    assert pk.read_bytes() != cascade.read_bytes()


def test_json_time_course_has_every_layer_with_units_in_the_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run([*BASE, "--show", "symptoms", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)  # strict JSON: the CLI writes it with allow_nan=False
    layers = doc["layers"]
    assert set(layers) == set(LAYERS)
    row = doc["timecourse"][5]
    for layer, columns in layers.items():
        assert columns, layer
        for column in columns:
            assert column in row
            assert column.endswith(UNIT_SUFFIXES), column
    suffixes_seen = {s for s in UNIT_SUFFIXES for c in row if c.endswith(s)}
    assert suffixes_seen == set(UNIT_SUFFIXES)


def test_saline_needs_no_dose_and_shows_only_placebo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--drug", "saline", "--over", "40 min", "--until", "2 d"]
    code, out, err = _run([*argv, "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert "pk" not in doc["layers"]
    last = doc["timecourse"][-1]
    assert last["placebo_effect_fraction"] > 0
    assert last["cadss_points"] == 0
    png = tmp_path / "saline.png"
    code, out, err = _run([*argv, "--show", "pk,symptoms", "--plot", str(png)], capsys)
    assert code == 0, err
    assert png.read_bytes()[:8] == PNG
    assert "hdrs_17_points" in out
    assert "saline has no pk outputs" in out


@pytest.mark.parametrize("value", ["receptor,mood", "", "PK", ","])
def test_unknown_layer_is_one_line_and_exit_2(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run([*BASE, "--show", value], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2
    assert len(lines) == 1, err
    assert lines[0].startswith("error: --show")
    assert "allowed: pk, receptor, circuit, signalling, synapse, symptoms" in lines[0]
    assert "Traceback" not in out + err
