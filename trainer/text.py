"""Plain-text helpers for what `echo-train` prints: counts, and text from files made inert."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """'1 step', '2,048 steps': the noun plural unless there is exactly one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def inert(text) -> str:
    """`text` as one line of plain text: control characters (a newline or an escape sequence
    in a file's name or metadata) are written as escapes, never sent to the terminal as they
    are. Rich markup is not touched here: print it with markup=False (or rich.markup.escape)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in str(text))
