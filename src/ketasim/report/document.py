"""A study report as data: headline numbers, tables and figures, written as self-contained
HTML (figures inlined as PNG, no script, no CDN) and as JSON.

The scenario studies (``ketasim scenario run``) build one of these; the writer knows nothing of
what they compute.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Table:
    """A titled table; ``frame``'s column names carry their units."""

    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A titled PNG figure with its caption."""

    title: str
    png: bytes
    caption: str = ""

    @classmethod
    def from_matplotlib(cls, fig: Any, title: str, caption: str = "") -> Figure:
        """Render a matplotlib figure (and close it)."""
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return cls(title, buf.getvalue(), caption)


@dataclass
class Report:
    """What a study found: ``headline`` holds its key numbers (plain floats, ints, strings or
    lists of them), ``tables`` and ``figures`` the detail, ``caveats`` what it leaves out."""

    name: str
    title: str
    question: str
    method: str
    headline: dict[str, Any]
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Everything but the figures, JSON-ready (NaN and infinity become null)."""
        return _clean(
            {
                "scenario": self.name,
                "title": self.title,
                "question": self.question,
                "method": self.method,
                "settings": self.settings,
                "headline": self.headline,
                "tables": [
                    {"title": t.title, "note": t.note, "rows": t.frame.to_dict(orient="records")}
                    for t in self.tables
                ],
                "caveats": self.caveats,
            }
        )

    def to_html(self) -> str:
        """A self-contained page: question, method, headline, tables, figures, caveats."""
        esc = html.escape
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>ketasim scenario: {esc(self.title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222;"
            "line-height:1.4}table{border-collapse:collapse;font-size:13px;margin:0.5em 0}"
            "td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}"
            "th:first-child,td:first-child{text-align:left}caption{text-align:left;"
            "font-weight:bold;padding:4px 0}.note{color:#555;font-size:13px}"
            "img{max-width:100%}dt{font-weight:bold}</style></head><body>",
            f"<h1>{esc(self.title)}</h1>",
            f"<p><b>Question.</b> {esc(self.question)}</p>",
            f"<p><b>Method.</b> {esc(self.method)}</p>",
            "<h2>Headline</h2><dl>",
        ]
        for key, value in self.headline.items():
            parts.append(f"<dt>{esc(key.replace('_', ' '))}</dt><dd>{esc(text_of(value))}</dd>")
        parts.append("</dl>")
        for t in self.tables:
            parts.append(f"<h2>{esc(t.title)}</h2>")
            parts.append(_html_table(t.frame))
            if t.note:
                parts.append(f"<p class='note'>{esc(t.note)}</p>")
        for f in self.figures:
            png = base64.b64encode(f.png).decode("ascii")
            parts.append(f"<h2>{esc(f.title)}</h2>")
            parts.append(f"<img alt='{esc(f.title)}' src='data:image/png;base64,{png}'>")
            if f.caption:
                parts.append(f"<p class='note'>{esc(f.caption)}</p>")
        if self.caveats:
            parts.append("<h2>Caveats</h2><ul>")
            parts += [f"<li>{esc(c)}</li>" for c in self.caveats]
            parts.append("</ul>")
        if self.settings:
            shown = esc(json.dumps(_clean(self.settings)))
            parts.append(f"<p class='note'>Settings: <code>{shown}</code></p>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Write the HTML to ``path`` and the JSON beside it (same name, ``.json``)."""
        html_path = Path(path)
        json_path = html_path.with_suffix(".json")
        html_path.write_text(self.to_html(), encoding="utf-8")
        json_path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return html_path, json_path


def text_of(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {text_of(v)}" for k, v in value.items())
    return str(value)


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(text_of(_clean(v)))}</td>" for v in record)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _clean(value: Any) -> Any:
    """Plain JSON types: NumPy scalars to Python, NaN and infinity to None, floats rounded to
    six significant digits."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        return float(f"{x:.6g}")
    if value is None or isinstance(value, int | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


__all__ = ["Figure", "Report", "Table", "text_of"]
