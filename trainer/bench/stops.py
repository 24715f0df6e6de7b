"""How soon `echo-train` stops at --max-seconds and at Ctrl-C, at a size where one training step
is one long call into PyTorch.

    python -m trainer.bench.stops [--hidden 4096] [--max-seconds 20] [--interrupt-after 10]

Two runs of `echo-train variable --alphabet text --hidden H` (to a temporary --out):

- with --max-seconds S: the seconds from its first line ("training a ...") to the line saying
  it stopped, less S (the target: under 2 s);
- with Ctrl-C (SIGINT) sent `--interrupt-after` seconds after its first line: the seconds from
  the signal to the process's end (the target: under 2 s), and its exit status (130).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def command(hidden: int, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "trainer", "variable", "--alphabet", "text", "--hidden",
            str(hidden), "--out", str(out), "--force", *extra]


def stop_at_max_seconds(hidden: int, seconds: float, out: Path) -> dict:
    proc = subprocess.Popen(command(hidden, out, "--max-seconds", f"{seconds:g}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = stopped = None
    for line in proc.stdout:
        now = time.monotonic()
        if first is None and "training a" in line:
            first = now
        if stopped is None and ("stopped by" in line or "ran out" in line):
            stopped = now
    proc.wait()
    return {"stopped_after_s": stopped - first if first and stopped else None,
            "over_s": stopped - first - seconds if first and stopped else None,
            "status": proc.returncode}


def _as_at_a_terminal() -> None:
    # a shell's background job ignores SIGINT, and Python then leaves Ctrl-C ignored too
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_at_ctrl_c(hidden: int, after: float, out: Path) -> dict:
    proc = subprocess.Popen(command(hidden, out, "--max-seconds", "3600"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_as_at_a_terminal)
    for line in proc.stdout:
        if "training a" in line:
            break
    # its output goes on being read, so a full pipe never holds it up
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    time.sleep(after)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code = proc.wait()
    took = time.monotonic() - sent
    kept = not out.exists()
    return {"ended_after_s": took, "status": code, "wrote_nothing": kept}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.bench.stops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--interrupt-after", type=float, default=10.0)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        limit = stop_at_max_seconds(args.hidden, args.max_seconds, Path(tmp) / "a.safetensors")
        ctrl_c = stop_at_ctrl_c(args.hidden, args.interrupt_after, Path(tmp) / "b.safetensors")
    load_after = os.getloadavg()
    print(f"echo-train variable --alphabet text --hidden {args.hidden}; load average "
          f"{load_before[0]:.2f} before, {load_after[0]:.2f} after")
    over = limit["over_s"]
    print(f"  --max-seconds {args.max_seconds:g}: stopped "
          + (f"{over:.1f} s after it (target < 2 s)" if over is not None else "never said so")
          + f"; exit status {limit['status']}")
    print(f"  Ctrl-C {args.interrupt_after:g} s in: ended {ctrl_c['ended_after_s']:.1f} s "
          f"after it (target < 2 s); exit status {ctrl_c['status']}"
          + ("; nothing written" if ctrl_c["wrote_nothing"] else "; A FILE WAS WRITTEN"))
    print(json.dumps({"hidden": args.hidden, "load_before": load_before,
                      "load_after": load_after, "max_seconds": limit, "ctrl_c": ctrl_c}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
