"""The web service's API through FastAPI's TestClient: what each endpoint returns, its errors
(422 naming the field, 404, 413), its limits, and job records that outlive the service."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from ketasim.errors import KetasimInputError
from ketasim.web.app import create_app
from ketasim.web.jobs import JobStore

from .conftest import SMALL_STUDY, wait_for_job

EXAMPLE = Path(__file__).parents[2] / "examples" / "dose-response.yaml"
STANDARD = {"drug": "ketamine-racemic", "dose": "0.5 mg/kg", "over": "40 min", "until": "1 d"}


def _simulate(client: TestClient, **changes: object) -> dict:
    response = client.post("/api/simulate", json={**STANDARD, "points": 60, **changes})
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: object, status: int = 422) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    assert len(detail) == 1
    return detail[0]


# --- simulate -----------------------------------------------------------------------------


def test_simulate_follows_the_dose_to_dissociation_and_the_rating_scales(
    client: TestClient,
) -> None:
    doc = _simulate(client)
    t = np.array(doc["t_h"])
    assert np.all(np.diff(t) > 0)
    assert t[-1] == pytest.approx(24.0)
    assert np.any(np.isclose(t, 40 / 60)), "the end of the infusion is an output time"
    tc = doc["timecourse"]
    for column in ("ketamine_plasma_ng_per_ml", "block_pyramidal_fraction", "glutamate_rel"):
        assert len(tc[column]) == t.size
    cadss, madrs = np.array(tc["cadss_points"]), np.array(tc["madrs_points"])
    # dissociation peaks with the infusion and is gone by the next day; mood improves
    assert t[np.argmax(cadss)] < 2.0
    assert cadss.max() > 3.0
    assert cadss[-1] < 0.5
    assert madrs[-1] < madrs[0] - 5.0
    assert doc["units"]["madrs_points"] == "points"
    assert doc["units"]["ketamine_plasma_ng_per_ml"] == "ng/mL"
    assert doc["band"] is None
    assert doc["n_patients"] == 1
    ket = next(r for r in doc["summary"] if r["analyte"] == "ketamine")
    assert 0.5 < ket["tmax_h"] < 0.8  # at the end of the 40-min infusion


def test_several_patients_come_with_a_percentile_band(client: TestClient) -> None:
    doc = _simulate(
        client, n_patients=4, variability=True, seed=3, columns=["ketamine_plasma_ng_per_ml"]
    )
    assert list(doc["timecourse"]) == ["ketamine_plasma_ng_per_ml"]
    band = doc["band"]["ketamine_plasma_ng_per_ml"]
    lo, hi = np.array(band["lo"]), np.array(band["hi"])
    assert np.all(lo <= hi)
    assert np.any(hi > lo), "PK variability spreads the patients"
    assert len({r["patient"] for r in doc["summary"]}) == 4


def test_neutral_covariates_are_the_typical_patient_and_covariates_act(
    client: TestClient,
) -> None:
    typical = _simulate(client)["timecourse"]["madrs_points"]
    neutral = _simulate(client, covariates={})["timecourse"]["madrs_points"]
    assert neutral == typical
    # Niciu 2014: a family history of alcohol use disorder goes with a larger response;
    # Laje 2012: Met carriers respond less (the Met allele acts through BDNF release)
    fh = _simulate(client, covariates={"fh_aud": True})["timecourse"]["madrs_points"]
    met = _simulate(client, covariates={"met_alleles": 2})["timecourse"]["madrs_points"]
    assert fh[-1] < typical[-1] - 1.0
    assert met[-1] > typical[-1]


def test_bad_dose_is_422_naming_the_field(client: TestClient) -> None:
    item = _error(client.post("/api/simulate", json={**STANDARD, "dose": "lots"}))
    assert item["field"] == "dose"
    assert item["loc"] == ["body", "dose"]
    assert "'lots'" in item["msg"]
    assert "0.5 mg/kg" in item["msg"]


def test_unknown_drug_and_covariates_of_a_rat_are_422(client: TestClient) -> None:
    item = _error(client.post("/api/simulate", json={**STANDARD, "drug": "aspirin"}))
    assert item["field"] == "drug"
    assert "ketamine-racemic" in item["msg"]
    rat = {**STANDARD, "species": "rat", "route": "intraperitoneal", "dose": "10 mg/kg"}
    item = _error(client.post("/api/simulate", json={**rat, "covariates": {"bipolar": True}}))
    assert item["field"] == "covariates"


def test_fastapi_validation_errors_are_422_too(client: TestClient) -> None:
    response = client.post("/api/simulate", json={**STANDARD, "count": "two"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "count"]


def test_drugs_list_routes_per_species(client: TestClient) -> None:
    drugs = {d["name"]: d for d in client.get("/api/drugs").json()}
    human = drugs["ketamine-racemic"]["species"]["human"]
    assert {"iv-infusion", "intranasal"} <= set(human["routes"])
    assert drugs["saline"]["placebo"]
    assert not drugs["esketamine"]["placebo"]


# --- limits -------------------------------------------------------------------------------


def test_limits_are_422_naming_the_limit_and_how_to_raise_it(client: TestClient) -> None:
    item = _error(client.post("/api/simulate", json={**STANDARD, "n_patients": 1001}))
    assert item["type"] == "limit"
    assert item["limit"] == "max_patients"
    assert item["field"] == "n_patients"
    assert "KETASIM_WEB_MAX_PATIENTS" in item["msg"]
    item = _error(client.post("/api/simulate", json={**STANDARD, "until": "181 d"}))
    assert item["limit"] == "max_days"
    assert "180 days" in item["msg"]
    body = {"spec_name": SMALL_STUDY, "replicates": 201}
    item = _error(client.post("/api/trials", json=body))
    assert item["limit"] == "max_replicates"
    assert item["field"] == "replicates"
    big = EXAMPLE.read_text().replace("size: 100", "size: 1000")
    body = {"spec_yaml": big, "replicates": 100}  # 100 x 1000 virtual patients
    item = _error(client.post("/api/trials", json=body))
    assert item["limit"] == "max_trial_patients"
    assert "50000" in item["msg"]


def test_body_over_the_limit_is_413(home: Path) -> None:
    with TestClient(create_app(home, max_body_bytes=2000)) as c:
        big = {**STANDARD, "schedule": ["1 h"] * 400}
        item = _error(c.post("/api/simulate", json=big), status=413)
        assert item["limit"] == "max_body_bytes"
        assert "2000 bytes" in item["msg"]
        # a body without Content-Length is bounded as well
        chunks = iter([b'{"drug": "' + b"x" * 1500, b'x" ' * 300 + b"}"])
        response = c.post(
            "/api/simulate", content=chunks, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert c.post("/api/simulate", json={**STANDARD, "points": 20}).status_code == 200


def test_limits_come_from_the_environment_and_create_app(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETASIM_WEB_MAX_REPLICATES", "3")
    with TestClient(create_app(home)) as c:
        assert c.get("/api/limits").json()["max_replicates"] == 3
        item = _error(c.post("/api/trials", json={"spec_name": SMALL_STUDY, "replicates": 4}))
        assert "at most 3 replicates" in item["msg"]
    with TestClient(create_app(home, max_replicates=7)) as c:
        assert c.get("/api/limits").json()["max_replicates"] == 7
    monkeypatch.setenv("KETASIM_WEB_MAX_REPLICATES", "many")
    with pytest.raises(KetasimInputError, match="KETASIM_WEB_MAX_REPLICATES"):
        create_app(home)


# --- trials -------------------------------------------------------------------------------


def test_trial_job_is_202_then_done_with_published_outcomes_beside(client: TestClient) -> None:
    response = client.post("/api/trials", json={"spec_name": SMALL_STUDY, "replicates": 2})
    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["location"] == created["url"] == f"/api/trials/{created['id']}"
    job = wait_for_job(client, created["url"])
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    assert job["trial"] == SMALL_STUDY
    result = job["result"]
    arms = {a["name"]: a for a in result["arms"]}
    assert set(arms) == {"ketamine", "saline"}
    assert set(arms["ketamine"]["endpoints"]) == {"response_24h", "remission_24h"}
    assert arms["ketamine"]["n"] == 8
    assert result["comparisons"][0]["vs"] == "saline"
    # berman-2000 published 2 of 8 responders at 24 h
    observed = {o["endpoint"]: o for o in result["observed"]}
    response_24h = observed["response_24h"]
    assert (response_24h["k"], response_24h["n"], response_24h["observed"]) == (2, 8, 0.25)
    assert response_24h["predicted"] == arms["ketamine"]["endpoints"]["response_24h"]
    assert isinstance(response_24h["inside"], bool)
    listed = client.get("/api/trials").json()
    assert [j["id"] for j in listed] == [created["id"]]
    assert listed[0]["result"] is None


def test_trial_spec_as_json_with_a_pooled_published_outcome(client: TestClient) -> None:
    spec = {
        "name": "two-doses",
        "population": {"size": 6, "inclusion": {"scale": "MADRS", "min": 20}},
        "design": {"type": "open-label"},
        "arms": [
            {"name": "low", "drug": "ketamine-racemic", "dose": "0.2 mg/kg"},
            {"name": "high", "drug": "ketamine-racemic", "dose": "0.5 mg/kg"},
        ],
        "scale": "MADRS",
        "followup": "1 d",
        "endpoints": [{"name": "response_24h", "type": "response", "time": "24 h"}],
        "observed": [{"endpoint": "response_24h", "arm": "pooled", "k": 5, "n": 12}],
    }
    created = client.post("/api/trials", json={"spec": spec, "replicates": 3, "seed": 2})
    assert created.status_code == 202, created.text
    job = wait_for_job(client, created.json()["url"])
    assert job["status"] == "done", job
    result = job["result"]
    pooled = result["observed"][0]
    assert pooled["arm"] == "pooled"
    assert pooled["observed"] == pytest.approx(5 / 12)
    # the arms together: between the two arms, never outside them
    medians = [a["endpoints"]["response_24h"]["median"] for a in result["arms"]]
    assert min(medians) - 1e-9 <= pooled["predicted"]["median"] <= max(medians) + 1e-9


def test_bad_trial_specs_are_422_naming_the_spec_field(client: TestClient) -> None:
    yaml_text = EXAMPLE.read_text()
    broken = yaml_text.replace("size: 100", "size: 1")
    item = _error(client.post("/api/trials", json={"spec_yaml": broken}))
    assert item["field"] == "spec_yaml.population.size"
    item = _error(client.post("/api/trials", json={"spec_yaml": "name: [unclosed"}))
    assert item["field"] == "spec_yaml"
    assert "YAML" in item["msg"]
    both = {"spec_yaml": yaml_text, "spec_name": SMALL_STUDY}
    assert _error(client.post("/api/trials", json=both))["field"] == "spec"
    item = _error(client.post("/api/trials", json={"spec_name": "nope-2099"}))
    assert item["field"] == "spec_name"
    assert SMALL_STUDY in item["msg"]


def test_uploaded_spec_file_starts_a_job(client: TestClient) -> None:
    text = (Path(__file__).parents[2] / "src/ketasim/data/trials/berman-2000.yaml").read_bytes()
    files = {"file": ("berman.yaml", text, "application/yaml")}
    response = client.post("/api/trials/upload", files=files, data={"replicates": "1"})
    assert response.status_code == 202, response.text
    assert client.get(response.json()["url"]).json()["trial"] == SMALL_STUDY
    bad = {"file": ("bad.yaml", b"name: x\npopulation: 3\n", "application/yaml")}
    item = _error(client.post("/api/trials/upload", files=bad))
    assert item["field"].startswith("spec_yaml.")


def test_trial_specs_offer_the_studies_and_the_examples(client: TestClient) -> None:
    specs = {s["name"]: s for s in client.get("/api/trial-specs").json()}
    assert specs[SMALL_STUDY]["origin"] == "study"
    assert specs[SMALL_STUDY]["observed"] == 2
    assert specs["dose-response"]["origin"] == "example"
    assert specs[SMALL_STUDY]["text"].startswith("name: berman-2000")


def test_unknown_job_is_404(client: TestClient) -> None:
    response = client.get("/api/trials/0123456789ab")
    assert response.status_code == 404
    assert "/api/trials" in response.json()["detail"]


def test_job_past_the_time_limit_fails_naming_the_limit(home: Path) -> None:
    with TestClient(create_app(home, job_timeout_s=0.5)) as c:
        created = c.post("/api/trials", json={"spec_name": SMALL_STUDY, "replicates": 1})
        job = wait_for_job(c, created.json()["url"], timeout_s=60)
    assert job["status"] == "failed"
    assert "time limit of 0.5 s" in job["error"]
    assert "KETASIM_WEB_JOB_TIMEOUT_S" in job["error"]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_job_left_running_by_a_stopped_service_is_interrupted_and_results_survive(
    home: Path,
) -> None:
    store = JobStore(home / "jobs.sqlite")
    request = {"trial": SMALL_STUDY, "spec": {}, "replicates": 5, "seed": 0}
    running = store.create("trial", request, owner_pid=_dead_pid())
    store.start(running.id, worker_pid=None)
    finished = store.create("trial", request, owner_pid=_dead_pid())
    store.start(finished.id, worker_pid=None)
    result = {"trial": SMALL_STUDY, "replicates": 5, "seed": 0, "arms": [], "comparisons": []}
    store.finish(finished.id, result)
    assert store.get(running.id).status == "running"  # type: ignore[union-attr]
    with TestClient(create_app(home)) as c:
        job = c.get(f"/api/trials/{running.id}").json()
        assert job["status"] == "interrupted"
        assert "submit it again" in job["error"]
        done = c.get(f"/api/trials/{finished.id}").json()
        assert done["status"] == "done"
        assert done["result"]["trial"] == SMALL_STUDY


# --- experiments --------------------------------------------------------------------------


def test_experiments_list_and_run(client: TestClient) -> None:
    names = [e["name"] for e in client.get("/api/experiments").json()]
    assert "li-2010-mtor" in names
    assert "s-vs-r-ketamine" in names
    run = client.post("/api/experiments/s-vs-r-ketamine/run")
    assert run.status_code == 200, run.text
    doc = run.json()
    assert doc["passed"] is True
    assert len(doc["observed"]["checks"]) == 3
    cadss = next(t for t in doc["traces"] if t["output"] == "cadss_points")
    assert set(cadss["conditions"]) == {"saline", "esketamine", "arketamine"}
    assert max(cadss["conditions"]["esketamine"]["values"]) > max(
        cadss["conditions"]["arketamine"]["values"]
    )


def test_unknown_experiment_is_404(client: TestClient) -> None:
    response = client.post("/api/experiments/no-such-study/run")
    assert response.status_code == 404
    assert "li-2010-mtor" in response.json()["detail"]
    # a path is not a name: the service never reads a file a request points at
    assert client.post("/api/experiments/..%2Fsecret.yaml/run").status_code == 404


# --- evidence -----------------------------------------------------------------------------


def test_evidence_lists_the_shipped_studies(client: TestClient) -> None:
    studies = {s["id"]: s for s in client.get("/api/evidence").json()}
    assert studies["zarate-2006a"]["origin"] == "shipped"
    only = client.get("/api/evidence", params={"diagnosis": "BDep"}).json()
    assert only
    assert all(s["diagnosis"] == "BDep" for s in only)


def test_meta_pools_without_simulating_unless_asked(client: TestClient) -> None:
    doc = client.get("/api/evidence/meta", params={"time": "24h"}).json()
    assert doc["k_studies"] >= 5
    assert doc["predicted"] is None
    assert all(s["predicted"] is None for s in doc["studies"])
    assert 0.0 < doc["pooled"]["estimate"] < 1.0
    item = _error(client.get("/api/evidence/meta", params={"measure": "hr"}))
    assert item["field"] == "measure"
    assert item["loc"] == ["query", "measure"]
    item = _error(client.get("/api/evidence/meta", params={"predict": True, "patients": 5000}))
    assert item["limit"] == "max_patients"


def test_meta_predictions_go_beside_each_study(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service passes the simulated counts into the meta-analysis: with counts equal to
    the published ones (instead of minutes of simulation) the prediction is the observation."""
    import ketasim.evidence.predict as predict

    def published(rows: pd.DataFrame, **_: object) -> dict[tuple[str, str], np.ndarray]:
        return {(r.study, r.arm): np.full(40, int(r.k)) for r in rows.itertuples()}

    monkeypatch.setattr(predict, "replicate_counts", published)
    doc = client.get("/api/evidence/meta", params={"predict": "true"}).json()
    for study in doc["studies"]:
        assert study["predicted"]["estimate"] == pytest.approx(study["estimate"], abs=1e-3)
    assert doc["predicted"]["estimate"] == pytest.approx(doc["pooled"]["estimate"], abs=1e-3)


