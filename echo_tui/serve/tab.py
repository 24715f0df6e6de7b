"""One tab of `echo-tui serve` from its WebSocket's opening to its process's end, within bounds.

What a tab sends reaches its app only as the bounds allow (`TabSession._relay`): its terminal
size is clamped at connect and at every resize (served.clamp_size; the resizes of a dragged
window reach the app at most every RESIZE_EVERY_S, the latest one); its input goes at most
BYTES_PER_S a second after a first BURST at once, every message counting MESSAGE_COST bytes at
least: past that the tab's socket is not read until the bucket refills, so what was typed or
pasted waits, whole, and is never dropped. A message over MESSAGE_MAX (aiohttp's bound) ends the
session. The server's watch (serve_server.Room) ends a session past its memory ceiling or idle
too long.

However it ends (the tab closed or went silent, the app quit or crashed, a bound was met), the
app process is ended and waited for: asked to quit, then killed STOP_WAIT_S later, and only once
the forkserver has reaped it does the tab's place in the room come free. The page is told why in
the WebSocket's close frame, which its "Session ended." dialog shows.
"""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import WSCloseCode, WSMsgType

from trainer.text import inert

from ..compat.textual_serve import ForkedAppService
from ..core.describe import minutes_or_seconds
from ..core.served import clamp_size

MESSAGE_MAX = 4 * 1024 * 1024  # bytes of one WebSocket message (aiohttp's own default bound)
BURST = 256 * 1024  # input a tab may send at once: a long paste
BYTES_PER_S = 64 * 1024  # then this much a second (a typist sends about ten bytes a second)
MESSAGE_COST = 32  # each message counts at least this: a flood of tiny ones is bounded too
CHUNK = 16 * 1024  # a long message reaches the app in pieces of this, each paid for
RESIZE_EVERY_S = 0.1
STOP_WAIT_S = 2.0  # a quitting app's time to end its training child and exit
SLOW_READER_S = 60.0  # a tab that reads none of its app's output this long is ended
CLOSE_WAIT_S = 5.0  # for the page's answer to the close frame

# why a session ended: (the log's word, the page's sentence)
ENDS = {
    "closed": ("closed", ""),
    "quit": ("quit (ctrl+q)", "You ended this session. Restart opens a new one."),
    "idle": ("idle", "This session ended: nothing was typed in it for {idle}. Restart opens a "
                     "new one."),
    "memory": ("memory ceiling", "This session ended: it needed more memory than this server "
                                 "gives a tab ({memory} MB). Restart opens a new one."),
    "crashed": ("crashed", "This session ended: its app stopped with an error (the server's "
                           "log has it). Restart opens a new one."),
    "too big": ("input too large", "This session ended: the page sent more at once than this "
                                   "server takes (4 MB)."),
    "slow": ("stopped reading", "This session ended: the page read nothing for a minute."),
    "stopping": ("server stopping", "The server has stopped."),
    "no start": ("did not start", "This session could not start (the server's log says why). "
                                  "Restart tries again."),
}


