"""Forest and funnel plots of a meta-analysis, ketasim's predictions beside the evidence."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon

from ketasim.evidence.meta import Estimate, MetaResult, to_natural
from ketasim.report.figures import _save

OBSERVED, PREDICTED = "#1f4e79", "#c55a11"
_LABEL = {"rate": "rate", "or": "odds ratio", "rd": "risk difference"}


def _axis_label(result: MetaResult) -> str:
    after = "" if result.after == "first" else " after the final dose"
    what = f"{result.endpoint} {_LABEL[result.measure]}"
    if result.measure == "or":
        what = f"{result.endpoint}: odds ratio, treatment vs control"
    elif result.measure == "rd":
        what = f"{result.endpoint}: risk difference, treatment minus control"
    return f"{what} at {result.time}{after} (95 % CI; prediction: 95 % PI)"


def _diamond(ax: plt.Axes, y: float, e: Estimate, colour: str, height: float = 0.28) -> None:
    pts = [(e.lo, y), (e.estimate, y + height), (e.hi, y), (e.estimate, y - height)]
    ax.add_patch(Polygon(pts, closed=True, facecolor=colour, edgecolor=colour, alpha=0.9))


def forest_plot(result: MetaResult, path: str | Path, title: str | None = None) -> Path:
    """Each study's observed estimate (square sized by weight, 95 % CI) with ketasim's
    prediction for a trial of its size just below it, then both pooled diamonds."""
    studies = result.studies
    rows = len(studies) + 2
    fig, ax = plt.subplots(figsize=(9.0, 0.55 * rows + 1.4))
    labels: list[str] = []
    ys: list[float] = []
    weights = np.array([s.weight_re for s in studies])
    sizes = 40 + 260 * weights / max(float(weights.max()), 1e-12)
    for i, s in enumerate(studies):
        y = rows - i
        o = s.observed
        ax.plot([o.lo, o.hi], [y + 0.12] * 2, color=OBSERVED, lw=1.6)
        ax.scatter([o.estimate], [y + 0.12], s=sizes[i], marker="s", color=OBSERVED, zorder=3)
        if s.predicted is not None:
            p = s.predicted
            ax.plot([p.lo, p.hi], [y - 0.18] * 2, color=PREDICTED, lw=1.4, ls="--")
            ax.scatter([p.estimate], [y - 0.18], s=36, marker="o", color=PREDICTED, zorder=3)
        arm = "" if s.arm in ("ketamine",) else f" ({s.arm})"
        counts = f"{s.k}/{s.n}" if s.k0 is None else f"{s.k}/{s.n} vs {s.k0:g}/{s.n0:g}"
        labels.append(f"{s.study}{arm}  {counts}")
        ys.append(y)
    y_pool = 1.6
    _diamond(ax, y_pool + 0.2, result.pooled, OBSERVED)
    labels.append(f"Observed, pooled ({_method(result)})")
    ys.append(y_pool + 0.2)
    if result.predicted is not None:
        _diamond(ax, y_pool - 0.55, result.predicted, PREDICTED)
        labels.append("ketasim, pooled virtual trials")
        ys.append(y_pool - 0.55)
    ax.axvline(result.pooled.estimate, color=OBSERVED, lw=0.8, ls=":")
    if result.measure == "or":
        ax.set_xscale("log")
        ax.axvline(1.0, color="grey", lw=0.8)
    elif result.measure == "rd":
        ax.axvline(0.0, color="grey", lw=0.8)
    else:
        ax.set_xlim(0.0, 1.0)
    ax.set_yticks(ys, labels)
    ax.set_ylim(0.4, rows + 0.8)
    ax.set_xlabel(_axis_label(result))
    het = f"I² = {100 * result.i2:.0f} %, τ² = {result.tau2:.3f}, k = {result.k_studies}"
    ax.set_title(title or f"{result.endpoint.capitalize()} at {result.time}: {het}", fontsize=10)
    handles = [
        plt.Line2D([], [], color=OBSERVED, marker="s", lw=1.6, label="observed (95 % CI)"),
        plt.Line2D([], [], color=PREDICTED, marker="o", lw=1.4, ls="--", label="ketasim (95 % PI)"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _method(result: MetaResult) -> str:
    return {"dl": "random effects, DL", "pm": "random effects, PM", "fe": "fixed effect"}[
        result.method
    ]


def funnel_plot(result: MetaResult, path: str | Path) -> Path:
    """Effect (on the pooling scale) against its standard error, with the pseudo 95 % funnel
    around the fixed-effect estimate; asymmetry hints at small-study effects."""
    eff = np.array([s.effect for s in result.studies])
    se = np.sqrt([s.variance for s in result.studies])
    centre = float(np.log(result.fixed.estimate) if result.measure == "or" else 0.0)
    if result.measure == "rate":
        centre = float(np.log(result.fixed.estimate / (1.0 - result.fixed.estimate)))
    elif result.measure == "rd":
        centre = result.fixed.estimate
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    top = float(se.max()) * 1.1 if se.size else 1.0
    s_grid = np.linspace(0.0, top, 50)
    ax.plot(centre - 1.96 * s_grid, s_grid, color="grey", lw=0.8, ls="--")
    ax.plot(centre + 1.96 * s_grid, s_grid, color="grey", lw=0.8, ls="--")
    ax.axvline(centre, color=OBSERVED, lw=0.8)
    ax.scatter(eff, se, color=OBSERVED, zorder=3)
    for s, x, y in zip(result.studies, eff, se, strict=True):
        ax.annotate(s.study, (x, y), fontsize=7, xytext=(4, 2), textcoords="offset points")
    ax.invert_yaxis()
    scale = {"rate": "logit rate", "or": "log odds ratio", "rd": "risk difference"}
    ax.set_xlabel(f"{result.endpoint} at {result.time}: {scale[result.measure]}")
    ax.set_ylabel("standard error")
    ticks = ax.get_xticks()
    if result.measure != "rd":
        natural = to_natural(result.measure, ticks)
        ax.set_xticks(ticks, [f"{t:.2g}\n({v:.2g})" for t, v in zip(ticks, natural, strict=True)])
    ax.set_title(f"Funnel plot (k = {result.k_studies}; natural scale in brackets)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
