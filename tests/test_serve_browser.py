"""`echo-tui serve` in a real browser: headless Chromium loads the served page, types into its
xterm.js terminal with real key events, and the app's echo comes back; closing the tab ends its
app process. The keys a served session offers reach it (f8 trains; ctrl+t, which Chromium keeps
for a new tab, is not offered; f9 and f7 move through a lesson), and a session's end is said on
the page.

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

from echo_tui.bench.room import server, sessions_of

pytestmark = pytest.mark.browser

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
  const sent = window.__echoGruSent = [];
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
      if (typeof data === "string" && data.startsWith('["stdin"')) {
        sent.push(data);
      }
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


async def open_page(browser: Browser, port: int) -> PageTerminal:
    """The served page, loaded and recorded, its app drawn, its terminal focused."""
    await browser.send("Page.enable")
    await browser.send("Page.addScriptToEvaluateOnNewDocument", source=RECORDER)
    # wide enough for an 80-column terminal, so the app's layout is the usual one
    await browser.send("Emulation.setDeviceMetricsOverride", width=1200, height=800,
                       deviceScaleFactor=1, mobile=False)
    await browser.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
    term = PageTerminal(browser)
    await term.wait_for("app", lambda t: t.after("│ typed") is not None)
    # xterm.js reads keys from its hidden textarea: focus it, as a click would
    await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
    return term


async def press(browser: Browser, key: str, code: str, vk: int, modifiers: int = 0) -> None:
    """A real key event, down and up, as a keyboard sends it (modifiers: 2 is ctrl)."""
    event = dict(key=key, code=code, windowsVirtualKeyCode=vk, nativeVirtualKeyCode=vk,
                 modifiers=modifiers)
    await browser.send("Input.dispatchKeyEvent", type="rawKeyDown", **event)
    await browser.send("Input.dispatchKeyEvent", type="keyUp", **event)


def chromium_or_skip() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no Chromium: apt-get install chromium")
    return chromium


@pytest.fixture(scope="module")
def room():
    with server("--max-sessions", "2") as (serving, port):
        yield serving, port


async def test_served_app_echoes_in_chromium_and_ends_with_its_tab(room):
    chromium = chromium_or_skip()
    serving, port = room
    async with Browser(chromium) as browser:
        term = await open_page(browser, port)
        width = term.screen.columns
        assert width >= 80, f"the page's terminal is {width} columns:\n{term.text()}"

        await browser.send("Input.insertText", text=TEXT)
        await term.wait_for("typed text", lambda t: t.after("│ typed ") == "Hello,␣World!")
        await term.wait_for("echo at delay 8", echoes(8, "Hello"))
        assert term.after("│ typed ") == "Hello,␣World!", term.text()
        assert echoes(8, "Hello")(term), term.text()

        await press(browser, "ArrowRight", "ArrowRight", 39)
        await term.wait_for("delay 9", lambda t: any("· delay 9 ·" in line
                                                     for line in t.lines()))
        await term.wait_for("echo at delay 9", echoes(9, "Hell"))

        assert sessions_of(serving.pid), "no app process while the tab is open"
        await browser.close_page()
        deadline = time.monotonic() + 10
        while (left := sessions_of(serving.pid)) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not left, f"app processes {left} outlived their closed tab"


async def test_in_chromium_f8_trains_ctrl_t_is_not_offered_and_f10_ends_with_a_sentence(room):
    chromium = chromium_or_skip()
    serving, port = room
    async with Browser(chromium) as browser:
        term = await open_page(browser, port)
        await term.wait_for("the footer", lambda t: any("f1 help" in line
                                                        for line in t.lines()))
        footer = next(line for line in term.lines() if "f1 help" in line)
        assert "f8 train" in footer and "^t" not in footer, footer
        sent = "(window.__echoGruSent || []).length"
        before = await browser.evaluate(sent)
        await press(browser, "t", "KeyT", 84, modifiers=2)  # ctrl+t: Chromium keeps it
        await press(browser, "F8", "F8", 119)  # the key offered instead
        await term.wait_for("the training panel", lambda t: any(
            "train a model (f8) · hidden ≤ 256 · delay ≤ 16 · 5 min a run" in line
            for line in t.lines()))
        assert await browser.evaluate(sent) == before + 1, "ctrl+t reached the page"
        await press(browser, "Enter", "Enter", 13)
        await term.wait_for("the run starting", lambda t: any(
            "on one core, below the sessions" in line for line in t.lines()))
        await term.wait_for("the run's first check", lambda t: any(
            "step 50 ·" in line for line in t.lines()), timeout_s=60)
        await press(browser, "F10", "F10", 121)  # ends the session, not the browser
        closed = ("document.body.classList.contains('-closed') && "
                  "document.querySelector('.closed-dialog .message').textContent")
        deadline = time.monotonic() + 10
        while not (said := await browser.evaluate(closed)):
            assert time.monotonic() < deadline, "the page never said its session ended"
            await asyncio.sleep(0.1)
        assert said == "You ended this session. Restart opens a new one."
        deadline = time.monotonic() + 10
        while sessions_of(serving.pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not sessions_of(serving.pid)


async def test_in_chromium_f9_skips_a_lessons_step_and_f7_goes_back():
    """The lesson keys, chosen because a browser gives them to the page, do reach it."""
    chromium = chromium_or_skip()
    with server("--max-sessions", "1", "--lesson", "memory-and-delay") as (serving, port):
        async with Browser(chromium) as browser:
            term = await open_page(browser, port)

            def showing(title):
                return lambda t: any(title in line for line in t.lines())

            await term.wait_for("the lesson's first step", showing("Type a sentence"))
            assert "f7 back · f9 skip" in term.text(), term.text()
            await press(browser, "F9", "F9", 120)
            await term.wait_for("the second step", showing("The blank"))
            assert not showing("Type a sentence")(term), term.text()
            await press(browser, "F7", "F7", 118)
            await term.wait_for("the first step again", showing("Type a sentence"))
            assert not showing("The blank")(term), term.text()
