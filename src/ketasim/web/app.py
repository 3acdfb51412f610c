"""The web service: a FastAPI application over the public API, and the page that uses it.

>>> from ketasim.web.app import create_app, serve
>>> app = create_app()          # for uvicorn, or FastAPI's TestClient
>>> serve(port=8000)            # what `ketasim serve` runs: http://127.0.0.1:8000

Endpoints (``docs/web.md``; the OpenAPI document is at ``/openapi.json``, browsable at
``/docs``)::

    GET  /                              the page (static/index.html; Plotly from the package)
    POST /api/simulate                  a regimen -> the cascade's time courses
    GET  /api/drugs                     the drug library, routes per species
    GET  /api/trial-specs               shipped study specs and examples, with their text
    POST /api/trials                    a trial job (JSON: spec, spec_yaml or spec_name) -> 202
    POST /api/trials/upload             a trial job from an uploaded YAML file -> 202
    GET  /api/trials                    recent trial jobs
    GET  /api/trials/{id}               a job: status, progress, result
    GET  /api/experiments               the shipped in-silico experiments
    POST /api/experiments/{name}/run    run one, with its readouts over time
    GET  /api/evidence                  the stored studies
    GET  /api/evidence/meta             a meta-analysis (predictions with predict=true)
    GET  /api/limits                    the limits in force

A user's mistake is HTTP 422 with the field and one sentence (one exception handler maps
:class:`~ketasim.errors.KetasimInputError`); an unknown job or experiment is 404; a body over
``max_body_bytes`` is 413. Jobs are recorded in ``jobs.sqlite`` beside the evidence store.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ketasim import __version__
from ketasim.data.home import home_dir
from ketasim.errors import DataError, KetasimError, KetasimInputError, SolverError
from ketasim.evidence.store import EvidenceStore, StoreBusyError
from ketasim.experiments import experiment_names
from ketasim.trials import TrialSpec
from ketasim.web import results
from ketasim.web.jobs import JobRecord, JobRunner, JobStore, watch_parent
from ketasim.web.limits import ENV, LimitError, Limits
from ketasim.web.models import (
    DrugInfo,
    ErrorResponse,
    ExperimentInfo,
    ExperimentRunResponse,
    JobCreated,
    LimitsBody,
    MetaResponse,
    NotFound,
    SimulateRequest,
    SimulateResponse,
    StudyInfo,
    TrialJob,
    TrialJobRequest,
    TrialSpecInfo,
)

log = logging.getLogger("ketasim.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "a field is invalid or beyond a limit"}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": NotFound}}

#: The page's files (``static/``) and the media type of each.
STATIC: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}


# --- static files ---------------------------------------------------------------------------


@cache
def _plotly_js() -> bytes:
    """Plotly.js as the installed ``plotly`` package ships it (never a CDN)."""
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    return path.read_bytes()


def _static(name: str) -> bytes:
    return (resources.files("ketasim.web") / "static" / name).read_bytes()


def default_examples() -> Path | None:
    """The ``examples/`` folder of a source checkout, if ketasim runs from one."""
    env = os.environ.get("KETASIM_WEB_EXAMPLES")
    if env:
        return Path(env).expanduser()
    folder = Path(__file__).resolve().parents[3] / "examples"
    return folder if folder.is_dir() else None


# --- errors ---------------------------------------------------------------------------------


def _json_value(value: object) -> object:
    return value if value is None or isinstance(value, str | int | float | bool) else repr(value)


def _input_error(request: Request, exc: Exception) -> JSONResponse:
    """Every :class:`KetasimInputError` -> 422 with the field and the sentence."""
    assert isinstance(exc, KetasimInputError)
    field = exc.field.replace("--", "")  # the library's CLI spelling of query parameters
    where = "query" if request.method == "GET" else "body"
    item: dict[str, Any] = {
        "type": "limit" if isinstance(exc, LimitError) else "ketasim_input",
        "loc": [where, *field.split(".")],
        "msg": f"{field}: got {exc.value!r}; {exc.allowed}",
        "field": field,
        "input": _json_value(exc.value),
    }
    if isinstance(exc, LimitError):
        item["limit"] = exc.limit
    return JSONResponse(status_code=422, content={"detail": [item]})


def _ketasim_error(request: Request, exc: Exception) -> JSONResponse:
    """Errors that are not the user's: shipped data, the solver, a busy store."""
    if isinstance(exc, StoreBusyError | SimulationLostError):
        return JSONResponse(status_code=503, content={"detail": str(exc)})
    kind = "the solver failed" if isinstance(exc, SolverError) else "ketasim failed"
    if isinstance(exc, DataError):
        kind = "a data file is invalid"
    log.error("%s: %s %s: %s", kind, request.method, request.url.path, exc)
    return JSONResponse(status_code=500, content={"detail": f"{kind}: {exc}"})