class Budget:
    """Input per second: a bucket refilled at `rate` bytes a second, holding at most `burst`;
    `spend` waits until the bucket has what it asks for (at most `burst` at once)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self._at = burst, time.monotonic()

    async def spend(self, n: float) -> None:
        n = min(n, self.burst)
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.rate)
        self._at = now
        if self.tokens < n:
            await asyncio.sleep((n - self.tokens) / self.rate)
            self.tokens, self._at = n, time.monotonic()
        self.tokens -= n


class TabSession:
    """One tab's place in the room (`room`: serve_server.Room, which numbers, watches and logs
    it): its app process, its input's bounds, and why it ended (`reason`, a key of ENDS)."""

    def __init__(self, room, number: int, remote: str) -> None:
        self.room, self.number, self.remote = room, number, inert(remote or "?")
        self.process = None  # its AppProcess, once forked
        self.started = self.last_input = time.monotonic()
        self.reason: str | None = None
        self.detail = ""  # what the log adds to the reason: the memory used, the last words
        self.training: str | None = None  # its training run, as the log names it
        self.budget = Budget(BYTES_PER_S, BURST)
        self._ending = asyncio.Event()
        self._size: tuple[int, int] | None = None
        self._resizer: asyncio.Task | None = None
        self._sending: asyncio.Future | None = None

    async def run(self, websocket, width: int, height: int) -> None:
        """Fork the app, relay both ways until the session ends, then end the process and tell
        the page why. Returns once the process is gone."""
        service = ForkedAppService(self._fork, write_bytes=self._send(websocket),
                                   write_str=websocket.send_str, close=self._app_said_exit,
                                   download_manager=self.room.download_manager)
        try:
            await service.start(*clamp_size(width, height))
        except Exception as e:  # noqa: BLE001 - said in the log and on the page
            self.end("no start", f"{type(e).__name__}: {e}")
        else:
            self.room.log(f"session {self.number} started ({self.remote}; "
                          f"{self.room.places()})")
            await self._follow(websocket, service)
        await self._say_why(websocket)

    async def _fork(self, width: int, height: int):
        self.process = await self.room.fork(width, height)
        return self.process

    async def _follow(self, websocket, service) -> None:
        relay = asyncio.ensure_future(self._relay(websocket, service))
        reports = asyncio.ensure_future(self._read_reports())
        ending = asyncio.ensure_future(self._ending.wait())
        await asyncio.wait({relay, ending, self.process.ended},
                           return_when=asyncio.FIRST_COMPLETED)
        if relay.done() and not relay.cancelled() and relay.exception() is not None:
            self.end("closed")  # the socket failed under the relay: the tab is gone
        if self.process.ended.done() and self.reason is None:
            code = self.process.ended.result()
            memory = "MemoryError" in self.process.tail.decode(errors="replace")
            self.end("quit" if code == 0 else "memory" if memory else "crashed",
                     "" if code == 0 else f"exit status {code}: {self.process.last_words()}")
        relay.cancel()
        ending.cancel()
        await self._stop(service)
        await reports

    async def _stop(self, service) -> None:
        """The app asked to quit (so it ends its training child), then killed if it lingers;
        back once the forkserver has reaped it."""
        process = self.process
        if process.alive and self.reason != "memory":
            try:
                await asyncio.wait_for(service.send_meta({"type": "quit"}), STOP_WAIT_S)
                await asyncio.wait_for(asyncio.shield(process.ended), STOP_WAIT_S)
            except asyncio.TimeoutError:
                pass
        process.kill()
        await process.ended
        for task in (self._sending, self._resizer):  # a send to a tab that stopped reading,
            if task is not None:  # a resize for an app that is gone: neither will be now
                task.cancel()
        await process.closed()

    def end(self, reason: str, detail: str = "") -> None:
        """End this session for `reason` (a key of ENDS): the first reason given stands."""
        if self.reason is None:
            self.reason, self.detail = reason, inert(detail)
            if reason == "memory" and self.process is not None:
                self.process.kill()  # at once: it may be growing
        self._ending.set()

    # -- the tab's messages, within bounds -------------------------------------------------
    async def _relay(self, websocket, service) -> None:
        async for message in websocket:
            if message.type == WSMsgType.ERROR:  # aiohttp's bound: a message over MESSAGE_MAX
                too_big = getattr(message.data, "code", None) == WSCloseCode.MESSAGE_TOO_BIG
                self.end("too big" if too_big else "closed")
                return
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, *rest = json.loads(message.data)
            except (ValueError, TypeError):
                continue
            await self.budget.spend(MESSAGE_COST)
            if kind == "stdin" and rest and isinstance(rest[0], str):
                self.last_input = time.monotonic()
                data = rest[0].encode("utf-8", "replace")  # a lone surrogate is no character
                for start in range(0, len(data), CHUNK):
                    await self.budget.spend(min(CHUNK, len(data) - start))
                    await service.send_bytes(data[start:start + CHUNK])
            elif kind == "resize" and rest and isinstance(rest[0], dict):
                self.last_input = time.monotonic()
                self._resize(service, *clamp_size(rest[0].get("width"), rest[0].get("height")))
            elif kind == "ping" and rest and isinstance(rest[0], str) and len(rest[0]) < 64:
                await websocket.send_json(["pong", rest[0]])
            elif kind in ("focus", "blur"):
                if kind == "focus":  # the student came back to the tab: not idle
                    self.last_input = time.monotonic()
                await service.send_meta({"type": kind})
        self.end("closed")

    def _resize(self, service, width: int, height: int) -> None:
        self._size = (width, height)
        if self._resizer is None or self._resizer.done():
            self._resizer = asyncio.ensure_future(self._send_sizes(service))

    async def _send_sizes(self, service) -> None:
        while self._size is not None:
            size, self._size = self._size, None
            await service.set_terminal_size(*size)
            await asyncio.sleep(RESIZE_EVERY_S)

    def _send(self, websocket):
        """The app's output to the tab: a tab that reads none of it for SLOW_READER_S ends."""
        async def send(data: bytes) -> None:
            if self.reason is not None:
                return  # ending: what the app still says is for no one
            self._sending = asyncio.ensure_future(websocket.send_bytes(data))
            try:
                await asyncio.wait_for(asyncio.shield(self._sending), SLOW_READER_S)
            except asyncio.TimeoutError:
                self.end("slow")
        return send

    async def _app_said_exit(self) -> None:
        """The app's "exit" (it quit): the page is closed once the process is gone, with why."""

    # -- the session's reports -----------------------------------------------------------------
    async def _read_reports(self) -> None:
        while (line := await self.process.reports.get()) is not None:
            try:
                report = json.loads(line)
                event = str(report.pop("event"))
            except (ValueError, KeyError, AttributeError):
                continue
            said = ", ".join(f"{k} {v}" for k, v in report.items() if k != "why")
            if event in ("training started", "training ended"):
                self.training = said if event == "training started" else None
            self.room.log(inert(f"session {self.number}: {event}" + (f" ({said})" if said
                                                                         else "")
                                   + (f": {report['why']}" if "why" in report else "")))

    # -- the end ---------------------------------------------------------------------------------
    def sentence(self) -> str:
        """The page's sentence for how this session ended ('' when the tab closed)."""
        said = ENDS.get(self.reason or "closed", ENDS["closed"])[1]
        return said.format(idle=minutes_or_seconds(self.room.idle_s or 0),
                           memory=f"{self.room.memory_mb:.0f}")

    async def _say_why(self, websocket) -> None:
        """The log's line, then the close frame with the page's sentence."""
        word = ENDS.get(self.reason or "closed", ENDS["closed"])[0]
        if self.training is not None:
            word += ", its training run with it"
        self.room.log(inert(f"session {self.number} ended after "
                               f"{minutes_or_seconds(time.monotonic() - self.started)}: {word}"
                               + (f" ({self.detail})" if self.detail else "")))
        if websocket.closed:
            return
        try:
            await asyncio.wait_for(websocket.close(code=4000, message=self.sentence().encode()),
                                   CLOSE_WAIT_S)
        except (asyncio.TimeoutError, ConnectionError):
            pass
