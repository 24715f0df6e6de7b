"""The server of `echo-tui serve`: textual-serve's Server, with a door (a token) and a room
(at most `max_sessions` app processes, each watched).

`RoomServer` subclasses textual-serve 1.1.3's `Server` and keeps its protocol, page and static
files; what it changes: who may enter (a token in the page's URL, checked before anything
starts: 403 without it), how many (a full room's page and terminal, 503), the page (its copy in
page.html also shows why a session ended), the WebSocket (a TabSession: bounded input,
a forked app), and the log (one plain line per session start and end on stderr, not
textual-serve's rich console). Its download route is not served: a served session delivers no
files.

`Room` holds the places: one is taken when a tab's WebSocket is accepted and freed only when
its app process has been reaped, so no more than `max_sessions` app processes ever exist, however
fast tabs open and drop. Its watch looks at every session's memory and idleness a few times a
second.
"""

from __future__ import annotations

import asyncio
import hmac
import sys
import time
from functools import partial
from pathlib import Path

from aiohttp import web
from textual_serve.server import Server

from ..compat.textual_serve import index_context
from ..core.describe import minutes_or_seconds
from .tab import MESSAGE_MAX, TabSession

HEARTBEAT_S = 30.0  # a tab that answers no ping for half this is dropped (aiohttp's heartbeat)
WATCH_EVERY_S = 0.25
FULL_PAGE = """<!DOCTYPE html>
<html><head><title>echo-gru: the room is full</title><meta http-equiv="refresh" content="10">
</head><body style="background:#0c181f;color:#eee;font-family:monospace;padding:3em">
<h1>The room is full</h1><p>All {n} sessions of this echo-gru server are in use. This page
tries again every ten seconds: when someone closes their tab, you get their place.</p>
</body></html>"""
FULL_TERMINAL = "\r\n  The room is full: all {n} sessions are in use. Reload in a minute.\r\n"
REFUSED_PAGE = """<!DOCTYPE html>
<html><head><title>echo-gru: ask for the whole address</title></head>
<body style="background:#0c181f;color:#eee;font-family:monospace;padding:3em">
<h1>This address needs its token</h1><p>This echo-gru server lets in only the address it
printed, with its <code>?token=…</code> at the end. Ask your teacher for the whole address.</p>
</body></html>"""


class Room:
    """The places of a server's sessions, their forks and their watch. `start(**settings)`
    (in a thread, its Process.start waiting for the forkserver) forks one session."""

    def __init__(self, start, max_sessions: int, memory_mb: float, idle_s: float | None,
                 download_manager) -> None:
        self.start, self.max_sessions = start, max_sessions
        self.memory_mb, self.idle_s = memory_mb, idle_s
        self.download_manager = download_manager
        self.tabs: dict[int, TabSession] = {}
        self.numbered = 0
        self._forking = asyncio.Lock()

    @property
    def full(self) -> bool:
        return len(self.tabs) >= self.max_sessions

    def places(self) -> str:
        return f"{len(self.tabs)} of {self.max_sessions} places taken"

    def take(self, remote: str) -> TabSession:
        self.numbered += 1
        tab = self.tabs[self.numbered] = TabSession(self, self.numbered, remote)
        return tab

    def free(self, tab: TabSession) -> None:
        self.tabs.pop(tab.number, None)

    async def fork(self, width: int, height: int):
        from .session import AppProcess

        async with self._forking:  # one request at a time: the forkserver forks one at a time
            return await AppProcess.fork(self.start, width, height)

    def log(self, line: str) -> None:
        print(f"echo-tui serve: {line}", file=sys.stderr, flush=True)

    async def watch(self) -> None:
        """Every WATCH_EVERY_S: a session over its memory ceiling (resident memory) or idle
        past the limit is ended."""
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            for tab in list(self.tabs.values()):
                if tab.process is None or tab.reason is not None or not tab.process.alive:
                    continue
                rss = tab.process.rss_mb()
                if rss > self.memory_mb:
                    tab.end("memory", f"{rss:.0f} MB resident, over {self.memory_mb:.0f} MB")
                elif self.idle_s is not None and now - tab.last_input > self.idle_s:
                    tab.end("idle", f"nothing typed for {minutes_or_seconds(self.idle_s)}")

    async def close(self) -> None:
        """The server is stopping: every session ends."""
        for tab in list(self.tabs.values()):
            tab.end("stopping")


class RoomServer(Server):
    """textual-serve's Server for a room: a token, a bounded number of watched sessions."""

    def __init__(self, room_args: dict, *, token: str | None, **kwargs) -> None:
        super().__init__("echo-tui", **kwargs)
        self.token = token
        self.room = Room(download_manager=self.download_manager, **room_args)
        self._watch: asyncio.Task | None = None

    def initialize_logging(self) -> None:
        """No rich console: the log is plain lines on stderr (Room.log)."""

    async def _make_app(self) -> web.Application:
        import aiohttp_jinja2
        import jinja2

        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(Path(__file__).parent))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/ws/{token}", self.handle_websocket, name="websocket-token"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def on_startup(self, app: web.Application) -> None:
        self._watch = asyncio.ensure_future(self.room.watch())

    async def on_shutdown(self, app: web.Application) -> None:
        if self._watch is not None:
            self._watch.cancel()
        await self.room.close()

    def admitted(self, request: web.Request) -> bool:
        """Whether `request` carries the token (always, when the server has none)."""
        if self.token is None:
            return True
        given = request.match_info.get("token") or request.query.get("token") or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        import aiohttp_jinja2

        if not self.admitted(request):
            return web.Response(text=REFUSED_PAGE, status=403, content_type="text/html")
        if self.room.full:
            return web.Response(text=FULL_PAGE.format(n=self.room.max_sessions), status=503,
                                content_type="text/html")
        # textual-serve's own context (its handle_index undecorated), the token in the socket's
        # path: its page adds "?width=…" to the address it is given
        context = await index_context(self, request)
        if self.token is not None:
            context["app_websocket_url"] += f"/{self.token}"
        return aiohttp_jinja2.render_template("page.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.admitted(request):
            raise web.HTTPForbidden(text="this server needs its token")
        websocket = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MESSAGE_MAX)
        if self.room.full:
            await websocket.prepare(request)
            await websocket.send_bytes(FULL_TERMINAL.format(n=self.room.max_sessions).encode())
            await websocket.close()
            return websocket
        tab = self.room.take(request.remote or "")
        try:
            await websocket.prepare(request)
            await tab.run(websocket, request.query.get("width", "80"),
                          request.query.get("height", "24"))
        except ConnectionError:
            tab.end("closed")
        finally:  # however the handler ends (cancelled too), the process ends and is waited for
            if tab.process is not None:
                tab.process.kill()  # a no-op when it is gone
                await asyncio.shield(tab.process.ended)
            self.room.free(tab)
        return websocket


def start_session(ctx, stdio, report, width: int, height: int, **settings):
    """Fork a session (in a thread): multiprocessing's forkserver forks the preloaded parent,
    which runs serve_child.run_session there. Returns the started Process."""
    from .child import run_session

    process = ctx.Process(target=run_session, name="echo-gru tab", daemon=True,
                          args=(stdio, report, width, height), kwargs=settings)
    process.start()
    return process


def session_starter(ctx, weights: str | None, delay: int | None, data_limit: int | None,
                    memory: bool, lesson: str | None = None):
    """`Room.start`: forks a session with these settings."""
    return partial(start_session, ctx, weights=weights, delay=delay, data_limit=data_limit,
                   memory=memory, lesson=lesson)