def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors, made to keep the service's promises.

    400 (a body that cannot be parsed as JSON or as a form) -> 422 naming ``body``, as every
    other input error; 405 -> the ``Allow`` header lists every method of the path (Starlette
    names only the first route's, and a path such as ``/api/trials`` has a GET and a POST
    route); anything else passes through unchanged.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        item = {
            "type": "body_unreadable",
            "loc": ["body"],
            "msg": f"body: got an unreadable request body; {exc.detail} (send JSON, or the "
            "form fields the operation documents)",
            "field": "body",
            "input": None,
        }
        return JSONResponse(status_code=422, content={"detail": [item]})
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # routes of this very path first (``/api/trials/upload``), else templated ones
        # (``/api/trials/{job_id}``): that is the order in which the schema documents them
        literal: set[str] = set()
        templated: set[str] = set()
        for route in request.app.routes:
            regex = getattr(route, "path_regex", None)
            if regex is None or not regex.match(request.url.path):
                continue
            found = set(getattr(route, "methods", None) or ())
            (templated if "{" in getattr(route, "path", "") else literal).update(found)
        methods = literal or templated
        if methods:
            headers["Allow"] = ", ".join(sorted(methods))
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail}, headers=headers or None
    )


class SimulationLostError(KetasimError):
    """A simulate process died under a request (killed, out of memory): HTTP 503."""


def _warm() -> int:
    """Run in each simulate process once: the imports and the drug library, before requests."""
    from ketasim.data import drug_names, load_drug

    return len([load_drug(n) for n in drug_names()])


