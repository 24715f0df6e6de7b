"""`echo-train compare`: train every cell at every hidden size under one budget, and say where
each one's memory breaks (trainer.compare runs the experiment)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from .cli_base import DEVICES, CliError, Formatter, refuse_outputs, resolve_device
from .config import BOUNDS, CELLS, MAX_DELAY, WHOLE
from .text import inert


def add_parser(sub) -> None:
    from .compare import HIDDEN_SIZES, RECIPE, THRESHOLD

    c = sub.add_parser(
        "compare", formatter_class=Formatter,
        help="where each cell's memory breaks: GRU, LSTM and plain RNN at several hidden sizes",
        description="Train each cell at each hidden size on letters, every delay 0..MAX_DELAY "
                    "at once, under one budget and one recipe, then print for each the largest "
                    f"delay it holds (every delay up to it at {100 * THRESHOLD:g}% or better on "
                    "the homework's check) and a per-delay accuracy table.")
    c.add_argument("--cells", default=",".join(CELLS), help="the cells, comma-separated")
    c.add_argument("--hidden", default=",".join(map(str, HIDDEN_SIZES)),
                   help="the hidden sizes, comma-separated")
    c.add_argument("--max-delay", type=int, default=RECIPE.delay,
                   help="every delay 0..this is trained (at most 32)")
    c.add_argument("--steps", type=int, default=RECIPE.max_steps,
                   help="each run's budget in training steps (the same data for every run)")
    c.add_argument("--seconds", type=float, default=None,
                   help="each run's budget in seconds instead of steps")
    c.add_argument("--chars", type=int, default=10_000,
                   help="characters of the homework's check per delay, after training")
    c.add_argument("--seed", type=int, default=0, help="seeds every run alike")
    c.add_argument("--device", choices=DEVICES, default="auto",
                   help="auto: CUDA when present, else MPS, else the CPU")
    c.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    c.add_argument("--plot", type=Path, default=None,
                   help="also draw accuracy against delay, per hidden size, as a PNG (needs "
                        "matplotlib: pip install '.[plot]' in the echo-gru checkout)")
    c.set_defaults(run=run)


def _listed(text: str, option: str, parse) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise CliError(f"{option} {text!r}: give at least one value")
    return [parse(t) for t in items]


def _cell(text: str) -> str:
    if text not in CELLS:
        raise CliError(f"--cells: {text!r} is not a cell; use {', '.join(CELLS)}")
    return text


def _hidden(text: str) -> int:
    lo, hi = BOUNDS["hidden"]
    if not (WHOLE.fullmatch(text) and lo <= int(text) <= hi):
        raise CliError(f"--hidden: {text!r} is not a hidden size from {lo} to {hi}")
    return int(text)


def _settings(args) -> dict:
    """The run's settings, checked before any training time is spent."""
    cells = list(dict.fromkeys(_listed(args.cells, "--cells", _cell)))
    hidden = sorted(set(_listed(args.hidden, "--hidden", _hidden)))
    if not 1 <= args.max_delay <= min(32, MAX_DELAY):
        raise CliError(f"--max-delay {args.max_delay} is out of range: use 1 to 32")
    if args.seconds is not None and not args.seconds > 0:
        raise CliError(f"--seconds {args.seconds} must be positive")
    if args.steps is not None and args.steps < 1:
        raise CliError(f"--steps {args.steps} must be at least 1")
    if args.chars < 100:
        raise CliError(f"--chars {args.chars} must be at least 100")
    return dict(cells=cells, hidden_sizes=hidden, max_delay=args.max_delay, steps=args.steps,
                seconds=args.seconds, seed=args.seed)


def _outputs(args) -> None:
    """Refuse the output files now rather than after the runs."""
    refuse_outputs((("--json", args.json, "a JSON file"), ("--plot", args.plot, "a PNG image")),
                   args.plot)


def run(args) -> int:
    from .cli_train import terminate_as_interrupt
    from .compare import as_json, configs, run_one
    from .outpath import OutputError, write_output
    from .report import print_compare

    settings = _settings(args)
    _outputs(args)
    device = resolve_device(args.device)
    cfgs = configs(**settings, device=device)
    budget = (f"{settings['seconds']:g} s" if settings["seconds"] is not None
              else f"{settings['steps']:,} steps")
    print(f"echo-train: comparing {', '.join(settings['cells'])} at hidden "
          f"{', '.join(map(str, settings['hidden_sizes']))} on letters, delays 0–"
          f"{settings['max_delay']}, {budget} each, on {device}; Ctrl-C stops", flush=True)
    terminate_as_interrupt()
    runs = []
    try:
        for cfg in cfgs:
            run_ = run_one(cfg, args.chars)
            runs.append(run_)
            print(inert(_said(run_)), flush=True)
    except KeyboardInterrupt:
        print("echo-train: compare interrupted; nothing written", file=sys.stderr)
        return 130
    print_compare(runs, settings["max_delay"])
    command = " ".join(["echo-train", *map(shlex.quote, args.argv)])
    try:
        if args.json is not None:
            data = json.dumps(as_json(runs, cfgs, command), indent=2) + "\n"
            print(inert(f"wrote {write_output(args.json, data.encode(), 'a JSON file')}"))
        if args.plot is not None:
            from .plots import compare_png

            png = compare_png(runs, settings["max_delay"], budget)
            print(inert(f"wrote {write_output(args.plot, png, 'a PNG image')}"))
    except (OutputError, OSError) as e:
        print(inert(f"echo-train: error: could not write the results: {e}"), file=sys.stderr)
        return 1
    return 0


def _said(run) -> str:
    what = f"{run.cell} hidden {run.hidden}: "
    if run.diverged:
        return what + run.diverged
    held = run.held()
    holds = "holds no delay" if held < 0 else f"holds delays 0–{held}"
    return (f"{what}{holds} at 99% ({run.steps:,} steps, {run.seconds:.1f} s, worst "
            f"{100 * min(run.accuracy):.2f}%)")
