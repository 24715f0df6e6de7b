"""The `echo-tui` command: `echo-tui [--weights PATH] [--delay D] [--compare PATH|CELL]
[--lesson NAME|PATH]` (also
`python -m echo_tui`)."""

from __future__ import annotations

import argparse
import sys

from trainer.text import inert

from .core.checks import check

PROG = "echo-tui"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Type, and watch a GRU echo your keys back with a delay.",
        epilog="echo-tui serve [--host H] [--port P] [...]: the app for a room of browsers, "
               "each tab its own session (the [serve] extra; echo-tui serve --help says more)")
    parser.add_argument("--weights", metavar="PATH",
                        help="a weights file made by echo-train (default: the shipped text "
                             "model; f3 cycles through it and the shipped ones)")
    parser.add_argument("--delay", metavar="D", type=int,
                        help="the delay to start at (default: the model's middle delay)")
    parser.add_argument("--compare", metavar="PATH|CELL",
                        help="a second model, fed every key you type, its echo drawn under the "
                             "first one's: a weights file that reads the same alphabet, or "
                             "gru, lstm or rnn for a shipped letters model (delays 0-4; then "
                             "--weights defaults to the shipped letters GRU)")
    parser.add_argument("--lesson", metavar="NAME|PATH",
                        help="open on a lesson: a shipped one (memory-and-delay, "
                             "where-memory-breaks, watch-it-learn) or a lesson file "
                             "(docs/lessons.md)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # echo-tui serve ...: the app for a room of browsers
        from .serve.command import main as serve

        return serve(argv[1:])
    args = parse_args(argv)
    if args.weights is not None or args.delay is not None or args.compare is not None:
        problem = check(args.weights, args.delay, args.compare)
        if problem:
            print(inert(problem[1]), file=sys.stderr)
            return problem[0]
    if args.lesson is not None:
        from .lessons import LessonError, find_lesson

        try:
            find_lesson(args.lesson)
        except LessonError as e:
            print(e, file=sys.stderr)
            return 2
    from .app.app import run_app

    return run_app(args.weights, args.delay, args.compare, lesson=args.lesson)


if __name__ == "__main__":
    sys.exit(main())
