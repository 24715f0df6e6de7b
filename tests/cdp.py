"""A small Chrome DevTools Protocol client for the browser tests: a headless Chromium, one
page, commands awaited by id. Only aiohttp, which textual-serve brings anyway."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import aiohttp


class CDPError(RuntimeError):
    """Chromium answered a command with an error."""


class Browser:
    """A headless Chromium and a CDP connection to one page target in it.

    Use as `async with Browser() as browser:`; `browser.send(method, **params)` runs a
    command on the page and returns its result."""

    def __init__(self, executable: str = "chromium", start_timeout_s: float = 20.0):
        self.executable = executable
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self.session_id: str | None = None
        self.target_id: str | None = None
        self._profile: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}

    async def __aenter__(self) -> "Browser":
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        """Launch Chromium, connect to it, and open and attach to a blank page."""
        self._profile = tempfile.mkdtemp(prefix="echo-gru-chromium-")
        self.process = subprocess.Popen(
            [self.executable, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # its own group: Chromium's zygote and renderers go down with it in close()
            start_new_session=True)
        port, path = await self._devtools_address()
        self._http = aiohttp.ClientSession()
        # CDP messages (a screenshot, a big evaluate) can exceed aiohttp's 4 MiB default
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}",
                                               max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", url="about:blank", session=False)
        self.target_id = target["targetId"]
        attached = await self.send("Target.attachToTarget", targetId=self.target_id,
                                   flatten=True, session=False)
        self.session_id = attached["sessionId"]

    async def _devtools_address(self) -> tuple[int, str]:
        """The port and browser path Chromium writes once it listens (port 0: its choice,
        so parallel tests never collide)."""
        active = Path(self._profile, "DevToolsActivePort")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout_s
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            lines = active.read_text().splitlines() if active.exists() else []
            # the file can be seen half written: wait for both lines
            if len(lines) >= 2 and lines[0].strip().isdigit():
                return int(lines[0]), lines[1].strip()
            await asyncio.sleep(0.05)
        raise TimeoutError(f"chromium wrote no DevToolsActivePort in {self.start_timeout_s} s")

    async def _read(self) -> None:
        """Route each response to the command waiting for it; events are dropped."""
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = message.json()
                future = self._pending.pop(data.get("id"), None)
                if future is None or future.done():
                    continue
                if "error" in data:
                    future.set_exception(CDPError(f"{data['error']}"))
                else:
                    future.set_result(data.get("result", {}))
        finally:
            # a dead connection must fail the waiting commands, not leave them hanging
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("CDP connection closed"))
            self._pending.clear()

    async def send(self, method: str, session: bool = True, timeout_s: float = 20.0,
                   **params) -> dict:
        """Run `method` with `params` and return its result; on the page's session unless
        `session=False` (the browser itself)."""
        if self._ws is None or self._ws.closed:
            raise ConnectionError("CDP connection is not open")
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session_id
        future = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_json(message)
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._pending.pop(message_id, None)

    async def evaluate(self, expression: str, timeout_s: float = 20.0):
        """The value of a JavaScript expression in the page (awaited when a promise)."""
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True, timeout_s=timeout_s)
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def close_page(self) -> None:
        """Close the page target, as a user closing the tab would."""
        if self.target_id is not None:
            await self.send("Target.closeTarget", targetId=self.target_id, session=False)
            self.target_id = self.session_id = None

    async def close(self) -> None:
        """Disconnect and end Chromium with all its processes; safe to call twice."""
        if self._ws is not None and not self._ws.closed:
            try:
                # a polite exit lets Chromium remove its own helper processes
                await asyncio.wait_for(self.send("Browser.close", session=False), 5)
            except Exception:
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.process is not None:
            try:
                await asyncio.to_thread(self.process.wait, 5)
            except subprocess.TimeoutExpired:
                pass
            # whatever outlived the browser process (zygote, crashpad) shares its group
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.process.poll() is None:
                await asyncio.to_thread(self.process.wait, 5)
            self.process = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
