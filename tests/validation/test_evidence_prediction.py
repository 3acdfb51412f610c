"""ketasim's predictions beside the evidence: virtual trials of the published sizes, analysed
like the published ones, cached in the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ketasim.calibration.reproduce import DRAWS
from ketasim.cli import main
from ketasim.evidence import predict as predict_module
from ketasim.evidence.meta import meta_analysis
from ketasim.evidence.predict import SAMPLES_PER_DRAW, predictable, replicate_counts
from ketasim.evidence.store import EvidenceStore
from ketasim.report.evidence import forest_plot, funnel_plot

PATIENTS = 20


@pytest.fixture(scope="module")
def predicted(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvidenceStore, dict]:
    store = EvidenceStore(tmp_path_factory.mktemp("store") / "evidence.duckdb")
    frame = store.outcomes()
    rows = frame[(frame["study"] == "murrough-2013a") & (frame["time_h"] == 24.0)]
    reps = replicate_counts(rows, patients=PATIENTS, seed=3, store=store)
    return store, reps


def test_outcomes_map_to_the_specs_endpoints() -> None:
    frame = EvidenceStore().outcomes()
    found = set(predictable(frame))
    assert ("murrough-2013a", "midazolam", "response_24h") in found
    assert ("aan-het-rot-2010", "ketamine", "response_final") in found
    assert ("diamond-2014", "pooled", "remission_final") in found
    assert not any(study == "lara-2013" for study, _, _ in found)  # no time, no spec


def test_replicates_are_trials_of_the_published_size(predicted: tuple) -> None:
    _, reps = predicted
    assert set(reps) == {("murrough-2013a", "ketamine"), ("murrough-2013a", "midazolam")}
    ket, mid = reps[("murrough-2013a", "ketamine")], reps[("murrough-2013a", "midazolam")]
    assert ket.shape == mid.shape == (DRAWS * SAMPLES_PER_DRAW,)
    assert ket.min() >= 0
    assert ket.max() <= 47
    assert mid.min() >= 0
    assert mid.max() <= 25
    # the calibrated model separates ketamine from its active placebo, as the trial did
    assert np.median(ket / 47) > np.median(mid / 25)


def _no_simulation(*args: object, **kwargs: object) -> None:
    raise AssertionError("simulated again instead of using the cache")


def test_a_second_analysis_uses_the_cache(
    predicted: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, reps = predicted
    monkeypatch.setattr(predict_module, "rate_draws", _no_simulation)
    frame = store.outcomes()
    rows = frame[(frame["study"] == "murrough-2013a") & (frame["time_h"] == 24.0)]
    again = replicate_counts(rows, patients=PATIENTS, seed=3, store=store)
    for key, value in reps.items():
        np.testing.assert_array_equal(again[key], value)


def test_predicted_odds_ratio_and_figures(predicted: tuple, tmp_path: Path) -> None:
    store, reps = predicted
    frame = store.outcomes()
    result = meta_analysis(frame, "response", "24 h", measure="or", replicates=reps)
    assert result.predicted is not None
    assert result.predicted.lo < result.predicted.estimate < result.predicted.hi
    assert result.predicted.estimate > 1.0
    doc = result.to_json()
    assert doc["predicted"]["estimate"] == pytest.approx(result.predicted.estimate, abs=1e-4)
    assert forest_plot(result, tmp_path / "f.png").stat().st_size > 10_000
    assert funnel_plot(result, tmp_path / "u.svg").read_text().startswith("<?xml")
    # only the rows a prediction exists for are predicted; the others are left blank
    rates = meta_analysis(frame, "response", "24 h", replicates=reps)
    assert rates.predicted is None
    assert [s.predicted is not None for s in rates.studies].count(True) == 1


def test_cli_meta_with_predictions(
    predicted: tuple, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = predicted
    monkeypatch.setenv("KETASIM_HOME", str(store.path.parent))  # the CLI's store: the cached one
    monkeypatch.setattr(predict_module, "rate_draws", _no_simulation)
    code = main(
        [
            "evidence",
            "meta",
            "--measure",
            "rd",
            "--patients",
            str(PATIENTS),
            "--seed",
            "3",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["k_studies"] == 1
    assert doc["predicted"]["lo"] < doc["predicted"]["estimate"] < doc["predicted"]["hi"]
