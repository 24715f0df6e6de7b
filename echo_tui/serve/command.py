"""`echo-tui serve`: the app in a browser, for a room of students (Textualize's textual-serve,
the optional extra `pip install '.[serve]'`, as the README installs it).

Each browser tab opens a WebSocket, and the server forks one app process for it from a parent
preloaded once (serve_child), so every tab has its own stream, delay, undo and model, in a
fraction of a second and a fraction of the memory of a fresh process. The server holds the room
to its bounds (serve_server, serve_tab): who may enter (a token, on by default when others can
reach it), how many (`--max-sessions` app processes at most; past them a page says the room is
full), each session's terminal size, input, memory (`--memory-mb`) and idle time
(`--idle-minutes`), and training: one run at a time server-wide within `--training-limit`, or
none (`--training off`). Its stderr has a line for each session's start and end, and why.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import secrets
import sys
import tempfile
from pathlib import Path

DEFAULT_MEMORY_MB = 640  # a session's resident memory, most of it shared with the others
SERVE_PIP = "pip install '.[serve]' in the echo-gru checkout (as the README installs it)"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="echo-tui serve", description="Serve echo-tui to browsers: each tab its own "
                                           f"session. Needs the [serve] extra: {SERVE_PIP}")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (0.0.0.0: every network this machine is on)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on")
    p.add_argument("--weights", metavar="PATH", help="the model every session opens on")
    p.add_argument("--delay", metavar="D", type=int, help="the delay every session starts at")
    p.add_argument("--lesson", metavar="NAME|PATH",
                   help="every session opens on this lesson (a shipped one's name, or a file)")
    p.add_argument("--max-sessions", type=int, default=30, metavar="N",
                   help="app processes at most, one per open tab; the next gets a 'room is "
                        "full' page")
    door = p.add_mutually_exclusive_group()
    door.add_argument("--token", metavar="TOKEN",
                      help="the token the address must carry (?token=TOKEN); default: a random "
                           "one when --host is not this machine only")
    door.add_argument("--no-token", action="store_true",
                      help="let in anyone who can reach the server, without a token")
    p.add_argument("--idle-minutes", type=float, default=30.0, metavar="M",
                   help="a tab with nothing typed for M minutes ends, saying so (0: never; "
                        "default 30)")
    p.add_argument("--memory-mb", type=float, default=DEFAULT_MEMORY_MB, metavar="MB",
                   help="a session's memory ceiling: past it, it ends, saying so (resident "
                        f"memory, default {DEFAULT_MEMORY_MB})")
    p.add_argument("--memory-view", action="store_true",
                   help="sessions open with the memory view shown, as the terminal app does "
                        "(default: hidden, f2 shows it: redrawn at every key, it costs a room "
                        "of 30 about as much as all the rest)")
    p.add_argument("--training", choices=["one", "off"], default="one",
                   help="one: a training run at a time server-wide; off: none")
    p.add_argument("--training-limit", metavar="hidden=N,delay=N,minutes=M",
                   default="hidden=256,delay=16,minutes=5",
                   help="the most a served run may take: hidden units, the delay (a variable "
                        "model's largest), minutes (default hidden=256,delay=16,minutes=5)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address students open, when it is not this machine's own (the "
                        "page connects back to it; default: http://HOST:PORT, with this "
                        "machine's network address for 0.0.0.0)")
    return p.parse_args(argv)


def public_url(host: str, port: int, given: str | None = None) -> str:
    """What students open, and what the page connects its WebSocket to: a wildcard host
    (0.0.0.0, ::) is no address a browser can reach, so this machine's own is used instead."""
    if given:
        return given.rstrip("/")
    if host in ("0.0.0.0", "::", ""):
        import socket

        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("192.0.2.1", 9))  # no packet is sent: it picks the outgoing address
                host = s.getsockname()[0]
        except OSError:
            host = socket.gethostname()
    return f"http://{host}:{port}"


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def reach(host: str, token: str | None) -> str | None:
    """One line on who can reach a server on `host`, when it is not loopback only."""
    if loopback(host):
        return None
    if token is not None:
        return (f"echo-tui serve: listening on {host}, not only this machine: only the address "
                "with its token below opens a session")
    return (f"echo-tui serve: listening on {host}, not only this machine, without a token "
            "(--no-token): anyone who can reach it on the network can open a session and type "
            "into the network")


def the_token(args) -> str | None:
    """The token the server asks for: given, none (--no-token, or loopback by default), or a
    new random one."""
    if args.no_token:
        return None
    if args.token is not None:
        return args.token
    return None if loopback(args.host) else secrets.token_urlsafe(16)


def token_ok(token: str) -> bool:
    """A token a URL carries as it is (no character a URL would escape), of 8 to 128."""
    return 8 <= len(token) <= 128 and all(c.isalnum() or c in "-_." for c in token)


