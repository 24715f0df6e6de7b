"""`echo-train fixed` on a quiet machine and with one core kept busy by another process.

    python -m trainer.bench.busy [--runs 3] [--spin]

Each run is the command as a user types it (to a temporary --out), timed from its start to its
end; the busy runs share the machine with `python -c 'while True: pass'`, started first. The
target (docs/experiments.md: Figures) is busy ≤ 3x quiet. `--spin` adds the same runs with GNU
OpenMP's own way of waiting (its threads spin 300,000 times before they sleep, what echo-train
did before trainer.threads) and with threads that sleep at once (no spin), for comparison.
The load average before and after is printed: other work on the machine makes every figure
pessimistic.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY = [sys.executable, "-c", "while True: pass"]
SPIN = {"GOMP_SPINCOUNT": "300000"}  # libgomp's default spin, which trainer.threads replaces
SLEEP = {"GOMP_SPINCOUNT": "0"}  # no spin at all: robust when busy, slower when quiet


def timed_run(out: Path, env: dict[str, str] | None = None) -> float:
    """Seconds `echo-train fixed --out OUT --force` took, start to end."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "trainer", "fixed", "--out", str(out), "--force"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def busy_runs(out: Path, runs: int, env: dict[str, str] | None = None) -> list[float]:
    """`runs` timed runs with one core kept busy by another process."""
    hog = subprocess.Popen(BUSY)
    try:
        return [timed_run(out, env) for _ in range(runs)]
    finally:
        hog.kill()
        hog.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.bench.busy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (median shown)")
    parser.add_argument("--spin", action="store_true",
                        help="also time OpenMP's long spin (as before trainer.threads) and "
                             "threads that sleep at once")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fixed.safetensors"
        kinds = [("", None)] + ([("spin ", SPIN), ("sleep ", SLEEP)] if args.spin else [])
        for name, env in kinds:
            figures[f"{name}quiet"] = [timed_run(out, env) for _ in range(args.runs)]
            figures[f"{name}busy"] = busy_runs(out, args.runs, env)
    load_after = os.getloadavg()
    print(f"echo-train fixed, {args.runs} runs each, {os.cpu_count()} cores; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after")
    for name, seconds in figures.items():
        print(f"  {name:10} median {statistics.median(seconds):6.1f} s  (worst "
              f"{max(seconds):.1f} s; {', '.join(f'{s:.1f}' for s in seconds)})")
    for prefix in ("", "spin ", "sleep ") if args.spin else ("",):
        ratio = statistics.median(figures[f"{prefix}busy"]) / statistics.median(
            figures[f"{prefix}quiet"])
        target = " (target ≤ 3x)" if not prefix else ""
        print(f"  {prefix}busy / quiet: {ratio:.1f}x{target}")
    print(json.dumps({"load_before": load_before, "load_after": load_after, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
