"""The HTML report of ``ketasim reproduce``: a table of every outcome and one figure per study."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ketasim.calibration.reproduce import Row
from ketasim.data.library import load_calibration_run
from ketasim.trials import analysis


def study_figure(study: str, rows: list[Row]) -> bytes:
    """Observed outcomes (with their 95 % Wilson interval) beside the predicted median and
    95 % prediction interval for a trial of the same size."""
    fig, ax = plt.subplots(figsize=(7.0, 0.55 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        ax.plot([r.lo, r.hi], [yi - 0.12] * 2, color="tab:blue", lw=3, alpha=0.6)
        ax.plot(r.predicted, yi - 0.12, "o", color="tab:blue", label="predicted (95 % PI)")
        if r.k is not None and r.n is not None:
            lo, hi = analysis.wilson_interval(r.k, r.n)
            ax.plot([float(lo), float(hi)], [yi + 0.12] * 2, color="black", lw=1)
        ax.plot(r.observed, yi + 0.12, "s", color="black", label="observed (95 % CI)")
    ax.set_yticks(y, [f"{r.arm}: {r.endpoint}\n{r.time}" for r in rows], fontsize=8)
    rates = all(r.k is not None for r in rows)
    ax.set_xlabel("rate (fraction of patients)" if rates else "value (points or days)")
    if rates:
        ax.set_xlim(-0.02, 1.02)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    ax.set_title(study)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def overview_figure(rows: list[Row], path: Path) -> None:
    """Every counted rate outcome: observed against predicted median, with the 95 %
    prediction interval; fit and validation cells apart."""
    fig, ax = plt.subplots(figsize=(6.0, 5.6))
    for role, color in (("fit", "tab:blue"), ("validation", "tab:orange")):
        sel = [r for r in rows if r.counted and r.k is not None and r.role == role]
        if not sel:
            continue
        pred = np.array([r.predicted for r in sel])
        lo = np.array([r.lo for r in sel])
        hi = np.array([r.hi for r in sel])
        obs = np.array([r.observed for r in sel])
        ax.errorbar(
            obs,
            pred,
            yerr=[pred - lo, hi - pred],
            fmt="o",
            color=color,
            ecolor=color,
            alpha=0.75,
            capsize=2,
            label=f"{role} ({len(sel)} outcomes)",
        )
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("observed rate (k / n, review Tables 1 and 2)")
    ax.set_ylabel("predicted rate (median, 95 % prediction interval)")
    ax.set_title("ketasim reproduce: response, remission and relapse rates")
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(rows: list[Row], summary: dict[str, Any], path: Path) -> None:
    """Write the report (self-contained HTML: figures inlined)."""
    run = load_calibration_run().get("run", {})
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>ketasim reproduce</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;"
        "padding:3px 8px;text-align:left}.no{color:#b00;font-weight:bold}</style>",
        "</head><body><h1>ketasim reproduce</h1>",
        "<p>Each published outcome of the review's Tables 1 and 2 and of lapidus-2014 beside "
        "ketasim's prediction for a trial of the same size: the median and 95 % prediction "
        "interval over posterior draws of the calibrated parameters, the between-study random "
        "effect and binomial sampling.</p>",
    ]
    if run:
        parts.append(
            f"<p>Calibration: <code>{html.escape(str(run.get('command', '')))}</code>, "
            f"{html.escape(str(run.get('date', '')))}, objective "
            f"{run.get('objective_value')}.</p>"
        )
    parts.append("<h2>Summary</h2><ul>")
    for role in ("fit", "validation", "all"):
        s = summary[role]
        parts.append(
            f"<li>{role}: {s['inside_95']} of {s['outcomes']} outcomes inside their 95 % "
            f"prediction interval; mean absolute error of rates {s['mae_rate_points']} "
            "percentage points</li>"
        )
    parts.append("</ul><h2>Outcomes</h2><table><tr>")
    cols = (
        "study",
        "arm",
        "endpoint",
        "time",
        "observed",
        "predicted",
        "95 % PI",
        "inside",
        "role",
    )
    parts += [f"<th>{c}</th>" for c in cols] + ["</tr>"]
    for r in rows:
        obs = f"{r.k}/{r.n} = {r.observed:.2f}" if r.k is not None else f"{r.observed:.3g}"
        inside = "-" if not r.counted else ("yes" if r.consistent else "<span class=no>no</span>")
        cells = (
            r.study,
            r.arm,
            r.endpoint,
            r.time,
            obs,
            f"{r.predicted:.2f}",
            f"{r.lo:.2f} to {r.hi:.2f}",
        )
        parts.append(
            "<tr>"
            + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + f"<td>{inside}</td><td>{r.role}</td></tr>"
        )
    parts.append("</table><h2>Studies</h2>")
    for study in dict.fromkeys(r.study for r in rows):
        mine = [r for r in rows if r.study == study]
        for kind in (True, False):
            sub = [r for r in mine if (r.k is not None) == kind]
            if not sub:
                continue
            png = base64.b64encode(study_figure(study, sub)).decode("ascii")
            parts.append(f"<img alt='{html.escape(study)}' src='data:image/png;base64,{png}'>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


__all__ = ["overview_figure", "study_figure", "write_report"]
