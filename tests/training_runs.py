"""Training runs for the panel's tests: a real child process cut short, and a replay.

The replay feeds the panel checkpoints recorded from a real (tiny, seeded, CPU) training in
this process, with a fake clock, so pictures of the panel mid-run never change.
"""

from __future__ import annotations

import queue
from dataclasses import replace

import torch
from safetensors.torch import save

from echo_tui.training.checkpoint import Checked, Checkpoint, Finished
from echo_tui.training.run import TrainingRun
from trainer.train import train


def real_run(**limits):
    """A start_run for the app: the real child process, its config cut to `limits`."""
    runs = []

    def start(cfg):
        run = TrainingRun(replace(cfg, **limits))
        run.start()
        runs.append(run)
        return run

    start.runs = runs
    return start


def endless_run():
    """A real child that trains until it is cancelled (a target it never reaches), checking
    often on small samples so its first checkpoint comes quickly."""
    return real_run(max_seconds=300.0, target=1.0, eval_every=5, heldout_chars=2000)


def recorded_checkpoints(cfg) -> list[Checkpoint]:
    """Every check of a real training of `cfg`, with seconds from a fake clock (0.5 s a check)."""
    out: list[Checkpoint] = []

    def on_check(model, p):
        tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        out.append(Checkpoint(p.step, 0.5 * (len(out) + 1), p.samples, round(p.loss, 4),
                              p.heldout, p.trained_delay, p.reached, save(tensors),
                              by_delay=list(p.by_delay)))

    torch.manual_seed(0)
    train(cfg, on_check=on_check)
    out[-1].final = True
    return out


class ReplayRun:
    """Hands out recorded checkpoints: the first `hold` at once, the rest after `release()`."""

    def __init__(self, checkpoints: list[Checkpoint], hold: int):
        self.cfg = None
        self._messages: queue.Queue = queue.Queue()
        self._rest = []
        for k, cp in enumerate(checkpoints):
            message = Finished(cp) if cp.final else Checked(cp)
            (self._messages.put(message) if k < hold else self._rest.append(message))
        self.alive = True
        self.cancelled = False

    def release(self) -> None:
        for message in self._rest:
            self._messages.put(message)

    def get(self, timeout: float):
        try:
            message = self._messages.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(message, Finished):
            self.alive = False
        return message

    def cancel(self) -> None:
        self.alive = False
        self.cancelled = True
