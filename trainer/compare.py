"""`echo-train compare`'s experiment: where each cell's memory breaks.

Every cell (a GRU, an LSTM, a plain RNN) is trained at every hidden size on the same task
(letters, every delay 0..max at once) under the same budget (training steps, so every run sees
the same data; or seconds), from the same seed. Then each run's every head is checked on the
homework's check, and the largest delay it holds is the longest run of delays from 0 whose
accuracy all reach the threshold.

One recipe for every cell: the delay curriculum of the text recipe (delays 0-4 first, two more
whenever the worst of those in training reaches 99%), so how far a cell gets within the budget
is part of what is measured. The one thing that differs by cell is an LSTM's forget gate, which
starts open (trainer.train says why).

It is the quick look, one setting, no extra needed: `echo-train sweep` (trainer.sweep) trains
and checks each of its trials with this module's `run_one` too, over random draws of the
settings, so a compare run is a sweep's trial with the settings fixed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

from .config import CELLS, TrainConfig, validate

HIDDEN_SIZES = (16, 32, 64, 128)
THRESHOLD = 0.99

# The recipe every run shares: the `long` recipe's batch, chunk, learning rate and orthogonal
# start (tuned for GRUs; the same for all, so the table compares cells, not tuning), the text
# recipe's curriculum, checks often enough to widen it promptly, and an early stop once every
# delay is at 99.9% on 20,000 characters (past what the table asks).
RECIPE = TrainConfig(kind="variable", hidden=64, delay=16, batch=64, chunk=48, lr=2e-3,
                     curriculum=4, curriculum_step=2, target=0.999, max_seconds=3600.0,
                     max_steps=5000, eval_every=100, heldout_chars=4_000, confirm_chars=20_000,
                     heldout_stream_steps=2_000)


@dataclass
class Run:
    """One cell at one hidden size: what it was given and the accuracy of every delay's head."""

    cell: str
    hidden: int
    steps: int = 0
    seconds: float = 0.0
    samples: int = 0
    accuracy: list[float] = field(default_factory=list)  # by delay, 0..max
    diverged: str = ""  # the sentence, when training diverged (accuracy is then empty)

    def held(self, threshold: float = THRESHOLD) -> int:
        """The largest delay d with every delay 0..d at `threshold` or better (-1: not even 0)."""
        d = -1
        for acc in self.accuracy:
            if acc < threshold:
                break
            d += 1
        return d


def configs(cells=CELLS, hidden_sizes=HIDDEN_SIZES, max_delay: int = 16,
            steps: int | None = RECIPE.max_steps, seconds: float | None = None, seed: int = 0,
            device: str = "cpu", alphabet: str = "letters"):
    """The runs' TrainConfigs, in the order they run: cell by cell, smallest hidden first. The
    budget is `steps`, or `seconds` when given (each run's, checks included)."""
    out = []
    for cell in cells:
        for hidden in hidden_sizes:
            cfg = replace(RECIPE, cell=cell, hidden=hidden, delay=max_delay, seed=seed,
                          device=device, alphabet=alphabet,
                          max_steps=None if seconds is not None else steps,
                          max_seconds=seconds if seconds is not None else RECIPE.max_seconds,
                          eval_every=RECIPE.eval_every)
            out.append(validate(cfg))
    return out


def run_one(cfg: TrainConfig, check_chars: int = 10_000) -> Run:
    """Train `cfg` and check every head on `check_chars` characters of the homework's check."""
    from .evaluate import seed_accuracies
    from .train import TrainingDiverged, train

    run = Run(cfg.cell, cfg.hidden)
    start = time.perf_counter()
    try:
        model, progress = train(cfg)
    except TrainingDiverged as e:
        run.diverged = str(e)
        run.seconds = time.perf_counter() - start
        return run
    run.steps, run.seconds, run.samples = progress.step, progress.seconds, progress.samples
    acc = seed_accuracies(model, check_chars)
    run.accuracy = [acc[d] for d in sorted(acc)]
    return run


def as_json(runs: list[Run], cfgs: list[TrainConfig], command: str) -> dict:
    """The whole comparison, as `--json` writes it."""
    first = cfgs[0]
    return {
        "command": command,
        "threshold": THRESHOLD,
        "max_delay": first.delay,
        "alphabet": first.alphabet,
        "budget": ({"steps": first.max_steps} if first.max_steps is not None
                   else {"seconds": first.max_seconds}),
        "recipe": {k: v for k, v in asdict(first).items() if k not in ("cell", "hidden")},
        "runs": [dict(asdict(r), held=r.held()) for r in runs],
    }
