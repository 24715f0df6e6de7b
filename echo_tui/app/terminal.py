"""The terminal's input, made safe for whatever a student types or pastes.

Textual 8.2.8's Linux driver has two ways to lose a session to a keystroke:

- it decodes input as strict UTF-8, so one invalid byte (a terminal in Latin-1, a mangled paste)
  raises UnicodeDecodeError in its input thread and the app exits (Textualize/textual#6456);
- its parser treats an ESC inside a bracketed paste as the start of a key sequence, so a pasted
  `hello<ESC>world<ctrl+q>` runs bindings (quit, reset) instead of arriving as text.

`GuardedLinuxDriver` is the Linux driver with both fixed: invalid bytes decode to U+FFFD (a
character outside every alphabet: a skipped, marked key), and `PasteGuard` hides every ESC inside
a paste from the parser and puts it back in the Paste event, so a paste is always text.
`GuardedWebDriver` (a browser tab's, under `echo-tui serve`) reads the same way through the same
`TerminalInput`: its parser had both faults too.

The private Textual names it needs (the parser itself, which the guard must sit in front of, and
the web driver's packet reader) and the copies of the drivers' input loops are in
compat/textual.py, which names the Textual they are from; pyproject pins Textual to it.
"""

from __future__ import annotations

from codecs import getincrementaldecoder

from textual import events
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver

from ..compat.textual import (BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser,
                              read_linux_input, read_web_input)

from ..core.served import clamp_size
from .hangup import SafeWriter

# stands in for ESC inside a paste while the parser reads it (a private-use character: no
# keyboard types it and no font draws it, so a real one in a paste is not a concern)
HIDDEN_ESC = "\ue01b"
ESC = "\x1b"


class PasteGuard:
    """Rewrites decoded terminal input so that an ESC inside a bracketed paste cannot end it.

    Outside a paste the text passes through unchanged and at once (holding back a lone ESC would
    delay the Escape key). Inside one, an ESC that may begin the paste's end marker is held back
    until the next input says whether it does.
    """

    def __init__(self) -> None:
        self.in_paste = False
        self._seen = ""  # the last few characters outside a paste: a start marker may span reads
        self._held = ""  # inside a paste: the start of what may be its end marker

    def feed(self, text: str) -> str:
        out: list[str] = []
        while text:
            if not self.in_paste:
                window = self._seen + text
                at = window.find(BRACKETED_PASTE_START)
                if at < 0:
                    out.append(text)
                    self._seen = window[-(len(BRACKETED_PASTE_START) - 1):]
                    return "".join(out)
                end = at + len(BRACKETED_PASTE_START) - len(self._seen)
                out.append(text[:end])
                text, self._seen, self.in_paste = text[end:], "", True
                continue
            text, self._held = self._held + text, ""
            at = text.find(BRACKETED_PASTE_END)
            if at >= 0:
                out.append(text[:at].replace(ESC, HIDDEN_ESC) + BRACKETED_PASTE_END)
                text, self.in_paste = text[at + len(BRACKETED_PASTE_END):], False
                continue
            keep = _marker_prefix_at_end(text)
            body, self._held = text[:len(text) - keep], text[len(text) - keep:]
            out.append(body.replace(ESC, HIDDEN_ESC))
            return "".join(out)
        return "".join(out)

    @staticmethod
    def restore(message):
        """A Paste event with its ESCs back; any other message as it is."""
        if isinstance(message, events.Paste) and HIDDEN_ESC in message.text:
            return events.Paste(message.text.replace(HIDDEN_ESC, ESC))
        return message


def _marker_prefix_at_end(text: str) -> int:
    """The length of the longest end of `text` that begins the paste's end marker."""
    for n in range(min(len(text), len(BRACKETED_PASTE_END) - 1), 0, -1):
        if BRACKETED_PASTE_END.startswith(text[-n:]):
            return n
    return 0


class TerminalInput:
    """Bytes from the terminal to Textual's messages: the forgiving decoder, the guard, and
    Textual's own parser (the driver reads through one; the tests feed one directly)."""

    def __init__(self, debug: bool = False) -> None:
        self.parser = XTermParser(debug)
        self._decode = getincrementaldecoder("utf-8")(errors="replace").decode
        self.guard = PasteGuard()

    def feed(self, data: bytes, final: bool = False) -> list:
        text = self._decode(data, final=final)
        if not text:  # half a character: an empty feed would tell the parser the input ended
            return []
        return [self.guard.restore(m) for m in self.parser.feed(self.guard.feed(text))]

    def tick(self) -> list:
        """What a lone ESC has become once the parser has waited long enough for more."""
        return [self.guard.restore(m) for m in self.parser.tick()]

    def close(self) -> None:
        try:
            for _message in self.parser.feed(""):
                pass
        except Exception:  # noqa: BLE001 - the app is closing; Textual ignores these too
            pass


class GuardedLinuxDriver(LinuxDriver):
    """Textual's Linux driver, its input read through a TerminalInput, and a terminal that
    closes, stalls or vanishes ending the app within a bound (echo_tui/app/hangup.py says how)."""

    _suspended = False  # stopped by ctrl+z (SIGTSTP): only then does SIGCONT restart the terminal

    def start_application_mode(self) -> None:
        ending = getattr(self._app, "ending", None)
        made = linux_driver.WriterThread
        # Textual makes its output thread by this module-level name: ours, for this call only
        linux_driver.WriterThread = lambda file: SafeWriter(
            file, ending.hung_up if ending is not None else lambda: None)
        try:
            super().start_application_mode()
        finally:
            linux_driver.WriterThread = made
        if ending is not None:
            ending.writer = self._writer_thread
        self._suspended = False

    def _sigtstp_application(self, *args) -> None:
        self._suspended = True
        super()._sigtstp_application(*args)

    def _sigcont_application(self, *args) -> None:
        # a closing terminal sends SIGCONT with its SIGHUP: restarting then (Textual's way)
        # made a second input and output thread on a terminal that had gone
        ending = getattr(self._app, "ending", None)
        if self._suspended and (ending is None or ending.code is None):
            super()._sigcont_application(*args)

    def close(self) -> None:
        if self._writer_thread is not None:
            self._writer_thread.stop()  # a SafeWriter's waits a second at most

    def _input_ended(self) -> None:
        """End-of-file or an error reading a terminal: it has gone (a pipe that ended is no
        terminal, and the app goes on without input)."""
        ending = getattr(self._app, "ending", None)
        if self.input_tty and ending is not None:
            ending.hung_up()

    def run_input_thread(self) -> None:
        read_linux_input(self, TerminalInput(), self._input_ended)


class GuardedWebDriver(WebDriver):
    """Textual's web driver (a browser tab's), its terminal input read through a
    TerminalInput, and every size it is given bounded (`clamp_size`)."""

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        if self._size is not None:
            self._size = clamp_size(*self._size)

    def on_meta(self, packet_type: str, payload: dict) -> None:
        if packet_type == "resize":
            width, height = clamp_size(payload.get("width"), payload.get("height"))
            payload = {**payload, "width": width, "height": height}
        super().on_meta(packet_type, payload)

    def run_input_thread(self) -> None:
        read_web_input(self, TerminalInput(self._debug))


def driver_for(chosen: type) -> type:
    """The driver to run with: the guarded ones in place of Textual's Linux and web drivers."""
    return {LinuxDriver: GuardedLinuxDriver, WebDriver: GuardedWebDriver}.get(chosen, chosen)
