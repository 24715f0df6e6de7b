"""One trial: a spec (trainer.sweep.space) trained under its step budget, every head checked on
the homework's check, and the row the sweep keeps. Plain Python: Ray runs it in a worker, the
benchmark and the tests call it directly.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict

from .space import CHECK_CHARS, THRESHOLD, config_for


def run_spec(spec: dict, check_chars: int = CHECK_CHARS) -> dict:
    """The row of `spec`: the spec, what training took, every delay's accuracy and the largest
    delay held. A run that diverges or fails is a row too (`diverged` or `failed` says why, and
    it holds nothing): it counts against trainability, it does not end the sweep."""
    import torch

    from ..compare import run_one

    start = time.perf_counter()
    row = {k: v for k, v in spec.items() if k != "steps"}
    row["budget_steps"] = spec["steps"]
    try:
        run = run_one(config_for(spec), check_chars)
    except Exception as e:  # noqa: BLE001 - a trial that fails is a result (it trained nothing)
        run = None
        failed = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    result = asdict(run) if run is not None else {"steps": 0, "seconds": 0.0, "samples": 0,
                                                  "accuracy": [], "diverged": ""}
    row.update(steps=result["steps"], seconds=round(result["seconds"], 3),
               samples=result["samples"], accuracy=[round(a, 6) for a in result["accuracy"]],
               diverged=result["diverged"], failed="" if run is not None else failed,
               held=run.held(THRESHOLD) if run is not None else -1,
               threads=torch.get_num_threads(),
               load=round(os.getloadavg()[0], 2),  # seconds on a busy machine are longer
               wall_seconds=round(time.perf_counter() - start, 3))
    return row


def trained(row: dict) -> bool:
    """Whether the trial held every delay 0..its max delay (the trainability criterion)."""
    return row["held"] >= row["max_delay"]
