"""Scenario 4, compound design: what NMDA affinity, trapping and GluN2B selectivity buy in 24-h
response against dissociation.

Virtual compounds are racemic ketamine with receptor-layer properties changed and nothing else
(:meth:`~ketasim.data.spec.Drug.replace`): the same PK, metabolite and dose (0.5 mg/kg IV over
40 min). Three axes describe a compound:

* ``kd_um``: its NMDA affinity, the nominal dissociation constant in uM. For a channel blocker
  it is ``koff / kon`` at -70 mV in 0 Mg2+ (ketamine 0.22 / 1.5e5 M-1 s-1 = 1.47 uM; Gilling
  2009); ``kon`` is scaled (``koff`` kept) and so is the closed-channel IC50 (the molecule's
  affinity for every route).
* ``trapped_fraction``: the share of block still trapped after 120 s agonist-free washout
  (ketamine 0.86, memantine 0.71, lanicemine 0.54; Mealing 1999).
* ``glun2b_share`` ``s``: the share of the compound's NMDA affinity at the GluN2B (ifenprodil)
  site rather than in the pore. The pore ``kon`` is multiplied by ``1 - s`` and a GluN2B-site
  component with IC50 ``kd_um / s`` is added; ``s = 0`` is a non-selective channel blocker
  (ketamine), ``s = 1`` a pure GluN2B negative allosteric modulator (traxoprodil, rislenemdaz)
  and ``s / (1 - s)`` is the compound's fold preference for the GluN2B site.

Each compound is given to the same treatment-resistant virtual cohort (MADRS at least 22 at
screening, no antidepressant, as in Murrough 2013a; common random numbers across compounds).
24-h response is the expected share of patients with MADRS at 24 h at most half the baseline
(rating error and fluctuation integrated analytically, ``calibration.cohort.p_response``);
the symptom layer is re-solved for posterior draws of the calibrated clinical-link values,
which gives the intervals. Peak CADSS is the cohort mean of each patient's highest expected
CADSS in the first 4 h (its link is anchored on ketamine and is not part of the posterior).

The named compounds are placed twice: with their own receptor pharmacology on ketamine's PK
(where they sit on the map) and with their own PK at a usual clinical dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from ketasim.api import simulate
from ketasim.calibration.cohort import STEP_H, ClinicalValues, Cohort, Group, noise_of, p_response
from ketasim.calibration.reproduce import posterior_values
from ketasim.data import drug_names, load_drug
from ketasim.data.spec import Drug
from ketasim.model import GLUN2B_SITE_KEY, Mechanism
from ketasim.pk.regimen import Dose, Regimen
from ketasim.population import PopulationParams, individual_parameters
from ketasim.receptor import Blocker
from ketasim.report.document import Figure, Report, Table
from ketasim.scenarios.base import Settings
from ketasim.symptoms.scales import load_scales
from ketasim.trials.runner import enroll
from ketasim.trials.spec import TrialSpec

NAME = "compound-design"
BASE_DRUG = "ketamine-racemic"
FIXED_DOSE = ("0.5 mg/kg", "iv-infusion", "40 min")
SCALE = "MADRS"
RESPONSE_H = 24.0
PEAK_WINDOW_H = 4.0
PEAK_STEP_H = 5.0 / 60.0
#: Patients per simulation task (fixed by the settings, never by the number of workers).
CHUNK = 256

#: The window: a compound keeps at least this share of ketamine's 24-h response above saline
#: (three quarters of ketamine's drug effect keeps most of its clinical value: the number
#: needed to treat grows by at most a third) ...
EFFICACY_SHARE = 0.75
#: ... with a mean peak CADSS at most this share of ketamine's at 0.5 mg/kg (the CADSS link is
#: anchored on racemic ketamine, so the model is more trustworthy relative to it than in
#: absolute points; a quarter of ketamine's peak is near what trials call minimal dissociation).
DISSOCIATION_SHARE = 0.25

#: The compounds the brief names, with a usual clinical single dose: (dose, route, over, why).
NAMED: dict[str, tuple[str, str, str | None, str]] = {
    "ketamine-racemic": ("0.5 mg/kg", "iv-infusion", "40 min", "Zarate 2006, Murrough 2013"),
    "esketamine": ("56 mg", "intranasal", None, "Spravato label, first dose"),
    "arketamine": ("0.5 mg/kg", "iv-infusion", "40 min", "Leal 2021 open-label"),
    "memantine": ("20 mg", "oral", None, "usual daily dose, one dose"),
    "lanicemine": ("100 mg", "iv-infusion", "60 min", "Sanacora 2014"),
    "traxoprodil": ("1.125 mg/kg", "iv-infusion", "90 min", "Preskorn 2008, 0.75 mg/kg/h 1.5 h"),
    "rislenemdaz": ("8 mg", "oral", None, "Ibrahim 2012, top dose"),
}


@dataclass(frozen=True)
class Grid:
    """The map's axes: affinity (uM), trapped fraction, GluN2B share."""

    kd_um: tuple[float, ...]
    trapped: tuple[float, ...]
    glun2b: tuple[float, ...]

    @classmethod
    def of(cls, settings: Settings) -> Grid:
        kd0 = base_kd_um()
        if settings.quick:
            return cls(tuple(kd0 * 9.0**k for k in (-1, 0, 1)), (0.54, 0.86), (0.0, 1.0))
        return cls(tuple(kd0 * 3.0**k for k in range(-3, 3)), (0.54, 0.86, 1.0), (0.0, 0.5, 1.0))

    def points(self) -> list[tuple[float, float, float]]:
        """Affinity x trapping at s = 0, then affinity x GluN2B share at ketamine's trapping."""
        trap0 = base_trapped()
        out = [(kd, t, 0.0) for t in self.trapped for kd in self.kd_um]
        out += [(kd, trap0, s) for s in self.glun2b if s > 0 for kd in self.kd_um]
        return out


