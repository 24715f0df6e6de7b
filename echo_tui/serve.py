"""`echo-tui serve`: the app in a browser, for a room of students (Textualize's textual-serve,
the optional extra `pip install '.[serve]'`, as the README installs it).

Each browser tab opens a WebSocket, and the server starts one app process for it (the web
driver, ECHO_GRU_SERVED=1: see served.py), so every tab has its own stream, delay, undo and
model. A closed tab ends its process, and with it any training child. Past `--max-sessions`
open tabs, a new page says the room is full, and a tab that connects anyway is told so on its
terminal; when one leaves, the next gets in. Training takes the server's one slot at a time,
or is off (`--training off`).
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

FULL_PAGE = """<!DOCTYPE html>
<html><head><title>echo-gru: the room is full</title><meta http-equiv="refresh" content="10">
</head><body style="background:#0c181f;color:#eee;font-family:monospace;padding:3em">
<h1>The room is full</h1><p>All {n} sessions of this echo-gru server are in use. This page
tries again every ten seconds: when someone closes their tab, you get their place.</p>
</body></html>"""
HEARTBEAT_S = 60.0
SERVE_PIP = "pip install '.[serve]' in the echo-gru checkout (as the README installs it)"
FULL_TERMINAL = "\r\n  The room is full: all {n} sessions are in use. Reload in a minute.\r\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="echo-tui serve", description="Serve echo-tui to browsers: each tab its own "
                                           f"session. Needs the [serve] extra: {SERVE_PIP}")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (0.0.0.0: every network this machine is on)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on")
    p.add_argument("--weights", metavar="PATH", help="the model every session opens on")
    p.add_argument("--delay", metavar="D", type=int, help="the delay every session starts at")
    p.add_argument("--max-sessions", type=int, default=30, metavar="N",
                   help="open tabs at most; the next gets a 'room is full' page")
    p.add_argument("--training", choices=["one", "off"], default="one",
                   help="one: a training run at a time server-wide; off: none")
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


def session_command(weights: str | None, delay: int | None) -> str:
    """The shell command a tab's app process runs: below the server's priority, so that while
    thirty sessions start at once (each imports PyTorch) the server still answers every tab's
    heartbeat; a tab whose heartbeat goes unanswered for 7.5 s is dropped."""
    nice = shutil.which("nice")
    parts = [nice, "-n", "10"] if nice else []
    parts += [sys.executable, "-m", "echo_tui"]
    if weights is not None:
        parts += ["--weights", str(Path(weights).resolve())]
    if delay is not None:
        parts += ["--delay", str(delay)]
    return " ".join(map(shlex.quote, parts))


def reach(host: str) -> str | None:
    """One line on who can reach a server on `host`, when it is not loopback only."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    return (f"echo-tui serve: listening on {host}, not only this machine: anyone who can reach "
            "it on the network can open a session and type into the network")


def make_server(args, lock_dir: str):
    """The textual-serve Server for `args`, with the room's limit and each session's
    environment."""
    import os

    from aiohttp import web
    from textual_serve.server import Server

    from .served import SERVED, TRAINING

    os.environ[SERVED] = "1"  # the sessions' processes inherit these
    os.environ[TRAINING] = ("off" if args.training == "off"
                            else str(Path(lock_dir) / "training.lock"))

    class RoomServer(Server):
        """textual-serve's server, with at most `max_sessions` sessions at once."""

        sessions = 0

        async def handle_index(self, request):
            if self.sessions >= args.max_sessions:
                return web.Response(text=FULL_PAGE.format(n=args.max_sessions), status=503,
                                    content_type="text/html")
            return await super().handle_index(request)

        async def handle_websocket(self, request):
            if self.sessions >= args.max_sessions:
                ws = web.WebSocketResponse()
                await ws.prepare(request)
                await ws.send_bytes(FULL_TERMINAL.format(n=args.max_sessions).encode())
                await ws.close()
                return ws
            RoomServer.sessions += 1
            try:
                return await self._session(request)
            finally:
                RoomServer.sessions -= 1

        async def _session(self, request):
            """textual-serve 1.1.3's handle_websocket, with a heartbeat of 60 s, not 15: while
            thirty sessions start at once on two cores, a pong waited for 7.5 s dropped whole
            rooms (close code 1006), where a minute never did."""
            import asyncio
            import logging

            from textual_serve.app_service import AppService
            from textual_serve.server import to_int

            websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            service = None
            try:
                await websocket.prepare(request)
                service = AppService(self.command, write_bytes=websocket.send_bytes,
                                     write_str=websocket.send_str, close=websocket.close,
                                     download_manager=self.download_manager, debug=self.debug)
                await service.start(width, height)
                try:
                    await self._process_messages(websocket, service)
                finally:
                    await service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception:  # noqa: BLE001 - said in the server's log, as textual-serve does
                logging.getLogger("textual-serve").exception("a session failed")
            finally:
                if service is not None:
                    await service.stop()
            return websocket

    return RoomServer(session_command(args.weights, args.delay), host=args.host,
                      port=args.port, title="echo-gru",
                      public_url=public_url(args.host, args.port, args.public_url))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.max_sessions < 1:
        print(f"echo-tui serve: --max-sessions {args.max_sessions} must be at least 1",
              file=sys.stderr)
        return 2
    if importlib.util.find_spec("textual_serve") is None:
        print(f"echo-tui serve: needs textual-serve, which is not installed: {SERVE_PIP}",
              file=sys.stderr)
        return 2
    if args.weights is not None or args.delay is not None:
        from .checks import check

        problem = check(args.weights, args.delay)
        if problem:
            from .describe import one_line

            print(one_line(problem[1]), file=sys.stderr)
            return problem[0]
    warning = reach(args.host)
    if warning:
        print(warning, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="echo-gru-serve-") as lock_dir:
        server = make_server(args, lock_dir)
        print(f"echo-tui serve: open {server.public_url}/ in a browser (at most "
              f"{args.max_sessions} sessions; Ctrl+C stops)", flush=True)
        server.serve()
    return 0
