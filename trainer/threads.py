"""How PyTorch's threads train: one policy for `echo-train`, the app's training process, the
benchmarks and sweep trials.

- As many threads as the cores this process may run on (`os.sched_getaffinity`: a container's
  or `taskset`'s share, not the machine's count), or as many as asked for (`--threads N`).
- Threads that wait spin only briefly, then sleep. PyTorch's CPU build runs its threads on GNU
  OpenMP, whose idle threads spin 300,000 times at every join: when another process keeps a
  core busy, the spinning threads take turns with it and each step waits on them, so `echo-train
  fixed` took 16 times as long on a busy machine (103 s against 6.5 s). Sleeping at once
  (`OMP_WAIT_POLICY=PASSIVE` alone) cured that but made a quiet run 40% slower (a thread woken
  at every join of a small model's many short operations); 1,000 spins keep a quiet run's
  speed and a busy one within 2x (docs/training.md, Threads). Other OpenMP runtimes (LLVM's,
  Intel's) read only the wait policy: theirs sleep. OpenMP reads these once, when the library
  loads with torch, so `configure_waiting` must run before torch is imported:
  `trainer/__init__.py` calls it first thing.

Nothing here imports torch until `use_threads` is called.
"""

from __future__ import annotations

import os
import sys

# a waiting thread spins 1,000 times, then sleeps (GNU OpenMP's GOMP_SPINCOUNT wins over the
# wait policy; its default spins 300,000 times); other runtimes sleep at once
WAITING = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}
# a person's own choice of waiting, left as it is
WAIT_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def configure_waiting() -> bool:
    """Make OpenMP's waiting threads spin briefly, then sleep, unless the environment already
    says how they wait.
    Takes effect only before torch is first imported; returns whether torch's threads will
    wait as this module says (False: torch was imported first, or the environment decides)."""
    if any(name in os.environ for name in WAIT_SETTINGS):
        return all(os.environ.get(k) == v for k, v in WAITING.items())
    os.environ.update(WAITING)
    return "torch" not in sys.modules


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def cpu_name(cpuinfo: str | None = None) -> str:
    """The CPU's model name ("AMD EPYC"), from /proc/cpuinfo (or the text given), else what
    `platform` knows: a figure's seconds are this CPU's, and the same VM has changed CPUs."""
    import platform

    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name" and value.strip():
            return " ".join(value.split())
    return platform.processor() or platform.machine() or "unknown CPU"


def use_threads(threads: int | None = None) -> int:
    """Train on `threads` PyTorch threads (None: one per core this process may run on), their
    waiting configured as above; returns the number set. Call it before training, in any
    process that trains (an `echo-train` run, the app's training process, a sweep trial)."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads {threads} must be at least 1")
    configure_waiting()
    import torch

    n = threads or cores()
    torch.set_num_threads(n)
    return n
