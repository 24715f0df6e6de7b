"""What a sweep tries: the grid, the ranges of the random draws, and one spec per trial.

Every draw is made from the sweep's seed and the draw's number only, so draw k has the same
settings at every grid point and for every cell: the cells are compared on paired draws, and a
sweep is the same sweep when it is planned again (or resumed on another machine).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace

from ..config import CELL_GATES, TrainConfig, validate

THRESHOLD = 0.99  # a delay is held when its head is right this often on the homework's check
CHECK_CHARS = 10_000  # characters of the homework's check per delay, after training

# The ranges of the random draws: the one place they live, written into every sweep's output.
# Learning rate log-uniform over two decades (Adam's usual 1e-3 below the middle), drawn as a
# Latin hypercube: each of n draws from its own nth of the range, so six draws cover it; the
# others a uniform choice. "orthogonal" is an orthogonal recurrent matrix per gate, "pytorch"
# PyTorch's own uniform start; clip is the gradients' largest norm, None for no clipping.
RANGES = {
    "lr": {"log_uniform": [3e-4, 3e-2]},
    "batch": {"choice": [16, 32, 64]},
    "chunk": {"choice": [16, 32, 48]},
    "init": {"choice": ["orthogonal", "pytorch"]},
    "clip": {"choice": [None, 1.0, 10.0]},
}

# What every trial shares: variable delays on letters, every head trained from the start (no
# curriculum: the plain task, as the papers set it), and an early stop once every delay is
# past 99.5% on 10,000 characters and short streams, so a trial that has learned stops.
BASE = TrainConfig(kind="variable", hidden=32, delay=8, alphabet="letters", batch=32, chunk=32,
                   lr=1e-3, target=0.995, max_seconds=6 * 3600.0, max_steps=2000,
                   eval_every=250, heldout_chars=2_000, confirm_chars=10_000,
                   heldout_stream_steps=1_000)


def draw(seed: int, k: int, n: int, ranges: dict = RANGES) -> dict:
    """Draw number `k` of `n` of a sweep seeded `seed`: {setting: value}, one per range."""
    rng = random.Random(f"echo-gru sweep {seed} draw {k}")  # str seeds hash stably (sha512)
    strata = list(range(n))
    random.Random(f"echo-gru sweep {seed} of {n}").shuffle(strata)  # draw k's nth of the range
    out = {}
    for name, rule in ranges.items():
        if "log_uniform" in rule:
            lo, hi = (math.log(x) for x in rule["log_uniform"])
            u = (strata[k] + rng.random()) / n
            out[name] = float(f"{math.exp(lo + u * (hi - lo)):.3g}")
        else:
            out[name] = rng.choice(rule["choice"])
    return out


def recurrent_parameters(cell: str, hidden: int) -> int:
    """The recurrent layer's parameters: per gate, input and recurrent weights (the input is the
    H-wide embedding) and their two biases."""
    return CELL_GATES[cell] * (2 * hidden * hidden + 2 * hidden)


def parameters(cell: str, hidden: int, max_delay: int, symbols: int = 26) -> int:
    """Every parameter of the model: embedding, recurrent layer, one head per delay."""
    k = symbols + 1
    return k * hidden + recurrent_parameters(cell, hidden) + (max_delay + 1) * k * (hidden + 1)


def hidden_for(cell: str, params: int) -> int:
    """The hidden size whose recurrent parameters come nearest `params` (at least 1)."""
    g = CELL_GATES[cell]
    root = (-1 + math.sqrt(1 + 2 * params / g)) / 2  # g(2H² + 2H) = params
    near = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(sorted(near), key=lambda h: abs(recurrent_parameters(cell, h) - params))


def config_for(spec: dict) -> TrainConfig:
    """The TrainConfig of a trial's spec, or of its row (checked)."""
    s = spec["settings"]
    budget = spec["budget_steps"] if "budget_steps" in spec else spec["steps"]
    return validate(replace(BASE, cell=spec["cell"], hidden=spec["hidden"],
                            delay=spec["max_delay"], seed=spec["seed"], max_steps=budget,
                            lr=s["lr"], batch=s["batch"], chunk=s["chunk"],
                            orthogonal=s["init"] == "orthogonal", clip=s["clip"]))


class TrialError(ValueError):
    """A --trial that names no trial of a sweep's JSON, in one sentence."""


def trial_config(given: str) -> tuple[str, TrainConfig]:
    """`SWEEP.json:ID` (`echo-train variable --trial`): the trial's id and its TrainConfig, so a
    model is trained exactly as that trial of the sweep was."""
    path, sep, ident = given.rpartition(":")
    if not sep or not path or not ident:
        raise TrialError(f"--trial {given!r}: give it as SWEEP.json:TRIAL-ID")
    try:
        rows = json.loads(open(path, encoding="utf-8").read())["rows"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TrialError(f"--trial {path}: cannot be read as echo-train sweep's --json "
                         f"({type(e).__name__})") from None
    row = next((r for r in rows if isinstance(r, dict) and r.get("id") == ident), None)
    if row is None:
        raise TrialError(f"--trial {path}: has no trial {ident!r}")
    return ident, config_for(row)


def plan(cells, sizes, max_delays, draws: int, steps: int, seed: int = 0,
         by: str = "hidden", ranges: dict = RANGES) -> list[dict]:
    """Every trial's spec, in the order they are handed out (largest first: the long trials
    start early, so the last ones to finish are short). `sizes` are hidden sizes, or recurrent
    parameter counts when `by` is "params" (each cell then gets the hidden size nearest it)."""
    specs = []
    for size in sizes:
        for max_delay in max_delays:
            for k in range(draws):
                settings = draw(seed, k, draws, ranges)
                for cell in cells:
                    hidden = size if by == "hidden" else hidden_for(cell, size)
                    specs.append({
                        "id": f"{cell}-{by}{size}-d{max_delay}-k{k}",
                        "cell": cell, "size": size, "hidden": hidden, "max_delay": max_delay,
                        "draw": k, "seed": seed + k, "steps": steps, "settings": settings,
                        "recurrent_parameters": recurrent_parameters(cell, hidden),
                        "parameters": parameters(cell, hidden, max_delay)})
    specs.sort(key=lambda s: -s["parameters"] * s["settings"]["batch"] * s["settings"]["chunk"])
    return specs
