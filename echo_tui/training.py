"""Training from the app: trainer.train in a child process, reporting back through its stdout.

A process, not a thread: the GIL never stalls the keys, and cancelling is a kill that leaves
nothing running. The child runs at a lower priority on all but one core, so the app keeps one
for the keys. At every held-out check it writes one frame: a JSON header with its figures, then
the weights as safetensors bytes (the one format echo-gru reads weights in). Nothing is
pickled. `python -m echo_tui.training CONFIG_JSON` is the child.

No Textual here: the app's training panel is a view of a `TrainingRun`.
"""

from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field

# the cores this process may run on (a container or taskset can allow fewer than the machine has)
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_LENGTH = struct.Struct("<Q")


@dataclass
class Checkpoint:
    """One held-out check of a run: its figures, and the model as it was then."""

    step: int
    seconds: float
    samples: int
    loss: float
    heldout: float
    trained_delay: int
    reached: bool
    weights: bytes = field(repr=False)
    final: bool = False
    by_delay: list[float] = field(default_factory=list)  # accuracy per head delay

    def in_training(self) -> float:
        """The worst held-out accuracy over the delays in training (all of them, without a
        curriculum): what the run is working on now."""
        return min(self.by_delay[:self.trained_delay + 1], default=self.heldout)

    def model(self, cfg: dict):
        """The model these weights belong to, in eval mode on the CPU."""
        from safetensors.torch import load

        from trainer.train import TrainConfig, build_model

        model = build_model(TrainConfig(**cfg))
        model.load_state_dict(load(self.weights))
        return model.eval()


def write_frame(out, kind: str, header: dict, payload: bytes = b"") -> None:
    head = json.dumps({"kind": kind, **header}).encode()
    out.write(_LENGTH.pack(len(head)) + head + _LENGTH.pack(len(payload)) + payload)
    out.flush()


def read_frame(stream) -> tuple[dict, bytes] | None:
    """(header, payload) of the next frame, or None at the end of the stream."""
    parts = []
    for _ in range(2):
        raw = stream.read(_LENGTH.size)
        if len(raw) != _LENGTH.size:
            return None
        (n,) = _LENGTH.unpack(raw)
        data = stream.read(n)
        if len(data) != n:
            return None
        parts.append(data)
    return json.loads(parts[0]), parts[1]


def child(cfg: dict, out) -> int:
    """Train per `cfg`, writing a "check" frame at every check and a "done" or "error" one."""
    try:
        os.nice(10)  # the app's keys come first
    except (AttributeError, OSError):
        pass
    import torch
    from safetensors.torch import save

    from trainer.train import TrainConfig, TrainingDiverged, train

    torch.set_num_threads(max(1, CORES - 1))
    if cfg.get("device") == "auto":
        cfg = {**cfg, "device": "cuda" if torch.cuda.is_available() else "cpu"}
    last: list[tuple[dict, bytes]] = []

    def on_check(model, p) -> None:
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        figures = {"step": p.step, "seconds": p.seconds, "samples": p.samples, "loss": p.loss,
                   "heldout": p.heldout, "trained_delay": p.trained_delay, "reached": p.reached,
                   "by_delay": p.by_delay}
        last[:] = [(figures, save(tensors))]
        write_frame(out, "check", *last[0])

    try:
        _, p = train(TrainConfig(**cfg), on_check=on_check)
    except TrainingDiverged as e:
        write_frame(out, "error", {"message": str(e)})
        return 1
    except Exception as e:  # noqa: BLE001 - the app shows it; the child just ends
        write_frame(out, "error", {"message": f"training failed: {type(e).__name__}: {e}"})
        return 1
    if last:
        figures, weights = last[0]
        write_frame(out, "done", {**figures, "reached": p.reached, "final": True}, weights)
    else:
        write_frame(out, "done", {})
    return 0


class TrainingRun:
    """A training run of `cfg` (a TrainConfig) in a child process."""

    def __init__(self, cfg) -> None:
        self.cfg = asdict(cfg)
        self._messages: queue.Queue = queue.Queue()
        self._log = tempfile.TemporaryFile()  # the child's stderr, for when it dies unheard
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "echo_tui.training", json.dumps(self.cfg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log)
        threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True,
                         name="echo-gru training reader").start()

    def _read(self, stream) -> None:
        while (frame := read_frame(stream)) is not None:
            self._messages.put(frame)
        self._messages.put(None)  # the end: the child has gone

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def get(self, timeout: float) -> tuple | None:
        """The next message, ("check" | "done", Checkpoint | None) or ("error", text), or None
        when none came within `timeout` seconds."""
        try:
            frame = self._messages.get(timeout=timeout)
        except queue.Empty:
            return None
        if frame is None:
            self._messages.put(None)  # stays at the end for any later call
            return ("error", self._last_words())
        header, payload = frame
        kind = header.pop("kind")
        if kind == "error":
            return kind, header["message"]
        return kind, Checkpoint(weights=payload, **header) if header else None

    def _last_words(self) -> str:
        self._log.seek(0)
        lines = [line for line in self._log.read().decode(errors="replace").splitlines()
                 if line.strip()]
        code = self._process.poll() if self._process else None
        return (f"the training process ended (exit status {code})"
                + (f": {lines[-1].strip()}" if lines else ""))

    def cancel(self) -> None:
        """Stop the child now; returns once it is gone (within a second)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            try:
                self._process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass


if __name__ == "__main__":
    sys.exit(child(json.loads(sys.argv[1]), sys.stdout.buffer))