def base_kd_um() -> float:
    """Ketamine's pore Kd, koff/kon at -70 mV (uM)."""
    blocker = Blocker.from_drug(load_drug(BASE_DRUG))
    assert blocker is not None
    return blocker.kd_um


def base_trapped() -> float:
    return load_drug(BASE_DRUG).pharmacology["trapped_fraction"].value


def virtual_compound(kd_um: float, trapped_fraction: float, glun2b_share: float) -> Drug:
    """Racemic ketamine with NMDA affinity ``kd_um``, trapping and GluN2B share changed (its PK,
    metabolite, mu-opioid and other properties kept)."""
    base = load_drug(BASE_DRUG)
    ph = base.pharmacology
    pore = (base_kd_um() / kd_um) * (1.0 - glun2b_share)  # affinity factor of the pore route
    values: dict[str, float | None] = {
        "kon": ph["kon"].value * pore,
        "trapped_fraction": trapped_fraction,
    }
    for key in ("closed_channel_ic50_um", "ki_um", "ic50_um"):
        values[key] = ph[key].value / pore if pore > 0 else None
    values[GLUN2B_SITE_KEY] = kd_um / glun2b_share if glun2b_share > 0 else None
    name = f"virtual-kd{kd_um:.3g}-trap{trapped_fraction:.2f}-2b{glun2b_share:.2f}"
    return base.replace(name, **values)


def coordinates(drug: Drug) -> tuple[float, float, float]:
    """Where a library drug sits on the map: (Kd uM, trapped fraction, GluN2B share)."""
    blocker = Blocker.from_drug(drug)
    if blocker is None:
        return (math.nan, math.nan, math.nan)
    if not blocker.pore:
        return (float(blocker.glun2b_ic50_um or math.nan), math.nan, 1.0)
    tf = drug.pharmacology.get("trapped_fraction")
    return (blocker.kd_um, 1.0 if tf is None else tf.value, 0.0)


