"""NONMEM-style event tables: bring dosing records from NONMEM, mrgsolve or rxode2.

Columns (upper case, as in NONMEM; extra columns are kept and ignored):

==========  ======================================================================
``ID``      patient identifier
``TIME``    hours since the start (``h``)
``AMT``     dose in mg (0 on observation records)
``RATE``    infusion rate in mg/h; 0 or absent for a bolus/extravascular dose
``CMT``     1 = depot (extravascular; needs ``ROUTE``), 2 = central (intravenous)
``EVID``    1 = dose, 0 = observation (observation rows give the output times)
``MDV``     optional; ignored (1 on doses by convention)
``ADDL``    optional additional doses, ``II`` hours apart
``II``      optional interdose interval (h)
``WT``      optional body weight (kg), one value per ID
``ROUTE``   ketasim extension: the route name of a CMT 1 dose (``intramuscular``...)
==========  ======================================================================

:func:`read_events` returns one :class:`~ketasim.pk.regimen.Regimen` per ID;
:func:`write_events` writes a regimen for a set of patients in the same format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ketasim.errors import KetasimInputError, UnknownNameError
from ketasim.pk.regimen import Dose, Regimen
from ketasim.pk.routes import INTRAVENOUS, ROUTES

REQUIRED: tuple[str, ...] = ("ID", "TIME", "AMT", "CMT", "EVID")
DEPOT, CENTRAL = 1, 2


@dataclass(frozen=True)
class EventTable:
    """An event table read into ketasim: regimens, weights and observation times per ID."""

    ids: tuple[object, ...]
    regimens: tuple[Regimen, ...]
    weights_kg: tuple[float, ...] | None
    observation_times_h: np.ndarray


def _bad(field: str, row: int, value: object, allowed: str) -> KetasimInputError:
    return KetasimInputError(f"{field} (row {row + 1})", value, allowed)


def read_events(source: str | Path | pd.DataFrame) -> EventTable:
    """Read a NONMEM-style event table (CSV path or DataFrame) into per-ID regimens."""
    if isinstance(source, pd.DataFrame):
        df = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise KetasimInputError("events", str(source), "an existing CSV file")
        try:
            df = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise KetasimInputError("events", str(source), f"a readable CSV file ({exc})") from exc
    df.columns = [str(c).strip().upper() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise KetasimInputError("events", ", ".join(missing), f"columns {', '.join(REQUIRED)}")
    for col in ("TIME", "AMT", "RATE", "CMT", "EVID", "ADDL", "II", "WT"):
        if col in df.columns:
            numeric = pd.to_numeric(df[col], errors="coerce")
            bad = numeric.isna() & df[col].notna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise _bad(col, row, df[col].iloc[row], "a number")
            df[col] = numeric
    ids = tuple(dict.fromkeys(df["ID"].tolist()))
    regimens, weights = [], []
    for pid in ids:
        rows = df[df["ID"] == pid]
        regimens.append(_regimen(rows))
        if "WT" in df.columns:
            wt = rows["WT"].dropna().unique()
            if wt.size != 1 or not wt[0] > 0:
                raise KetasimInputError(f"WT (ID {pid})", list(wt), "one body weight above 0 kg")
            weights.append(float(wt[0]))
    obs = df.loc[df["EVID"] == 0, "TIME"].to_numpy(dtype=float)
    return EventTable(
        ids=ids,
        regimens=tuple(regimens),
        weights_kg=tuple(weights) if weights else None,
        observation_times_h=np.unique(obs),
    )


def _regimen(rows: pd.DataFrame) -> Regimen:
    doses: list[tuple[float, Dose]] = []
    last = -np.inf
    for i, rec in zip(rows.index, rows.to_dict(orient="records"), strict=True):
        t = float(rec["TIME"])
        if not np.isfinite(t) or t < 0:
            raise _bad("TIME", i, rec["TIME"], "a time in hours, 0 or later")
        if t < last:
            raise _bad("TIME", i, t, "times in increasing order within each ID")
        last = t
        evid = int(rec["EVID"])
        if evid == 0:
            continue
        if evid != 1:
            raise _bad(
                "EVID", i, rec["EVID"], "1 (dose) or 0 (observation); resets are not supported"
            )
        amt = float(rec["AMT"])
        if not amt > 0:
            raise _bad("AMT", i, rec["AMT"], "a dose above 0 mg")
        dose = _dose(rec, i, amt)
        addl = int(rec.get("ADDL", 0) or 0)
        ii = float(rec.get("II", 0) or 0)
        if addl < 0 or (addl > 0 and not ii > 0):
            raise _bad("ADDL/II", i, (addl, ii), "ADDL >= 0, with II > 0 h when ADDL > 0")
        doses += [(t + k * ii, dose) for k in range(addl + 1)]
    doses.sort(key=lambda pair: pair[0])
    return Regimen(tuple(doses))


def _dose(rec: dict[Any, Any], i: int, amt: float) -> Dose:
    cmt = int(float(str(rec["CMT"])))
    rate = float(str(rec.get("RATE", 0) or 0))
    if cmt == CENTRAL:
        if rate > 0:
            return Dose(amt, "iv-infusion", amt / rate, per_kg=False)
        if rate < 0:
            raise _bad("RATE", i, rate, "0 (bolus) or a rate in mg/h; -1/-2 are not supported")
        return Dose(amt, "iv-bolus", 0.0, per_kg=False)
    if cmt == DEPOT:
        route = str(rec.get("ROUTE", "") or "")
        if route in ("", "nan"):
            raise _bad("ROUTE", i, None, "a route name for CMT 1 doses, e.g. intramuscular")
        if route not in ROUTES or route in INTRAVENOUS:
            raise UnknownNameError(f"ROUTE (row {i + 1})", route, set(ROUTES) - INTRAVENOUS)
        return Dose(amt, route, per_kg=False)
    raise _bad("CMT", i, cmt, "1 (depot) or 2 (central)")


def write_events(
    regimen: Regimen,
    weights_kg: np.ndarray | list[float],
    observation_times_h: np.ndarray | list[float] | tuple[float, ...] = (),
) -> pd.DataFrame:
    """A NONMEM-style event table of ``regimen`` for patients of the given weights."""
    rows: list[dict[str, object]] = []
    for pid, wt in enumerate(np.asarray(weights_kg, dtype=float), start=1):
        for t, dose in regimen.doses:
            mg = float(dose.amount_mg(np.array([wt]))[0])
            if dose.rate_steps:
                start = t
                for step in dose.rate_steps:
                    rate = step.rate * (wt if step.per_kg else 1.0)
                    rows.append(_row(pid, start, rate * step.duration_h, rate, CENTRAL, wt, None))
                    start += step.duration_h
            elif dose.route in INTRAVENOUS:
                over = dose.over_h or 0.0
                rows.append(_row(pid, t, mg, mg / over if over > 0 else 0.0, CENTRAL, wt, None))
            else:
                rows.append(_row(pid, t, mg, 0.0, DEPOT, wt, dose.route))
        for t in observation_times_h:
            rows.append(
                {
                    "ID": pid,
                    "TIME": float(t),
                    "AMT": 0.0,
                    "RATE": 0.0,
                    "CMT": CENTRAL,
                    "EVID": 0,
                    "MDV": 0,
                    "WT": wt,
                    "ROUTE": "",
                }
            )
    df = pd.DataFrame(rows)
    return df.sort_values(["ID", "TIME", "EVID"], ascending=[True, True, False], kind="stable")


def _row(
    pid: int, t: float, amt: float, rate: float, cmt: int, wt: float, route: str | None
) -> dict[str, object]:
    return {
        "ID": pid,
        "TIME": t,
        "AMT": amt,
        "RATE": rate,
        "CMT": cmt,
        "EVID": 1,
        "MDV": 1,
        "WT": wt,
        "ROUTE": route or "",
    }
