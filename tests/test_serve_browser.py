"""`echo-tui serve` in a real browser: headless Chromium loads textual-serve's page, types into
its xterm.js terminal, and the app's echo comes back; closing the tab ends its app process.

xterm.js draws on a canvas, so the page's DOM has no text to read. Instead a script injected
before the page loads records what its WebSocket receives (the app's terminal output) and the
sizes the page asks for, and the test replays that through pyte to get the screen.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import time

import pytest

from cdp import Browser

from echo_tui.room import server, sessions_of

DELAY_DOTS = "·"
TEXT = "Hello, World!"

# Runs in the page before textual.js: every WebSocket the page makes records, in order, its
# binary frames (base64) and the terminal sizes (the URL's, then each resize it sends).
RECORDER = r"""
(() => {
  const log = window.__echoGruReceived = [];
  window.__echoGruSize = null;
  const size = (width, height) => {
    window.__echoGruSize = [width, height];
    log.push({size: [width, height]});
  };
  const base64 = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  };
  const Native = window.WebSocket;
  class Recording extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const query = new URL(url, location.href).searchParams;
      if (query.has("width") && query.has("height")) {
        size(+query.get("width"), +query.get("height"));
      }
      this.addEventListener("message", (event) => {
        if (event.data instanceof ArrayBuffer) {
          log.push({data: base64(event.data)});
        } else if (event.data instanceof Blob) {
          // a Blob reads asynchronously: hold its place so the frames stay in order
          const slot = log.push(null) - 1;
          event.data.arrayBuffer().then((buffer) => { log[slot] = {data: base64(buffer)}; });
        }
      });
    }
    send(data) {
      if (typeof data === "string" && data.startsWith('["resize"')) {
        try {
          const [, {width, height}] = JSON.parse(data);
          size(width, height);
        } catch (e) {}
      }
      return super.send(data);
    }
  }
  window.WebSocket = Recording;
})();
"""


class PageTerminal:
    """The page's terminal as pyte rebuilds it from the recorded WebSocket stream."""

    def __init__(self, browser: Browser) -> None:
        import pyte

        self.browser = browser
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.seen = 0  # entries of the page's log already fed

    async def update(self) -> None:
        entries = await self.browser.evaluate(
            f"(window.__echoGruReceived || []).slice({self.seen})")
        for entry in entries:
            if entry is None:
                break  # a Blob still being read: the rest waits for it
            self.seen += 1
            if "size" in entry:
                width, height = entry["size"]
                self.screen.resize(lines=height, columns=width)
            else:
                self.stream.feed(base64.b64decode(entry["data"]))

    def lines(self) -> list[str]:
        return [line.rstrip() for line in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines())

    def after(self, label: str) -> str | None:
        """What the first line with `label` shows after it (its box edge cut off)."""
        for line in self.lines():
            if label in line:
                return line.split(label, 1)[1].rstrip(" │")
        return None

    async def wait_for(self, what: str, predicate, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            await self.update()
            if predicate(self):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s:g} s; the page's terminal:\n"
                                     f"{self.text()}")
            await asyncio.sleep(0.1)


def echoes(dots: int, start: str):
    """A check: the echo row shows `dots` delay dots, then `start`."""
    def check(term: PageTerminal) -> bool:
        echo = term.after("│  echo ")
        return echo is not None and echo.startswith(DELAY_DOTS * dots + start)
    return check


async def test_served_app_echoes_in_chromium_and_ends_with_its_tab():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium: apt-get install chromium")
    with server("--max-sessions", "2") as (serving, port):
        async with Browser(chromium) as browser:
            await browser.send("Page.enable")
            await browser.send("Page.addScriptToEvaluateOnNewDocument", source=RECORDER)
            # wide enough for an 80-column terminal, so the app's layout is the usual one
            await browser.send("Emulation.setDeviceMetricsOverride", width=1200, height=800,
                               deviceScaleFactor=1, mobile=False)
            await browser.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
            term = PageTerminal(browser)
            await term.wait_for("app", lambda t: t.after("│ typed") is not None)
            width = term.screen.columns
            assert width >= 80, f"the page's terminal is {width} columns:\n{term.text()}"

            # xterm.js reads keys from its hidden textarea: focus it, as a click would
            await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            await browser.send("Input.insertText", text=TEXT)
            await term.wait_for("typed text", lambda t: t.after("│ typed ") == "Hello,␣World!")
            await term.wait_for("echo at delay 8", echoes(8, "Hello"))
            assert term.after("│ typed ") == "Hello,␣World!", term.text()
            assert echoes(8, "Hello")(term), term.text()

            key = dict(key="ArrowRight", code="ArrowRight", windowsVirtualKeyCode=39,
                       nativeVirtualKeyCode=39)
            await browser.send("Input.dispatchKeyEvent", type="rawKeyDown", **key)
            await browser.send("Input.dispatchKeyEvent", type="keyUp", **key)
            await term.wait_for("delay 9", lambda t: any("· delay 9 ·" in line
                                                         for line in t.lines()))
            await term.wait_for("echo at delay 9", echoes(9, "Hell"))

            assert sessions_of(serving.pid), "no app process while the tab is open"
            await browser.close_page()
            deadline = time.monotonic() + 10
            while (left := sessions_of(serving.pid)) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not left, f"app processes {left} outlived their closed tab"
