"""Textual 8.2.8, as echo-gru's terminal guard (app/terminal.py) needs it: the private names it
sits in front of, and copies of the two drivers' `run_input_thread`.

The copies are Textual 8.2.8's `LinuxDriver.run_input_thread` (textual/drivers/linux_driver.py)
and `WebDriver.run_input_thread` (textual/drivers/web_driver.py). What they change: the bytes
read go through a `TerminalInput` (given: it decodes invalid bytes as U+FFFD and keeps a paste
text) instead of a strict decoder and a bare parser; the Linux one ends on end-of-file or a read
error (Textual's went on selecting, spinning a core for ever) and says so through `ended`.
`tests/test_compat.py` fails when the installed Textual is another version: read these against
it, then change VERSION.
"""

from __future__ import annotations

import os
import selectors

from textual import log
from textual._xterm_parser import BRACKETED_PASTE_END, BRACKETED_PASTE_START, XTermParser
from textual.drivers._byte_stream import ByteStream
from textual.drivers.web_driver import _ExitInput

VERSION = "8.2.8"  # the Textual these copies and names are from

__all__ = ["VERSION", "BRACKETED_PASTE_END", "BRACKETED_PASTE_START", "XTermParser",
           "ByteStream", "read_linux_input", "read_web_input"]


class _InputEnded(Exception):
    """The terminal's input has ended: end-of-file, or an error reading it."""


def read_linux_input(driver, terminal, ended) -> None:
    """LinuxDriver.run_input_thread: `driver`'s terminal read through `terminal` (a
    TerminalInput) until the driver's exit event; `ended()` when the terminal has gone."""
    selector = selectors.SelectSelector()
    selector.register(driver.fileno, selectors.EVENT_READ)

    def process(selector_events, final: bool = False) -> None:
        for k, (_key, mask) in enumerate(selector_events):
            last = k == len(selector_events) - 1
            if mask & selectors.EVENT_READ:
                try:
                    data = os.read(driver.fileno, 1024 * 4)
                except OSError:  # EIO: the terminal has closed
                    data = b""
                if not data:  # Textual's went on selecting, spinning a core for ever
                    raise _InputEnded
                for message in terminal.feed(data, final=final and last):
                    driver.process_message(message)
        for message in terminal.tick():
            driver.process_message(message)

    try:
        while not driver.exit_event.is_set():
            process(selector.select(0.1))
        selector.unregister(driver.fileno)
        process(selector.select(0.1), final=True)
    except _InputEnded:
        ended()
    finally:
        selector.close()
        terminal.close()


def read_web_input(driver, terminal) -> None:
    """WebDriver.run_input_thread: the page's packets read, its terminal data through `terminal`
    (a TerminalInput), until the server's "exit" packet or the input's end."""
    packets = ByteStream()
    try:
        for data in driver._input_reader:
            for packet_type, payload in packets.feed(data) if data else ():
                if packet_type == "D":
                    for message in terminal.feed(payload):
                        driver.process_message(message)
                else:
                    driver._on_meta(packet_type, payload)
            for message in terminal.tick():
                driver.process_message(message)
    except _ExitInput:  # the server's "exit" packet
        pass
    except Exception:  # noqa: BLE001 - as Textual's: logged, and the input ends
        from traceback import format_exc

        log(format_exc())
    finally:
        driver._input_reader.close()
        terminal.close()
