"""Engine benchmark: batch sizes 1 to 1000, as ratios to one patient in the same process.

Run: ``make bench`` or ``.venv/bin/ketasim bench``.
"""

from __future__ import annotations

from ketasim.bench import run_engine_benchmark


def main() -> None:
    print(f"{'case':<16}{'patients':>9}{'seconds':>10}{'x baseline':>12}{'per patient':>13}")
    for r in run_engine_benchmark():
        print(
            f"{r.case:<16}{r.n_patients:>9}{r.seconds:>10.3f}{r.ratio_to_baseline:>12.2f}"
            f"{r.per_patient_ratio:>13.4f}"
        )


if __name__ == "__main__":
    main()
