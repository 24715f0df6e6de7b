"""Keys and pastes waiting to be fed, in the order they came (no Textual here).

The app feeds a key at once when nothing waits; otherwise it queues it behind what waits, so a
burst of keys and backspaces keeps its order. A long paste is fed a slice at a time between
redraws. Each queued text carries a Tally shared by its slices, so the summary at the end is
the whole paste's, not its last slice's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class Tally:
    """What one queued text did when fed: characters, steps made, keys skipped."""

    chars: int = 0
    steps: int = 0
    skipped: int = 0
    last_skipped: str | None = None
    left: int = 0  # characters of it still waiting
    label: str = ""  # what the text is, when it is not typed or pasted (a model switch)

    def add(self, chars: int, steps: int, skipped: int, last_skipped: str | None) -> None:
        self.chars += chars
        self.steps += steps
        self.skipped += skipped
        self.left -= chars
        if last_skipped is not None:
            self.last_skipped = last_skipped


class FeedQueue:
    """("feed", text, tally) and ("backspace",) operations, oldest first."""

    def __init__(self) -> None:
        self._ops: deque[tuple] = deque()

    def __bool__(self) -> bool:
        return bool(self._ops)

    def push_text(self, text: str) -> None:
        """Queue text; joins the text queued last (one tally) when nothing came between."""
        if self._ops and self._ops[-1][0] == "feed":
            _, before, tally = self._ops[-1]
            self._ops[-1] = ("feed", before + text, tally)
        else:
            tally = Tally()
            self._ops.append(("feed", text, tally))
        tally.left += len(text)

    def push_text_first(self, text: str, label: str) -> None:
        """Queue text ahead of everything (what was typed, re-fed to a new model)."""
        self._ops.appendleft(("feed", text, Tally(left=len(text), label=label)))

    def push_backspace(self) -> None:
        self._ops.append(("backspace",))

    def clear(self) -> None:
        self._ops.clear()

    def pop(self, max_chars: int) -> tuple:
        """The next operation; a text longer than `max_chars` gives its first slice and keeps
        the rest first in line, under the same tally."""
        op = self._ops.popleft()
        if op[0] == "feed" and len(op[1]) > max_chars:
            self._ops.appendleft(("feed", op[1][max_chars:], op[2]))
            return ("feed", op[1][:max_chars], op[2])
        return op

    def next_text(self, max_chars: int) -> str:
        """What `pop(max_chars)` would feed next ('' when a backspace or nothing is next)."""
        if self._ops and self._ops[0][0] == "feed":
            return self._ops[0][1][:max_chars]
        return ""

    def waiting_chars(self) -> int:
        return sum(len(op[1]) for op in self._ops if op[0] == "feed")
