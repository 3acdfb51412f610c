"""Request and response bodies of the service (Pydantic; they make the OpenAPI document).

Quantities are written with units, as on the command line ("0.5 mg/kg", "40 min", "70 kg");
the service parses them with the library, so a wrong unit is a 422 naming the field.
Responses that mirror a library result (a trial, an experiment, a meta-analysis) allow extra
keys, so that what the library adds reaches clients without a change here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# --- errors -----------------------------------------------------------------------------------


class ErrorItem(BaseModel):
    """One problem with a request: where it is, and one sentence on what is allowed."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="ketasim_input, limit, or FastAPI's own validation types")
    loc: list[str | int] = Field(description="where: body, query or path, then the field")
    msg: str = Field(description="field, value received and what is allowed, in one sentence")
    field: str | None = Field(default=None, description="the field as the request names it")
    limit: str | None = Field(default=None, description="the limit reached (type 'limit')")


class ErrorResponse(BaseModel):
    """HTTP 413/422: ``detail`` lists the problems (one, usually)."""

    detail: list[ErrorItem]


class NotFound(BaseModel):
    """HTTP 404: what was not found and what exists."""

    detail: str


# --- simulate ---------------------------------------------------------------------------------


class RateStep(BaseModel):
    """One step of an explicit-rate infusion."""

    model_config = ConfigDict(extra="forbid")

    rate: str = Field(examples=["0.28 mg/kg/h"], description="infusion rate with its unit")
    duration: str = Field(examples=["1 h"], description="how long the rate lasts")


class Covariates(BaseModel):
    """A virtual patient's covariates (humans). The patient is otherwise typical: no random
    effects, so the same covariates always give the same patient; the defaults are the typical
    patient of a simulation without covariates."""

    model_config = ConfigDict(extra="forbid")

    bmi_kg_m2: float = Field(default=30.0, ge=15.0, le=60.0, description="body mass index")
    bipolar: bool = Field(default=False, description="bipolar depression (else MDD)")
    comedication: Literal["none", "antidepressants", "lithium", "valproate"] = "none"
    met_alleles: int = Field(default=0, ge=0, le=2, description="BDNF Val66Met: Met alleles")
    fh_aud: bool = Field(default=False, description="family history of alcohol use disorder")
    suicide_attempt: bool = Field(default=False, description="lifetime suicide attempt")
    d_serine_um: float = Field(default=4.0, gt=0.0, le=20.0, description="plasma D-serine, µM")
    shank3_z: float = Field(default=0.0, ge=-4.0, le=4.0, description="baseline SHANK3, z-score")
    severity: float = Field(
        default=0.5,
        ge=0.15,
        le=0.95,
        description="latent baseline severity of every symptom dimension (0-1; 0.5: MADRS 30)",
    )


class SimulateRequest(BaseModel):
    """A regimen, a patient and how long to follow them (as ``ketasim simulate``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "drug": "ketamine-racemic",
                    "route": "iv-infusion",
                    "dose": "0.5 mg/kg",
                    "over": "40 min",
                    "weight": "70 kg",
                    "until": "3 d",
                }
            ]
        },
    )

    drug: str = Field(description="library drug (GET /api/drugs)")
    route: str = "iv-infusion"
    dose: str | None = Field(default=None, description="'0.5 mg/kg' or '50 mg'")
    over: str | None = Field(default=None, description="infusion or push duration, '40 min'")
    every: str | None = Field(default=None, description="dosing interval, '2 d' (with count)")
    count: int | None = Field(default=None, description="number of doses (with every)")
    schedule: list[str] | None = Field(default=None, description="dose times, ['0 d', '3 d']")
    rates: list[RateStep] | None = Field(default=None, description="rate steps instead of dose")
    species: str = "human"
    weight: str | None = Field(default=None, description="body weight, '70 kg'")
    covariates: Covariates | None = None
    n_patients: int = Field(default=1, description="virtual patients (limit: max_patients)")
    variability: bool = Field(default=False, description="draw between-patient PK variability")
    seed: int = Field(default=0, ge=0)
    until: str = Field(default="24 h", description="end of the simulation (limit: max_days)")
    bioavailability: dict[str, str] | None = Field(
        default=None, description="route -> published F reading, {'intranasal': 'yanagihara-2003'}"
    )
    allow_anesthetic: bool = False
    points: int = Field(
        default=600, ge=20, le=5000, description="output times (plus every dose start and end)"
    )
    columns: list[str] | None = Field(
        default=None, description="time-course columns to return (default: all)"
    )


class SummaryRow(BaseModel):
    patient: int
    analyte: str
    cmax_ng_per_ml: float
    cmax_um: float
    tmax_h: float
    auc_ng_h_per_ml: float
    brain_cmax_ng_per_ml: float


class Band(BaseModel):
    """Across patients at each output time: the 5th, 50th and 95th percentiles."""

    lo: list[float | None]
    median: list[float | None]
    hi: list[float | None]


class SimulateResponse(BaseModel):
    drug: str
    species: str
    plasma_site: str = Field(description="what 'plasma' means: venous (humans) or arterial")
    regimen: str
    n_patients: int
    layers: dict[str, list[str]] = Field(description="the time-course columns of each layer")
    units: dict[str, str] = Field(description="the unit of each time-course column")
    summary: list[SummaryRow]
    t_h: list[float]
    timecourse: dict[str, list[float | None]] = Field(description="patient 0, one list a column")
    band: dict[str, Band] | None = Field(default=None, description="with 2 or more patients")


# --- drugs ------------------------------------------------------------------------------------


class DrugSpecies(BaseModel):
    routes: list[str]
    reference_weight_kg: float
    sampling: str
    anesthetic_dose_mg_per_kg: float | None = None


class DrugInfo(BaseModel):
    name: str
    display_name: str
    description: str
    placebo: bool
    species: dict[str, DrugSpecies]


# --- trials -----------------------------------------------------------------------------------


class TrialJobRequest(BaseModel):
    """A trial spec (exactly one of ``spec``, ``spec_yaml`` or ``spec_name``) and the run."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"spec_name": "berman-2000", "replicates": 10, "seed": 1}]},
    )

    spec: dict[str, Any] | None = Field(default=None, description="a trial spec as JSON")
    spec_yaml: str | None = Field(default=None, description="a trial spec as YAML text")
    spec_name: str | None = Field(
        default=None, description="a shipped study or example (GET /api/trial-specs)"
    )
    replicates: int = Field(default=20, ge=1, description="replicate trials (max_replicates)")
    seed: int = Field(default=0, ge=0)


