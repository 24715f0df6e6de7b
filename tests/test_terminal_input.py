"""Terminal input through Textual's real parser: an invalid byte is a key, a paste is text.

`TerminalInput` is what the app's driver reads the terminal through (Textual's XTermParser,
behind a forgiving decoder and the paste guard); these tests feed it bytes as a terminal sends
them, split at every place a read can split them.
"""

import time

import pytest
from private import XTermParser
from textual import constants, events

from echo_tui.app.terminal import PasteGuard, TerminalInput

START, END = b"\x1b[200~", b"\x1b[201~"


def messages(*chunks: bytes) -> list:
    terminal = TerminalInput()
    out = []
    for chunk in chunks:
        out += terminal.feed(chunk)
    return out + terminal.tick()


def keys_and_pastes(found) -> list:
    return [("paste", m.text) if isinstance(m, events.Paste) else ("key", m.key, m.character)
            for m in found if isinstance(m, (events.Paste, events.Key))]


HOSTILE_PASTES = [
    "hello\x1bworld\x11more",  # Textual alone turns this into keys, ctrl+q among them: quit
    "abc\x1b\x12def",  # ... and this into ctrl+r: reset
    "\x1b",
    "ends with ESC\x1b",
    "\x1b[201",  # most of an end marker, then the real one
    "\x1b[A arrow \x1b[1;5C sequences \x1bO\x1b[200~ nested start",
    "tab\tnew\nline\r\x00nul \x7f del \x03 ctrl+c",
    "unicode é ✓ 🙂",
]


@pytest.mark.parametrize("text", HOSTILE_PASTES)
def test_a_paste_is_one_paste_event_whatever_it_holds(text):
    data = START + text.encode() + END
    expected = [("paste", text.replace("\x00", ""))]  # Textual drops NULs from pastes
    assert keys_and_pastes(messages(data)) == expected
    for cut in range(1, len(data)):  # a read may end anywhere
        assert keys_and_pastes(messages(data[:cut], data[cut:])) == expected, cut


def test_textual_alone_runs_keys_from_such_a_paste():
    """Why the guard exists: without it, the parser turns the paste into key presses."""
    parser = XTermParser()
    found = keys_and_pastes(parser.feed("\x1b[200~hello\x1bworld\x11more\x1b[201~"))
    assert ("key", "ctrl+q", "\x11") in found


def test_keys_around_a_paste_stay_keys():
    found = keys_and_pastes(messages(b"a" + START + b"x\x1by" + END + b"b\x1b[A"))
    assert found == [("key", "a", "a"), ("paste", "x\x1by"), ("key", "b", "b"),
                     ("key", "up", None)]


def test_a_lone_escape_outside_a_paste_is_not_held_back():
    assert PasteGuard().feed("\x1b") == "\x1b"
    terminal = TerminalInput()
    assert terminal.feed(b"\x1b") == []  # the parser waits to see if a sequence follows ...
    held = time.monotonic()
    while not (let_go := terminal.tick()):
        assert time.monotonic() < held + 5, "the lone escape was never let go"
        time.sleep(0.01)
    assert time.monotonic() - held >= constants.ESCAPE_DELAY * 0.5  # it was held back a while
    assert keys_and_pastes(let_go) == [("key", "escape", "\x1b")]  # ... then it's Esc


@pytest.mark.parametrize("data, typed", [
    (b"\xff", "\ufffd"),
    (b"a\xffb", "a\ufffdb"),
    (b"\xc3", "\ufffd"),  # half of 'é', then something else
    (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate
])
def test_an_invalid_byte_is_a_replacement_character_not_an_exit(data, typed):
    found = messages(data, b"z")
    assert "".join(m.character for m in found if isinstance(m, events.Key)) == typed + "z"


def test_a_character_split_across_reads_arrives_whole():
    e_acute = "é".encode()
    found = messages(e_acute[:1], e_acute[1:])
    assert [m.character for m in found if isinstance(m, events.Key)] == ["é"]


def test_an_invalid_byte_inside_a_paste_is_replaced_there():
    assert keys_and_pastes(messages(START + b"ab\xffcd" + END)) == [("paste", "ab\ufffdcd")]
