"""The `echo-tui` command: `echo-tui [--weights PATH] [--delay D]` (also `python -m echo_tui`)."""

from __future__ import annotations

import argparse
import sys

from .describe import one_line

PROG = "echo-tui"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Type, and watch a GRU echo your keys back with a delay.")
    parser.add_argument("--weights", metavar="PATH",
                        help="a weights file made by echo-train (default: the shipped text "
                             "model; f3 cycles through it and the shipped ones)")
    parser.add_argument("--delay", metavar="D", type=int,
                        help="the delay to start at (default: the model's middle delay)")
    return parser.parse_args(argv)


def check(weights: str | None, delay: int | None) -> tuple[int, str] | None:
    """(exit code, one-line message) when the arguments cannot work, else None.

    Only runs when --weights or --delay is given: it loads the model, so the default launch skips
    it and draws its first frame before torch has even been imported.
    """
    from trainer import WeightsError, load_model, shipped_weights

    from .session import EchoSession

    try:
        model = load_model(weights if weights is not None else shipped_weights("text_delay"))
    except WeightsError as e:
        return 1, str(e)
    try:
        EchoSession(model, delay, undo_steps=0, keep_steps=1)
    except ValueError as e:
        return 2, f"--delay {delay}: {e}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.weights is not None or args.delay is not None:
        problem = check(args.weights, args.delay)
        if problem:
            print(one_line(problem[1]), file=sys.stderr)
            return problem[0]
    from .app import create_app

    app = create_app(args.weights, args.delay)
    app.run()
    if app.error:
        print(one_line(app.error), file=sys.stderr)
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
