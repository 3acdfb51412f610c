"""Figures of simulation results (matplotlib, written to files; no screen needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ketasim.errors import KetasimInputError

if TYPE_CHECKING:
    from ketasim.api import SimulationResult
    from ketasim.experiments import ExperimentResult
    from ketasim.pk.regimen import Regimen


def _save(fig: Any, path: str | Path) -> Path:
    """Write ``fig`` (the format follows the suffix) and free it."""
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_concentrations(result: SimulationResult, path: str | Path, patient: int = 0) -> Path:
    """Plasma and brain concentration-time curves of every analyte, one panel each.

    Time is shown in minutes for simulations up to 6 h and in days beyond.
    """
    tc = result.timecourse[result.timecourse["patient"] == patient]
    analytes = sorted({c.split("_")[0] for c in tc.columns if c.endswith("_plasma_ng_per_ml")})
    t_h = tc["t_h"].to_numpy()
    long_run = t_h[-1] > 6.0
    x = t_h / 24.0 if long_run else t_h * 60.0
    fig, axes = plt.subplots(len(analytes), 1, figsize=(7, 3.2 * len(analytes)), squeeze=False)
    for ax, analyte in zip(axes[:, 0], analytes, strict=True):
        for site, style in (("plasma", "-"), ("arterial", ":"), ("brain", "--")):
            col = f"{analyte}_{site}_ng_per_ml"
            if col in tc:
                label = f"{site} ({result.plasma_site})" if site == "plasma" else site
                ax.plot(x, tc[col].to_numpy(), style, label=label)
        ax.set_ylabel(f"{analyte} (ng/mL)")
        ax.legend(frameon=False)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (days)" if long_run else "time (min)")
    fig.suptitle(f"{result.drug} in {result.species}: {result.regimen!r}", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# The cascade: one panel per step of the review's Figure 1, on one logarithmic time axis.
# --------------------------------------------------------------------------------------------

#: A line of a cascade panel: (column, legend label, how it is drawn). ``value`` draws the
#: column as it is, ``dashed`` too but dashed; ``rise`` draws its change from the value at
#: time zero; ``pct_rise`` that change in percent of the value at time zero; ``pct`` a
#: fraction in percent.
Line = tuple[str, str, str]

#: The panels in the order of Figure 1: (layer, title, y-axis label, lines).
CASCADE_PANELS: tuple[tuple[str, str, str, tuple[Line, ...]], ...] = (
    # the concentration lines are filled from the analytes present
    ("pk", "1  Pharmacokinetics: parent drug and metabolites", "concentration\n(ng/mL)", ()),
    (
        "receptor",
        "2  Receptor: NMDA receptor block by population",
        "NMDA receptors\nblocked (fraction)",
        (
            ("block_interneuron_fraction", "interneurons (tonic, PV+)", "value"),
            ("block_pyramidal_fraction", "pyramidal synapses", "value"),
            ("block_rest_fraction", "at rest (spontaneous)", "value"),
        ),
    ),
    (
        "circuit",
        "3  Circuit: disinhibition, glutamate surge, AMPA drive",
        "circuit\n(1 = baseline)",
        (
            ("glutamate_rel", "glutamate surge", "value"),
            ("ampa_drive_rel", "AMPA drive", "dashed"),
            ("pyramidal_rate_rel", "pyramidal firing", "value"),
            ("interneuron_rate_rel", "interneuron firing", "value"),
        ),
    ),
    (
        "signalling",
        "4  Signalling: BDNF, TrkB, mTORC1, GSK-3, synaptic proteins",
        "signalling\n(1 = baseline)",
        (
            ("bdnf_release_rel", "BDNF release", "value"),
            ("trkb_active_rel", "TrkB active", "value"),
            ("mtor_active_rel", "mTORC1 active", "value"),
            ("gsk3_active_rel", "GSK-3 active", "value"),
            ("synaptic_proteins_rel", "synaptic proteins", "value"),
        ),
    ),
    (
        "synapse",
        "5  Synapse: dendritic spines",
        "spines\n(% change)",
        (
            ("spines_new_density", "new spines (% above baseline)", "pct_rise"),
            ("spines_mushroom_density", "mushroom spines (% above baseline)", "pct_rise"),
            ("spine_restoration_fraction", "stress deficit restored (%)", "pct"),
        ),
    ),
    (
        "symptoms",
        "6  Symptoms: depression ratings",
        "depression\n(points)",
        (
            ("hdrs_17_points", "HDRS-17", "value"),
            ("madrs_points", "MADRS", "value"),
            ("ssi_points", "SSI (suicidal ideation)", "value"),
        ),
    ),
    (
        "symptoms",
        "7  Symptoms: acute side effects",
        "side effects\n(points, rise)",
        (
            ("cadss_points", "CADSS dissociation (points)", "value"),
            ("sbp_mmhg", "systolic BP rise (mmHg)", "rise"),
            ("heart_rate_bpm", "heart-rate rise (bpm)", "rise"),
        ),
    ),
)

#: Tick positions (hours) and labels of the cascade's time axis.
CASCADE_TICKS_H: tuple[tuple[float, str], ...] = (
    (1 / 60, "1 min"),
    (2 / 60, "2 min"),
    (5 / 60, "5 min"),
    (10 / 60, "10 min"),
    (20 / 60, "20 min"),
    (40 / 60, "40 min"),
    (2.0, "2 h"),
    (6.0, "6 h"),
    (24.0, "1 d"),
    (72.0, "3 d"),
    (168.0, "7 d"),
    (336.0, "14 d"),
    (672.0, "28 d"),
    (1344.0, "8 wk"),
    (2688.0, "16 wk"),
)

_SITE_STYLE = {"plasma": "-", "brain": "--"}


def _time_label(t_h: float) -> str:
    """``0.667`` -> ``40 min``, ``6`` -> ``6 h``, ``72`` -> ``3 d``."""
    if t_h < 1.0:
        return f"{t_h * 60:.3g} min"
    if t_h < 24.0 or abs(t_h / 24.0 - round(t_h / 24.0)) > 0.05:
        return f"{t_h:.3g} h" if t_h < 48.0 else f"{t_h / 24:.2g} d"
    return f"{t_h / 24:.3g} d"


def _regimen_label(regimen: Regimen) -> str:
    """``0.5 mg/kg iv-infusion over 40 min at 0, 2 d, 4 d``: short enough for a title."""
    doses = [(t, repr(d).removeprefix("Dose(").removesuffix(")")) for t, d in regimen.doses]
    kinds = list(dict.fromkeys(label for _, label in doses))
    if len(doses) == 1:
        t, label = doses[0]
        return label if t == 0 else f"{label} at {_time_label(t)}"
    times = [("0" if t == 0 else _time_label(t)) for t, _ in doses]
    when = ", ".join(times) if len(times) <= 6 else f"{', '.join(times[:4])}, ..., {times[-1]}"
    what = kinds[0] if len(kinds) == 1 else f"{len(kinds)} kinds of dose"
    return f"{len(doses)} doses of {what} at {when}"


def _cascade_lines(
    tc: pd.DataFrame, layer: str, lines: tuple[Line, ...], plasma_site: str
) -> list[tuple[np.ndarray, str, dict[str, Any]]]:
    """The (values, label, style) of one panel's lines present in ``tc``."""
    out: list[tuple[np.ndarray, str, dict[str, Any]]] = []
    if layer == "pk":
        suffix = "_plasma_ng_per_ml"
        analytes = [c.removesuffix(suffix) for c in tc.columns if c.endswith(suffix)]
        for i, analyte in enumerate(analytes):
            for site, dashes in _SITE_STYLE.items():
                column = f"{analyte}_{site}_ng_per_ml"
                if column in tc:
                    where = f"plasma ({plasma_site})" if site == "plasma" else "brain"
                    values = np.clip(tc[column].to_numpy(dtype=float), 0.0, None)
                    out.append((values, f"{analyte}, {where}", {"ls": dashes, "color": f"C{i}"}))
        return out
    for i, (column, label, how) in enumerate(lines):
        if column not in tc:
            continue
        values = tc[column].to_numpy(dtype=float)
        if how == "pct_rise":
            values = 100.0 * (values / values[0] - 1.0) if values[0] else values
        elif how == "pct":
            values = 100.0 * values
        style: dict[str, Any] = {"color": f"C{i}"}
        if how == "dashed":
            style["ls"] = "--"
        elif how == "rise":
            label = f"{label} from {values[0] + 0:.0f}"
            values = values - values[0]
        out.append((values, label, style))
    return out


