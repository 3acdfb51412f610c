"""Unit tests of the circuit, signalling, synapse and symptom layers, one behaviour each."""

from __future__ import annotations

import numpy as np
import pytest

from ketasim.circuit import CircuitParams, firing_rates
from ketasim.data import load_mechanism
from ketasim.signalling import STATES as CASCADE
from ketasim.signalling import SignallingParams, gsk3_activity
from ketasim.signalling import SignallingPerturbations as Perturbations
from ketasim.signalling import initial as signalling_initial
from ketasim.signalling import rhs as signalling_rhs
from ketasim.symptoms import DIMENSIONS, SymptomParams, load_scales, scale_scores
from ketasim.symptoms import initial as symptoms_initial
from ketasim.symptoms import rhs as symptoms_rhs
from ketasim.synapse import SynapseParams, spine_restoration
from ketasim.synapse import initial as synapse_initial
from ketasim.synapse import rhs as synapse_rhs

SPEC = load_mechanism("human")
CIRCUIT = CircuitParams.from_spec(SPEC["circuit"])
SIGNALLING = SignallingParams.from_spec(SPEC["signalling"])
SYNAPSE = SynapseParams.from_spec(SPEC["synapse"])
SYMPTOMS = SymptomParams.from_spec(SPEC["symptoms"])
ONE = np.ones(1)


def test_circuit_rests_at_baseline_without_block() -> None:
    r_e, r_i = firing_rates(np.zeros(1), np.zeros(1), CIRCUIT)
    assert r_e[0] == pytest.approx(1.0)
    assert r_i[0] == pytest.approx(1.0)


def test_interneuron_block_disinhibits_pyramidal_cells_homayoun_2007() -> None:
    r_e, r_i = firing_rates(np.array([0.05]), np.zeros(1), CIRCUIT)
    assert r_i[0] < 1.0 < r_e[0]


def test_heavy_pyramidal_block_silences_the_surge_moghaddam_1997() -> None:
    r_e, _ = firing_rates(np.array([0.9]), np.array([0.9]), CIRCUIT)
    assert r_e[0] < 1.0


def _signalling_rates(rest: float, ampa: float, pert: Perturbations) -> np.ndarray:
    y = signalling_initial(1, SIGNALLING)
    return signalling_rhs(y, rest * ONE, ampa * ONE, SIGNALLING, pert)[0]


def test_signalling_baseline_is_a_steady_state() -> None:
    assert np.allclose(_signalling_rates(1.0, 1.0, Perturbations()), 0.0, atol=1e-12)


def test_block_at_rest_lowers_eef2k_autry_2011() -> None:
    assert _signalling_rates(0.9, 1.0, Perturbations())[0] < 0


def test_ampa_drive_releases_bdnf() -> None:
    assert _signalling_rates(1.0, 1.2, Perturbations())[CASCADE.index("bdnf_release")] > 0


def test_rapamycin_stops_mtor_and_anisomycin_stops_protein_synthesis() -> None:
    assert (
        _signalling_rates(1.0, 1.0, Perturbations(rapamycin=1.0))[CASCADE.index("mtor_active")] < 0
    )
    assert (
        _signalling_rates(1.0, 1.0, Perturbations(anisomycin=1.0))[CASCADE.index("bdnf_dendritic")]
        < 0
    )


def test_lithium_and_akt_inhibit_gsk3() -> None:
    assert gsk3_activity(ONE, SIGNALLING)[0] == pytest.approx(1.0)
    assert gsk3_activity(ONE, SIGNALLING, Perturbations(lithium_mm=0.6))[0] < 1.0
    knockin = Perturbations(gsk3_knockin=1.0)
    assert gsk3_activity(2 * ONE, SIGNALLING, knockin)[0] == pytest.approx(1.0)
    assert gsk3_activity(2 * ONE, SIGNALLING)[0] < 1.0


def test_synapse_baseline_is_the_depressed_steady_state() -> None:
    y = synapse_initial(1, SYNAPSE)
    assert np.allclose(synapse_rhs(y, ONE, np.zeros(1), SYNAPSE), 0.0, atol=1e-12)
    assert spine_restoration(y, SYNAPSE)[0] == pytest.approx(0.0)


def test_synaptic_proteins_drive_spine_formation_li_2010() -> None:
    y = synapse_initial(1, SYNAPSE)
    assert synapse_rhs(y, 1.3 * ONE, np.zeros(1), SYNAPSE)[0, 0] > 0


def test_symptoms_baseline_is_a_steady_state() -> None:
    base = np.full((1, len(DIMENSIONS)), 0.5)
    y = symptoms_initial(1, base)
    zero = np.zeros(1)
    rates = symptoms_rhs(y, base, zero, zero, zero, zero, SYMPTOMS)
    assert np.allclose(rates, 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("scale", "maximum", "remitted", "not_remitted"),
    [("HDRS-17", 52, 7, 8), ("MADRS", 60, 9, 10), ("HAM-D6", 22, 4, 5), ("QIDS-SR16", 27, 5, 6)],
)
def test_scales_have_their_published_ranges_and_remission_thresholds(
    scale: str, maximum: float, remitted: float, not_remitted: float
) -> None:
    s = load_scales()[scale]
    worst = s.score({d: np.ones(1) for d in DIMENSIONS})
    assert worst[0] == pytest.approx(maximum)
    assert s.remitted(np.array([remitted]))[0]
    assert not s.remitted(np.array([not_remitted]))[0]
    assert s.responded(np.array([10.0]), np.array([20.0]))[0]
    assert not s.responded(np.array([10.1]), np.array([20.0]))[0]


def test_every_scale_reads_the_latent_dimensions() -> None:
    scores = scale_scores({d: np.full(1, 0.5) for d in DIMENSIONS})
    assert set(scores) >= {
        "HDRS-17",
        "HDRS-21",
        "MADRS",
        "BDI-II",
        "HAM-D6",
        "QIDS-SR16",
        "SHAPS",
        "HAM-A",
        "SSI",
    }
    for name, score in scores.items():
        assert score[0] == pytest.approx(0.5 * load_scales()[name].max_score)
