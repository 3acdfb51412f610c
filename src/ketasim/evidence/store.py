"""The evidence store: an embedded DuckDB file in the user's data folder.

``evidence.duckdb`` under :func:`~ketasim.data.home.home_dir` holds three tables (studies, arms,
outcomes). The shipped studies (``data/evidence/*.yaml``, the review's claims) are loaded on
first use and refreshed when the shipped files change; a user's studies are added from a file,
all of it in one transaction or none of it.

DuckDB lets one process write a file at a time and keeps a lock while a connection is open.
The store therefore opens a connection for one operation and closes it at once, reads with
``read_only=True``, and retries for up to :data:`LOCK_WAIT_S` seconds when another process
(the web service, a second CLI) holds the lock, so the CLI and the service work side by side.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from ketasim.data.home import home_dir
from ketasim.errors import KetasimError, KetasimInputError
from ketasim.evidence.schema import Arm, EvidenceFileError, Outcome, Study, read_file

#: How long an operation waits for another process's lock before it gives up.
LOCK_WAIT_S = 30.0
SCHEMA_VERSION = "1"
SHIPPED = "shipped"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS cache (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS studies (
    id VARCHAR PRIMARY KEY, source VARCHAR, design VARCHAR, diagnosis VARCHAR, trd BOOLEAN,
    n_enrolled INTEGER, overlap_ids VARCHAR, note VARCHAR, origin VARCHAR, added VARCHAR,
    position INTEGER);
CREATE TABLE IF NOT EXISTS arms (
    study VARCHAR, seq INTEGER, name VARCHAR, drug VARCHAR, route VARCHAR, dose VARCHAR,
    over_time VARCHAR, doses INTEGER, control BOOLEAN, PRIMARY KEY (study, name));
CREATE TABLE IF NOT EXISTS outcomes (
    study VARCHAR, seq INTEGER, arm VARCHAR, endpoint VARCHAR, time VARCHAR, time_h DOUBLE,
    after VARCHAR, scale VARCHAR, criterion VARCHAR, k INTEGER, n INTEGER, mean DOUBLE,
    sd DOUBLE, vs VARCHAR, estimate DOUBLE, lo DOUBLE, hi DOUBLE, note VARCHAR,
    PRIMARY KEY (study, seq));
"""

T = TypeVar("T")


class StoreBusyError(KetasimError):
    """Another process held the store's lock for longer than :data:`LOCK_WAIT_S`."""


def shipped_files() -> list[Path]:
    folder = Path(str(resources.files("ketasim.data") / "evidence"))
    return sorted(folder.glob("*.yaml"))


def _shipped_hash(files: list[Path]) -> str:
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


