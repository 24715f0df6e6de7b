"""`echo-train sweep --recipe NAME --seeds 0-4`: a shipped recipe, once per seed, run end to end
as a user runs it (`echo-train fixed|variable --recipe NAME`, in a child process, timed from its
start to the file written), one run at a time with every CPU Ray gives it. Its steps do not
depend on the machine's load; its seconds do, so the summary gives both, median and worst.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..threads import cpu_name


def command_for(name: str, seed: int) -> list[str]:
    """The `echo-train` arguments that train recipe `name` from `seed` (to its own target)."""
    from ..recipes import RECIPES

    r = RECIPES[name]
    return [r.kind, "--recipe", name, "--target", f"{r.target:g}", "--seed", str(seed),
            "--device", "cpu"]


def run_recipe(spec: dict) -> dict:
    """One seed of a recipe, end to end: its row (steps, seconds, the final figures)."""
    import torch

    threads = torch.get_num_threads()  # what Ray gave this trial: the child takes as many
    row = {k: spec[k] for k in ("id", "recipe", "seed")}
    row["command"] = "echo-train " + " ".join(command_for(spec["recipe"], spec["seed"]))
    with tempfile.TemporaryDirectory(prefix="echo-gru-recipe-") as tmp:
        out = Path(tmp) / "model.safetensors"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "trainer",
                               *command_for(spec["recipe"], spec["seed"]), "--out", str(out),
                               "--threads", str(threads)], capture_output=True, text=True)
        row["seconds"] = round(time.perf_counter() - start, 2)
        row.update(threads=threads, load=round(os.getloadavg()[0], 2), cpu=cpu_name(),
                   reached="echo-train: target reached" in done.stdout, status=done.returncode)
        if done.returncode != 0 or not out.exists():
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            row.update(failed=(lines[-1] if lines else f"exit status {done.returncode}")[:300],
                       steps=None, train_seconds=None)
            return row
        from ..weights import read_metadata

        meta = read_metadata(out)
    row.update(failed="", steps=int(meta["train_steps"]),
               train_seconds=float(meta["train_seconds"]),
               heldout_accuracy=float(meta["heldout_accuracy"]),
               stream_accuracy=float(meta["stream_accuracy"]))
    return row


def summary(rows: list[dict]) -> dict:
    """Median and worst (most) of steps, end-to-end and training seconds over the runs that
    wrote a file; how many reached the target and how many failed."""
    ok = [r for r in rows if not r.get("failed")]
    out = {"runs": len(rows), "reached": sum(bool(r.get("reached")) for r in rows),
           "failed": len(rows) - len(ok)}
    for key in ("steps", "seconds", "train_seconds"):
        values = [r[key] for r in ok]
        out[key] = ({"median": statistics.median(values), "worst": max(values)} if values
                    else None)
    return out


def said(name: str, s: dict) -> str:
    if s["runs"] == 0:
        return f"{name}: no run finished"
    if s["steps"] is None:
        return f"{name}: every run failed"
    return (f"{name}: {s['reached']} of {s['runs']} reached the target; steps median "
            f"{s['steps']['median']:,.0f}, worst {s['steps']['worst']:,}; end to end median "
            f"{s['seconds']['median']:.1f} s, worst {s['seconds']['worst']:.1f} s (training "
            f"{s['train_seconds']['median']:.1f} s, worst {s['train_seconds']['worst']:.1f} s)"
            + (f"; {s['failed']} failed" if s["failed"] else ""))