def on_ketamine_pk(name: str) -> Drug:
    """A library drug's receptor pharmacology on racemic ketamine's PK. A channel blocker takes
    its whole pharmacology section (its brain penetration ``kp_uu`` left out: that is PK); a
    GluN2B NAM is the virtual compound at its coordinates (``s = 1``), so that ketamine's
    metabolite acts as a weaker NAM rather than as norketamine's own pore block."""
    drug = load_drug(name)
    if name == BASE_DRUG:
        return drug
    kd, _, share = coordinates(drug)
    if share == 1.0:
        return virtual_compound(kd, base_trapped(), 1.0).replace(f"{name}-on-ketamine-pk")
    ph = {k: v for k, v in drug.pharmacology.items() if k != "kp_uu"}
    return load_drug(BASE_DRUG).with_pharmacology(ph, f"{name}-on-ketamine-pk")


# --------------------------------------------------------------------------------------------
# Simulation tasks (module level and picklable: they may run on Dask workers)
# --------------------------------------------------------------------------------------------


def cohort_spec(settings: Settings) -> TrialSpec:
    """The treatment-resistant virtual cohort every compound is given to, as a study."""
    return TrialSpec.from_mapping(
        {
            "name": NAME,
            "population": {
                "size": settings.patients,
                "covariates": {"comedication": {"none": 1.0}},
                "inclusion": {"scale": SCALE, "min": 22},
            },
            "design": {"type": "open-label"},
            "arms": [{"name": "drug", "drug": BASE_DRUG, "dose": FIXED_DOSE[0]}],
            "scale": SCALE,
            "endpoints": [{"name": "response_24h", "type": "response", "time": "24 h"}],
        }
    )


def cohort(settings: Settings) -> pd.DataFrame:
    """The cohort's patients (screened on MADRS, with their covariates)."""
    return enroll(cohort_spec(settings), 1, settings.seed)


def regimen_of(dose: str, route: str, over: str | None) -> Regimen:
    return Regimen.single(Dose(dose, route=route, over=over))


def grid_h() -> np.ndarray:
    """Output times: the cohort step to 24 h, and 5-min steps over the first 4 h (peaks)."""
    coarse = np.arange(0.0, RESPONSE_H + STEP_H / 2, STEP_H)
    fine = np.arange(0.0, PEAK_WINDOW_H + 1e-9, PEAK_STEP_H)
    return np.unique(np.round(np.concatenate([coarse, fine]), 9))


def simulate_task(task: tuple[str | Drug, Regimen, pd.DataFrame, int]) -> dict[str, np.ndarray]:
    """One compound for one chunk of patients: the upstream signals the symptom layer is
    re-solved from (as ``calibration.cohort.simulate_group``), and each patient's peak
    CADSS (points) in the first 4 h."""
    drug, regimen, patients, seed = task
    t = grid_h()
    res = simulate(
        drug,
        regimen,
        patients=patients,
        variability=True,
        seed=seed,
        times_h=t,
        until=f"{t[-1]} h",
    )
    n, m = len(patients), t.size
    coarse = np.isclose(np.round(t / STEP_H) * STEP_H, t, atol=1e-9)
    names = res.state_names
    y = res.states[:, coarse, :]
    tc = res.timecourse
    ind = individual_parameters(patients, PopulationParams.load())
    gain = Mechanism.load("human").symptoms.fast_gain * ind.fast_gain_factor

    def column(name: str) -> np.ndarray:
        return np.asarray(tc[name].to_numpy().reshape(n, m))

    early = t <= PEAK_WINDOW_H + 1e-9
    return {
        "fbar": y[..., names.index("fast_drive")] / gain[:, None],
        "restoration": column("spine_restoration_fraction")[:, coarse],
        "surge": column("glutamate_surge_rel")[:, coarse] - 1.0,
        # copies: a view would keep every state of the chunk alive
        "placebo": y[..., names.index("placebo_effect")].copy(),
        "felt": y[..., names.index("placebo_felt")].copy(),
        "peak_cadss": column("cadss_points")[:, early].max(axis=1),
    }


# --------------------------------------------------------------------------------------------
# Outcomes from the simulated signals
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A compound's 24-h response (point and per posterior draw) and mean peak CADSS."""

    response: float
    draws: np.ndarray
    peak_cadss: float

    def interval(self) -> tuple[float, float]:
        return float(np.percentile(self.draws, 2.5)), float(np.percentile(self.draws, 97.5))


