"""`echo-train`: train, evaluate and benchmark echo models."""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from .alphabet import ALPHABETS

MAX_CLI_DELAY = 64
KIND_DEFAULTS = {  # the shipped recipes; README's remake commands rely on these defaults
    "fixed": dict(hidden=64, delay=4, batch=128, chunk=16, lr=7e-3, max_seconds=120.0),
    "variable": dict(hidden=128, delay=8, batch=64, chunk=32, lr=2e-3, max_seconds=600.0),
}


class Interrupted(KeyboardInterrupt):
    """SIGTERM, taking the same clean path as Ctrl-C."""

    signum = signal.SIGTERM


class CliError(Exception):
    """A one-line refusal: printed as `echo-train: error: ...`, exit status 2."""


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return args.run(args)
    except CliError as e:
        print(f"echo-train: error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="echo-train", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for kind, help_ in (("fixed", "train a fixed-delay model (GRUMemory)"),
                        ("variable", "train a variable-delay model (VariableDelayGRUMemory)")):
        d = KIND_DEFAULTS[kind]
        t = sub.add_parser(kind, help=help_, description=help_)
        t.add_argument("--hidden", type=int, default=d["hidden"], help="GRU hidden size")
        if kind == "fixed":
            t.add_argument("--delay", type=int, default=d["delay"], help="echo delay in steps")
        else:
            t.add_argument("--max-delay", dest="delay", type=int, default=d["delay"],
                           help="the model answers for every delay 0..MAX_DELAY")
        t.add_argument("--alphabet", choices=list(ALPHABETS), default="letters",
                       help="letters: a-z (the seed's); alnum: a-z and 0-9")
        t.add_argument("--seed", type=int, default=0)
        t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                       help="auto: CUDA when present, else MPS, else the CPU")
        t.add_argument("--batch", type=int, default=d["batch"], help="streams per training step")
        t.add_argument("--chunk", type=int, default=d["chunk"],
                       help="steps per chunk of truncated back-propagation through time")
        t.add_argument("--lr", type=float, default=d["lr"], help="Adam learning rate")
        t.add_argument("--target", type=float, default=0.9999,
                       help="stop early once held-out accuracy reaches this (0-1]")
        t.add_argument("--max-seconds", type=float, default=d["max_seconds"])
        t.add_argument("--max-steps", type=int, default=None,
                       help="stop after this many steps (for repeatable runs)")
        t.add_argument("--out", type=Path, default=Path(f"{kind}_delay.safetensors"),
                       help="weights file to write (default: %(default)s)")
        t.set_defaults(run=_run_train, kind=kind)

    e = sub.add_parser("eval", help="evaluate weights files (default: the shipped ones)")
    e.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    e.add_argument("--chars", type=int, default=100_000,
                   help="characters of the seed's check per delay (default: %(default)s)")
    e.add_argument("--stream-steps", type=int, default=10_000,
                   help="length of each unbroken stream (default: %(default)s)")
    e.set_defaults(run=_run_eval)

    b = sub.add_parser("bench", help="time-to-accuracy and keystroke benchmarks")
    b.add_argument("--quick", action="store_true", help="a reduced run, under 30 seconds")
    b.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    b.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto")
    b.set_defaults(run=_run_bench)
    return p


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise CliError("--device cuda: CUDA is not available on this machine")
    if name == "mps" and not (getattr(torch.backends, "mps", None)
                              and torch.backends.mps.is_available()):
        raise CliError("--device mps: MPS is not available on this machine")
    return name


def _validate_train(args) -> None:
    what = "--delay" if args.kind == "fixed" else "--max-delay"
    if not 0 <= args.delay <= MAX_CLI_DELAY:
        raise CliError(f"{what} {args.delay} is out of range: use 0 to {MAX_CLI_DELAY}")
    if not 1 <= args.hidden <= 4096:
        raise CliError(f"--hidden {args.hidden} is out of range: use 1 to 4096")
    if args.batch < 1:
        raise CliError(f"--batch {args.batch} must be at least 1")
    if args.chunk < 1:
        raise CliError(f"--chunk {args.chunk} must be at least 1")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise CliError(f"--lr {args.lr} must be a positive number")
    if not 0 < args.target <= 1:
        raise CliError(f"--target {args.target} must be in (0, 1]")
    if not args.max_seconds > 0:
        raise CliError(f"--max-seconds {args.max_seconds} must be positive")
    if args.max_steps is not None and args.max_steps < 1:
        raise CliError(f"--max-steps {args.max_steps} must be at least 1")
    _check_writable(args.out)


