"""The command line: outputs for machines and people, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ketasim.cli import main

STANDARD = ["simulate", "--drug", "ketamine-racemic", "--dose", "0.5 mg/kg", "--over", "40 min"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_summary_and_timecourse(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*STANDARD, "--weight", "70 kg", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert set(doc["summary"]) == {"ketamine", "norketamine"}
    ket = doc["summary"]["ketamine"]
    assert {"cmax_ng_per_ml", "tmax_h", "auc_ng_h_per_ml"} <= set(ket)
    row = doc["timecourse"][10]
    assert {"t_h", "ketamine_plasma_ng_per_ml", "ketamine_brain_ng_per_ml"} <= set(row)
    assert doc["plasma_site"] == "venous"


def test_csv_and_plot_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, png = tmp_path / "tc.csv", tmp_path / "pk.png"
    code, _, err = _run([*STANDARD, "--csv", str(csv), "--plot", str(png)], capsys)
    assert code == 0, err
    assert "ketamine_plasma_um" in pd.read_csv(csv).columns
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repeated_dosing_with_every_and_schedule_agree(capsys: pytest.CaptureFixture[str]) -> None:
    _, every, _ = _run(
        [*STANDARD, "--every", "2 d", "--count", "3", "--until", "6 d", "--json"], capsys
    )
    _, sched, _ = _run(
        [*STANDARD, "--schedule", "0 d, 2 d, 4 d", "--until", "6 d", "--json"], capsys
    )
    assert json.loads(every)["summary"] == json.loads(sched)["summary"]


def test_events_table_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "doses.csv"
    table.write_text(
        "ID,TIME,AMT,RATE,CMT,EVID,WT,ROUTE\n"
        "1,0,35,52.5,2,1,70,\n"
        "1,24,20,0,1,1,70,intramuscular\n"
        "2,0,40,60,2,1,80,\n"
    )
    code, out, err = _run(
        ["simulate", "--drug", "ketamine-racemic", "--events", str(table), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["summary"]["ketamine"]["cmax_ng_per_ml"] > 100


def test_params_lists_every_parameter_with_source_and_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(["params", "ketamine-racemic", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    names = {r["parameter"] for r in rows}
    assert "species.human.disposition.cl" in names
    assert all(r["source"] and r["kind"] for r in rows)
    assert all(r["reason"] for r in rows if r["kind"] in ("assumed", "derived"))


def test_scenario_list_names_the_seven_studies(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["scenario", "list", "--json"], capsys)
    assert code == 0
    names = [row["name"] for row in json.loads(out)]
    assert names == [
        "dose-response",
        "maintenance",
        "routes",
        "compound-design",
        "subgroups",
        "sensitivity",
        "one-patient",
    ]


def test_scenario_run_writes_its_report_and_prints_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "one.html"
    argv = ["scenario", "run", "one-patient", "--quick", "--replicates", "2", "--seed", "4"]
    code, out, err = _run([*argv, "--report", str(report), "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["scenario"] == "one-patient"
    expected = {"replicates": 2, "patients": 200, "seed": 4, "quick": True}
    assert {k: doc["settings"][k] for k in expected} == expected
    assert json.loads(report.with_suffix(".json").read_text()) == doc
    assert "research estimate" in report.read_text()


BAD_INPUT = [
    (["simulate", "--drug", "ketamine-racemic", "--over", "40 min"], "dose"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "-5 mg", "--over", "40 min"], "dose"),
    (["simulate", "--drug", "ketamine", "--dose", "5 mg", "--over", "40 min"], "drug"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "5 mg", "--route", "rectal"], "route"),
    ([*STANDARD, "--species", "dog"], "species"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "0.5 mg/kg", "--over", "0 min"], "over"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "0.5 mgg", "--over", "40 min"], "dose"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "0.5 mg/L", "--over", "40 min"], "dose"),
    ([*STANDARD, "--schedule", "2 d, 0 d"], "schedule"),
    ([*STANDARD, "--every", "2 d"], "every"),
    ([*STANDARD, "--every", "2 d", "--count", "two"], "--count"),
    ([*STANDARD, "--weight", "-70 kg"], "weight"),
    ([*STANDARD, "--weight", "70"], "weight"),
    ([*STANDARD, "--until", "tomorrow"], "until"),
    (["simulate", "--drug", "ketamine-racemic", "--dose", "5 mg/kg", "--over", "40 min"], "dose"),
    (
        [
            "simulate",
            "--drug",
            "ketamine-racemic",
            "--dose",
            "1 mg",
            "--route",
            "iv-bolus",
            "--over",
            "10 min",
        ],
        "over",
    ),
    (["simulate", "--drug", "saline", "--dose", "1 mg", "--over", "40 min"], "dose"),
    (["simulate", "--drug", "ketamine-racemic", "--rates", "0.5 mg/kg/h"], "--rates"),
    (
        [
            "simulate",
            "--drug",
            "memantine",
            "--dose",
            "10 mg",
            "--route",
            "iv-infusion",
            "--over",
            "1 h",
        ],
        "route",
    ),
    ([*STANDARD, "--bogus"], "bogus"),
    (["serve", "--port", "0"], "--port"),
    (["serve", "--port", "70000"], "--port"),
    (["serve", "--log-level", "loud"], "--log-level"),
    (["serve", "--simulate-workers", "0"], "--simulate-workers"),
    (["scenario", "run", "dose-respons"], "scenario"),
    (["scenario", "run", "dose-response", "--replicates", "1"], "--replicates"),
    (["scenario", "run", "routes", "--patients", "5"], "--patients"),
    (["scenario", "run", "routes", "--workers", "0"], "--workers"),
    (["scenario", "run", "routes", "--report", "/no/such/folder/r.html"], "--report"),
    (["scenario", "run", "one-patient", "--patient", "/no/such/patient.yaml"], "--patient"),
]


@pytest.mark.parametrize(("argv", "field"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_naming_the_field(
    argv: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(argv, capsys)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert field in lines[0]
    assert "Traceback" not in err + out


def test_dose_in_mg_per_kg_for_a_drug_without_default_weight_needs_no_weight_in_humans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # humans default to 70 kg, so a mg/kg dose without --weight is well defined
    code, out, _ = _run([*STANDARD, "--json"], capsys)
    assert code == 0
    assert json.loads(out)["summary"]["ketamine"]["cmax_ng_per_ml"] > 0


def test_written_event_table_reads_back_to_the_same_exposure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.csv"
    argv = [*STANDARD, "--every", "1 d", "--count", "2", "--until", "3 d"]
    code, out, err = _run([*argv, "--write-events", str(events), "--json"], capsys)
    assert code == 0, err
    table = pd.read_csv(events)
    assert list(table.columns[:6]) == ["ID", "TIME", "AMT", "RATE", "CMT", "EVID"]
    assert table[table.EVID == 1].AMT.tolist() == [35.0, 35.0]
    code, back, err = _run(
        [
            "simulate",
            "--drug",
            "ketamine-racemic",
            "--events",
            str(events),
            "--until",
            "3 d",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    a, b = json.loads(out)["summary"]["ketamine"], json.loads(back)["summary"]["ketamine"]
    assert b["auc_ng_h_per_ml"] == pytest.approx(a["auc_ng_h_per_ml"], rel=1e-6)


def test_trial_run_cli_json_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``ketasim trial run`` (the README's longer commands are exercised here, smaller)."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "name: tiny\n"
        "population: {size: 4}\n"
        "design: {type: parallel}\n"
        "arms: [{name: ketamine, drug: ketamine-racemic, dose: 0.5 mg/kg},\n"
        "       {name: saline, drug: saline}]\n"
        "scale: MADRS\n"
        "followup: 1 d\n"
        "endpoints: [{name: response_24h, type: response, time: 24 h}]\n"
        "comparisons: [{arm: ketamine, vs: saline, endpoints: [response_24h]}]\n"
    )
    assert main(["trial", "run", str(spec), "--replicates", "2", "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in out["arms"]] == ["ketamine", "saline"]
    assert set(out["comparisons"][0]) == {"endpoint", "arm", "vs", "median", "lo", "hi", "power"}
    spec.write_text(spec.read_text().replace("time: 24 h", "time: 24 parsecs"))
    assert main(["trial", "run", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "endpoints" in err
    assert err.count("\n") == 1
    assert main(["trial", "run", str(tmp_path / "missing.yaml")]) == 2


def test_export_sbml_writes_a_valid_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import libsbml

    out = tmp_path / "model.xml"
    code, _, err = _run(
        [
            "export",
            "sbml",
            "--drug",
            "ketamine-racemic",
            "--dose",
            "0.5 mg/kg",
            "--over",
            "40 min",
            "--output",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    doc = libsbml.readSBMLFromString(out.read_text())
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    model = doc.getModel()
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert model.getNumEvents() >= 2  # the infusion switched on and off
    assert model.getNumRules() > 20
    code, out_text, err = _run(
        ["export", "sbml", "--drug", "esketamine", "--route", "intranasal", "--dose", "56 mg"],
        capsys,
    )
    assert code == 0, err
    assert out_text.startswith("<?xml")


def test_export_sbml_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["export", "sbml", "--drug", "ketamine-racemic", "--dose", "5 mg/kg", "--over", "40 min"],
        capsys,
    )
    assert code == 2
    assert err.startswith("error: dose:")
    assert "--allow-anesthetic" in err


def test_limits_name_the_limit_and_how_to_raise_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run([*STANDARD, "--patients", "2000000"], capsys)
    assert code == 2
    assert "KETASIM_MAX_PATIENTS" in err
    assert "at most 1,000,000 patients" in err
    monkeypatch.setenv("KETASIM_MAX_DAYS", "10")
    code, _, err = _run([*STANDARD, "--until", "30 d"], capsys)
    assert code == 2
    assert err.startswith("error: --until: got '30 d'; at most 10 days (set KETASIM_MAX_DAYS")
    monkeypatch.setenv("KETASIM_MAX_DAYS", "40")
    code, _, err = _run([*STANDARD, "--until", "30 d"], capsys)
    assert code == 0, err
    monkeypatch.setenv("KETASIM_MAX_REPLICATES", "lots")
    code, _, err = _run(
        ["trial", "run", "examples/dose-response.yaml", "--replicates", "2"], capsys
    )
    assert code == 2
    assert "KETASIM_MAX_REPLICATES: got 'lots'" in err
