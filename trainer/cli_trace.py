"""`echo-train trace`: a stream's numbers (states, gates, every head's answers, a look-back) to
one .npz file for a notebook (trainer.trace names them)."""

from __future__ import annotations

import sys
from pathlib import Path

from .cli_base import CliError, Formatter
from .text import inert


def add_parser(sub) -> None:
    t = sub.add_parser(
        "trace", formatter_class=Formatter,
        help="write a stream's states, gates, answers and a look-back to .npz",
        description="Feed text through a model and write its numbers to one .npz file "
                    "(NumPy, no pickles): the symbols, the hidden state after each step, each "
                    "gate, every head's answer and confidence, and how much each earlier key "
                    "moved the answer of the picked step (its look-back).")
    t.add_argument("--weights", type=Path, required=True, help="a weights file")
    source = t.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the text to feed")
    source.add_argument("--file", type=Path, help="a UTF-8 text file to feed")
    t.add_argument("--delay", type=int, default=None,
                   help="the delay of the looked-into answer (default: the middle one)")
    t.add_argument("--pick", type=int, default=None,
                   help="the step looked into, from 0 (default: the last)")
    t.add_argument("--out", type=Path, default=Path("trace.npz"), help="the .npz file to write")
    t.set_defaults(run=run)


def run(args) -> int:
    from .outpath import OutputError, output_target, write_output
    from .trace import npz_bytes, trace
    from .weights import WeightsError, load_model

    try:
        output_target(args.out, "a NumPy file")
    except OutputError as e:
        raise CliError(f"--out {e}") from None
    if args.file is not None:
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
            raise CliError(f"--file {args.file}: cannot be read ({why})") from None
    else:
        text = args.text
    try:
        model = load_model(args.weights)
    except WeightsError as e:
        print(inert(f"echo-train: error: {e}"), file=sys.stderr)
        return 1
    try:
        arrays = trace(model, text, args.delay, args.pick)
    except ValueError as e:
        raise CliError(str(e)) from None
    try:
        written = write_output(args.out, npz_bytes(arrays), "a NumPy file")
    except (OutputError, OSError) as e:
        print(inert(f"echo-train: error: --out {e}"), file=sys.stderr)
        return 1
    steps = len(arrays["symbols"])
    print(inert(f"wrote {written}: {steps:,} steps, {', '.join(sorted(arrays))}"))
    return 0
