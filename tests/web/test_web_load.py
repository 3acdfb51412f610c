"""A bounded load test on loopback: 50 concurrent clients send the page's simulate request to a
real service process for a few seconds; every request is answered with 200, and the run stops
by itself (benchmarks/load_service.py; run it for 60 s for the figures in docs/web.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load_service.py"


def test_fifty_concurrent_simulate_requests_get_no_errors() -> None:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--concurrency", "50", "--seconds", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:] + out.stdout[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0, result["error_kinds"]
    assert result["ok"] >= 50  # every client got at least one answer
    assert result["throughput_rps"] > 0
    assert result["latency_p95_s"] <= result["latency_max_s"]