class JobCreated(BaseModel):
    id: str
    status: str
    url: str = Field(description="where to poll the job")


class ArmEndpoint(BaseModel):
    model_config = ConfigDict(extra="allow")

    median: float | None
    lo: float | None
    hi: float | None


class ArmResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    n: int
    endpoints: dict[str, ArmEndpoint]


class ComparisonResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    endpoint: str
    arm: str
    vs: str
    median: float | None
    lo: float | None
    hi: float | None
    power: float | None


class ObservedBeside(BaseModel):
    """A published outcome of the spec (``observed``) beside the prediction for it."""

    endpoint: str
    arm: str
    vs: str | None = None
    k: int | None = None
    n: int | None = None
    observed: float | None = Field(description="k/n, or the published value")
    ci95: list[float] | None = None
    predicted: ArmEndpoint | None = Field(
        description="median and 95 % range over replicate trials; null when not comparable"
    )
    inside: bool | None = Field(description="the observed value lies in the predicted range")
    note: str = ""


class TrialResultBody(BaseModel):
    """``TrialResult.to_json()`` with the spec's published outcomes beside the predictions."""

    model_config = ConfigDict(extra="allow")

    trial: str
    replicates: int
    seed: int
    arms: list[ArmResult]
    comparisons: list[ComparisonResult]
    observed: list[ObservedBeside] = Field(default_factory=list)
    description: str = ""
    scale: str | None = None


JobStatus = Literal["queued", "running", "done", "failed", "interrupted"]


class TrialJob(BaseModel):
    id: str
    status: JobStatus
    progress: float = Field(ge=0.0, le=1.0)
    note: str = Field(default="", description="what the job is doing, in words")
    trial: str
    replicates: int
    seed: int
    created: str = Field(description="ISO 8601, UTC")
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    result: TrialResultBody | None = None


class TrialSpecInfo(BaseModel):
    name: str
    origin: Literal["study", "example"]
    description: str
    observed: int = Field(description="published outcomes in the spec")
    text: str = Field(description="the spec file, YAML")


# --- experiments ------------------------------------------------------------------------------


class ExperimentInfo(BaseModel):
    name: str
    source: str
    species: str
    claim: str
    expectations: list[str]
    conditions: list[str]
    readouts: list[str]


class Series(BaseModel):
    t_h: list[float]
    values: list[float | None]


class ReadoutTrace(BaseModel):
    name: str
    output: str
    unit: str
    window_h: list[float] = Field(description="when it is read: [t, t] or a window")
    conditions: dict[str, Series]


class ExperimentRunResponse(BaseModel):
    """``ExperimentResult.to_json()`` and each readout's output over time per condition."""

    model_config = ConfigDict(extra="allow")

    name: str
    source: str
    claim: str
    expectation: list[str]
    observed: dict[str, Any]
    passed: bool
    species: str
    traces: list[ReadoutTrace]
    elapsed_s: float


# --- evidence ---------------------------------------------------------------------------------


class StudyInfo(BaseModel):
    id: str
    design: str
    diagnosis: str
    arms: list[str]
    drugs: list[str]
    routes: list[str]
    outcomes: int
    origin: str


class EstimateBody(BaseModel):
    estimate: float | None
    lo: float | None
    hi: float | None


class MetaStudy(BaseModel):
    model_config = ConfigDict(extra="allow")

    study: str
    arm: str
    k: int
    n: int
    estimate: float | None
    lo: float | None
    hi: float | None
    weight_re: float | None
    predicted: EstimateBody | None = None


class MetaResponse(BaseModel):
    """``MetaResult.to_json()`` (as ``ketasim evidence meta --json``)."""

    model_config = ConfigDict(extra="allow")

    endpoint: str
    time: str
    after: str
    measure: str
    method: str
    k_studies: int
    pooled: EstimateBody
    fixed: EstimateBody
    i2: float | None
    tau2: float | None
    q: float | None
    q_p: float | None
    predicted: EstimateBody | None = None
    studies: list[MetaStudy]
    excluded: list[dict[str, str]]


class LimitsBody(BaseModel):
    max_patients: int
    max_days: float
    max_replicates: int
    max_trial_patients: int
    max_body_bytes: int
    job_timeout_s: float
    job_workers: int
    simulate_workers: int = Field(description="processes that run simulate requests (1: threads)")
    environment: dict[str, str] = Field(description="the variable that sets each limit")
