"""One training run's settings, the bounds they must keep, the device rule and what a weights
file records of the run: one definition each, read by `echo-train`, the app's training panel
and the loader.

The limits below are the sizes echo-gru accepts, for training and loading alike. A weights file
that claims more is refused before anything is built from it: these bounds are what keeps a
crafted file from costing gigabytes. They are generous for the lesson (the text alphabet has 95
symbols, the shipped models use hidden 256 and delays up to 32) and stated in the README.

Nothing here imports torch until it is called for (resolve_device, device_name), nor any
other trainer module.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Callable

MAX_SYMBOLS = 256  # symbols in an alphabet (the blank is one more)
MAX_HIDDEN = 4096  # units in the GRU
MAX_DELAY = 64  # the longest delay (fixed) or the largest max delay (variable)
MAX_HEADER = 1024 * 1024  # bytes of a weights file's JSON header (trainer/header.py says why)

# The recurrent cells a model can have, and the square blocks of hidden-size rows each stacks in
# its weights (a GRU's reset, update and new gates; an LSTM's input, forget, cell and output
# gates; a plain tanh RNN's one): the loader works the tensors' shapes out from these.
CELLS = ("gru", "lstm", "rnn")
CELL_GATES = {"gru": 3, "lstm": 4, "rnn": 1}
CELLS_SAID = "gru, lstm or rnn"

# The whole-number settings with both ends bounded (inclusive): the form's fields and the
# command's options alike.
BOUNDS = {"delay": (0, MAX_DELAY), "hidden": (1, MAX_HIDDEN)}
WHOLE = re.compile(r"[0-9]{1,9}")  # a whole number, typed or in a file: ASCII digits only
# (str.isdigit() takes '²' and '٢'), at most nine of them


@dataclass
class TrainConfig:
    """One training run's settings. The defaults are the shipped fixed-delay recipe; the other
    recipes are in trainer.recipes."""

    kind: str = "fixed"  # fixed | variable
    # gru | lstm | rnn. The recipes were tuned for GRUs; an LSTM or RNN trains with the same
    # ones (its own learning rate has not been measured: --lr sets one)
    cell: str = "gru"
    hidden: int = 64
    delay: int = 4  # the fixed model's delay, or the variable model's max delay
    alphabet: str = "letters"
    seed: int = 0
    device: str = "cpu"
    batch: int = 128
    chunk: int = 16
    lr: float = 7e-3
    lr_drop_at: float = 0.999  # once held-out accuracy reaches this, the lr is multiplied by...
    lr_drop: float = 0.3  # ...this, once: a smaller step polishes the last errors away
    beta2: float = 0.99  # Adam's; 0.999 needed about twice the steps to reach 99.99%
    orthogonal: bool = True  # orthogonal recurrent weights: a memory that starts near-lossless
    clip: float | None = None  # the gradients' largest norm (None: not clipped); the sweep draws it
    reset_prob: float = 0.02
    # A delay curriculum (variable models): train the heads of delays 0..curriculum first and
    # widen by curriculum_step whenever their held-out worst reaches curriculum_at, the short
    # delays still training. None: every head from the start.
    curriculum: int | None = None
    curriculum_step: int = 2
    curriculum_at: float = 0.99
    # Score the heads at every head_stride-th position of a chunk (the offset turning each
    # step), not at all of them: the heads' product is half a text step's cost, the memory's
    # gradient barely needs every position
    head_stride: int = 1
    # Weigh the heads' losses by delay: delay d counts 1 + head_slope * d / max delay, the
    # weights scaled to average 1 (0: every head alike)
    head_slope: float = 0.0
    target: float = 0.9999
    max_seconds: float = 120.0
    max_steps: int | None = None
    eval_every: int = 50
    heldout_chars: int = 20_000  # per delay, at every check
    # per delay, once a check passes; None: enough for the target (see confirm_size)
    confirm_chars: int | None = None
    heldout_stream_steps: int = 5_000


class ConfigError(ValueError):
    """One setting refused: `field` (a TrainConfig field, or "device"), the `value` refused,
    its bounds `lo` and `hi` where it has them (None: unbounded), and one sentence naming it."""

    def __init__(self, sentence: str, field: str, value, lo=None, hi=None):
        super().__init__(sentence)
        self.field, self.value, self.lo, self.hi = field, value, lo, hi


Label = Callable[[str], str]  # a field's name as the caller's user knows it: "--max-delay"


def _as_is(field: str) -> str:
    return field


def validate(cfg: TrainConfig, label: Label | None = None) -> TrainConfig:
    """`cfg`, once every setting a person can give is within bounds; else ConfigError, whose
    sentence names the setting by `label(field)` (by default the field's own name)."""
    name = label or _as_is
    for field, (lo, hi) in BOUNDS.items():
        value = getattr(cfg, field)
        if not lo <= value <= hi:
            raise ConfigError(f"{name(field)} {value} is out of range: use {lo} to {hi}",
                              field, value, lo, hi)
    if cfg.cell not in CELLS:
        raise ConfigError(f"{name('cell')} {cfg.cell} must be {CELLS_SAID}", "cell", cfg.cell)
    rules = (  # (field, within bounds, what it must be, lo, hi)
        ("batch", cfg.batch >= 1, "must be at least 1", 1, None),
        ("chunk", cfg.chunk >= 1, "must be at least 1", 1, None),
        ("head_stride", cfg.head_stride >= 1, "must be at least 1", 1, None),
        ("lr", math.isfinite(cfg.lr) and cfg.lr > 0, "must be a positive number", 0, None),
        ("clip", cfg.clip is None or (math.isfinite(cfg.clip) and cfg.clip > 0),
         "must be a positive number", 0, None),
        ("target", 0 < cfg.target <= 1, "must be in (0, 1]", 0, 1),
        ("max_seconds", cfg.max_seconds > 0, "must be positive", 0, None),
        ("max_steps", cfg.max_steps is None or cfg.max_steps >= 1, "must be at least 1", 1,
         None),
    )
    for field, ok, must, lo, hi in rules:
        if not ok:
            value = getattr(cfg, field)
            raise ConfigError(f"{name(field)} {value} {must}", field, value, lo, hi)
    return cfg


def whole(text: str, field: str) -> int:
    """A typed whole number for `field` (one of BOUNDS), within its bounds; else ConfigError:
    "delay must be a whole number from 0 to 64, not '99'"."""
    lo, hi = BOUNDS[field]
    digits = text.strip()
    if not (WHOLE.fullmatch(digits) and lo <= int(digits) <= hi):
        raise ConfigError(f"{field} must be a whole number from {lo} to {hi}, not {text!r}",
                          field, text, lo, hi)
    return int(digits)


def resolve_device(device: str, label: Label | None = None) -> str:
    """The device a run of `device` trains on: "auto" is CUDA when present, else MPS, else the
    CPU; "cuda" or "mps" on a machine without it is refused (ConfigError naming the setting by
    `label("device")`). Imports torch."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    name = (label or _as_is)("device")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{name} cuda: CUDA is not available on this machine", "device", device)
    if device == "mps" and not has_mps:
        raise ConfigError(f"{name} mps: MPS is not available on this machine", "device", device)
    return device


def device_name(device: str) -> str:
    """How a weights file records the device: "cuda (NVIDIA H200)", "cpu"."""
    if device == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name()})"
    return device


def run_metadata(cfg: TrainConfig, progress, *, recipe: str, command: str,
                 heldout: float | None = None, stream: float | None = None,
                 **extra) -> dict[str, str]:
    """What a weights file records of the run that made it, from `echo-train` or the app:
    `progress` is the run's trainer.train.Progress, or a checkpoint with the same `step`,
    `seconds`, `samples` and `heldout`. `heldout` and `stream` (the worst delay's accuracy on
    the homework's check and on long streams) default to the progress's held-out figure and to
    not recorded; `extra` adds keys."""
    meta = dict(recipe=recipe, config=json.dumps(asdict(cfg)), cell=cfg.cell, seed=cfg.seed,
                device=device_name(cfg.device), train_seconds=f"{progress.seconds:.2f}",
                train_samples=progress.samples, train_steps=progress.step, lr=cfg.lr,
                batch=cfg.batch, chunk=cfg.chunk,
                heldout_accuracy=f"{progress.heldout if heldout is None else heldout:.6f}")
    if stream is not None:
        meta["stream_accuracy"] = f"{stream:.6f}"
    meta.update(command=command, **extra)
    return {k: str(v) for k, v in meta.items()}
