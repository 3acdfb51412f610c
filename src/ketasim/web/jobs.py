"""Jobs of the service: records in SQLite, work in child processes.

A job record lives in ``jobs.sqlite`` in the user's data folder (WAL mode, so the service, its
job processes and the CLI read and write it side by side; DuckDB would admit one writing
process). Every change of state is one conditional ``UPDATE`` from ``queued`` or ``running``,
so a finished result is never overwritten, and a job that a stopped service left ``queued`` or
``running`` becomes ``interrupted`` when the next service starts (its owner's process is gone).

Each job runs in its own process (``python -m ketasim.web.jobs``): the service stays
responsive, a job that passes the time limit is stopped for certain (a thread cannot be), and
a job process whose service dies ends itself. The process writes its progress and its result
to the record.

::

    queued ──> running ──> done
       │          ├──────> failed        (an error, the time limit, a crashed process)
       └──────────┴──────> interrupted   (the service stopped)
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("ketasim.web")

ACTIVE = ("queued", "running")
#: How long a connection waits for another writer (seconds).
BUSY_TIMEOUT_S = 30.0

_DDL = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    request TEXT NOT NULL,
    result TEXT,
    error TEXT,
    owner_pid INTEGER,
    worker_pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
"""


@dataclass(frozen=True)
class JobRecord:
    """One job as stored; times are seconds since the epoch."""

    id: str
    kind: str
    status: str
    progress: float
    note: str
    created: float
    started: float | None
    finished: float | None
    request: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    owner_pid: int | None
    worker_pid: int | None


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        progress=float(row["progress"]),
        note=row["note"],
        created=float(row["created"]),
        started=row["started"],
        finished=row["finished"],
        request=json.loads(row["request"]),
        result=None if row["result"] is None else json.loads(row["result"]),
        error=row["error"],
        owner_pid=row["owner_pid"],
        worker_pid=row["worker_pid"],
    )


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    if os.name == "nt":  # pragma: no cover - the service's jobs need POSIX signals
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


class JobStore:
    """Job records in one SQLite file (WAL), one short connection per operation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_DDL)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            yield con
        finally:
            con.close()

    def _update(self, job_id: str, sql: str, params: tuple[Any, ...]) -> bool:
        """Run ``UPDATE jobs SET <sql>`` on an active job; whether it changed the record."""
        marks = ", ".join("?" for _ in ACTIVE)
        with self._connect() as con:
            cur = con.execute(
                f"UPDATE jobs SET {sql} WHERE id = ? AND status IN ({marks})",
                (*params, job_id, *ACTIVE),
            )
            return cur.rowcount > 0

    def create(self, kind: str, request: dict[str, Any], owner_pid: int | None) -> JobRecord:
        """A new ``queued`` job."""
        job_id = uuid.uuid4().hex[:12]
        with self._connect() as con:
            con.execute(
                "INSERT INTO jobs (id, kind, status, created, request, owner_pid) "
                "VALUES (?, ?, 'queued', ?, ?, ?)",
                (job_id, kind, time.time(), json.dumps(request), owner_pid),
            )
        found = self.get(job_id)
        assert found is not None
        return found

    def get(self, job_id: str) -> JobRecord | None:
        with self._connect() as con:
            row = con.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _record(row)

    def recent(self, kind: str, limit: int = 50) -> list[JobRecord]:
        """The newest jobs of a kind first."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT * FROM jobs WHERE kind = ? ORDER BY created DESC LIMIT ?", (kind, limit)
            ).fetchall()
        return [_record(r) for r in rows]

    def start(self, job_id: str, worker_pid: int | None) -> bool:
        with self._connect() as con:
            cur = con.execute(
                "UPDATE jobs SET status = 'running', started = ?, worker_pid = ?, "
                "note = 'starting' WHERE id = ? AND status = 'queued'",
                (time.time(), worker_pid, job_id),
            )
            return cur.rowcount > 0

    def progress(self, job_id: str, fraction: float, note: str) -> bool:
        return self._update(job_id, "progress = ?, note = ?", (min(max(fraction, 0.0), 1.0), note))

    def finish(self, job_id: str, result: dict[str, Any]) -> bool:
        return self._update(
            job_id,
            "status = 'done', progress = 1, note = 'done', finished = ?, result = ?",
            (time.time(), json.dumps(result, allow_nan=False)),
        )

    def fail(self, job_id: str, error: str, status: str = "failed") -> bool:
        """End an active job as ``failed`` or ``interrupted`` with one sentence on why."""
        return self._update(
            job_id,
            "status = ?, note = ?, finished = ?, error = ?",
            (status, status, time.time(), error),
        )

    def recover(self, alive: Callable[[int], bool] = _alive) -> list[str]:
        """Mark ``interrupted`` the active jobs whose service process is gone."""
        with self._connect() as con:
            marks = ", ".join("?" for _ in ACTIVE)
            rows = con.execute(
                f"SELECT id, owner_pid FROM jobs WHERE status IN ({marks})", ACTIVE
            ).fetchall()
        orphans = [r["id"] for r in rows if r["owner_pid"] is None or not alive(r["owner_pid"])]
        for job_id in orphans:
            self.fail(job_id, INTERRUPTED, status="interrupted")
        return orphans


