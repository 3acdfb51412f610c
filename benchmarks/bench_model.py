"""Full-model benchmark (issue 7): ketasim's batched engine against libRoadRunner and SciPy,
patient by patient, at the same tolerances and output grid (docs/performance.md).

Run: ``make bench`` or ``.venv/bin/ketasim bench --patients 10000 --json``.
"""

from __future__ import annotations

import json
import sys

from ketasim.bench import run_model_benchmark


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(json.dumps(run_model_benchmark(patients, 14.0).to_json(), indent=2))


if __name__ == "__main__":
    main()
