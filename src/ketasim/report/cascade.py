"""The cascade figure: one panel per step of the review's Figure 1, on a shared time axis.

The time axis is logarithmic from 5 min to the end, labelled in minutes, hours and days, so
that the infusion (minutes), the signalling (hours) and the spines and symptoms (days) are all
legible on one figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from ketasim.api import SimulationResult

#: Panels in the order of Figure 1: (layer, title, [(column, label)]).
PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("pk", "concentration (ng/mL)", ()),
    (
        "receptor",
        "NMDA block (fraction)",
        (
            ("block_interneuron_fraction", "interneurons"),
            ("block_pyramidal_fraction", "pyramidal synapses"),
            ("block_rest_fraction", "at rest"),
        ),
    ),
    (
        "circuit",
        "circuit (1 = baseline)",
        (
            ("pyramidal_rate_rel", "pyramidal rate"),
            ("interneuron_rate_rel", "interneuron rate"),
            ("glutamate_rel", "glutamate / AMPA"),
        ),
    ),
    (
        "signalling",
        "signalling (1 = baseline)",
        (
            ("p_eef2_fraction", "p-eEF2 (fraction)"),
            ("bdnf_release_rel", "BDNF release"),
            ("mtor_active_rel", "mTORC1"),
            ("gsk3_active_rel", "GSK-3 active"),
            ("synaptic_proteins_rel", "synaptic proteins"),
        ),
    ),
    (
        "synapse",
        "spines (healthy density = 1)",
        (
            ("spines_new_density", "new"),
            ("spines_mushroom_density", "mushroom"),
            ("spine_restoration_fraction", "deficit restored"),
        ),
    ),
    (
        "symptoms",
        "depression (points)",
        (
            ("hdrs_17_points", "HDRS-17"),
            ("madrs_points", "MADRS"),
            ("ssi_points", "SSI"),
        ),
    ),
    (
        "symptoms",
        "side effects",
        (
            ("cadss_points", "CADSS (points)"),
            ("sbp_rise_mmhg", "systolic BP rise (mmHg)"),
        ),
    ),
)
TICKS_H: tuple[tuple[float, str], ...] = (
    (5 / 60, "5 min"),
    (10 / 60, "10 min"),
    (40 / 60, "40 min"),
    (2.0, "2 h"),
    (6.0, "6 h"),
    (24.0, "1 d"),
    (72.0, "3 d"),
    (168.0, "7 d"),
    (336.0, "14 d"),
    (672.0, "28 d"),
    (1344.0, "8 wk"),
)


def plot_cascade(
    result: SimulationResult,
    path: str | Path,
    layers: Sequence[str] | None = None,
    patient: int = 0,
) -> Path:
    """Draw the cascade of ``result`` (one patient) to ``path`` (PNG) and return the path."""
    tc = result.timecourse[result.timecourse["patient"] == patient].copy()
    if "sbp_mmhg" in tc:
        tc["sbp_rise_mmhg"] = tc["sbp_mmhg"] - tc["sbp_mmhg"].iloc[0]
    shown = [p for p in PANELS if layers is None or p[0] in layers]
    conc = [c for c in tc.columns if c.endswith("_ng_per_ml") and "_arterial_" not in c]
    shown = [p for p in shown if (p[0] == "pk" and conc) or any(c in tc for c, _ in p[2])]
    t_h = tc["t_h"].to_numpy()
    keep = t_h >= 1.0 / 60.0
    end = float(t_h[-1]) if t_h.size else 1.0
    fig, axes = plt.subplots(
        len(shown), 1, figsize=(8, 1.9 * len(shown) + 0.8), sharex=True, squeeze=False
    )
    for ax, (layer, title, columns) in zip(axes[:, 0], shown, strict=True):
        series = (
            [(c, c.replace("_ng_per_ml", "").replace("_", " ")) for c in conc]
            if (layer == "pk")
            else [(c, label) for c, label in columns if c in tc]
        )
        for column, label in series:
            ax.plot(t_h[keep], tc[column].to_numpy()[keep], label=label)
        ax.set_ylabel(title, fontsize=8)
        ax.legend(fontsize=7, frameon=False, loc="upper right")
        ax.grid(alpha=0.3, which="both")
    ax = axes[-1, 0]
    ax.set_xscale("log")
    ax.set_xlim(1.0 / 60.0 * 3, max(end, 1.0))
    ticks = [(t, lab) for t, lab in TICKS_H if t <= end * 1.01]
    ax.set_xticks([t for t, _ in ticks], [lab for _, lab in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("time since the first dose (log scale)")
    fig.suptitle(f"{result.drug} in {result.species}: {result.regimen!r}", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def key_values(
    result: SimulationResult, layers: Sequence[str], patient: int = 0
) -> list[tuple[str, str, dict[float, float]]]:
    """Values of the shown layers' columns at a few times (for the CLI's table)."""
    times_h = (40 / 60, 2.0, 24.0, 72.0, 168.0)
    tc = result.timecourse[result.timecourse["patient"] == patient]
    t = tc["t_h"].to_numpy()
    rows = []
    for layer in layers:
        for column in result.columns_by_layer.get(layer, ()):
            if layer == "pk" and not column.endswith("_plasma_ng_per_ml"):
                continue
            values = {
                th: float(tc[column].to_numpy()[np.argmin(np.abs(t - th))])
                for th in times_h
                if th <= t[-1] + 1e-9
            }
            rows.append((layer, column, values))
    return rows
