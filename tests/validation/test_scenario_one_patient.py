"""Scenario 7, one patient: the report is written, its probabilities are probabilities, and
the patient's covariates move them as mechanism-models.md section 6 says they should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ketasim.errors import KetasimInputError
from ketasim.population import PopulationSpec
from ketasim.scenarios import Settings, run_scenario
from ketasim.scenarios.one_patient import (
    ENDPOINTS,
    PatientFile,
    Prediction,
    predict,
)
from ketasim.scenarios.one_patient import run as run_one_patient
from ketasim.symptoms.scales import load_scales

EXAMPLE = Path(__file__).parents[2] / "examples" / "patients" / "patient.yaml"
DRAWS = 6  # posterior draws: enough for an interval, few enough for a test
KEYS = [key for key, _ in ENDPOINTS]


def _patient(**change: Any) -> PatientFile:
    """The example patient with some fields changed (validated like a file)."""
    base = PatientFile.from_yaml(EXAMPLE).model_dump(exclude_none=True)
    return PatientFile.from_mapping({**base, **change})


def _p(pred: Prediction, key: str) -> float:
    return float(np.mean(pred.p_response[key]))


@pytest.fixture(scope="module")
def base() -> Prediction:
    return predict(_patient(), draws=DRAWS, quick=True)


def test_report_is_written_with_headline_and_research_label(tmp_path: Path) -> None:
    report = run_scenario("one-patient", Settings(replicates=DRAWS, quick=True, seed=1))
    html_path, json_path = report.write(tmp_path / "one-patient.html")
    text = html_path.read_text(encoding="utf-8")
    assert "not clinical advice" in text.lower()
    assert "data:image/png;base64," in text
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["scenario"] == "one-patient"
    assert "not clinical advice" in doc["title"]
    assert any("NOT CLINICAL ADVICE" in c for c in doc["caveats"])
    assert doc["settings"]["replicates"] == DRAWS
    assert doc["settings"]["patient_source"] == "the shipped example patient"
    head = doc["headline"]
    assert head["posterior_draws"] == DRAWS
    assert head["status"] == "RESEARCH ESTIMATE, NOT CLINICAL ADVICE"
    for key in KEYS:
        p, (lo, hi) = head[f"p_response_{key}"], head[f"p_response_{key}_95ci"]
        assert 0.0 <= lo <= p <= hi <= 1.0
        assert lo < hi  # posterior draws differ, so the interval has a width
    assert report.figures[0].png[:8] == b"\x89PNG\r\n\x1a\n"
    rows = doc["tables"][0]["rows"]
    assert [r["time"] for r in rows] == ["230 min", "24 h", "1 week"]


def test_patient_file_setting_is_used(tmp_path: Path) -> None:
    path = tmp_path / "met.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace("val_val", "met_met"))
    report = run_one_patient(Settings(replicates=2, quick=True, patient=path))
    assert report.settings["patient_source"] == "met.yaml"
    table = report.tables[1].frame.set_index("covariate")
    assert table.loc["val66met", "value"] == "met_met"


def test_probabilities_are_probabilities_over_draws(base: Prediction) -> None:
    for key in KEYS:
        p = base.p_response[key]
        assert p.shape == (DRAWS,)
        assert np.all((p >= 0.0) & (p <= 1.0))
        assert np.all((base.p_remission[key] >= 0.0) & (base.p_remission[key] <= 1.0))
    # the course starts at the patient's own baseline MADRS
    assert base.madrs_mean[:, 0] == pytest.approx(33.0)


def test_met_carrier_responds_less_at_24h_than_val_val_laje_2012(base: Prediction) -> None:
    met = predict(_patient(val66met="val_met"), draws=DRAWS, quick=True)
    assert _p(met, "24h") < _p(base, "24h")
    assert _p(met, "1week") < _p(base, "1week")


def test_family_history_of_alcohol_use_disorder_raises_response_niciu_2014(
    base: Prediction,
) -> None:
    negative = predict(_patient(fh_aud=False), draws=DRAWS, quick=True)
    assert _p(base, "24h") > _p(negative, "24h")
    assert _p(base, "1week") > _p(negative, "1week")


def test_higher_bmi_raises_early_response_niciu_2014(base: Prediction) -> None:
    heavier = predict(_patient(weight="100 kg"), draws=DRAWS, quick=True)  # BMI 36 vs 30
    assert _p(heavier, "230min") > _p(base, "230min")
    assert _p(heavier, "24h") > _p(base, "24h")


def test_lifetime_suicide_attempt_lowers_response_at_one_week_niciu_2014(
    base: Prediction,
) -> None:
    attempt = predict(_patient(suicide_attempt=True), draws=DRAWS, quick=True)
    assert _p(attempt, "1week") < _p(base, "1week")


def test_higher_d_serine_lowers_response_at_230_min_moaddel_2015(base: Prediction) -> None:
    high = predict(_patient(d_serine_um=6.0), draws=DRAWS, quick=True)
    assert _p(high, "230min") < _p(base, "230min")


def test_left_out_fields_take_the_population_typical_values() -> None:
    pop = PopulationSpec.default()
    r = PatientFile.from_mapping({}).resolved()
    assert r["bmi_kg_m2"] == pytest.approx(pop.bmi_kg_m2.median)
    assert r["d_serine_um"] == pytest.approx(pop.d_serine_um.median)
    assert r["age_years"] == pytest.approx(pop.age_years.mean)
    assert r["madrs"] == pytest.approx(pop.severity.mean * load_scales()["MADRS"].max_score)
    assert r["val66met"] == "val_val"
    assert r["diagnosis"] == "MDD"
    assert r["comedication"] == "none"


def test_madrs_and_hdrs_set_a_profile_that_reads_back_as_both_scores() -> None:
    person = PatientFile.from_mapping({"madrs": 36, "hdrs17": 28})
    r = person.resolved()
    assert r["madrs"] == pytest.approx(36.0)
    assert r["hdrs17"] == pytest.approx(28.0)
    assert np.ptp(person.severity()) > 0.01  # the two scores disagree, so the profile is uneven
    with pytest.raises(KetasimInputError, match="hdrs17"):
        PatientFile.from_mapping({"madrs": 20, "hdrs17": 45})


def test_weight_height_and_bmi_must_agree() -> None:
    person = PatientFile.from_mapping({"weight": "90 kg", "bmi_kg_m2": 30})
    assert person.resolved()["height_m"] == pytest.approx(np.sqrt(3.0))
    with pytest.raises(KetasimInputError, match="bmi_kg_m2"):
        PatientFile.from_mapping({"weight": "90 kg", "height": "1.70 m", "bmi_kg_m2": 25})