# --- the page and the documentation -------------------------------------------------------


def test_page_and_plotly_come_from_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'src="/static/plotly.min.js"' in page.text
    assert "http://" not in page.text.replace('href="/docs"', "")
    assert "https://" not in page.text, "no CDN: the page works offline"
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert b"plotly" in plotly.content[:2000].lower()
    assert "https://" not in client.get("/static/app.js").text
    assert client.get("/static/secrets.txt").status_code == 404


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/simulate",
        "/api/trials",
        "/api/trials/{job_id}",
        "/api/experiments",
        "/api/experiments/{name}/run",
        "/api/evidence",
        "/api/evidence/meta",
        "/api/drugs",
    ):
        assert path in paths, path
    simulate = paths["/api/simulate"]["post"]
    assert "422" in simulate["responses"]
    assert "requestBody" in simulate


def test_docs_web_md_names_every_endpoint_and_limit() -> None:
    text = (Path(__file__).parents[2] / "docs" / "web.md").read_text()
    from ketasim.web.limits import ENV

    for variable in ENV.values():
        assert variable in text, variable
    for path in ("/api/simulate", "/api/trials/{id}", "/api/evidence/meta", "/api/drugs"):
        assert path in text, path


@pytest.mark.parametrize("text", [textwrap.dedent("name: x\n"), "[]"])
def test_spec_that_is_not_a_trial_is_422(client: TestClient, text: str) -> None:
    item = _error(client.post("/api/trials", json={"spec_yaml": text}))
    assert item["field"].startswith("spec_yaml")


