"""Shared pieces of the web tests: an app on the test's own KETASIM_HOME, job polling, and a
service process on a free loopback port. (tests/conftest.py gives every test its own
KETASIM_HOME, so no test sees another's jobs or evidence.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ketasim.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
#: Screenshots of the page land here (PNG files are not committed, except docs/figures).
ARTIFACTS = REPO / "test-artifacts" / "web"
#: A cheap, published study: 8 patients, crossover, two endpoints at 24 h.
SMALL_STUDY = "berman-2000"


@pytest.fixture
def home() -> Path:
    """This test's KETASIM_HOME (set for every test by tests/conftest.py)."""
    return Path(os.environ["KETASIM_HOME"])


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    """The app on this test's home, with its lifespan (the job runner) started."""
    with TestClient(create_app(home)) as c:
        yield c


def wait_for_job(client: Any, url: str, timeout_s: float = 180.0) -> dict[str, Any]:
    """Poll a job until it leaves queued/running; its last record."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = client.get(url).json()
        if job["status"] not in ("queued", "running"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job still {job['status']} after {timeout_s} s: {job}")
        time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """A ``ketasim.web.app.serve`` process."""

    process: subprocess.Popen[bytes]
    url: str
    home: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_service(home: Path, log: Path, timeout_s: float = 60.0) -> Service:
    """Start the service as ``ketasim serve`` would, and wait until it answers."""
    port = free_port()
    env = {**os.environ, "KETASIM_HOME": str(home)}
    code = f"from ketasim.web.app import serve; serve(port={port}, log_level='warning')"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    service = Service(process, f"http://127.0.0.1:{port}", home, log)
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the service exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{service.url}/api/limits", timeout=2).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            service.stop()
            raise AssertionError(f"the service did not answer in {timeout_s} s")
        time.sleep(0.2)