def plot_cascade(
    result: SimulationResult,
    path: str | Path,
    layers: Sequence[str] | None = None,
    patient: int = 0,
) -> Path:
    """Draw the mechanistic cascade of one patient, dose to symptoms, as one PNG.

    The panels follow the review's Figure 1 from top to bottom: concentrations (plasma and
    brain, parent and metabolites), NMDA receptor block by population, the circuit
    (glutamate, AMPA drive, firing rates), the signalling cascade (BDNF, TrkB, mTORC1,
    GSK-3, synaptic proteins), dendritic spines, the depression scores (HDRS-17, MADRS, SSI)
    and the side effects (CADSS, blood pressure, heart rate). Time runs on a logarithmic axis
    from a few minutes to the end of the simulation, labelled in minutes, hours and days, so
    that the infusion, the hours of signalling and the days of spines and symptoms are all
    legible; dosing periods are shaded.

    Parameters
    ----------
    result
        What :func:`ketasim.simulate` returned.
    path
        The PNG to write.
    layers
        Which layers to draw (``pk``, ``receptor``, ``circuit``, ``signalling``, ``synapse``,
        ``symptoms``); default all. Layers the result does not have (saline has no ``pk``)
        are left out.
    patient
        Which patient to draw.
    """
    from ketasim.api import LAYERS

    if layers is not None:
        unknown = [name for name in layers if name not in LAYERS]
        if unknown:
            raise KetasimInputError("layers", list(layers), f"allowed: {', '.join(LAYERS)}")
    patients = result.timecourse["patient"].unique()
    if patient not in patients:
        raise KetasimInputError("patient", patient, f"0 to {len(patients) - 1}")
    tc = result.timecourse[result.timecourse["patient"] == patient]
    t_h = tc["t_h"].to_numpy(dtype=float)
    end = float(t_h[-1])
    panels = []
    for layer, title, ylabel, lines in CASCADE_PANELS:
        if layers is not None and layer not in layers:
            continue
        drawn = _cascade_lines(tc, layer, lines, result.plasma_site)
        if drawn:
            panels.append((title, ylabel, drawn))

    # the time axis: from 5 min (or earlier for short runs) to the end, in hours, log scale
    start = min(5.0 / 60.0, end / 20.0) if end > 0 else 1.0 / 60.0
    keep = t_h >= start * 0.999
    ticks = [(t, label) for t, label in CASCADE_TICKS_H if start * 0.999 <= t <= end * 1.001]
    if len(ticks) > 9:  # a long run: drop the finest minute ticks first
        ticks = [(t, label) for t, label in ticks if t >= 5.0 / 60.0 or t == ticks[0][0]]
        ticks = [tick for tick in ticks if tick[1] not in ("20 min", "2 min")]
    if not ticks or ticks[-1][0] < end / 1.4:  # label the end of the simulation
        ticks.append((end, _time_label(end)))

    n = max(len(panels), 1)
    fig, axes = plt.subplots(
        n, 1, figsize=(9.5, 1.75 * n + 1.1), sharex=True, squeeze=False, layout="constrained"
    )
    if not panels:
        axes[0, 0].text(
            0.5,
            0.5,
            f"{result.drug}: nothing to draw for layers {', '.join(layers or [])}",
            ha="center",
            va="center",
            transform=axes[0, 0].transAxes,
        )
        axes[0, 0].set_yticks([])
    for ax, (title, ylabel, drawn) in zip(axes[:, 0], panels, strict=False):
        for t_dose, dose in result.regimen.doses:
            if dose.duration_h > 0:
                ax.axvspan(t_dose, t_dose + dose.duration_h, color="0.88", lw=0, zorder=0)
            if t_dose > start:  # later doses are narrow on a log axis: mark their start
                ax.axvline(t_dose, color="0.6", lw=0.8, ls=":", zorder=0)
        for values, label, style in drawn:
            ax.plot(t_h[keep], values[keep], label=label, lw=1.5, **style)
        ax.set_title(title, loc="left", fontsize=8, fontweight="bold", pad=3)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(
            fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5), handlelength=2
        )
    ax = axes[-1, 0]
    ax.set_xscale("log")
    ax.set_xlim(start, max(end, start * 2.0))
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks], fontsize=8)
    ax.minorticks_off()
    marks = "shaded: infusion"
    if any(t_dose > start for t_dose, _ in result.regimen.doses):
        marks += "; dotted: later doses"
    ax.set_xlabel(f"time since the first dose (logarithmic; {marks})", fontsize=8)
    fig.suptitle(f"{result.drug} in {result.species}: {_regimen_label(result.regimen)}", fontsize=9)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# In-silico experiments: every readout's time course per condition, with its read-out time.