def _groups(patients: pd.DataFrame, parts: list[dict[str, np.ndarray]]) -> list[Group]:
    t = np.arange(0.0, RESPONSE_H + STEP_H / 2, STEP_H)
    out = []
    for start, part in zip(range(0, len(patients), CHUNK), parts, strict=True):
        chunk = patients.iloc[start : start + CHUNK].reset_index(drop=True)
        out.append(
            Group(
                chunk,
                {"drug": (0.0, 0.0)},
                t,
                part["fbar"],
                part["restoration"],
                part["surge"],
                part["placebo"],
                part["felt"],
            )
        )
    return out


def response_24h(cohort_: Cohort, values: ClinicalValues) -> float:
    """Expected share of the cohort responding (MADRS at most half its baseline) at 24 h."""
    scale = load_scales()[SCALE]
    noise = noise_of(values)
    i24 = round(RESPONSE_H / STEP_H)
    probs = []
    for g in cohort_.groups:
        s = scale.score(cohort_.severities(g, values))
        probs.append(p_response(s[:, 0], s[:, i24], RESPONSE_H, scale.measurement_error_sd, noise))
    return float(np.mean(np.concatenate(probs)))


def outcome(
    spec: TrialSpec,
    patients: pd.DataFrame,
    parts: list[dict[str, np.ndarray]],
    current: ClinicalValues,
    draws: list[ClinicalValues],
    seed: int,
) -> Outcome:
    c = Cohort(spec, _groups(patients, parts), seed)
    return Outcome(
        response=response_24h(c, current),
        draws=np.array([response_24h(c, v) for v in draws]),
        peak_cadss=float(np.mean(np.concatenate([p["peak_cadss"] for p in parts]))),
    )


# --------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------