INTERRUPTED = "the service stopped while this job was queued or running; submit it again"


# --- the job process ---------------------------------------------------------------------------


def watch_parent(parent: int) -> None:
    """End this process when the service that started it is gone (no orphaned work)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="ketasim-parent-watch", daemon=True).start()


def run_job(db_path: str, job_id: str, parent: int) -> None:
    """The body of a job process: run the job and write its result to the record."""
    watch_parent(parent)
    from ketasim.errors import KetasimError

    store = JobStore(Path(db_path))
    record = store.get(job_id)
    if record is None:
        return
    try:
        if record.kind != "trial":
            raise ValueError(f"unknown job kind {record.kind!r}")
        from ketasim.web.results import trial_job_result

        def progress(fraction: float, note: str) -> None:
            store.progress(job_id, fraction, note)

        result = trial_job_result(record.request, progress)
    except KetasimError as exc:
        store.fail(job_id, str(exc))
        return
    except Exception as exc:  # a bug: kept in the service's log, one line in the record
        log.exception("job %s failed", job_id)
        store.fail(job_id, f"internal error ({type(exc).__name__}: {exc}); please report it")
        return
    store.finish(job_id, result)


class JobRunner:
    """Runs queued jobs, ``workers`` at a time, each in a spawned process.

    Parameters
    ----------
    store
        Where the records are.
    workers
        Jobs that run at once.
    timeout_s
        Wall-clock limit of one job, seconds; a job past it is stopped and ``failed``.
    timeout_hint
        The sentence that says how to raise the limit (added to the failure message).
    """

    def __init__(
        self, store: JobStore, workers: int, timeout_s: float, timeout_hint: str = ""
    ) -> None:
        self.store = store
        self.workers = workers
        self.timeout_s = timeout_s
        self.timeout_hint = timeout_hint
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"ketasim-jobs-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def stop(self) -> None:
        """Stop running jobs (``interrupted``) and give up queued ones (``interrupted``)."""
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        while True:
            try:
                job_id = self._queue.get_nowait()
            except queue.Empty:
                break
            if job_id is not None:
                self.store.fail(job_id, INTERRUPTED, status="interrupted")

    def _work(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            if self._stop.is_set():
                self.store.fail(job_id, INTERRUPTED, status="interrupted")
                continue
            try:
                self._run(job_id)
            except Exception:  # a bug here must not stop the other jobs
                log.exception("job %s could not be run", job_id)
                self.store.fail(job_id, "internal error while starting the job; please report it")

    def _run(self, job_id: str) -> None:
        record = self.store.get(job_id)
        if record is None or record.status != "queued":
            return
        # a fresh interpreter (not multiprocessing): it never re-imports the caller's script
        command = [sys.executable, "-m", "ketasim.web.jobs", str(self.store.path), job_id]
        process = subprocess.Popen([*command, str(os.getpid())], stdin=subprocess.DEVNULL)
        self.store.start(job_id, process.pid)
        deadline = time.monotonic() + self.timeout_s
        while process.poll() is None:
            with suppress(subprocess.TimeoutExpired):
                process.wait(0.2)
            if self._stop.is_set() and process.poll() is None:
                _end(process)
                self.store.fail(job_id, INTERRUPTED, status="interrupted")
                return
            if time.monotonic() > deadline and process.poll() is None:
                _end(process)
                hint = f"; {self.timeout_hint}" if self.timeout_hint else ""
                self.store.fail(
                    job_id, f"the job ran past the time limit of {self.timeout_s:g} s{hint}"
                )
                return
        if process.returncode != 0:
            self.store.fail(
                job_id,
                f"the job's process ended with exit code {process.returncode} "
                "(out of memory? try fewer replicates)",
            )
            return
        # a process that ended cleanly has written its result; anything else is a failure
        self.store.fail(job_id, "the job's process ended without a result; please report it")


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


__all__ = ["ACTIVE", "INTERRUPTED", "JobRecord", "JobRunner", "JobStore", "run_job", "watch_parent"]

if __name__ == "__main__":  # the job process: DB_PATH JOB_ID SERVICE_PID
    run_job(sys.argv[1], sys.argv[2], int(sys.argv[3]))
