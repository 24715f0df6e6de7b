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
import os
import re
from dataclasses import asdict, dataclass, fields
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



@dataclass(frozen=True)
class Range:
    """The values a setting may take: `lo` to `hi`, an end left out where `open_lo` or
    `open_hi` says so; `whole`: whole numbers only. `optional`: None is allowed too (the
    setting is off)."""

    lo: float
    hi: float
    whole: bool = True
    open_lo: bool = False
    open_hi: bool = False
    optional: bool = False

    def holds(self, value) -> bool:
        if value is None:
            return self.optional
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not isinstance(value, int):
            return False
        if not math.isfinite(value):
            return False
        above = value > self.lo if self.open_lo else value >= self.lo
        below = value < self.hi if self.open_hi else value <= self.hi
        return above and below

    def said(self) -> str:
        """'0 to 64', 'more than 0, up to 10', 'at least 0 and less than 1'."""
        lo, hi = number(self.lo), number(self.hi)
        if self.open_lo:
            return f"more than {lo}, up to {hi}"
        if self.open_hi:
            return f"at least {lo} and less than {hi}"
        return f"{lo} to {hi}"


# Every setting a run has, its range: the one place echo-train, the app's training panel, the
# benchmark trials and sweeps (which draw batch, chunk and lr inside these) check against. The
# ends are what a run can take, wider than any recipe: the memory a run needs is checked on top
# (`check_memory`), and the time a step takes never holds up Ctrl-C or --max-seconds
# (trainer/supervise.py).
RANGES: dict[str, Range] = {
    "hidden": Range(1, MAX_HIDDEN),
    "delay": Range(0, MAX_DELAY),
    "seed": Range(0, 2**32 - 1),  # a generator's seed; the held-out data's is seed + 7,920
    "batch": Range(1, 65_536),
    "chunk": Range(1, 4_096),
    "lr": Range(0, 10, whole=False, open_lo=True),
    "lr_drop_at": Range(0, 1, whole=False, open_lo=True),
    "lr_drop": Range(0, 1, whole=False, open_lo=True),
    "beta2": Range(0, 1, whole=False, open_hi=True),
    "reset_prob": Range(0, 1, whole=False),
    "curriculum": Range(0, MAX_DELAY, optional=True),
    "curriculum_step": Range(1, MAX_DELAY),
    "curriculum_at": Range(0, 1, whole=False, open_lo=True),
    "head_stride": Range(1, 4_096),
    "head_slope": Range(0, 100, whole=False),
    "clip": Range(0, 1e6, whole=False, open_lo=True, optional=True),  # a gradient norm
    "target": Range(0, 1, whole=False, open_lo=True),
    "max_seconds": Range(0, 1_000_000, whole=False, open_lo=True),  # 11.6 days
    "max_steps": Range(1, 10**9, optional=True),
    "eval_every": Range(1, 10**6),
    "heldout_chars": Range(1, 10**8),
    "confirm_chars": Range(1, 10**8, optional=True),
    "heldout_stream_steps": Range(10, 10**7),
    "threads": Range(1, 1_024),  # --threads: not a TrainConfig field (trainer.threads)
    # echo-train eval's: its streams are held whole in memory (8 bytes a step)
    "chars": Range(1, 10**8),
    "streams": Range(1, 1_000),
    "stream_steps": Range(10, 10**7),
}
# The whole-number settings the app's form types in (`whole`), and the loader checks a file's
# sizes against
BOUNDS = {name: (int(RANGES[name].lo), int(RANGES[name].hi)) for name in ("delay", "hidden")}
WHOLE = re.compile(r"[0-9]{1,9}")  # a whole number, typed or in a file: ASCII digits only
# (str.isdigit() takes '²' and '٢'), at most nine of them