def run(settings: Settings) -> Report:
    """Map 24-h response and peak CADSS over affinity, trapping and GluN2B selectivity."""
    grid = Grid.of(settings)
    spec = cohort_spec(settings)
    patients = enroll(spec, 1, settings.seed)
    fixed = regimen_of(*FIXED_DOSE)
    present = [n for n in NAMED if n in drug_names()]
    missing = [n for n in NAMED if n not in drug_names()]

    # every compound simulated (name or spec, regimen), in an order fixed by the settings
    entries: list[tuple[str, str | Drug, Regimen]] = [("saline", "saline", fixed)]
    entries += [(f"grid:{i}", virtual_compound(*p), fixed) for i, p in enumerate(grid.points())]
    for name in present:
        dose, route, over, _ = NAMED[name]
        entries.append((f"own:{name}", name, regimen_of(dose, route, over)))
        if name != BASE_DRUG:
            entries.append((f"fixed:{name}", on_ketamine_pk(name), fixed))
    chunks = [patients.iloc[s : s + CHUNK] for s in range(0, len(patients), CHUNK)]
    tasks = [(drug, reg, chunk, settings.seed) for _, drug, reg in entries for chunk in chunks]
    results = list(settings.run_map(simulate_task, tasks))

    current = ClinicalValues.current()
    draws, _ = posterior_values(settings.replicates, settings.seed)
    out: dict[str, Outcome] = {}
    for k, (key, _, _) in enumerate(entries):
        parts = results[k * len(chunks) : (k + 1) * len(chunks)]
        out[key] = outcome(spec, patients, parts, current, draws, settings.seed)
    out["fixed:" + BASE_DRUG] = out["own:" + BASE_DRUG]

    saline, ket = out["saline"], out["own:" + BASE_DRUG]
    ket_excess = ket.response - saline.response
    response_min = saline.response + EFFICACY_SHARE * ket_excess
    cadss_max = DISSOCIATION_SHARE * ket.peak_cadss

    def in_window(o: Outcome) -> bool:
        return o.response >= response_min and o.peak_cadss <= cadss_max

    def p_window(o: Outcome) -> float:
        excess = o.draws - saline.draws
        ok = excess >= EFFICACY_SHARE * (ket.draws - saline.draws)
        return float(np.mean(ok)) if o.peak_cadss <= cadss_max else 0.0

    rows = []
    for i, (kd, trap, share) in enumerate(grid.points()):
        o = out[f"grid:{i}"]
        lo, hi = o.interval()
        rows.append(
            {
                "NMDA Kd (uM)": kd,
                "trapped fraction (1)": trap,
                "GluN2B share (1)": share,
                "response 24 h (share)": o.response,
                "response 2.5% (share)": lo,
                "response 97.5% (share)": hi,
                "response above saline (share)": o.response - saline.response,
                "of ketamine's effect (1)": (o.response - saline.response) / ket_excess,
                "peak CADSS (points)": o.peak_cadss,
                "of ketamine's CADSS (1)": o.peak_cadss / ket.peak_cadss,
                "in window": in_window(o),
                "P(in window) over posterior (1)": p_window(o),
            }
        )
    frame = pd.DataFrame(rows)

    named_rows = []
    for name in present:
        kd, trap, share = coordinates(load_drug(name))
        dose, route, over, why = NAMED[name]
        f, own = out["fixed:" + name], out["own:" + name]
        named_rows.append(
            {
                "compound": name,
                "NMDA Kd (uM)": kd,
                "trapped fraction (1)": trap,
                "GluN2B share (1)": share,
                "response on ketamine PK (share)": f.response,
                "peak CADSS on ketamine PK (points)": f.peak_cadss,
                "in window on ketamine PK": in_window(f),
                "own regimen": f"{dose} {route}" + (f" over {over}" if over else "") + f" ({why})",
                "response own PK (share)": own.response,
                "response own PK 2.5% (share)": own.interval()[0],
                "response own PK 97.5% (share)": own.interval()[1],
                "peak CADSS own PK (points)": own.peak_cadss,
                "in window own PK": in_window(own),
            }
        )
    named = pd.DataFrame(named_rows)

    window = frame[frame["in window"]]
    headline: dict[str, Any] = {
        "ketamine_response_24h": ket.response,
        "ketamine_response_24h_interval": list(ket.interval()),
        "saline_response_24h": saline.response,
        "ketamine_peak_cadss_points": ket.peak_cadss,
        "window_response_min_24h": response_min,
        "window_peak_cadss_max_points": cadss_max,
        "window_rule": (
            f"response at 24 h above saline at least {EFFICACY_SHARE:g} of ketamine's and mean "
            f"peak CADSS at most {DISSOCIATION_SHARE:g} of ketamine's (0.5 mg/kg IV, 40 min)"
        ),
        "window_cells": len(window),
        "grid_cells": len(frame),
    }
    if len(window):
        headline.update(
            window_kd_um=[float(window["NMDA Kd (uM)"].min()), float(window["NMDA Kd (uM)"].max())],
            window_trapped_fraction=sorted(set(window["trapped fraction (1)"].astype(float))),
            window_glun2b_share=sorted(set(window["GluN2B share (1)"].astype(float))),
        )
    headline["window_kd_um_by_glun2b_share"] = {
        f"{share:g}": [float(cells["NMDA Kd (uM)"].min()), float(cells["NMDA Kd (uM)"].max())]
        for share, cells in window.groupby("GluN2B share (1)")
    }
    headline.update(
        named_in_window_on_ketamine_pk=[
            r["compound"] for r in named_rows if r["in window on ketamine PK"]
        ],
        named_in_window_own_pk=[r["compound"] for r in named_rows if r["in window own PK"]],
        named_response_24h_own_pk={r["compound"]: r["response own PK (share)"] for r in named_rows},
        named_peak_cadss_points_own_pk={
            r["compound"]: r["peak CADSS own PK (points)"] for r in named_rows
        },
        named_response_24h_on_ketamine_pk={
            r["compound"]: r["response on ketamine PK (share)"] for r in named_rows
        },
        missing_compounds=missing,
    )

    figures = [
        _map_figure(frame, named, grid, response_min, cadss_max),
        _scatter_figure(frame, named, saline.response, response_min, cadss_max),
    ]
    tables = [
        Table(
            "Virtual compounds on ketamine's PK (0.5 mg/kg IV over 40 min)",
            frame,
            "Racemic ketamine with only receptor-layer properties changed. Response: expected "
            "share with MADRS at 24 h at most half its baseline, calibrated values; interval "
            "2.5-97.5 % over posterior draws. P(in window): share of draws meeting the "
            "response rule (peak CADSS is the same in every draw).",
        ),
        Table(
            "Named compounds: on ketamine's PK and with their own PK and usual dose",
            named,
            "Kd is koff/kon at -70 mV for channel blockers and the GluN2B IC50 for NAMs; "
            "NAMs have no trapping (NaN). On ketamine's PK a channel blocker keeps its whole "
            "pharmacology section (without kp_uu).",
        ),
    ]
    return Report(
        name=NAME,
        title="Compound design: affinity, trapping and GluN2B selectivity",
        question=(
            "Where is the window of efficacy without dissociation, and what would a compound "
            "in it need?"
        ),
        method=__doc__ or "",
        headline=headline,
        tables=tables,
        figures=figures,
        caveats=[
            "Virtual compounds vary only the receptor layer; their PK, brain penetration and "
            "metabolite are ketamine's (the metabolite blocks like its parent, weaker).",
            "GluN2B selectivity is modelled as the share of affinity at the ifenprodil site "
            "(allosteric, voltage- and Mg2+-independent, on the GluN2B share of each "
            "population); a pore blocker selective for GluN2B-containing channels is not in "
            "the receptor layer.",
            "Dissociation (CADSS) follows channel block of pyramidal cells only, so a GluN2B "
            "NAM dissociates little by construction (Ibrahim 2012, Preskorn 2008 support it, "
            "but Preskorn lowered traxoprodil's rate for dissociation in about half).",
            "Mean peak CADSS has no posterior interval: its link is anchored on ketamine and "
            "is not calibrated with uncertainty.",
            "Human PK of traxoprodil and rislenemdaz is largely assumed (drug files); the own-"
            "PK results for them are as uncertain as those files.",
            "The efficacy of the named non-ketamine compounds is a prediction of the "
            "mechanism, not a fit: most failed in trials, which is a check on the model, not "
            "an input to it.",
        ]
        + ([f"Not in the drug library: {', '.join(missing)}."] if missing else []),
        settings={"grid": {"kd_um": grid.kd_um, "trapped": grid.trapped, "glun2b": grid.glun2b}},
    )


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _position(values: tuple[float, ...], x: float) -> float:
    """Index position of ``x`` on a log-spaced axis (clipped to half a cell outside)."""
    logs = np.log(np.asarray(values))
    if not math.isfinite(x) or x <= 0:
        return math.nan
    step = logs[1] - logs[0] if len(logs) > 1 else 1.0
    pos = (math.log(x) - logs[0]) / step
    return float(np.clip(pos, -0.5, len(values) - 0.5))