# --- found by schemathesis (tests/web/test_web_schema.py) -----------------------------------


def test_an_unreadable_body_is_a_422_naming_the_body(client: TestClient) -> None:
    r = client.post(
        "/api/simulate", content=b"\x80{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["field"] == "body"
    assert item["msg"].startswith("body: got an unreadable request body")


def test_method_not_allowed_lists_every_method_of_the_path(client: TestClient) -> None:
    assert client.options("/api/trials").headers["allow"] == "GET, POST"
    assert client.options("/api/trials/upload").headers["allow"] == "POST"


def test_a_yaml_that_is_not_a_trial_spec_is_left_out_of_the_specs(home: Path) -> None:
    examples = home / "examples"
    examples.mkdir()
    (examples / "patient.yaml").write_text("age_years: 44\nweight: 82 kg\n", encoding="utf-8")
    (examples / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with TestClient(create_app(home, examples_dir=examples)) as c:
        r = c.get("/api/trial-specs")
    assert r.status_code == 200
    names = {s["name"] for s in r.json()}
    assert "patient" not in names
    assert "broken" not in names
    assert "berman-2000" in names


# --- simulate requests in a process pool (what ketasim serve uses) ---------------------------


def test_a_process_pool_gives_the_threads_answers_and_errors(home: Path) -> None:
    body = {"drug": "ketamine-racemic", "dose": "0.5 mg/kg", "over": "40 min", "until": "6 h"}
    bad = {**body, "dose": "lots"}
    with TestClient(create_app(home)) as threads:
        expected = threads.post("/api/simulate", json=body).json()
        expected_error = threads.post("/api/simulate", json=bad).json()
    with TestClient(create_app(home, simulate_workers=2)) as pooled:
        assert pooled.get("/api/limits").json()["simulate_workers"] == 2
        got = pooled.post("/api/simulate", json=body)
        got_error = pooled.post("/api/simulate", json=bad)
        beyond = pooled.post("/api/simulate", json={**body, "n_patients": 5000})
    assert got.status_code == 200
    assert got.json() == expected
    assert got_error.status_code == 422
    assert got_error.json() == expected_error  # the error came back whole from the process
    assert beyond.status_code == 422
    assert beyond.json()["detail"][0]["limit"] == "max_patients"