def number(value) -> str:
    """A setting's value as a refusal quotes it: 64, 0.007, 1e+12, nan."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


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
    """`cfg`, once every setting is within its range (RANGES); else ConfigError, whose
    sentence names the setting by `label(field)` (by default the field's own name):
    "--batch 1000000000 is out of range: use 1 to 65536"."""
    name = label or _as_is
    if cfg.kind not in ("fixed", "variable"):
        raise ConfigError(f"{name('kind')} {cfg.kind} must be fixed or variable", "kind",
                          cfg.kind)
    if cfg.cell not in CELLS:
        raise ConfigError(f"{name('cell')} {cfg.cell} must be {CELLS_SAID}", "cell", cfg.cell)
    for field in fields(TrainConfig):
        if field.name in RANGES:
            check_range(field.name, getattr(cfg, field.name), label)
    return cfg


def check_range(field: str, value, label: Label | None = None):
    """`value` for setting `field` when RANGES allows it; else ConfigError, as `validate`."""
    allowed = RANGES[field]
    if not allowed.holds(value):
        raise ConfigError(f"{(label or _as_is)(field)} {number(value)} is out of range: use "
                          f"{allowed.said()}", field, value, allowed.lo, allowed.hi)
    return value


def whole(text: str, field: str) -> int:
    """A typed whole number for `field` (one of BOUNDS), within its bounds; else ConfigError:
    "delay must be a whole number from 0 to 64, not '99'"."""
    lo, hi = BOUNDS[field]
    digits = text.strip()
    if not (WHOLE.fullmatch(digits) and lo <= int(digits) <= hi):
        raise ConfigError(f"{field} must be a whole number from {lo} to {hi}, not {text!r}",
                          field, text, lo, hi)
    return int(digits)


# How many symbols each preset alphabet has (trainer.alphabet defines them; a test holds the two
# equal): the memory estimate needs the count without building an alphabet
ALPHABET_SIZES = {"letters": 26, "alnum": 36, "text": 95}
CHECK_BATCH = 1024  # strings a held-out check runs at once (trainer.evaluate.seed_counts)
CHECK_LOGITS = 64 * 1024 * 1024  # bytes of a check's logits at most (the same)
MEMORY_SLACK = 1.25  # the estimate's margin over what it counts (docs/training.md: the peaks measured)
MEMORY_FLOOR = 64 * 1024 * 1024  # what any run adds besides: the allocator's arenas, the data


def memory_needed(cfg: TrainConfig) -> int:
    """Bytes a run of `cfg` needs at its peak, on top of the process as it is before training
    (torch loaded): its weights with their gradients and the optimiser's state, and the larger
    of a training step's activations (what back-propagation through `chunk` steps keeps per
    position) and a held-out check's. The README gives the peaks it was measured against."""
    k = ALPHABET_SIZES.get(cfg.alphabet, MAX_SYMBOLS) + 1
    h, g = cfg.hidden, CELL_GATES.get(cfg.cell, 4)
    heads = cfg.delay + 1 if cfg.kind == "variable" else 1
    params = k * h + g * h * (2 * h + 2) + heads * k * (h + 1)
    positions = cfg.batch * cfg.chunk
    scored = cfg.batch * -(-cfg.chunk // max(1, cfg.head_stride))
    # per position: the cell's saved inputs, gates and outputs (4g + 2 of H); per scored
    # position: each head's logits, their softmax and gradient; the targets and ids, int64
    step = 4 * (positions * h * (4 * g + 2) + scored * heads * k * 3) + 8 * positions * (heads + 2)
    longest = cfg.delay + 30  # the check's longest string (trainer.evaluate.check_lengths)
    check = 4 * 2 * CHECK_BATCH * longest * h + CHECK_LOGITS
    # weights, gradients, Adam's two averages, its temporaries and the cell's own copies
    return int(MEMORY_SLACK * (6 * 4 * params + max(step, check))) + MEMORY_FLOOR


def available_memory() -> int | None:
    """Bytes this machine can give a new allocation now (Linux's MemAvailable), or None where
    it cannot be known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def gigabytes(n: int) -> str:
    """'412.5 GB', '0.3 GB'."""
    return f"{n / 1e9:,.1f} GB"


def check_memory(cfg: TrainConfig, label: Label | None = None,
                 available: int | None = None) -> TrainConfig:
    """`cfg`, when the memory its run needs (memory_needed) is no more than the machine has
    `available` (default: now); else ConfigError naming the estimate and what to shrink."""
    need = memory_needed(cfg)
    have = available_memory() if available is None else available
    if have is not None and need > have:
        name = label or _as_is
        raise ConfigError(
            f"this run needs about {gigabytes(need)} of memory (batch {cfg.batch} × chunk "
            f"{cfg.chunk} × hidden {cfg.hidden}) and this machine has {gigabytes(have)} "
            f"available: use a smaller {name('batch')}, {name('chunk')} or {name('hidden')}",
            "memory", need, None, have)
    return cfg


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