def _map_figure(
    frame: pd.DataFrame,
    named: pd.DataFrame,
    grid: Grid,
    response_min: float,
    cadss_max: float,
) -> Figure:
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    trap0 = base_trapped()
    panels = [
        ("trapped fraction (1)", frame[frame["GluN2B share (1)"] == 0.0], grid.trapped, "s = 0"),
        (
            "GluN2B share (1)",
            frame[np.isclose(frame["trapped fraction (1)"], trap0)],
            grid.glun2b,
            f"trapped fraction {trap0:g}",
        ),
    ]
    xs = [f"{v:.2g}" for v in grid.kd_um]
    for row, (ykey, sub, yvals, fixed_label) in enumerate(panels):
        for col, (zkey, cmap, label) in enumerate(
            (
                ("response 24 h (share)", "viridis", "24-h response (share)"),
                ("peak CADSS (points)", "magma", "mean peak CADSS (points)"),
            )
        ):
            ax = axes[row, col]
            z = np.full((len(yvals), len(grid.kd_um)), np.nan)
            ok = np.zeros_like(z, dtype=bool)
            for _, r in sub.iterrows():
                i = int(np.argmin(np.abs(np.asarray(yvals) - r[ykey])))
                j = int(np.argmin(np.abs(np.asarray(grid.kd_um) - r["NMDA Kd (uM)"])))
                z[i, j] = r[zkey]
                ok[i, j] = bool(r["in window"])
            im = ax.imshow(z, origin="lower", aspect="auto", cmap=cmap)
            fig.colorbar(im, ax=ax, label=label)
            for i, j in zip(*np.nonzero(ok), strict=True):
                ax.add_patch(
                    Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="cyan", lw=2.5, ls="--")
                )
            for i in range(z.shape[0]):
                for j in range(z.shape[1]):
                    if np.isfinite(z[i, j]):
                        ax.text(
                            j,
                            i,
                            f"{z[i, j]:.2g}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white",
                        )
            ax.set_xticks(range(len(xs)), xs)
            ax.set_yticks(range(len(yvals)), [f"{v:g}" for v in yvals])
            ax.set_xlabel("NMDA Kd (uM, koff/kon at -70 mV; GluN2B IC50 for NAMs)")
            ax.set_ylabel(ykey.replace(" (1)", ""))
            ax.set_title(f"{label}, ketamine PK, {fixed_label}", fontsize=9)
            for k, (_, r) in enumerate(named.iterrows()):
                share = r["GluN2B share (1)"]
                off_row = share > 0 if row == 0 else share == 0 and r["compound"] != BASE_DRUG
                if off_row:
                    continue
                x = _position(grid.kd_um, float(r["NMDA Kd (uM)"]))
                yv = r["trapped fraction (1)"] if row == 0 else share
                y = float(np.interp(yv, yvals, range(len(yvals))))
                ax.plot(x, y, "o", mfc="none", mec="red", ms=9)
                ax.annotate(
                    r["compound"],
                    (x, y),
                    fontsize=7,
                    color="red",
                    xytext=(4, 4 + 9 * (k % 3)),
                    textcoords="offset points",
                )
    fig.suptitle(
        f"Window (dashed): response >= {response_min:.2f} and peak CADSS <= {cadss_max:.1f} points"
    )
    return Figure.from_matplotlib(
        fig,
        "Map of 24-h response and peak CADSS on ketamine's PK",
        "Top: affinity against trapping for channel blockers; bottom: affinity against GluN2B "
        "share at ketamine's trapping. Circles: named compounds at their coordinates (NAMs "
        "off the affinity axis are drawn at its edge).",
    )


