"""Plain text for what echo-gru prints and shows: counts, text from files made inert, long text
clipped. `echo-train` and the app share it (the app imports it before torch: `trainer`'s own
names load when first asked for)."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """'1 step', '2,048 steps': the noun plural unless there is exactly one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def inert(text) -> str:
    """`text` as one line of plain text: control characters (a newline or an escape sequence
    in a file's name or metadata) are written as escapes, never sent to the terminal as they
    are. Rich markup is not touched here: print it with markup=False (or rich.markup.escape)."""
    text = str(text)
    if text.isprintable():  # the status line, every key: nothing to escape
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


def clip(text: str, most: int) -> str:
    """`text` cut to at most `most` characters, ending in '…' where it was cut."""
    return text if len(text) <= most else text[:most - 1] + "…"