class SimulatePool:
    """Where simulate requests run: the service's threads (``workers`` 1, one core under the
    GIL) or a pool of that many spawned processes (every core). Spawned, not forked: the
    service has threads running. Started at the first request, or by :meth:`warm`.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=context,
                    initializer=watch_parent,  # a killed service leaves no process behind
                    initargs=(os.getpid(),),
                )
            return self._pool

    def warm(self) -> None:
        """Start the processes and load the library in each (``ketasim serve`` does it at
        startup, so the first requests do not wait for it)."""
        if self.workers > 1:
            pool = self._executor()
            for future in [pool.submit(_warm) for _ in range(self.workers)]:
                future.result()

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.workers <= 1:
            return await anyio.to_thread.run_sync(fn, *args)
        try:
            return await asyncio.wrap_future(self._executor().submit(fn, *args))
        except BrokenProcessPool:
            with self._lock:
                self._pool = None  # the next request starts a new pool
            raise SimulationLostError(
                "a simulation process stopped while it worked on this request; send it again"
            ) from None

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before any route reads it.

    The body is read here (at most ``max_bytes`` of it) and replayed to the application, so a
    body without a Content-Length header is bounded too.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send, size)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        exc = LimitError("body", f"{size} bytes", "max_body_bytes", f"{self.max_bytes} bytes")
        item = {
            "type": "limit",
            "loc": ["body"],
            "msg": str(exc),
            "field": "body",
            "limit": "max_body_bytes",
        }
        response = JSONResponse(status_code=413, content={"detail": [item]})
        await response(scope, receive, send)


# --- jobs as responses ----------------------------------------------------------------------


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _trial_job(record: JobRecord, with_result: bool = True) -> dict[str, Any]:
    req = record.request
    return {
        "id": record.id,
        "status": record.status,
        "progress": record.progress,
        "note": record.note,
        "trial": req.get("trial", ""),
        "replicates": req.get("replicates", 0),
        "seed": req.get("seed", 0),
        "created": _iso(record.created),
        "started": _iso(record.started),
        "finished": _iso(record.finished),
        "error": record.error,
        "result": record.result if with_result else None,
    }


# --- the application ------------------------------------------------------------------------


def create_app(
    home: Path | None = None,
    *,
    max_patients: int | None = None,
    max_days: float | None = None,
    max_replicates: int | None = None,
    max_trial_patients: int | None = None,
    max_body_bytes: int | None = None,
    job_timeout_s: float | None = None,
    job_workers: int | None = None,
    simulate_workers: int | None = None,
    examples_dir: Path | None = None,
) -> FastAPI:
    """The service as a FastAPI application.

    Parameters
    ----------
    home
        The data folder (evidence store, ``jobs.sqlite``); default
        :func:`ketasim.data.home.home_dir` (``KETASIM_HOME``).
    max_patients, max_days, max_replicates, max_trial_patients, max_body_bytes, job_timeout_s,
    job_workers, simulate_workers
        Limits (:mod:`ketasim.web.limits`); None takes the environment variable, else the
        default.
    examples_dir
        A folder of trial specs offered beside the shipped studies (default: the checkout's
        ``examples/``, or ``KETASIM_WEB_EXAMPLES``).

    Returns
    -------
    FastAPI
        Jobs a previous service left queued or running are marked ``interrupted`` here.
    """
    folder = Path(home) if home is not None else home_dir()
    folder.mkdir(parents=True, exist_ok=True)
    limits = Limits.resolve(
        max_patients=max_patients,
        max_days=max_days,
        max_replicates=max_replicates,
        max_trial_patients=max_trial_patients,
        max_body_bytes=max_body_bytes,
        job_timeout_s=job_timeout_s,
        job_workers=job_workers,
        simulate_workers=simulate_workers,
    )
    examples = examples_dir if examples_dir is not None else default_examples()
    store = JobStore(folder / "jobs.sqlite")
    store.recover()
    hint = (
        f"the service's limit job_timeout_s: start it with {ENV['job_timeout_s']}=... or "
        "create_app(job_timeout_s=...) to raise it"
    )
    runner = JobRunner(store, limits.job_workers, limits.job_timeout_s, hint)
    simulations = SimulatePool(limits.simulate_workers)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner.start()
        await anyio.to_thread.run_sync(simulations.warm)
        try:
            yield
        finally:
            simulations.stop()
            await anyio.to_thread.run_sync(runner.stop)

    app = FastAPI(
        title="ketasim",
        version=__version__,
        summary="Ketamine and NMDA receptor antagonists as rapid antidepressants, simulated.",
        description=(
            "From the dose to the synapse to the rating scale, in virtual patients and virtual "
            "trials. Quantities are written with units ('0.5 mg/kg', '40 min'). Errors: 422 "
            "with the field and one sentence; 404 for an unknown job or experiment; 413 for a "
            "body over the limit. See docs/web.md."
        ),
        lifespan=lifespan,
    )
    app.state.home = folder
    app.state.limits = limits
    app.state.jobs = store
    app.state.runner = runner
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_exception_handler(KetasimInputError, _input_error)
    app.add_exception_handler(KetasimError, _ketasim_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    synced: list[bool] = []
    evidence_lock = threading.Lock()

    def evidence() -> EvidenceStore:
        """A store for this request. The first use loads the shipped studies, one request
        at a time: two connections of one process that load them together would clash."""
        db = EvidenceStore(folder / "evidence.duckdb")
        if not synced:
            with evidence_lock:
                if not synced:
                    db.sync_shipped()
                    synced.append(True)
        return db

    # --- the page ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(_static("index.html"), headers={"Cache-Control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name == "plotly.min.js":
            headers = {"Cache-Control": "public, max-age=86400"}
            return Response(_plotly_js(), media_type=STATIC["app.js"], headers=headers)
        if name not in STATIC:
            raise HTTPException(404, f"no file {name!r}; files: {', '.join(STATIC)}")
        headers = {"Cache-Control": "no-cache"}
        return Response(_static(name), media_type=STATIC[name], headers=headers)

    # --- reference data ---------------------------------------------------------------------

    @app.get("/api/limits", response_model=LimitsBody, tags=["service"])
    def get_limits() -> dict[str, Any]:
        """The limits in force, and the environment variable that sets each."""
        return {**limits.__dict__, "environment": ENV}

    @app.get("/api/drugs", response_model=list[DrugInfo], tags=["simulate"])
    def get_drugs() -> list[dict[str, Any]]:
        """The drug library: names, routes and reference weights per species."""
        return results.drugs()

    # --- simulate ---------------------------------------------------------------------------

    @app.post("/api/simulate", response_model=SimulateResponse, responses=ERRORS, tags=["simulate"])
    async def post_simulate(req: SimulateRequest) -> dict[str, Any]:
        """Follow a regimen through the cascade: concentrations, NMDA block, glutamate,
        BDNF/mTOR, spines, rating scales, CADSS and blood pressure (as ``ketasim simulate``).
        ``timecourse`` is patient 0's; with several patients ``band`` gives the 5th, 50th and
        95th percentiles at each time."""
        out: dict[str, Any] = await simulations.run(results.simulation, req, limits)
        return out

    # --- trials -----------------------------------------------------------------------------

    def submit(spec: TrialSpec, replicates: int, seed: int) -> JSONResponse:
        limits.check_replicates("replicates", replicates)
        limits.check_trial_patients("replicates", replicates, spec.population.size)
        request = {
            "trial": spec.name,
            "spec": spec.model_dump(mode="json"),
            "replicates": replicates,
            "seed": seed,
        }
        record = store.create("trial", request, os.getpid())
        runner.start()  # idempotent: also without the lifespan (a TestClient used bare)
        runner.submit(record.id)
        url = f"/api/trials/{record.id}"
        body = {"id": record.id, "status": record.status, "url": url}
        return JSONResponse(status_code=202, content=body, headers={"Location": url})

    @app.get("/api/trial-specs", response_model=list[TrialSpecInfo], tags=["trials"])
    def get_trial_specs() -> list[dict[str, Any]]:
        """Specs to pick by name: the shipped studies (with their published outcomes) and the
        examples, each with its YAML text."""
        return results.trial_specs(examples)

    @app.post(
        "/api/trials",
        status_code=202,
        response_model=JobCreated,
        responses=ERRORS,
        tags=["trials"],
    )
    def post_trial(req: TrialJobRequest) -> JSONResponse:
        """Start a trial job (``ketasim trial run``); poll the returned url."""
        spec = results.load_trial_spec(req.spec, req.spec_yaml, req.spec_name, examples)
        return submit(spec, req.replicates, req.seed)

    @app.post(
        "/api/trials/upload",
        status_code=202,
        response_model=JobCreated,
        responses=ERRORS,
        tags=["trials"],
    )
    async def post_trial_upload(
        file: Annotated[UploadFile, File(description="a trial spec, YAML")],
        replicates: Annotated[int, Form(ge=1)] = 20,
        seed: Annotated[int, Form(ge=0)] = 0,
    ) -> JSONResponse:
        """Start a trial job from an uploaded spec file (multipart form)."""
        raw = await file.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise KetasimInputError("file", file.filename, "a UTF-8 YAML text file") from None
        spec = results.load_trial_spec(None, text, None, examples)
        return submit(spec, replicates, seed)

    @app.get("/api/trials", response_model=list[TrialJob], tags=["trials"])
    def get_trials(
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[dict[str, Any]]:
        """The newest trial jobs first (without their results)."""
        return [_trial_job(r, with_result=False) for r in store.recent("trial", limit)]

    @app.get("/api/trials/{job_id}", response_model=TrialJob, responses=NOT_FOUND, tags=["trials"])
    def get_trial(job_id: str) -> dict[str, Any]:
        """A trial job: status (queued, running, done, failed, interrupted), progress 0..1,
        and when done the result with the spec's published outcomes beside the predictions."""
        record = store.get(job_id)
        if record is None or record.kind != "trial":
            raise HTTPException(404, f"no trial job {job_id!r}; GET /api/trials lists them")
        return _trial_job(record)

    # --- experiments ------------------------------------------------------------------------

    @app.get("/api/experiments", response_model=list[ExperimentInfo], tags=["experiments"])
    def get_experiments() -> list[dict[str, Any]]:
        """The shipped in-silico experiments: source, claim, conditions, expectations."""
        return results.experiments()

    @app.post(
        "/api/experiments/{name}/run",
        response_model=ExperimentRunResponse,
        responses=NOT_FOUND,
        tags=["experiments"],
    )
    def run_experiment(name: str) -> dict[str, Any]:
        """Run one experiment (seconds): each expectation judged, and each readout's output
        over time per condition."""
        if name not in experiment_names():
            raise HTTPException(
                404, f"no experiment {name!r}; one of {', '.join(experiment_names())}"
            )
        return results.experiment_run(name)

    # --- evidence ---------------------------------------------------------------------------

    @app.get("/api/evidence", response_model=list[StudyInfo], tags=["evidence"])
    def get_evidence(
        drug: str | None = None, route: str | None = None, diagnosis: str | None = None
    ) -> list[dict[str, Any]]:
        """The stored studies (shipped and the user's), as ``ketasim evidence list``."""
        db = evidence()
        origins = db.origins()
        return [
            {
                "id": s.id,
                "design": s.design,
                "diagnosis": s.diagnosis,
                "arms": [a.name for a in s.arms],
                "drugs": sorted({a.drug for a in s.arms}),
                "routes": sorted({a.route for a in s.arms if a.route}),
                "outcomes": len(s.outcomes),
                "origin": origins[s.id],
            }
            for s in db.studies()
            if (drug is None or any(a.drug == drug for a in s.arms))
            and (route is None or any(a.route == route for a in s.arms))
            and (diagnosis is None or s.diagnosis == diagnosis)
        ]

    @app.get("/api/evidence/meta", response_model=MetaResponse, responses=ERRORS, tags=["evidence"])
    def get_meta(
        endpoint: Annotated[str, Query(description="response or remission")] = "response",
        time: Annotated[str, Query(description="time after the dose, 24h or 7d")] = "24h",
        after: Annotated[str, Query(description="first or final dose")] = "first",
        measure: Annotated[str, Query(description="rate, or (odds ratio) or rd")] = "rate",
        method: Annotated[str, Query(description="dl, pm or fe")] = "dl",
        by: Annotated[
            str | None, Query(description="subgroups: diagnosis, route, drug, design, course")
        ] = None,
        drug: str | None = None,
        route: str | None = None,
        diagnosis: str | None = None,
        design: str | None = None,
        course: Annotated[str | None, Query(description="single or repeated")] = None,
        predict: Annotated[
            bool, Query(description="simulate ketasim's prediction (minutes; then cached)")
        ] = False,
        patients: Annotated[int, Query(ge=10, description="virtual patients per study")] = 60,
        seed: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Pool the stored outcomes (as ``ketasim evidence meta --json``). Predictions are
        off unless ``predict=true``: they simulate virtual trials of every pooled study (a few
        minutes the first time; the store caches them)."""
        from ketasim.evidence.meta import meta_analysis, selected
        from ketasim.evidence.predict import replicate_counts

        if predict:
            limits.check_patients("patients", patients)
        db = evidence()
        frame = db.outcomes()
        filters = {
            "drug": drug,
            "route": route,
            "diagnosis": diagnosis,
            "design": design,
            "course": course,
        }

        def analyse(replicates: Any = None) -> Any:
            return meta_analysis(
                frame,
                endpoint,
                time,
                after,
                measure=measure,
                method=method,
                by=by,
                filters=filters,
                replicates=replicates,
            )

        result = analyse()  # checks every option before anything is simulated
        if predict:
            rows = selected(frame, endpoint, time, after, filters, measure)
            with evidence_lock:  # predictions write the store's cache: one at a time
                replicates = replicate_counts(rows, patients=patients, seed=seed, store=db)
            result = analyse(replicates)
        return dict(result.to_json())

    return app


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    home: Path | None = None,
    log_level: str = "info",
    simulate_workers: int | None = None,
) -> None:
    """Run the service with uvicorn until interrupted (what ``ketasim serve`` does).

    Parameters
    ----------
    host
        Interface to bind; the loopback interface by default. The service has no
        authentication: bind another interface only on a network you trust.
    port
        TCP port.
    home
        The data folder (default ``KETASIM_HOME`` or the user's data folder).
    log_level
        uvicorn's log level.
    simulate_workers
        Processes that run simulate requests; default ``KETASIM_WEB_SIMULATE_WORKERS``, else
        one per CPU core.
    """
    import uvicorn

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        log.warning("ketasim serve binds %s: anyone who reaches it can run simulations", host)
    if simulate_workers is None and not os.environ.get(ENV["simulate_workers"], "").strip():
        simulate_workers = os.cpu_count() or 1
    app = create_app(home, simulate_workers=simulate_workers)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


__all__ = ["BodyLimit", "create_app", "default_examples", "serve"]