def _scatter_figure(
    frame: pd.DataFrame,
    named: pd.DataFrame,
    saline_response: float,
    response_min: float,
    cadss_max: float,
) -> Figure:
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    ax.scatter(
        frame["peak CADSS (points)"],
        frame["response 24 h (share)"],
        c="0.7",
        s=14,
        label="virtual compounds (ketamine PK)",
    )
    top = max(1.0, float(frame["response 24 h (share)"].max()))
    ax.add_patch(
        Rectangle((0, response_min), cadss_max, top - response_min, color="tab:green", alpha=0.15)
    )
    for k, (_, r) in enumerate(named.iterrows()):
        x0, y0 = r["peak CADSS on ketamine PK (points)"], r["response on ketamine PK (share)"]
        x1, y1 = r["peak CADSS own PK (points)"], r["response own PK (share)"]
        ax.plot([x0, x1], [y0, y1], color="tab:red", lw=0.8)
        ax.plot(x0, y0, "o", mfc="none", mec="tab:red")
        ax.plot(x1, y1, "o", color="tab:red")
        offset = (4, 3 + 9 * (k % 3))
        ax.annotate(r["compound"], (x1, y1), fontsize=7, xytext=offset, textcoords="offset points")
    ax.axhline(saline_response, color="0.4", ls=":", label="saline")
    ax.set_xlabel("mean peak CADSS in 4 h (points)")
    ax.set_ylabel("24-h response (share of cohort)")
    ax.legend(fontsize=8, loc="lower right")
    return Figure.from_matplotlib(
        fig,
        "Named compounds: receptor on ketamine's PK (open) and own PK and dose (filled)",
        "The green box is the window; grey points are the virtual compounds of the map.",
    )


__all__ = ["NAMED", "Grid", "coordinates", "on_ketamine_pk", "run", "virtual_compound"]