class EvidenceStore:
    """The evidence base in one DuckDB file (default ``home_dir()/evidence.duckdb``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or home_dir() / "evidence.duckdb"
        self._synced = False

    # --- connections -------------------------------------------------------------------

    @contextmanager
    def _connect(self, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + LOCK_WAIT_S
        delay = 0.02
        while True:
            try:
                if not write and not self.path.exists():
                    write = True  # the first use creates the file
                con = duckdb.connect(str(self.path), read_only=not write)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    if "lock" in str(exc).lower():
                        raise StoreBusyError(
                            f"the evidence store {self.path} stayed locked by another process "
                            f"for {LOCK_WAIT_S:g} s; try again when it has finished"
                        ) from None
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield con
        finally:
            con.close()

    def _write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn`` in one transaction: all of it is stored, or nothing."""
        with self._connect(write=True) as con:
            con.execute(_DDL)
            con.execute("BEGIN TRANSACTION")
            try:
                out = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return out

    def _read(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        self.sync_shipped()
        with self._connect(write=False) as con:
            return fn(con)

    # --- shipped studies -----------------------------------------------------------------

    def sync_shipped(self) -> None:
        """Load the shipped studies if the store lacks them or they changed."""
        if self._synced:
            return
        files = shipped_files()
        digest = _shipped_hash(files)
        if self.path.exists():
            with self._connect(write=False) as con:
                tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
                if "meta" in tables:
                    row = con.execute("SELECT value FROM meta WHERE key = 'shipped'").fetchone()
                    if row is not None and row[0] == digest:
                        self._synced = True
                        return
        studies = [(s, f.name) for f in files for s in read_file(f, f"ketasim:{f.name}")]

        def load(con: duckdb.DuckDBPyConnection) -> None:
            for table in ("outcomes", "arms"):
                con.execute(
                    f"DELETE FROM {table} WHERE study IN (SELECT id FROM studies WHERE origin = ?)",
                    [SHIPPED],
                )
            con.execute("DELETE FROM studies WHERE origin = ?", [SHIPPED])
            clash = _existing(con, [s.id for s, _ in studies])
            for s, _file in studies:
                if s.id in clash:
                    continue  # a user's own record of the same study wins
                _insert(con, s, SHIPPED)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('shipped', ?)", [digest])
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])

        self._write(load)
        self._synced = True

    # --- verbs ---------------------------------------------------------------------------

    def add(self, path: Path, *, replace: bool = False) -> list[str]:
        """Add every study of a YAML or CSV file, all or none; the ids added.

        A study already stored is an error unless ``replace`` (a shipped study cannot be
        replaced: add the user's version under its own id)."""
        studies = read_file(path)
        self.sync_shipped()

        def add(con: duckdb.DuckDBPyConnection) -> list[str]:
            stored = {r[0]: r[1] for r in con.execute("SELECT id, origin FROM studies").fetchall()}
            for s in studies:
                if s.id in stored and (not replace or stored[s.id] == SHIPPED):
                    allowed = (
                        "a new id (shipped studies are read-only)"
                        if stored[s.id] == SHIPPED
                        else "a new id, or --replace to overwrite it"
                    )
                    raise EvidenceFileError(
                        path.name, None, "study", s.id, f"already stored; use {allowed}"
                    )
                if s.id in stored:
                    _delete(con, s.id)
                _insert(con, s, str(path.name))
            return [s.id for s in studies]

        return self._write(add)

    def remove(self, study_id: str) -> None:
        """Remove a user's study (shipped studies stay)."""
        self.sync_shipped()

        def remove(con: duckdb.DuckDBPyConnection) -> None:
            row = con.execute("SELECT origin FROM studies WHERE id = ?", [study_id]).fetchone()
            if row is None:
                raise KetasimInputError("study", study_id, "the id of a stored study")
            if row[0] == SHIPPED:
                raise KetasimInputError("study", study_id, "a user's study (shipped ones stay)")
            _delete(con, study_id)

        self._write(remove)

    def studies(self) -> list[Study]:
        """Every stored study, in the order added."""
        return self._read(_studies)

    def study(self, study_id: str) -> Study:
        found = [s for s in self.studies() if s.id == study_id]
        if not found:
            ids = ", ".join(s.id for s in self.studies())
            raise KetasimInputError("study", study_id, f"one of the stored studies: {ids}")
        return found[0]

    def origins(self) -> dict[str, str]:
        return self._read(
            lambda con: dict(con.execute("SELECT id, origin FROM studies").fetchall())
        )

    def outcomes(self) -> pd.DataFrame:
        """One row per stored outcome (:func:`outcome_frame`)."""
        return outcome_frame(self.studies())

    def cache_get(self, key: str) -> str | None:
        """A cached value (simulated predictions), or None."""

        def get(con: duckdb.DuckDBPyConnection) -> str | None:
            row = con.execute("SELECT value FROM cache WHERE key = ?", [key]).fetchone()
            return None if row is None else str(row[0])

        return self._read(get)

    def cache_put(self, key: str, value: str) -> None:
        self._write(
            lambda con: con.execute("INSERT OR REPLACE INTO cache VALUES (?, ?)", [key, value])
        )

    def check(self) -> dict[str, Any]:
        """An integrity check: every row belongs to a study and every study is valid."""

        def check(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
            orphans = con.execute(
                "SELECT count(*) FROM arms WHERE study NOT IN (SELECT id FROM studies)"
            ).fetchone()
            orphan_outcomes = con.execute(
                "SELECT count(*) FROM outcomes WHERE study NOT IN (SELECT id FROM studies)"
            ).fetchone()
            studies = _studies(con)  # re-validates every study against the schema
            return {
                "studies": len(studies),
                "outcomes": sum(len(s.outcomes) for s in studies),
                "orphan_rows": int((orphans or [0])[0]) + int((orphan_outcomes or [0])[0]),
            }

        return self._read(check)


def outcome_frame(studies: list[Study]) -> pd.DataFrame:
    """One row per outcome, with its study's and its arm's columns (a ``pooled`` arm takes
    the treatment arms' drug and route, and the largest course)."""
    rows = []
    for s in studies:
        for o in s.outcomes:
            a = s.arm(o.arm)
            rows.append(
                {
                    "study": s.id,
                    "source": s.source,
                    "design": s.design,
                    "diagnosis": s.diagnosis,
                    "trd": s.trd,
                    "overlaps": s.overlaps,
                    "arm": o.arm,
                    "drug": a.drug,
                    "route": a.route,
                    "dose": a.dose,
                    "doses": a.doses,
                    "control": a.is_control,
                    **o.model_dump(exclude={"arm"}),
                    "time_h": o.time_h,
                }
            )
    return pd.DataFrame(rows)


def _existing(con: duckdb.DuckDBPyConnection, ids: list[str]) -> set[str]:
    rows = con.execute("SELECT id FROM studies").fetchall()
    return {r[0] for r in rows} & set(ids)


def _delete(con: duckdb.DuckDBPyConnection, study_id: str) -> None:
    for table in ("outcomes", "arms", "studies"):
        key = "id" if table == "studies" else "study"
        con.execute(f"DELETE FROM {table} WHERE {key} = ?", [study_id])


def _insert(con: duckdb.DuckDBPyConnection, s: Study, origin: str) -> None:
    last = con.execute("SELECT coalesce(max(position), -1) FROM studies").fetchone()
    position = int(last[0]) + 1 if last is not None else 0
    con.execute(
        "INSERT INTO studies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            s.id,
            s.source,
            s.design,
            s.diagnosis,
            s.trd,
            s.n_enrolled,
            json.dumps(list(s.overlaps)),
            s.note,
            origin,
            time.strftime("%Y-%m-%dT%H:%M:%S"),
            position,
        ],
    )
    for i, a in enumerate(s.arms):
        con.execute(
            "INSERT INTO arms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [s.id, i, a.name, a.drug, a.route, a.dose, a.over, a.doses, a.control],
        )
    for i, o in enumerate(s.outcomes):
        con.execute(
            "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                s.id,
                i,
                o.arm,
                o.endpoint,
                o.time,
                o.time_h,
                o.after,
                o.scale,
                o.criterion,
                o.k,
                o.n,
                o.mean,
                o.sd,
                o.vs,
                o.estimate,
                o.lo,
                o.hi,
                o.note,
            ],
        )


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _clean(record: dict[str, Any], drop: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in drop and v is not None}


def _studies(con: duckdb.DuckDBPyConnection) -> list[Study]:
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    if "studies" not in tables:
        return []
    arms: dict[str, list[Arm]] = {}
    for r in _records(con, "SELECT * FROM arms ORDER BY study, seq"):
        doses = r["doses"]
        over = r.pop("over_time")
        arm = Arm.model_validate(
            {**_clean(r, ("study", "seq", "doses")), "doses": doses, "over": over}
        )
        arms.setdefault(r["study"], []).append(arm)
    outcomes: dict[str, list[Outcome]] = {}
    for r in _records(con, "SELECT * FROM outcomes ORDER BY study, seq"):
        outcome = Outcome.model_validate(_clean(r, ("study", "seq", "time_h")))
        outcomes.setdefault(r["study"], []).append(outcome)
    out = []
    for r in _records(con, "SELECT * FROM studies ORDER BY position"):
        head = _clean(r, ("origin", "added", "overlap_ids", "position"))
        out.append(
            Study.model_validate(
                {
                    **head,
                    "overlaps": tuple(json.loads(r["overlap_ids"] or "[]")),
                    "arms": arms.get(r["id"], []),
                    "outcomes": outcomes.get(r["id"], []),
                }
            )
        )
    return out
