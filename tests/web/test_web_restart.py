"""A service killed while a job runs: the next service reports the job ``interrupted``, the
job's process does not outlive its service, and finished results survive."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from ketasim.web.app import create_app
from ketasim.web.jobs import JobStore

from .conftest import SMALL_STUDY, start_service, wait_for_job


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_killed_service_leaves_its_running_job_interrupted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    service = start_service(home, tmp_path / "service.log")
    try:
        with httpx.Client(base_url=service.url, timeout=30) as c:
            first = c.post("/api/trials", json={"spec_name": SMALL_STUDY, "replicates": 1})
            done = wait_for_job(c, first.json()["url"])
            assert done["status"] == "done", done
            # a long job: murrough-2013a, 72 patients x 40 replicate trials
            long = c.post("/api/trials", json={"spec_name": "murrough-2013a", "replicates": 40})
            url = long.json()["url"]
            deadline = time.monotonic() + 60
            while c.get(url).json()["status"] != "running":
                assert time.monotonic() < deadline, "the job never started"
                time.sleep(0.2)
        record = JobStore(home / "jobs.sqlite").get(long.json()["id"])
        assert record is not None
        worker = record.worker_pid
        assert worker is not None
        assert _alive(worker)
        service.process.send_signal(signal.SIGKILL)  # no shutdown: the record says running
        service.process.wait(10)
    finally:
        service.stop()
    deadline = time.monotonic() + 10
    while _alive(worker):  # the orphaned job process notices and ends itself
        assert time.monotonic() < deadline, "the job process outlived its service"
        time.sleep(0.2)
    with TestClient(create_app(home)) as again:
        job = again.get(url).json()
        assert job["status"] == "interrupted"
        assert "submit it again" in job["error"]
        kept = again.get(first.json()["url"]).json()
        assert kept["status"] == "done"
        assert kept["result"]["arms"] == done["result"]["arms"]
