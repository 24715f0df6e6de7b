"""echo-train: train, evaluate and benchmark the GRU echo models."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

from . import cli_compare, cli_sweep, cli_trace, cli_train
from .cli_base import DEVICES, CliError, Formatter, Parser, flag, resolve_device
from .config import ConfigError, available_memory, check_range, gigabytes
from .supervise import in_worker, leave
from .cli_train import describe_weights
from .text import inert

__all__ = ["main", "CliError", "describe_weights", "resolve_device"]


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except CliError as e:
        print(inert(f"echo-train: error: {e}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C in eval, compare, trace (training says its own)
        print(f"echo-train: {args.command}: interrupted", file=sys.stderr)
        return leave(130)


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="echo-train", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_train.add_parsers(sub)  # fixed, variable
    cli_compare.add_parser(sub)
    cli_sweep.add_parser(sub)  # the [sweep] extra: Ray Tune
    cli_trace.add_parser(sub)

    e = sub.add_parser("eval", help="evaluate weights files (default: the shipped ones)",
                       formatter_class=Formatter,
                       description="Every delay's accuracy on the homework's check and on "
                                   "long unbroken streams.")
    e.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="weights files (default: the shipped ones)")
    e.add_argument("--chars", type=int, default=100_000,
                   help="characters of the homework's check per delay")
    e.add_argument("--stream-steps", type=int, default=10_000,
                   help="length of each unbroken stream")
    e.add_argument("--streams", type=int, default=8, help="how many unbroken streams")
    e.set_defaults(run=_run_eval)

    b = sub.add_parser("bench", help="time-to-accuracy and keystroke benchmarks",
                       formatter_class=Formatter)
    b.add_argument("--quick", action="store_true",
                   help="only exercise the code on reduced sizes, under 30 seconds: no verdicts")
    b.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    b.add_argument("--plot", type=Path, default=None,
                   help="also draw held-out accuracy against training seconds, each recipe "
                        "beside its baseline, as a PNG (the [plot] extra: matplotlib)")
    b.add_argument("--device", choices=DEVICES, default="auto",
                   help="where the training runs (streaming and the app stay on the CPU)")
    b.add_argument("--baseline-seconds", type=float, default=None, metavar="S",
                   help="training seconds each baseline may spend before it counts as not "
                        "reaching a threshold (default: 180 fixed, 600 variable; a lent GPU's "
                        "time may call for less)")
    b.add_argument("--text", action="store_true",
                   help="also time `echo-train variable --alphabet text` (the app's model: "
                        "printable ASCII, delays 0-16, to 99.99%%) end to end: minutes on a CPU")
    b.set_defaults(run=_run_bench)
    return p


def _run_eval(args) -> int:
    from .evaluate import seed_counts, stream_counts
    from .report import print_eval_table
    from .weights import WeightsError, load_model, shipped_weights_dir

    paths = args.paths or sorted(shipped_weights_dir().glob("*.safetensors"))
    try:
        for name in ("chars", "streams", "stream_steps"):
            check_range(name, getattr(args, name), flag)
    except ConfigError as e:
        raise CliError(str(e)) from None
    have = available_memory()
    if have is not None and 8 * args.streams * args.stream_steps > have:
        raise CliError(f"--streams {args.streams} of --stream-steps {args.stream_steps} need "
                       f"about {gigabytes(8 * args.streams * args.stream_steps)} of memory and "
                       f"this machine has {gigabytes(have)} available")
    failed = 0
    for k, path in enumerate(paths, 1):
        # a file can take a minute (six shipped ones took 95 s): say which, as it starts
        print(inert(f"echo-train: evaluating {path} ({k} of {len(paths)})…"), file=sys.stderr,
              flush=True)
        try:
            model = load_model(path)
        except WeightsError as e:
            print(inert(f"echo-train: error: {e}"), file=sys.stderr)
            failed += 1
            continue
        start = time.perf_counter()
        seed, stream = in_worker(lambda: (seed_counts(model, args.chars),
                                          stream_counts(model, args.stream_steps, args.streams)),
                                 "echo-train eval")
        meta = model.metadata
        print_eval_table(
            inert(f"{path}: {model.kind}"
                  + (f", {model.cell} cell" if model.cell != "gru" else "")
                  + f", hidden {model.hidden_size}, "
                  f"alphabet {model.alphabet.name}"),
            seed, stream,
            footer=inert(f"trained {meta.get('train_seconds', '?')} s on "
                         f"{meta.get('device', '?')}; evaluated in "
                         f"{time.perf_counter() - start:.1f} s"),
            chars=args.chars, stream_steps=args.stream_steps, streams=args.streams)
    return leave(1 if failed else 0)


def _run_bench(args) -> int:
    from .bench import run_bench

    if args.baseline_seconds is not None and not args.baseline_seconds > 0:
        raise CliError(f"--baseline-seconds {args.baseline_seconds} must be positive")
    if args.plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise CliError("--plot needs matplotlib, which is not installed: "
                       "pip install '.[plot]' in the echo-gru checkout")
    return run_bench(quick=args.quick, json_path=args.json, device=resolve_device(args.device),
                     baseline_seconds=args.baseline_seconds, plot_path=args.plot,
                     text=args.text)
