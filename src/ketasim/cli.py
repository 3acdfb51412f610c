"""The ``ketasim`` command line: thin, it calls the public API and prints.

Every user mistake ends with one line ``error: <field>: got <value>; <what is allowed>`` on
stderr and exit status 2; a traceback here is a bug.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ketasim.api import LAYERS, SimulationResult, simulate
from ketasim.data import drug_names, load_drug, parameter_rows
from ketasim.errors import DataError, KetasimError, KetasimInputError, SolverError
from ketasim.units import parse_time_h

try:  # recent typer releases vendor click; older ones use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException  # type: ignore[assignment]

Abort, Exit = typer.Abort, typer.Exit

app = typer.Typer(
    name="ketasim",
    help="Simulate ketamine and other NMDA receptor antagonists, from dose to symptoms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

#: What one command may ask for: (environment variable that raises it, default).
LIMITS: dict[str, tuple[str, float]] = {
    "patients": ("KETASIM_MAX_PATIENTS", 1_000_000),
    "replicates": ("KETASIM_MAX_REPLICATES", 10_000),
    "days": ("KETASIM_MAX_DAYS", 3650),
}


def _limit(kind: str) -> float:
    env, default = LIMITS[kind]
    text = os.environ.get(env)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise KetasimInputError(env, text, "a positive number") from None
    if not value > 0:
        raise KetasimInputError(env, text, "a positive number")
    return value


def _within(field: str, value: float, kind: str, unit: str, shown: object = None) -> None:
    """Refuse ``value`` above the command-line limit of ``kind``, saying how to raise it
    (``shown``: the value as the user wrote it)."""
    bound = _limit(kind)
    if value > bound:
        env = LIMITS[kind][0]
        raise KetasimInputError(
            field,
            value if shown is None else shown,
            f"at most {bound:,.0f} {unit} (set {env} to raise this limit)",
        )


def _int(text: str | None, field: str, minimum: int = 0) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise KetasimInputError(field, text, f"a whole number of {minimum} or more") from None
    if value < minimum:
        raise KetasimInputError(field, text, f"a whole number of {minimum} or more")
    return value


def _rates(text: str) -> list[tuple[str, str]]:
    """``"0.28 mg/kg/h for 1 h, 0.57 mg/kg/h for 1 h"`` -> [("0.28 mg/kg/h", "1 h"), ...]."""
    steps = []
    for part in text.split(","):
        rate, sep, duration = part.partition(" for ")
        if not sep:
            raise KetasimInputError("--rates", part.strip(), "steps like '0.5 mg/kg/h for 1 h'")
        steps.append((rate.strip(), duration.strip()))
    return steps


def _readings(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        route, sep, reading = item.partition("=")
        if not sep or not route or not reading:
            raise KetasimInputError(
                "--bioavailability", item, "ROUTE=READING, e.g. intranasal=yanagihara-2003"
            )
        out[route.strip()] = reading.strip()
    return out


@app.command("simulate")
def simulate_cmd(
    drug: Annotated[str | None, typer.Option(help="Library drug, e.g. ketamine-racemic")] = None,
    route: Annotated[
        str, typer.Option(help="iv-infusion, iv-bolus, intramuscular, ...")
    ] = "iv-infusion",
    dose: Annotated[str | None, typer.Option(help="'0.5 mg/kg' or '50 mg'")] = None,
    over: Annotated[str | None, typer.Option(help="infusion or push duration, '40 min'")] = None,
    weight: Annotated[str | None, typer.Option(help="body weight, '70 kg'")] = None,
    until: Annotated[str, typer.Option(help="end of the simulation, '24 h' or '14 d'")] = "24 h",
    every: Annotated[str | None, typer.Option(help="dosing interval, '2 d'")] = None,
    count: Annotated[str | None, typer.Option(help="number of doses with --every")] = None,
    schedule: Annotated[str | None, typer.Option(help="dose times, '0 d, 2 d, 4 d'")] = None,
    rates: Annotated[
        str | None, typer.Option(help="rate steps, '0.28 mg/kg/h for 1 h, 0.57 mg/kg/h for 1 h'")
    ] = None,
    events: Annotated[Path | None, typer.Option(help="NONMEM-style event table (CSV)")] = None,
    species: Annotated[str, typer.Option(help="human, mouse or rat")] = "human",
    patients: Annotated[str, typer.Option(help="number of virtual patients")] = "1",
    variability: Annotated[bool, typer.Option(help="draw between-patient PK variability")] = False,
    seed: Annotated[str, typer.Option(help="seed of the variability")] = "0",
    bioavailability: Annotated[
        list[str] | None, typer.Option(help="ROUTE=READING, a published F reading")
    ] = None,
    allow_anesthetic: Annotated[bool, typer.Option(help="allow anaesthetic doses")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
    csv: Annotated[Path | None, typer.Option(help="write the time course to this CSV")] = None,
    plot: Annotated[Path | None, typer.Option(help="write a PNG figure")] = None,
    write_events: Annotated[
        Path | None, typer.Option(help="write the regimen as a NONMEM-style event table (CSV)")
    ] = None,
    show: Annotated[
        str | None,
        typer.Option(help="layers to show: pk,receptor,circuit,signalling,synapse,symptoms"),
    ] = None,
) -> None:
    """Simulate one drug regimen and print Cmax, Tmax and AUC per analyte."""
    if drug is None:
        raise KetasimInputError("--drug", None, f"one of: {', '.join(drug_names())}")
    layers = _layers(show)
    n_patients = _int(patients, "--patients", 1) or 1
    _within("--patients", n_patients, "patients", "patients")
    _within("--until", parse_time_h(until, "--until") / 24.0, "days", "days", until)
    seed_value = _int(seed, "--seed", 0) or 0
    per_patient, weights_kg = None, None
    if events is not None:
        from ketasim.io.nonmem import read_events

        if any(v is not None for v in (dose, every, count, schedule, rates)):
            raise KetasimInputError(
                "--events", str(events), "an event table replaces --dose and the schedule options"
            )
        table = read_events(events)
        per_patient, weights_kg = table.regimens, table.weights_kg
    result = simulate(
        drug,
        dose=dose,
        route=route,
        over=over,
        every=every,
        count=_int(count, "--count", 1),
        schedule=[s.strip() for s in schedule.split(",")] if schedule is not None else None,
        rates=_rates(rates) if rates else None,
        species=species,
        weight=weight,
        n_patients=n_patients,
        variability=variability,
        seed=seed_value,
        until=until,
        bioavailability=_readings(bioavailability),
        allow_anesthetic=allow_anesthetic,
        per_patient=per_patient,
        weights_kg=weights_kg,
    )
    if write_events is not None:
        from ketasim.io.nonmem import write_events as event_table

        _writable(write_events, "--write-events")
        events_out = event_table(result.regimen, result.weights_kg, result.times_h)
        events_out.to_csv(write_events, index=False)
    if csv is not None:
        _writable(csv, "--csv")
        result.timecourse.to_csv(csv, index=False)
    if plot is not None:
        _writable(plot, "--plot")
        if layers:
            from ketasim.report.figures import plot_cascade

            plot_cascade(result, plot, layers)
        else:
            from ketasim.report.figures import plot_concentrations

            plot_concentrations(result, plot)
    if json_out:
        sys.stdout.write(json.dumps(result.to_json_dict(), allow_nan=False) + "\n")
    else:
        _print_summary(result)
        if layers:
            _print_layers(result, layers)


def _layers(show: str | None) -> list[str]:
    """The layers named by ``--show`` (comma-separated), checked."""
    if show is None:
        return []
    names = [part.strip() for part in show.split(",") if part.strip()]
    unknown = [n for n in names if n not in LAYERS]
    if not names or unknown:
        raise KetasimInputError("--show", show, f"allowed: {', '.join(LAYERS)}")
    return names


#: The key columns per layer in the ``--show`` table (pk: every analyte's plasma column).
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "receptor": ("block_interneuron_fraction", "block_pyramidal_fraction"),
    "circuit": ("glutamate_rel", "pyramidal_rate_rel"),
    "signalling": ("bdnf_release_rel", "mtor_active_rel", "synaptic_proteins_rel"),
    "synapse": ("spines_mushroom_density", "spine_restoration_fraction"),
    "symptoms": ("hdrs_17_points", "madrs_points", "cadss_points", "sbp_mmhg"),
}
#: The times of the ``--show`` table, in hours, with their labels.
SHOW_TIMES_H: tuple[tuple[float, str], ...] = (
    (40 / 60, "40 min"),
    (2.0, "2 h"),
    (24.0, "1 d"),
    (72.0, "3 d"),
    (168.0, "7 d"),
)


def _key_columns(result: SimulationResult, layer: str) -> list[str]:
    present = result.columns_by_layer.get(layer, ())
    if layer == "pk":
        return [c for c in present if c.endswith("_plasma_ng_per_ml")]
    return [c for c in KEY_COLUMNS.get(layer, ()) if c in present]


def _number(value: float) -> str:
    """A table cell: about three significant digits, no exponents, tiny values as 0."""
    value = float(f"{value:.3g}")
    size = abs(value)
    if size < 5e-4:
        return "0"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _print_layers(result: SimulationResult, layers: list[str], patient: int = 0) -> None:
    """A table of the shown layers' key outputs at a few times (one patient)."""
    tc = result.timecourse[result.timecourse["patient"] == patient]
    t_h = tc["t_h"].to_numpy()
    end = float(t_h[-1])
    times = [(th, label) for th, label in SHOW_TIMES_H if th <= end + 1e-9]
    if not times or times[-1][0] < end - 1e-9:
        times.append((end, f"{end / 24:.3g} d" if end >= 24 else f"{end:.3g} h"))
    table = Table(
        title=f"the cascade at a few times (patient {patient})",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("layer / output", no_wrap=True)
    for _, label in times:
        table.add_column(label, justify="right", no_wrap=True)
    missing = []
    for layer in layers:
        columns = _key_columns(result, layer)
        if not columns:
            missing.append(layer)
            continue
        table.add_row(f"[bold]{layer}[/bold]", *("" for _ in times))
        for column in columns:
            values = np.interp([th for th, _ in times], t_h, tc[column].to_numpy())
            table.add_row(f" {column}", *(_number(float(v)) for v in values))
    if table.row_count:
        console.print(table)
    if missing:
        console.print(f"{result.drug} has no {', '.join(missing)} outputs", highlight=False)


def _writable(path: Path, field: str) -> None:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise KetasimInputError(field, str(path), "a file in an existing folder")


def _print_summary(result: SimulationResult) -> None:
    if result.summary.empty:  # saline: nothing was given, so there is nothing to summarise
        console.print(
            f"{result.drug} ({result.species}): {result.regimen!r}; no drug, no concentrations",
            highlight=False,
        )
        return
    table = Table(title=f"{result.drug} ({result.species}): {result.regimen!r}")
    for col in (
        "patient",
        "analyte",
        f"Cmax {result.plasma_site} (ng/mL)",
        "Cmax (uM)",
        "Tmax (h)",
        "AUC (ng*h/mL)",
        "brain Cmax (ng/mL)",
    ):
        table.add_column(col, justify="right")
    for row in result.summary.itertuples():
        table.add_row(
            str(row.patient),
            str(row.analyte),
            f"{row.cmax_ng_per_ml:.1f}",
            f"{row.cmax_um:.3f}",
            f"{row.tmax_h:.2f}",
            f"{row.auc_ng_h_per_ml:.0f}",
            f"{row.brain_cmax_ng_per_ml:.1f}",
        )
    console.print(table)


@app.command("params")
def params_cmd(
    drug: Annotated[str | None, typer.Argument(help="a drug; all drugs when omitted")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
    markdown: Annotated[bool, typer.Option(help="print the tables of docs/model.md")] = False,
) -> None:
    """List every parameter with its value, unit, source and kind."""
    if markdown:
        from ketasim.report.docs import parameter_markdown

        sys.stdout.write(parameter_markdown() + "\n")
        return
    names = [drug] if drug else drug_names()
    rows = [row for name in names for row in parameter_rows(load_drug(name))]
    if json_out:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table(title="ketasim parameters")
    columns = ("drug", "parameter", "value", "unit", "kind", "source")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("drug", "parameter", "value", "unit", "kind", "source"))
        )
    console.print(table)