def _check_writable(out: Path) -> None:
    """Refuse an --out that cannot be written, before any training time is spent."""
    if out.is_dir():
        raise CliError(f"--out {out}: is a directory")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"--out {out}: directory {parent} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise CliError(f"--out {out}: cannot write in {parent} ({e.strerror})") from None
    if out.exists() and not os.access(out, os.W_OK):
        raise CliError(f"--out {out}: file is not writable")


def _run_train(args) -> int:
    _validate_train(args)
    device = resolve_device(args.device)

    from .report import TrainingBar, print_eval_table
    from .train import TrainConfig, TrainingDiverged, train
    from .evaluate import seed_accuracies, stream_accuracies
    from .weights import save_model

    cfg = TrainConfig(kind=args.kind, hidden=args.hidden, delay=args.delay,
                      alphabet=args.alphabet, seed=args.seed, device=device, batch=args.batch,
                      chunk=args.chunk, lr=args.lr, target=args.target,
                      max_seconds=args.max_seconds, max_steps=args.max_steps)
    _terminate_as_interrupt()
    what = "delay" if args.kind == "fixed" else "max delay"
    print(f"echo-train: training a {args.kind} model (hidden {args.hidden}, {what} {args.delay}, "
          f"{args.alphabet}) on {device}; Ctrl-C stops without writing", flush=True)
    try:
        with TrainingBar(cfg) as bar:
            model, progress = train(cfg, on_progress=bar.update)
    except KeyboardInterrupt as e:
        return _interrupted(e, args.out)
    except TrainingDiverged as e:
        print(f"echo-train: error: {e}; nothing written{_kept(args.out)}", file=sys.stderr)
        return 1
    try:
        seed_acc = seed_accuracies(model)
        stream_acc = stream_accuracies(model)
        print_eval_table(f"{args.kind} model, hidden {args.hidden}, trained on {device}",
                         seed_acc, stream_acc,
                         footer=f"{progress.seconds:.1f} s, {progress.samples:,} symbols, "
                                f"{progress.step} steps")
        save_model(model, args.out, seed=args.seed, device=_device_name(device),
                   train_seconds=f"{progress.seconds:.2f}", train_samples=progress.samples,
                   train_steps=progress.step, lr=args.lr, batch=args.batch, chunk=args.chunk,
                   heldout_accuracy=f"{min(seed_acc.values()):.6f}",
                   stream_accuracy=f"{min(stream_acc.values()):.6f}",
                   command=" ".join(["echo-train", *args.argv]))
    except KeyboardInterrupt as e:
        return _interrupted(e, args.out)
    print(f"wrote {args.out}")
    if not progress.reached:
        print(f"echo-train: warning: held-out accuracy {100 * progress.heldout:.3f}% did not reach "
              f"--target {100 * args.target:g}% before the limit; train longer with "
              "--max-seconds", file=sys.stderr)
    return 0


def _interrupted(e: KeyboardInterrupt, out: Path) -> int:
    print(f"echo-train: interrupted; nothing written{_kept(out)}", file=sys.stderr)
    return 128 + getattr(e, "signum", signal.SIGINT)


def _kept(out: Path) -> str:
    return f" ({out} left as it was)" if out.exists() else ""


def _device_name(device: str) -> str:
    import torch

    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name()})"
    return device


def _terminate_as_interrupt() -> None:
    """SIGTERM takes the same clean path as Ctrl-C: stop, write nothing, leave --out whole."""
    def handler(signum, frame):
        raise Interrupted
    signal.signal(signal.SIGTERM, handler)


def _run_eval(args) -> int:
    from .evaluate import seed_accuracies, stream_accuracies
    from .report import print_eval_table
    from .weights import WeightsError, load_model, shipped_weights

    paths = args.paths or [shipped_weights("fixed_delay"), shipped_weights("variable_delay")]
    if args.chars < 1 or args.stream_steps < 10:
        raise CliError("--chars must be at least 1 and --stream-steps at least 10")
    failed = 0
    for path in paths:
        try:
            model = load_model(path)
        except WeightsError as e:
            print(f"echo-train: error: {e}", file=sys.stderr)
            failed += 1
            continue
        start = time.perf_counter()
        seed_acc = seed_accuracies(model, args.chars)
        stream_acc = stream_accuracies(model, args.stream_steps)
        meta = model.metadata
        print_eval_table(
            f"{path}: {model.kind}, hidden {model.hidden_size}, alphabet {model.alphabet.name}",
            seed_acc, stream_acc,
            footer=f"trained {meta.get('train_seconds', '?')} s on {meta.get('device', '?')}; "
                   f"evaluated in {time.perf_counter() - start:.1f} s",
            chars=args.chars, stream_steps=args.stream_steps)
    return 1 if failed else 0


def _run_bench(args) -> int:
    from .bench import run_bench

    return run_bench(quick=args.quick, json_path=args.json, device=resolve_device(args.device))
