"""A room of scripted tabs for `echo-tui serve` (its load benchmark and tests): each `Tab`
speaks the WebSocket protocol textual-serve's page speaks (JSON text frames out: stdin, resize;
binary frames in: the app's terminal output) and keeps the screen as a terminal would (pyte).

Loopback only, and bounded: every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(*args: str, timeout: float = 30.0):
    """`echo-tui serve` on a free loopback port, in its own process group: yields
    (process, port); stopped (the group, its sessions included) on the way out."""
    import signal

    port = free_port()
    log = tempfile.TemporaryFile()  # the server's and its sessions' words, for a failure
    proc = subprocess.Popen([sys.executable, "-m", "echo_tui", "serve", "--port", str(port),
                             *args], stdout=log, stderr=log, start_new_session=True)
    proc.log = log
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers (a token it wants, a full room)
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"echo-tui serve did not start: {tail(log)}")
                time.sleep(0.1)
        yield proc, port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def tail(log, size: int = 2000) -> str:
    """The end of a server's log."""
    log.seek(0, os.SEEK_END)
    log.seek(max(0, log.tell() - size))
    return log.read().decode(errors="replace")


def sessions_of(pid: int) -> list[int]:
    """The app processes among `pid`'s descendants: the children of its sessions' parent (the
    forkserver, whose children are all sessions), and any started as `-m echo_tui`."""
    found, todo = [], [(pid, False)]
    while todo:
        parent, forked = todo.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            cmd = _cmdline(child)
            if forked or (b"echo_tui" in cmd and b"serve" not in cmd and b"-c" not in cmd):
                found.append(child)  # a fork of the parent, or a session started as a command
            elif any(b"multiprocessing.forkserver" in part for part in cmd):
                todo.append((child, True))
                continue
            todo.append((child, False))
    return found


def parent_of_sessions(pid: int) -> int | None:
    """The sessions' preloaded parent among `pid`'s children (the forkserver), or None."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        return None
    return next((c for c in children
                 if any(b"multiprocessing.forkserver" in part for part in _cmdline(c))), None)


def _cmdline(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def drawn(tab: "Tab") -> bool:
    """Whether `tab` shows the app: its tapes' typed row is on the screen."""
    return any("│ typed " in line for line in tab.lines())


async def until(check, what: str, timeout: float = 15.0) -> None:
    """Until `check()` holds; AssertionError naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"no {what} within {timeout:g} s"
        await asyncio.sleep(0.05)


def needs_pyte():
    """pyte, which keeps a scripted tab's screen; a one-line error where it is not installed (it
    is a test-only package, and the scripted tabs are not in the wheel)."""
    try:
        import pyte
    except ModuleNotFoundError:
        raise SystemExit("the scripted tabs read the screen with pyte, a test-only package: "
                         "pip install -e '.[test]' in a checkout of echo-gru") from None
    return pyte


class Tab:
    """One browser tab, scripted: `open`, `type`, `screen_text`, `wait_for`, `close`."""

    def __init__(self, port: int, width: int = 80, height: int = 24,
                 token: str | None = None, receive_buffer: int | None = None) -> None:
        from ..core.served import clamp_size

        pyte = needs_pyte()

        where = f"ws/{token}" if token is not None else "ws"
        self.url = f"ws://127.0.0.1:{port}/{where}?width={width}&height={height}"
        self.screen = pyte.Screen(*clamp_size(width, height))  # the size the server allows
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self._fed = 0  # bytes of `raw` the screen has read
        self.version = 0  # bumped with each frame: a wait looks again only when it changed
        self.ws = None
        self.close_reason: str | None = None  # set when the server closes with a reason
        self.receive_buffer = receive_buffer  # bytes: a small one makes a slow reader quickly
        self._changed = asyncio.Event()  # set by the reader at each frame
        self._http = self._reader = None

    async def open(self) -> "Tab":
        import aiohttp

        connector = None
        if self.receive_buffer is not None:
            def small(addr_info) -> socket.socket:
                family, kind, proto, _name, _address = addr_info
                sock = socket.socket(family, kind, proto)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
                return sock

            connector = aiohttp.TCPConnector(socket_factory=small)
        self._http = aiohttp.ClientSession(connector=connector)
        try:
            self.ws = await self._http.ws_connect(self.url)
        except BaseException:  # a refused tab (a full room, a bad token) leaves no open socket
            await self._http.close()  # for the collector to close after the loop has gone
            raise
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        import aiohttp

        while True:
            message = await self.ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                self.raw += message.data  # read into the screen when it is looked at
                self.version += 1
                self._changed.set()
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                                  aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                if message.type == aiohttp.WSMsgType.CLOSE:
                    self.close_reason = message.extra or ""  # the server's sentence, if any
                self._changed.set()
                return

    def stop_reading(self) -> None:
        """Read nothing more: once aiohttp's buffer is full, the server's sends wait (a tab
        that stopped reading)."""
        if self._reader is not None:
            self._reader.cancel()

    async def drop(self) -> None:
        """Drop the connection without a closing handshake, as a tab killed or cut off does."""
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()  # closes its connections: the server sees them go

    def lines(self) -> list[str]:
        if self._fed < len(self.raw):  # pyte is slow: thirty tabs fed on every frame were
            self.stream.feed(bytes(self.raw[self._fed:]))  # the benchmark's bottleneck
            self._fed = len(self.raw)
        return list(self.screen.display)

    async def _next_frame(self, seconds: float) -> None:
        """Until the next frame (or the end of the socket), or `seconds`: woken by the reader,
        not by polling (thirty tabs polling took CPU from the sessions they measured)."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, seconds))
        except asyncio.TimeoutError:
            pass

    async def answered(self, since: int, timeout: float = 60.0) -> None:
        """Until a frame comes after frame number `since` (the app's answer to a key)."""
        end = time.monotonic() + timeout
        while self.version <= since:
            if time.monotonic() > end or (self._reader is not None and self._reader.done()):
                raise TimeoutError(f"no answer in {timeout:g} s")
            await self._next_frame(end - time.monotonic())

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines())

    async def type(self, text: str) -> None:
        for ch in text:
            await self.ws.send_str(json.dumps(["stdin", ch]))

    async def send(self, data: str) -> None:
        """Bytes as the terminal sends them (an escape sequence, a whole paste)."""
        await self.ws.send_str(json.dumps(["stdin", data]))

    async def wait_for(self, predicate, timeout: float = 60.0) -> float:
        """Seconds until `predicate(self)` holds; TimeoutError (with the screen) after
        `timeout`."""
        start, seen = time.monotonic(), None
        while seen == self.version or not predicate(self):
            seen = self.version
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"timed out after {timeout:g} s; the screen:\n{self.text()}")
            if self._reader is not None and self._reader.done():
                why = self._reader.exception() if not self._reader.cancelled() else None
                raise ConnectionError(f"the session ended ({why or self.ws.close_code}); the "
                                      f"screen:\n{self.text()}")
            if seen == self.version:
                await self._next_frame(min(0.5, start + timeout - time.monotonic() + 0.01))
        return time.monotonic() - start

    def typed_line(self) -> str:
        """What the tapes' typed row shows, after its label."""
        line = next((l for l in self.lines() if "│ typed " in l), "")
        return line.split("│ typed ", 1)[-1].rstrip(" │")

    def echo_line(self) -> str:
        line = next((l for l in self.lines() if "│  echo " in l), "")
        return line.split("│  echo ", 1)[-1].rstrip(" │")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