@app.command("bench")
def bench_cmd(
    patients: Annotated[int, typer.Option(help="virtual patients with variability")] = 1000,
    days: Annotated[float, typer.Option(help="days simulated after one 0.5 mg/kg infusion")] = 14,
    baseline_patients: Annotated[
        int, typer.Option(help="patients the patient-by-patient baselines are timed on")
    ] = 100,
    rtol: Annotated[float, typer.Option(help="relative tolerance of every solver")] = 1e-6,
    atol: Annotated[float, typer.Option(help="absolute tolerance of every solver")] = 1e-9,
    seed: Annotated[int, typer.Option(help="seed of the variability")] = 0,
    workers: Annotated[int, typer.Option(help="local Dask worker processes (1: in-process)")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler")
    ] = None,
    engine_batches: Annotated[
        bool, typer.Option(help="instead: the engine alone for 1 to 1000 patients, as ratios")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """Time the full model for N patients against libRoadRunner (exported SBML, CVODE) and
    SciPy's solve_ivp, both patient by patient (docs/performance.md gives the protocol)."""
    from dataclasses import asdict

    if engine_batches:
        from ketasim.bench import run_engine_benchmark

        results = run_engine_benchmark()
        if json_out:
            sys.stdout.write(json.dumps([asdict(r) for r in results]) + "\n")
            return
        table = Table(title="engine benchmark (baseline: 1 patient)")
        for col in ("case", "patients", "seconds", "x baseline", "per patient"):
            table.add_column(col, justify="right")
        for r in results:
            table.add_row(
                r.case,
                str(r.n_patients),
                f"{r.seconds:.3f}",
                f"{r.ratio_to_baseline:.2f}",
                f"{r.per_patient_ratio:.4f}",
            )
        console.print(table)
        return
    from ketasim.bench import run_model_benchmark
    from ketasim.engine.distribute import mapper

    if patients < 1:
        raise KetasimInputError("--patients", patients, "1 or more virtual patients")
    _within("--patients", patients, "patients", "patients")
    if not days > 0:
        raise KetasimInputError("--days", days, "more than 0 days")
    _within("--days", days, "days", "days")
    if baseline_patients < 1:
        raise KetasimInputError("--baseline-patients", baseline_patients, "1 or more")
    for value, name in ((rtol, "--rtol"), (atol, "--atol")):
        if not 0 < value < 1:
            raise KetasimInputError(name, value, "a tolerance between 0 and 1")
    with mapper(scheduler, workers) as run_map:
        res = run_model_benchmark(
            patients,
            days,
            baseline_patients=baseline_patients,
            rtol=rtol,
            atol=atol,
            seed=seed,
            mapper=run_map,
            workers=workers,
        )
    doc = res.to_json()
    if json_out:
        sys.stdout.write(json.dumps(doc) + "\n")
        return
    table = Table(title=f"ketasim bench: {patients} patients, {days:g} days", box=box.SIMPLE)
    for col in ("engine", "seconds", "patients/s", "ketasim speed-up"):
        table.add_column(col, justify="right")
    table.add_row(
        "ketasim (batched)", f"{res.ketasim_s:.2f}", f"{patients / res.ketasim_s:.1f}", "1"
    )
    table.add_row(
        "libRoadRunner (per patient)",
        f"{res.roadrunner_s:.2f}",
        f"{patients / res.roadrunner_s:.1f}",
        f"{res.speedup_vs_roadrunner:.2f}",
    )
    table.add_row(
        "SciPy solve_ivp (per patient)",
        f"{res.scipy_s:.2f}",
        f"{patients / res.scipy_s:.1f}",
        f"{res.speedup_vs_scipy:.2f}",
    )
    console.print(table)
    console.print(
        f"baselines timed on {res.baseline_patients} patients and scaled to {patients}; "
        f"SBML load and compile {res.roadrunner_load_s:.2f} s (apart); max relative difference "
        f"ketasim vs libRoadRunner {res.max_rel_diff:.2g}; peak RSS {res.peak_rss_mb:.0f} MB"
    )


experiment_app = typer.Typer(
    help="In-silico experiments: the review's preclinical and drug-contrast evidence.",
    no_args_is_help=True,
)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("list")
def experiment_list_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """List the shipped experiments with their source and claim."""
    from ketasim.experiments import experiment_names, load_experiment

    exps = [load_experiment(n) for n in experiment_names()]
    if json_out:
        rows = [
            {"name": e.name, "source": e.source, "species": e.species, "claim": e.claim}
            for e in exps
        ]
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table(title="ketasim experiments", box=box.SIMPLE)
    for col in ("name", "species", "claim"):
        table.add_column(col)
    for e in exps:
        table.add_row(e.name, e.species, e.claim)
    console.print(table)


@experiment_app.command("run")
def experiment_run_cmd(
    name: Annotated[
        str | None, typer.Argument(help="an experiment name, or a path to your own YAML file")
    ] = None,
    run_all: Annotated[bool, typer.Option("--all", help="run every shipped experiment")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="write a figure (PNG or SVG; one experiment only)")
    ] = None,
    plot_dir: Annotated[
        Path | None, typer.Option(help="write one figure per experiment, NAME.png, here")
    ] = None,
) -> None:
    """Run experiments; exit status 0 only when every expectation holds (1 otherwise)."""
    from ketasim.experiments import experiment_names, load_experiment, run_experiment

    if run_all == (name is not None):
        raise KetasimInputError("NAME", name, "one experiment name or --all")
    if plot is not None and run_all:
        raise KetasimInputError("--plot", str(plot), "a figure for one experiment (no --all)")
    names = experiment_names() if run_all else [str(name)]
    results = [run_experiment(load_experiment(n)) for n in names]
    if plot is not None or plot_dir is not None:
        from ketasim.report.figures import plot_experiment

        if plot is not None:
            plot_experiment(results[0], plot)
        if plot_dir is not None:
            if not plot_dir.is_dir():
                raise KetasimInputError("--plot-dir", str(plot_dir), "an existing folder")
            for r in results:
                plot_experiment(r, plot_dir / f"{r.experiment.name}.png")
    if json_out:
        sys.stdout.write(json.dumps([r.to_json() for r in results]) + "\n")
    else:
        for r in results:
            mark = "[green]pass[/green]" if r.passed else "[red]FAIL[/red]"
            console.print(f"{mark} {r.experiment.name} ({r.experiment.source})")
            table = Table(box=box.SIMPLE, show_header=True)
            for col in ("readout", "observed", "expectation", "ok"):
                table.add_column(col)
            for v in r.verdicts:
                table.add_row(
                    v.readout, f"{v.observed:+.3f}", v.expectation, "yes" if v.passed else "NO"
                )
            console.print(table)
    if not all(r.passed for r in results):
        raise Exit(1)


trial_app = typer.Typer(
    help="Virtual trials from a YAML spec (docs/trial-spec.md).", no_args_is_help=True
)
app.add_typer(trial_app, name="trial")


@trial_app.command("run")
def trial_run_cmd(
    spec: Annotated[Path, typer.Argument(help="a trial spec (YAML)")],
    replicates: Annotated[int, typer.Option(help="replicate trials of the spec's size")] = 20,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """Simulate replicate trials: per arm and endpoint the median and 95 % range over
    replicates; per comparison the median difference and the power at 0.05."""
    from ketasim.trials import TrialSpec, run_trial

    if replicates < 1:
        raise KetasimInputError("--replicates", replicates, "1 or more replicate trials")
    _within("--replicates", replicates, "replicates", "replicate trials")
    trial = TrialSpec.from_yaml(spec)
    if json_out:
        result = run_trial(trial, replicates=replicates, seed=seed)
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{trial.name}: {replicates} trials", total=None)

        def step(done: int, total: int) -> None:
            bar.update(task, total=total, completed=done)

        result = run_trial(trial, replicates=replicates, seed=seed, progress=step)
    out = result.to_json()
    table = Table(
        title=f"{trial.name}: {replicates} replicate trials (seed {seed})", box=box.SIMPLE
    )
    for col in ("arm", "n", "endpoint", "median", "95 % range"):
        table.add_column(col)
    for arm in out["arms"]:
        for name, v in arm["endpoints"].items():
            table.add_row(
                arm["name"],
                str(arm["n"]),
                name,
                _fmt(v["median"]),
                f"{_fmt(v['lo'])} to {_fmt(v['hi'])}",
            )
    console.print(table)
    if out["comparisons"]:
        comp = Table(title="comparisons", box=box.SIMPLE)
        for col in ("endpoint", "contrast", "median difference", "95 % range", "power"):
            comp.add_column(col)
        for c in out["comparisons"]:
            comp.add_row(
                c["endpoint"],
                f"{c['arm']} - {c['vs']}",
                _fmt(c["median"]),
                f"{_fmt(c['lo'])} to {_fmt(c['hi'])}",
                _fmt(c["power"]),
            )
        console.print(comp)


#: Largest number of replicate trials one command runs (raise it in code for bigger jobs).


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


@app.command("reproduce")
def reproduce_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON rows for machines")] = False,
    report: Annotated[Path | None, typer.Option(help="write an HTML report here")] = None,
    plot: Annotated[Path | None, typer.Option(help="write the overview figure (PNG)")] = None,
    patients: Annotated[int, typer.Option(help="virtual patients per study")] = 120,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    workers: Annotated[int, typer.Option(help="local Dask worker processes (1: in-process)")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler")
    ] = None,
) -> None:
    """Every published outcome of the review's tables beside ketasim's prediction for a trial
    of the same size (median and 95 % prediction interval)."""
    from ketasim.calibration.reproduce import reproduce
    from ketasim.engine.distribute import mapper

    if patients < 10:
        raise KetasimInputError("--patients", patients, "10 or more virtual patients per study")
    _within("--patients", patients, "patients", "patients")
    for path, name in ((report, "--report"), (plot, "--plot")):
        if path is not None:
            _writable(path, name)
    err = Console(stderr=True)
    with mapper(scheduler, workers) as run_map:
        rows, summary = reproduce(
            patients, seed, run_map, None if json_out else lambda m: err.print(f"[dim]{m}[/dim]")
        )
    if report is not None:
        from ketasim.report.reproduce import write_report

        write_report(rows, summary, report)
    if plot is not None:
        from ketasim.report.reproduce import overview_figure

        overview_figure(rows, plot)
    if json_out:
        sys.stdout.write(json.dumps([r.to_json() for r in rows]) + "\n")
        return
    table = Table(title="ketasim reproduce: published outcomes against predictions", box=box.SIMPLE)
    for col in (
        "study",
        "arm",
        "endpoint",
        "time",
        "observed",
        "predicted (95 % PI)",
        "inside",
        "role",
    ):
        table.add_column(col)
    for r in rows:
        obs = f"{r.k}/{r.n} = {r.observed:.2f}" if r.k is not None else f"{r.observed:.3g}"
        mark = "-" if not r.counted else ("yes" if r.consistent else "[red]NO[/red]")
        table.add_row(
            r.study,
            r.arm,
            r.endpoint,
            r.time,
            obs,
            f"{r.predicted:.2f} ({r.lo:.2f} to {r.hi:.2f})",
            mark,
            r.role,
        )
    console.print(table)
    for role in ("fit", "validation", "all"):
        s = summary[role]
        console.print(
            f"{role}: {s['inside_95']} of {s['outcomes']} inside their 95 % PI; "
            f"mean absolute error of rates {s['mae_rate_points']} points"
        )
    if "murrough-2013a" in summary:
        d = summary["murrough-2013a"]
        console.print(
            f"murrough-2013a ketamine - midazolam at 24 h: observed {d['observed_difference']} "
            f"(95 % CI {d['observed_ci95'][0]} to {d['observed_ci95'][1]}), predicted "
            f"{d['predicted_difference']}"
        )


@app.command("calibrate")
def calibrate_cmd(
    seed: Annotated[int, typer.Option(help="seed of the virtual cohorts and the posterior")] = 1,
    patients: Annotated[int, typer.Option(help="virtual patients per study")] = 96,
    workers: Annotated[int, typer.Option(help="local Dask worker processes (1: in-process)")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler")
    ] = None,
    max_evaluations: Annotated[
        int, typer.Option(help="likelihood evaluations of the search")
    ] = 800,
    profile_points: Annotated[
        int, typer.Option(help="points per profile likelihood (0: none)")
    ] = 4,
    covariate_patients: Annotated[
        int, typer.Option(help="virtual patients for the covariate regression")
    ] = 400,
    output: Annotated[Path | None, typer.Option(help="where to write the fitted set")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Fit the clinical-link parameters to Table 1 and the relapse claim (one set for all
    studies) and write them, with the run's provenance, to data/calibrated/human.yaml."""
    import time

    from ketasim.calibration.fit import FREE, cells, screened_fit, study_specs, write
    from ketasim.data.library import calibration_path
    from ketasim.engine.distribute import mapper

    if patients < 10:
        raise KetasimInputError("--patients", patients, "10 or more virtual patients per study")
    _within("--patients", patients, "patients", "patients")
    target = output or calibration_path()
    if output is None:
        target.parent.mkdir(parents=True, exist_ok=True)
    _writable(target, "--output")
    err = Console(stderr=True)
    say = (lambda m: None) if json_out else (lambda m: err.print(f"[dim]{m}[/dim]"))
    start = time.perf_counter()
    specs = study_specs()
    fit_cells = [c for c in cells(specs.values()) if c.role == "fit"]
    studies = sorted({c.study for c in fit_cells})
    say(f"building virtual cohorts for {len(studies)} studies ({patients} patients each)")
    with mapper(scheduler, workers) as run_map:
        problem, result = screened_fit(
            [specs[s] for s in studies],
            fit_cells,
            patients,
            seed,
            run_map,
            profile_points=profile_points,
            progress=say,
            max_evaluations=max_evaluations,
        )
    say("fitting covariate effects to Niciu 2014's standardised betas")
    from ketasim.calibration.covariates import NICIU_BETAS, CovariateProblem, fit_covariates

    fitted, _ = problem.values(result.x)
    with mapper(scheduler, workers) as run_map:
        cov_problem = CovariateProblem.build(
            covariate_patients, seed, run_map, fitted.population.variability["fluctuation_sd"]
        )
    effects = fit_covariates(cov_problem, fitted)
    reached = cov_problem.betas(fitted.with_values(effects))
    betas = {
        f"{name} at {time_}": {"published": target, "simulated": round(reached[(name, time_)], 3)}
        for (name, time_), target in NICIU_BETAS.items()
    }
    result.elapsed_s = time.perf_counter() - start
    command = (
        f"ketasim calibrate --seed {seed} --patients {patients} --max-evaluations "
        f"{max_evaluations} --profile-points {profile_points} --covariate-patients "
        f"{covariate_patients}"
    )
    write(result, target, command, effects, betas)
    if json_out:
        sys.stdout.write(
            json.dumps({"estimates": result.estimates, "gof": result.gof, "nll": result.nll}) + "\n"
        )
        return
    table = Table(
        title=f"calibrated ({result.evaluations} evaluations, {result.elapsed_s:.0f} s)",
        box=box.SIMPLE,
    )
    for col in ("parameter", "value", "log-scale SD"):
        table.add_column(col)
    sd = np.sqrt(np.diag(result.covariance))
    for f, s_ in zip(FREE, sd, strict=True):
        table.add_row(f.name, f"{result.estimates[f.name]:.4g}", f"{s_:.3g}")
    console.print(table)
    g = result.gof
    console.print(
        f"Pearson chi-square {g['pearson_chi2']:.1f} on {g['dof']:.0f} df "
        f"(p = {g['p_value']:.3f}); written to {target}"
    )


export_app = typer.Typer(
    help="Export the model: SBML Level 3 for libRoadRunner, COPASI and other tools.",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


@export_app.command("sbml")
def export_sbml_cmd(
    drug: Annotated[str | None, typer.Option(help="Library drug, e.g. ketamine-racemic")] = None,
    route: Annotated[
        str, typer.Option(help="iv-infusion, iv-bolus, intramuscular, ...")
    ] = "iv-infusion",
    dose: Annotated[str | None, typer.Option(help="'0.5 mg/kg' or '50 mg'")] = None,
    over: Annotated[str | None, typer.Option(help="infusion or push duration, '40 min'")] = None,
    every: Annotated[str | None, typer.Option(help="dosing interval, '2 d'")] = None,
    count: Annotated[str | None, typer.Option(help="number of doses with --every")] = None,
    schedule: Annotated[str | None, typer.Option(help="dose times, '0 d, 2 d, 4 d'")] = None,
    rates: Annotated[
        str | None, typer.Option(help="rate steps, '0.28 mg/kg/h for 1 h, 0.57 mg/kg/h for 1 h'")
    ] = None,
    species: Annotated[str, typer.Option(help="human, mouse or rat")] = "human",
    weight: Annotated[str | None, typer.Option(help="body weight, '70 kg'")] = None,
    patient: Annotated[
        Path | None, typer.Option(help="a virtual patient (CSV or YAML row, docs/sbml.md)")
    ] = None,
    variability: Annotated[bool, typer.Option(help="draw this patient's PK factors")] = False,
    seed: Annotated[str, typer.Option(help="seed of the variability")] = "0",
    bioavailability: Annotated[
        list[str] | None, typer.Option(help="ROUTE=READING, a published F reading")
    ] = None,
    allow_anesthetic: Annotated[bool, typer.Option(help="allow anaesthetic doses")] = False,
    output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """The full model (PK to rating scales) for one patient and regimen as SBML Level 3,
    with units, each parameter's source and the doses as events (docs/sbml.md)."""
    from ketasim.io.sbml import export_sbml_for

    if drug is None:
        raise KetasimInputError("--drug", None, f"one of: {', '.join(drug_names())}")
    if weight is not None and patient is not None:
        raise KetasimInputError("--weight", weight, "either --weight or --patient (it has one)")
    xml = export_sbml_for(
        drug,
        dose=dose,
        route=route,
        over=over,
        every=every,
        count=_int(count, "--count", 1),
        schedule=[s.strip() for s in schedule.split(",")] if schedule is not None else None,
        rates=_rates(rates) if rates else None,
        species=species,
        weight=weight,
        patient=patient,
        variability=variability,
        seed=_int(seed, "--seed", 0) or 0,
        bioavailability=_readings(bioavailability),
        allow_anesthetic=allow_anesthetic,
    )
    if output is not None:
        _writable(output, "--output")
        output.write_text(xml, encoding="utf-8")
    else:
        sys.stdout.write(xml)


evidence_app = typer.Typer(
    help="The evidence base (DuckDB in KETASIM_HOME): studies, your own files, meta-analysis.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")


@evidence_app.command("list")
def evidence_list_cmd(
    drug: Annotated[str | None, typer.Option(help="only studies with an arm of this drug")] = None,
    route: Annotated[
        str | None, typer.Option(help="only studies with an arm by this route")
    ] = None,
    diagnosis: Annotated[str | None, typer.Option(help="MDD, BDep, MDD-and-BDep, other")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """List the stored studies (shipped: the review's; yours: added with `evidence add`)."""
    from ketasim.evidence.store import EvidenceStore

    store = EvidenceStore()
    origins = store.origins()
    studies = [
        s
        for s in store.studies()
        if (drug is None or any(a.drug == drug for a in s.arms))
        and (route is None or any(a.route == route for a in s.arms))
        and (diagnosis is None or s.diagnosis == diagnosis)
    ]
    if json_out:
        rows = [
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
            for s in studies
        ]
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table(title=f"ketasim evidence ({store.path})", box=box.SIMPLE)
    for col in ("id", "design", "diagnosis", "arms", "outcomes", "origin"):
        table.add_column(col, overflow="fold")
    for s in studies:
        arms = ", ".join(a.name for a in s.arms)
        table.add_row(s.id, s.design, s.diagnosis, arms, str(len(s.outcomes)), origins[s.id])
    console.print(table)


@evidence_app.command("show")
def evidence_show_cmd(
    study: Annotated[str, typer.Argument(help="a study id (see `evidence list`)")],
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """One study: design, arms and every outcome."""
    from ketasim.evidence.schema import to_mapping
    from ketasim.evidence.store import EvidenceStore

    s = EvidenceStore().study(study)
    if json_out:
        sys.stdout.write(json.dumps(to_mapping(s)) + "\n")
        return
    console.print(f"[bold]{s.id}[/bold] ({s.source or 'no source'}): {s.design}, {s.diagnosis}")
    if s.note:
        console.print(s.note)
    arms = Table(box=box.SIMPLE)
    for col in ("arm", "drug", "route", "dose", "over", "doses", "control"):
        arms.add_column(col)
    for a in s.arms:
        arms.add_row(
            a.name,
            a.drug,
            a.route or "-",
            a.dose or "-",
            a.over or "-",
            str(a.doses or "not reported"),
            "yes" if a.is_control else "no",
        )
    console.print(arms)
    table = Table(box=box.SIMPLE)
    for col in ("arm", "endpoint", "time", "scale", "result", "note"):
        table.add_column(col)
    for o in s.outcomes:
        if o.k is not None and o.n is not None:
            result = f"{o.k}/{o.n} = {o.k / o.n:.2f}"
        elif o.endpoint == "change":
            result = f"{o.mean:g} (SD {o.sd:g}, n {o.n})"
        else:
            result = f"{o.estimate:g} vs {o.vs} (95 % CI {o.lo:g} to {o.hi:g})"
        when = "-" if o.time is None else f"{o.time} after {o.after}"
        table.add_row(o.arm, o.endpoint, when, o.scale or "-", result, o.note)
    console.print(table)


@evidence_app.command("add")
def evidence_add_cmd(
    file: Annotated[Path, typer.Argument(help="a YAML or CSV evidence file (docs/evidence.md)")],
    replace: Annotated[
        bool, typer.Option("--replace", help="overwrite your studies of the same id")
    ] = False,
) -> None:
    """Add every study of FILE, all or none (a bad row changes nothing)."""
    from ketasim.evidence.store import EvidenceStore

    ids = EvidenceStore().add(file, replace=replace)
    console.print(f"added {len(ids)} stud{'y' if len(ids) == 1 else 'ies'}: {', '.join(ids)}")


@evidence_app.command("export")
def evidence_export_cmd(
    file: Annotated[Path, typer.Argument(help="where to write (.yaml or .csv)")],
    origin: Annotated[str, typer.Option(help="all, shipped or user")] = "all",
) -> None:
    """Write the stored studies in the file schema (they can be added back as they are)."""
    from ketasim.evidence.schema import write_file
    from ketasim.evidence.store import SHIPPED, EvidenceStore

    if origin not in ("all", "shipped", "user"):
        raise KetasimInputError("--origin", origin, "all, shipped or user")
    _writable(file, "FILE")
    store = EvidenceStore()
    origins = store.origins()
    keep = [
        s
        for s in store.studies()
        if origin == "all" or (origins[s.id] == SHIPPED) == (origin == "shipped")
    ]
    write_file(keep, file)
    console.print(f"wrote {len(keep)} studies to {file}")


@evidence_app.command("meta")
def evidence_meta_cmd(
    endpoint: Annotated[str, typer.Option(help="response or remission")] = "response",
    time: Annotated[str, typer.Option(help="time after the dose, e.g. 24h or 7d")] = "24h",
    after: Annotated[str, typer.Option(help="after the first or the final dose")] = "first",
    measure: Annotated[
        str, typer.Option(help="rate (treatment arms), or (odds ratio) or rd (risk difference)")
    ] = "rate",
    method: Annotated[
        str, typer.Option(help="dl (DerSimonian-Laird), pm (Paule-Mandel) or fe (fixed)")
    ] = "dl",
    by: Annotated[
        str | None, typer.Option(help="subgroups: diagnosis, route, drug, design or course")
    ] = None,
    drug: Annotated[str | None, typer.Option(help="only arms of this drug")] = None,
    route: Annotated[str | None, typer.Option(help="only arms by this route")] = None,
    diagnosis: Annotated[str | None, typer.Option(help="only studies of this diagnosis")] = None,
    design: Annotated[str | None, typer.Option(help="only studies of this design")] = None,
    course: Annotated[
        str | None, typer.Option(help="single (one dose) or repeated (a course)")
    ] = None,
    predict: Annotated[
        bool, typer.Option(help="simulate ketasim's prediction beside each study")
    ] = True,
    patients: Annotated[int, typer.Option(help="virtual patients per predicted study")] = 60,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    workers: Annotated[int, typer.Option(help="local Dask worker processes (1: in-process)")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="write the forest plot (PNG or SVG)")] = None,
    funnel: Annotated[Path | None, typer.Option(help="write the funnel plot (PNG or SVG)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """Pool the stored outcomes (statsmodels), with ketasim's pooled virtual trials beside."""
    from ketasim.engine.distribute import mapper
    from ketasim.evidence.meta import meta_analysis, selected
    from ketasim.evidence.predict import replicate_counts
    from ketasim.evidence.store import EvidenceStore

    if patients < 10:
        raise KetasimInputError("--patients", patients, "10 or more virtual patients per study")
    _within("--patients", patients, "patients", "patients")
    for path, name in ((plot, "--plot"), (funnel, "--funnel")):
        if path is not None:
            _writable(path, name)
    store = EvidenceStore()
    frame = store.outcomes()
    filters = {"drug": drug, "route": route, "diagnosis": diagnosis, "design": design}
    filters["course"] = course

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

    analyse()  # checks every option before anything is simulated
    replicates = None
    if predict:
        err = Console(stderr=True)
        with mapper(scheduler, workers) as run_map:
            replicates = replicate_counts(
                selected(frame, endpoint, time, after, filters, measure),
                patients=patients,
                seed=seed,
                mapper=run_map,
                store=store,
                progress=None if json_out else lambda m: err.print(f"[dim]{m}[/dim]"),
            )
    result = analyse(replicates)
    if plot is not None:
        from ketasim.report.evidence import forest_plot

        forest_plot(result, plot)
    if funnel is not None:
        from ketasim.report.evidence import funnel_plot

        funnel_plot(result, funnel)
    if json_out:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    _print_meta(result)


def _print_meta(result: Any) -> None:
    title = f"{result.endpoint} ({result.measure}) at {result.time} after the {result.after} dose"
    table = Table(title=title, box=box.SIMPLE)
    for col in ("study", "arm", "counts", "observed (95 % CI)", "ketasim (95 % PI)", "weight"):
        table.add_column(col)

    def est(e: Any) -> str:
        return "-" if e is None else f"{e.estimate:.2f} ({e.lo:.2f} to {e.hi:.2f})"

    for s in result.studies:
        counts = f"{s.k}/{s.n}" if s.k0 is None else f"{s.k}/{s.n} vs {s.k0:g}/{s.n0:g}"
        table.add_row(
            s.study, s.arm, counts, est(s.observed), est(s.predicted), f"{s.weight_re:.2f}"
        )
    table.add_row("pooled", result.method, "", est(result.pooled), est(result.predicted), "1.00")
    console.print(table)
    console.print(
        f"k = {result.k_studies}; I² = {100 * result.i2:.0f} %; τ² = {result.tau2:.3f}; "
        f"Q = {result.q:.2f} (p = {result.q_p:.3f}); fixed effect {est(result.fixed)}"
    )
    for study, reason in result.excluded:
        console.print(f"not pooled: {study} ({reason})")
    if result.by is not None:
        for level, g in result.subgroups.items():
            console.print(f"{result.by} = {level}: k = {g.k_studies}, pooled {est(g.pooled)}")
        t = result.subgroup_test
        if t:
            console.print(
                f"subgroup difference: Q = {t['q']:.2f}, df = {t['df']:.0f}, p = {t['p']:.3f}"
            )


scenario_app = typer.Typer(
    help="Scenario studies: ketasim's answers to the review's open questions.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("list")
def scenario_list(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """The scenario studies, with the question each answers."""
    from ketasim.scenarios import SCENARIOS

    if json_out:
        rows = [
            {"name": s.name, "title": s.title, "question": s.question} for s in SCENARIOS.values()
        ]
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table(title="ketasim scenarios", box=box.SIMPLE)
    for col in ("name", "title", "question"):
        table.add_column(col)
    for s in SCENARIOS.values():
        table.add_row(s.name, s.title, s.question)
    console.print(table)


@scenario_app.command("run")
def scenario_run(
    name: Annotated[str, typer.Argument(help="a name from `ketasim scenario list`")],
    report: Annotated[
        Path | None, typer.Option(help="write the HTML report here (and its JSON beside it)")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print the report's JSON")] = False,
    replicates: Annotated[
        int, typer.Option(help="replicate trials or parameter draws behind each interval")
    ] = 40,
    patients: Annotated[
        int, typer.Option(help="virtual patients per arm or cohort the scenario sizes itself")
    ] = 200,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    quick: Annotated[bool, typer.Option(help="coarser grids: a first look in seconds")] = False,
    patient: Annotated[
        Path | None, typer.Option(help="one-patient: the patient file (YAML)")
    ] = None,
    workers: Annotated[int, typer.Option(help="local Dask worker processes (1: in-process)")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a running Dask scheduler")
    ] = None,
) -> None:
    """Run a scenario study and write its report (HTML with figures and tables, plus JSON)."""
    from ketasim.engine.distribute import mapper
    from ketasim.scenarios import SCENARIOS, Settings, run_scenario

    if name not in SCENARIOS:
        from ketasim.errors import UnknownNameError

        raise UnknownNameError("scenario", name, tuple(SCENARIOS))
    if replicates < 2:
        raise KetasimInputError("--replicates", replicates, "2 or more")
    _within("--replicates", replicates, "replicates", "replicate trials")
    if patients < 10:
        raise KetasimInputError("--patients", patients, "10 or more virtual patients")
    _within("--patients", patients, "patients", "patients")
    if workers < 1:
        raise KetasimInputError("--workers", workers, "1 or more worker processes")
    if report is not None:
        _writable(report, "--report")
    if patient is not None and not patient.is_file():
        raise KetasimInputError("--patient", str(patient), "an existing patient file (YAML)")
    err = Console(stderr=True)
    with mapper(scheduler, workers) as run_map:
        settings = Settings(
            replicates=replicates,
            patients=patients,
            seed=seed,
            quick=quick,
            patient=patient,
            run_map=run_map,
        )
        if not json_out:
            err.print(f"[dim]running {name} ({replicates} replicates, seed {seed})[/dim]")
        result = run_scenario(name, settings)
    if report is not None:
        html_path, json_path = result.write(report)
        if not json_out:
            console.print(f"wrote {html_path} and {json_path}")
    if json_out:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    table = Table(title=result.title, box=box.SIMPLE)
    table.add_column("headline")
    table.add_column("value")
    from ketasim.report.document import text_of

    for key, value in result.headline.items():
        table.add_row(key.replace("_", " "), text_of(value))
    console.print(table)
    for caveat in result.caveats:
        console.print(f"[dim]- {caveat}[/dim]")


@app.command("predict")
def predict_cmd(
    patient: Annotated[
        Path, typer.Option(help="the patient file (YAML): docs/scenarios/one-patient.md")
    ],
    drug: Annotated[str, typer.Option(help="drug from the library")] = "ketamine-racemic",
    dose: Annotated[str, typer.Option(help="dose per administration")] = "0.5 mg/kg",
    route: Annotated[str, typer.Option(help="route of administration")] = "iv-infusion",
    over: Annotated[str | None, typer.Option(help="infusion duration")] = "40 min",
    draws: Annotated[int, typer.Option(help="posterior draws of the calibrated parameters")] = 40,
    seed: Annotated[int, typer.Option(help="seed of every random draw")] = 0,
    plot: Annotated[Path | None, typer.Option(help="write the trajectory figure (PNG)")] = None,
    report: Annotated[Path | None, typer.Option(help="write an HTML report (and JSON)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON for machines")] = False,
) -> None:
    """One patient's predicted course and probability of response at 230 min, 24 h and
    1 week, with an interval from the calibrated parameters' uncertainty. A research
    estimate, not clinical advice."""
    from ketasim.scenarios.one_patient import PatientFile, predict_patient

    if not patient.is_file():
        raise KetasimInputError("--patient", str(patient), "an existing patient file (YAML)")
    if draws < 2:
        raise KetasimInputError("--draws", draws, "2 or more posterior draws")
    _within("--replicates", draws, "replicates", "posterior draws")
    for path, field in ((plot, "--plot"), (report, "--report")):
        if path is not None:
            _writable(path, field)
    person = PatientFile.from_yaml(patient)
    result = predict_patient(
        person, drug=drug, dose=dose, route=route, over=over, draws=draws, seed=seed
    )
    if plot is not None:
        plot.write_bytes(result.figures[0].png)
    if report is not None:
        result.write(report)
    if json_out:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
        return
    table = Table(title=result.title, box=box.SIMPLE)
    table.add_column("headline")
    table.add_column("value")
    from ketasim.report.document import text_of

    for key, value in result.headline.items():
        table.add_row(key.replace("_", " "), text_of(value))
    console.print(table)
    for caveat in result.caveats:
        console.print(f"[dim]- {caveat}[/dim]")


@app.command("serve")
def serve_cmd(
    host: Annotated[
        str, typer.Option(help="Interface to bind; another than loopback exposes the service.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (1-65535).")] = 8000,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
    simulate_workers: Annotated[
        int | None,
        typer.Option(help="processes for simulate requests (default: one per CPU core)"),
    ] = None,
) -> None:
    """Start the web service and page (FastAPI; OpenAPI at /docs and /openapi.json)."""
    if simulate_workers is not None and simulate_workers < 1:
        raise KetasimInputError("--simulate-workers", simulate_workers, "1 or more processes")
    if not 1 <= port <= 65535:
        raise KetasimInputError("--port", port, "a TCP port from 1 to 65535")
    levels = ("critical", "error", "warning", "info", "debug", "trace")
    if log_level not in levels:
        raise KetasimInputError("--log-level", log_level, f"one of {', '.join(levels)}")
    from ketasim.web.app import serve

    console.print(f"ketasim serve: http://{host}:{port}/ (Ctrl-C stops it)")
    serve(host=host, port=port, log_level=log_level, simulate_workers=simulate_workers)


@app.command("demo")
def demo_cmd() -> None:
    """The standard 0.5 mg/kg racemic ketamine infusion over 40 min in a 70 kg adult."""
    result = simulate(
        "ketamine-racemic",
        dose="0.5 mg/kg",
        route="iv-infusion",
        over="40 min",
        weight="70 kg",
        until="24 h",
    )
    _print_summary(result)
    tc = result.timecourse
    table = Table(title="venous plasma ketamine after 0.5 mg/kg over 40 min")
    table.add_column("time (min)", justify="right")
    table.add_column("ketamine (ng/mL)", justify="right")
    table.add_column("norketamine (ng/mL)", justify="right")
    table.add_column("brain ketamine (ng/mL)", justify="right")
    for minutes in (10, 20, 40, 80, 120, 230, 24 * 60):
        i = int(np.argmin(np.abs(tc["t_h"].to_numpy() - minutes / 60.0)))
        r = tc.iloc[i]
        table.add_row(
            str(minutes),
            f"{r.ketamine_plasma_ng_per_ml:.1f}",
            f"{r.norketamine_plasma_ng_per_ml:.1f}",
            f"{r.ketamine_brain_ng_per_ml:.1f}",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn user errors into one line and exit status 2."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        # with standalone_mode off, click returns an Exit's code instead of raising it
        code = app(args=argv, standalone_mode=False)
    except (KetasimInputError, DataError) as exc:
        err.print(f"error: {exc}", markup=False)
        return 2
    except ClickException as exc:
        message = exc.format_message()
        if message:  # no message: the help was printed because no command was given
            err.print(f"error: {message}", markup=False)
        return 2
    except (SolverError, KetasimError) as exc:
        err.print(f"error: {exc}", markup=False)
        return 1
    except Abort:
        return 1
    except Exit as exc:
        return int(exc.exit_code or 0)
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
