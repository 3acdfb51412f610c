"""Figures of simulation results (matplotlib, written to files; no screen needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from ketasim.api import SimulationResult


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
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
