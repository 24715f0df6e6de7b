"""`echo-train sweep --bench`: what Ray costs and what it buys on this machine.

The same 8 trials (equal settings, seeds 0-7, a few seconds each) one after another in this
process, then through the sweep's engine on a local Ray with 2 workers. It prints Ray's start,
the memory Ray's processes add (their proportional set size, shared pages split between
them, and what importing and starting Ray adds to this process), the speedup, and Ray's own
cost per trial, in the steady state: a worker's time from one trial's end to the next one's
start and a trial's time in Tune beyond its own; and, apart, Tune's start until the first trial
runs (a worker started, torch imported in it), once a sweep, which the amortised figure shares
out over the 8 trials. Linux: it reads /proc.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from . import space

TRIALS, WORKERS = 8, 2
# steps a bench trial trains by default: about 4.6 s on the README's 2 cores (the target's "a
# trial of a few seconds"), where Ray's fixed cost per trial no longer hides the speedup
STEPS = 3000
# equal trials: the one setting every bench trial trains (a draw with no choice left)
SETTINGS = {"lr": {"log_uniform": [3e-3, 3e-3]}, "batch": {"choice": [32]},
            "chunk": {"choice": [16]}, "init": {"choice": ["orthogonal"]},
            "clip": {"choice": [None]}}


def specs(steps: int) -> list[dict]:
    out = space.plan(["gru"], [32], [4], TRIALS, steps, ranges=SETTINGS)
    return sorted(out, key=lambda s: s["draw"])


def _kib(pid: int, field: str, name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Ray's GCS, raylet, agents and workers, for a local Ray)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        frontier += kids
    return out


def ray_mib() -> float:
    """Proportional set size of every process under this one, MiB."""
    return sum(_kib(p, "Pss", "smaps_rollup") for p in descendants(os.getpid())) / 1024


def own_mib() -> float:
    return _kib(os.getpid(), "VmRSS", "status") / 1024


def bench(steps: int = STEPS) -> dict:
    import torch

    from .trial import run_spec

    load_before = os.getloadavg()
    trials = specs(steps)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray trial has: one CPU each
    run_spec(dict(trials[0], steps=10))  # warm: the first call's one-time costs are not a trial's
    t0 = time.perf_counter()
    sequential = [run_spec(s)["wall_seconds"] for s in trials]
    seq_wall = time.perf_counter() - t0
    torch.set_num_threads(threads)

    own_before = own_mib()
    t0 = time.perf_counter()
    from . import engine

    engine.start_ray(None, WORKERS)
    start_s = time.perf_counter() - t0
    idle_mib, own_after = ray_mib(), own_mib()
    try:
        with tempfile.TemporaryDirectory(prefix="echo-gru-sweep-bench-") as tmp:
            from . import ledger

            folder = Path(tmp) / "s"
            plan = {"settings": {}, "specs": trials}
            ledger.create(folder, plan)
            progress = engine.Progress(folder, plan, [], 1, lambda line: None)
            t0 = time.perf_counter()
            ray_wall = engine.run_trials(folder, plan, trials, progress)
            busy_mib = ray_mib()
            rows = {r["id"]: r for r in ledger.read_rows(folder)}
    finally:
        import ray

        ray.shutdown()
    inside = [r["wall_seconds"] for r in rows.values()]
    trial_s = statistics.mean(inside)
    spans = sorted(progress.times.values())
    first = spans[0][0] - t0  # Tune's setup, a worker started, torch imported in it
    # in the steady state, a worker's time from one trial's end to the next trial's start
    # (Tune's bookkeeping), and a trial's time in Tune beyond its own (its report, the actor)
    ends = sorted(end for _, end in spans)
    gaps = [start - max(e for e in ends if e <= start) for start, _ in spans[WORKERS:]
            if any(e <= start for e in ends)]
    around = statistics.mean((end - start) for start, end in spans) - trial_s
    per_trial = (statistics.mean(gaps) if gaps else 0.0) + max(0.0, around)
    amortised = (WORKERS * ray_wall - sum(inside)) / TRIALS
    return {"trials": TRIALS, "workers": WORKERS, "steps": steps, "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "sequential_s": round(seq_wall, 2), "sequential_trial_s": round(
                statistics.mean(sequential), 3),
            "ray_s": round(ray_wall, 2), "ray_trial_s": round(trial_s, 3),
            "speedup": round(seq_wall / ray_wall, 3),
            "speedup_after_first_trial_starts": round(seq_wall / (ray_wall - first), 3),
            "tune_until_first_trial_s": round(first, 2),
            "ray_cost_per_trial_s": round(per_trial, 3),
            "ray_cost_share": round(per_trial / trial_s, 4),
            "ray_cost_per_trial_amortised_s": round(amortised, 3),
            "ray_start_s": round(start_s, 2),
            "ray_processes_mib_idle": round(idle_mib, 1),
            "ray_processes_mib_after_trials": round(busy_mib, 1),
            "driver_mib_added": round(own_after - own_before, 1)}


def said(r: dict) -> list[str]:
    return [
        f"{r['trials']} trials of {r['steps']} steps (gru hidden 32, delays 0-4), on "
        f"{r['cpus']} CPUs; load average before {r['load_before'][0]:.2f}, after "
        f"{r['load_after'][0]:.2f}",
        f"one after another in one process: {r['sequential_s']:.1f} s (a trial "
        f"{r['sequential_trial_s']:.2f} s)",
        f"through the sweep, {r['workers']} workers: {r['ray_s']:.1f} s (a trial "
        f"{r['ray_trial_s']:.2f} s inside its worker): {r['speedup']:.2f}x (target 1.7x); "
        f"{r['speedup_after_first_trial_starts']:.2f}x once the first trial runs, "
        f"{r['tune_until_first_trial_s']:.1f} s after Tune starts (a worker, torch imported)",
        f"Ray's own cost per trial: {r['ray_cost_per_trial_s']:.3f} s, "
        f"{100 * r['ray_cost_share']:.1f}% of a trial (target 10%); with Tune's start shared "
        f"out over the {r['trials']} trials, {r['ray_cost_per_trial_amortised_s']:.2f} s",
        f"Ray's start: {r['ray_start_s']:.1f} s; memory: Ray's processes "
        f"{r['ray_processes_mib_idle']:.0f} MiB idle, {r['ray_processes_mib_after_trials']:.0f} "
        f"MiB with the {r['workers']} workers that ran the trials; this process "
        f"+{r['driver_mib_added']:.0f} MiB"]