def problem(args) -> str | None:
    """The sentence refusing `args`, or None."""
    from ..training.slot import TrainingLimits

    if args.lesson is not None:
        from ..lessons import LessonError, find_lesson

        try:
            find_lesson(args.lesson)
        except LessonError as e:
            return f"--lesson: {e}"
    if args.max_sessions < 1:
        return f"--max-sessions {args.max_sessions} must be at least 1"
    if args.token is not None and not token_ok(args.token):
        return ("--token must be 8 to 128 letters, digits, '-', '_' or '.' (it travels in the "
                "address)")
    if not args.idle_minutes >= 0:
        return f"--idle-minutes {args.idle_minutes:g} must be 0 (never) or more"
    if not args.memory_mb >= 200:
        return f"--memory-mb {args.memory_mb:g} must be at least 200 (a session needs that)"
    try:
        TrainingLimits.parse(args.training_limit)
    except ValueError as e:
        return f"--training-limit {args.training_limit}: {e}"
    return None


def sessions_environment(args, lock_dir: str) -> dict[str, str]:
    """What the sessions' parent, and so every session, runs with: served, its training slot
    and limits, one thread per pool (serve_child.THREADS), and textual-serve's own settings for
    an app it serves (its web driver, colours and frame rate)."""
    from ..compat.textual_serve import app_environment
    from ..core.served import SERVED
    from ..training.slot import LIMITS, TRAINING, TrainingLimits
    from .child import THREADS

    served = app_environment()
    textual = {k: v for k, v in served.items()
               if os.environ.get(k) != v and k not in ("COLUMNS", "ROWS")}
    return {**textual, **THREADS, SERVED: "1",
            TRAINING: "off" if args.training == "off" else str(Path(lock_dir) / "training.lock"),
            LIMITS: str(TrainingLimits.parse(args.training_limit))}


def make_server(args, lock_dir: str, token: str | None):
    """The RoomServer for `args`: its sessions' parent set up (not yet started)."""
    import multiprocessing

    from .child import PRELOAD
    from .server import RoomServer, session_starter

    os.environ.update(sessions_environment(args, lock_dir))  # the forkserver inherits it
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD])
    weights = str(Path(args.weights).resolve()) if args.weights is not None else None
    data_limit = int(args.memory_mb * 2 ** 20)  # each session's backstop under the watch
    lesson = lesson_for_sessions(args.lesson)
    room = {"start": session_starter(ctx, weights, args.delay, data_limit, args.memory_view,
                                     lesson),
            "max_sessions": args.max_sessions, "memory_mb": args.memory_mb,
            "idle_s": 60 * args.idle_minutes if args.idle_minutes > 0 else None}
    return RoomServer(room, token=token, host=args.host, port=args.port, title="echo-gru",
                      public_url=public_url(args.host, args.port, args.public_url)), ctx


def lesson_for_sessions(given: str | None) -> str | None:
    """`--lesson` as each session's app reads it: a shipped lesson's name, or a file's full
    path (a session need not run where the server was started)."""
    from ..lessons import SHIPPED_LESSONS

    if given is None or (given in SHIPPED_LESSONS and not Path(given).exists()):
        return given
    return str(Path(given).expanduser().resolve())


def check_parent(ctx) -> str | None:
    """Start the sessions' parent (its preload takes seconds) and fork one probe of it: the
    sentence saying what is wrong, or None."""
    from .child import probe

    process = ctx.Process(target=probe, name="echo-gru probe")
    process.start()
    process.join()
    if process.exitcode == 0:
        return None
    if process.exitcode == 4:
        return ("the sessions' parent runs more than one thread, so a session forked from it "
                "could hang; not serving")
    return f"the sessions' parent did not preload the app (probe exit status {process.exitcode})"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    said = problem(args)
    if said:
        print(f"echo-tui serve: {said}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("textual_serve") is None:
        print(f"echo-tui serve: needs textual-serve, which is not installed: {SERVE_PIP}",
              file=sys.stderr)
        return 2
    if args.weights is not None or args.delay is not None:
        from ..core.checks import check

        found = check(args.weights, args.delay)
        if found:
            from trainer.text import inert

            print(inert(found[1]), file=sys.stderr)
            return found[0]
    token = the_token(args)
    warning = reach(args.host, token)
    if warning:
        print(warning, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="echo-gru-serve-") as lock_dir:
        server, ctx = make_server(args, lock_dir, token)
        said = check_parent(ctx)
        if said:
            print(f"echo-tui serve: {said}", file=sys.stderr)
            return 1
        address = server.public_url + "/" + (f"?token={token}" if token is not None else "")
        print(f"echo-tui serve: open {address} in a browser (at most {args.max_sessions} "
              "sessions; Ctrl+C stops)", flush=True)
        server.serve()
    return 0
