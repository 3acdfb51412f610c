"""Bounded load test of the web service on loopback: C concurrent clients send the page's
simulate request (racemic ketamine 0.5 mg/kg IV over 40 min, one patient, 24 h, the full
cascade) for S seconds, then stop sending, wait for the requests in flight (each bounded by a
timeout) and stop the service they started.

Run: ``.venv/bin/python benchmarks/load_service.py --concurrency 50 --seconds 60 [--json]``;
``--url http://127.0.0.1:8000`` loads a service that is already running instead.
Prints the requests sent, the errors (any status but 200, or a transport failure), the
throughput (requests answered per second of the test) and the latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np

#: What the page sends when a person presses "simulate" with the defaults.
REQUEST = {
    "drug": "ketamine-racemic",
    "dose": "0.5 mg/kg",
    "route": "iv-infusion",
    "over": "40 min",
    "until": "24 h",
}


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    requests: int
    ok: int
    errors: int
    error_kinds: dict[str, int]
    wall_s: float
    throughput_rps: float
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    latency_max_s: float
    service_cpus: int = field(default_factory=lambda: os.cpu_count() or 1)


async def _client(
    http: httpx.AsyncClient,
    url: str,
    deadline: float,
    latencies: list[float],
    errors: Counter[str],
) -> None:
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        try:
            r = await http.post(f"{url}/api/simulate", json=REQUEST)
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            continue
        if r.status_code != 200 or "timecourse" not in r.json():
            errors[f"HTTP {r.status_code}"] += 1
            continue
        latencies.append(time.monotonic() - t0)


async def load(url: str, concurrency: int, seconds: float, timeout_s: float) -> LoadResult:
    """Run the load against a service at ``url``."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as http:
        deadline = start + seconds
        clients = [_client(http, url, deadline, latencies, errors) for _ in range(concurrency)]
        await asyncio.gather(*clients)
    wall = time.monotonic() - start
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return LoadResult(
        concurrency=concurrency,
        seconds=seconds,
        requests=len(latencies) + sum(errors.values()),
        ok=len(latencies),
        errors=sum(errors.values()),
        error_kinds=dict(errors),
        wall_s=round(wall, 2),
        throughput_rps=round(len(latencies) / wall, 3),
        latency_p50_s=round(float(np.percentile(lat, 50)), 3),
        latency_p95_s=round(float(np.percentile(lat, 95)), 3),
        latency_p99_s=round(float(np.percentile(lat, 99)), 3),
        latency_max_s=round(float(np.max(lat)), 3),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(
    home: Path, log: Path, timeout_s: float = 90.0
) -> tuple[subprocess.Popen[bytes], str]:
    """``ketasim serve`` on a free loopback port with its own home; waits until it answers."""
    port = _free_port()
    env = {**os.environ, "KETASIM_HOME": str(home)}
    code = f"from ketasim.web.app import serve; serve(port={port}, log_level='warning')"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/limits", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the service did not answer within {timeout_s} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    parser.add_argument("--url", default=None, help="a running service (default: start one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.seconds <= 0 or args.timeout <= 0:
        parser.error("--concurrency, --seconds and --timeout must be positive")
    proc = None
    with tempfile.TemporaryDirectory(prefix="ketasim-load-") as tmp:
        url = args.url
        if url is None:
            proc, url = start_service(Path(tmp), Path(tmp) / "service.log")
        try:
            result = asyncio.run(load(url, args.concurrency, args.seconds, args.timeout))
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        for key, value in asdict(result).items():
            print(f"{key:>16}: {value}")
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