# --------------------------------------------------------------------------------------------


def plot_experiment(result: ExperimentResult, path: str | Path) -> Path:
    """One panel per readout output: each condition's time course after the dose (log time),
    the read-out times marked, and the verdicts in the title.

    Treated conditions are solid and their controls dashed, in the same colour when they
    share a perturbation, so "treated vs control, with and without the perturbation" reads
    at a glance.
    """
    exp = result.experiment
    outputs = list(dict.fromkeys(r.output for r in exp.readouts))
    fig, axes = plt.subplots(
        len(outputs), 1, figsize=(7.5, 2.8 * len(outputs) + 0.8), squeeze=False
    )
    controls = {control for _, control in exp.effects.values()}
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    perturbation_keys = sorted(
        {repr(sorted(c.perturbations.items())) for c in exp.conditions.values()}
    )
    for ax, output in zip(axes[:, 0], outputs, strict=True):
        for name, tc in result.timecourses.items():
            cond = exp.conditions[name]
            colour = colours[
                perturbation_keys.index(repr(sorted(cond.perturbations.items()))) % len(colours)
            ]
            t = tc["t_h"].to_numpy()
            keep = t > 0
            style = "--" if name in controls else "-"
            ax.plot(t[keep], tc[output].to_numpy()[keep], style, color=colour, label=name)
        for r in exp.readouts:
            if r.output == output:
                lo, hi = r.times_h()
                ax.axvspan(lo * 0.97, hi * 1.03, color="0.85", zorder=0)
        ax.set_xscale("log")
        ax.set_ylabel(output.replace("_", " "), fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=7)
    axes[-1, 0].set_xlabel("time after the dose (h, log scale; grey: read-out times)")
    verdict = "reproduced" if result.passed else "NOT reproduced"
    fig.suptitle(f"{exp.name} ({exp.species}): {verdict}\n{exp.claim}", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
