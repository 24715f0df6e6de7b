"""Typed and pasted text on its way into the session, in the order it came (no Textual here).

A `Feeder` feeds a key at once when nothing waits; otherwise the key joins the queue behind
what waits, so a burst of keys and backspaces keeps its order. A long paste is fed a slice at a
time (the screen's pump calls `run_for` once a frame). Each queued text carries a Tally shared
by its slices, so the notice at the end is the whole paste's, not its last slice's. The Feeder
words the notices too: what a paste fed and skipped, a key outside the alphabet, an undo that
cannot go further.

In compare mode a second session (`compared`, same alphabet) gets every key, undo and reset the
first one gets, so the two streams stay step for step alike. A text re-fed to one of them alone
(the new model after a switch; the compared one when it joins) says so by its `only`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from trainer.text import count

from .describe import key_name, short_alphabet

PASTE_SLICE = 4096  # characters fed per session call while a long paste goes through


@dataclass
class Tally:
    """What one queued text did when fed: characters, steps made, keys skipped."""

    chars: int = 0
    steps: int = 0
    skipped: int = 0
    last_skipped: str | None = None
    left: int = 0  # characters of it still waiting
    label: str = ""  # what the text is, when it is not typed or pasted (a model switch)
    only: str = ""  # "session" or "compared": re-fed to that one alone; "": typed, to both

    def add(self, chars: int, fed) -> None:
        self.chars += chars
        self.steps += fed.steps
        self.skipped += fed.skipped
        self.left -= chars
        if fed.last_skipped is not None:
            self.last_skipped = fed.last_skipped


@dataclass
class Text:
    """Text waiting to be fed (all or part of one typed burst or paste)."""

    text: str
    tally: Tally = field(default_factory=Tally)


class Backspace:
    """An undo waiting behind text."""


class FeedQueue:
    """Texts and backspaces waiting, oldest first."""

    def __init__(self) -> None:
        self._ops: deque[Text | Backspace] = deque()

    def __bool__(self) -> bool:
        return bool(self._ops)

    def push_text(self, text: str) -> None:
        """Queue text; it joins the text queued last (one tally) when nothing came between."""
        if self._ops and isinstance(self._ops[-1], Text):
            self._ops[-1].text += text
        else:
            self._ops.append(Text(text))
        self._ops[-1].tally.left += len(text)

    def push_text_first(self, text: str, label: str, only: str = "session") -> None:
        """Queue text ahead of everything (what was typed, re-fed to a new model: `only`
        names which session gets it)."""
        self._ops.appendleft(Text(text, Tally(left=len(text), label=label, only=only)))

    def push_backspace(self) -> None:
        self._ops.append(Backspace())

    def clear(self) -> None:
        self._ops.clear()

    def pop(self, max_chars: int) -> Text | Backspace:
        """The next operation; a text longer than `max_chars` gives its first slice and keeps
        the rest first in line, under the same tally."""
        op = self._ops.popleft()
        if isinstance(op, Text) and len(op.text) > max_chars:
            self._ops.appendleft(Text(op.text[max_chars:], op.tally))
            return Text(op.text[:max_chars], op.tally)
        return op

    def next_text(self, max_chars: int) -> str:
        """What `pop(max_chars)` would feed next ('' when a backspace or nothing is next)."""
        if self._ops and isinstance(self._ops[0], Text):
            return self._ops[0].text[:max_chars]
        return ""

    def waiting_chars(self) -> int:
        return sum(len(op.text) for op in self._ops if isinstance(op, Text))


class Feeder:
    """Feeds a session in arrival order and words what each feed did for the notice line.

    Methods that act return the notice to show: a sentence, "" to clear the line, or None
    when there is nothing to say yet (the text waits, or a paste is still going through).
    """

    def __init__(self) -> None:
        self.queue = FeedQueue()
        self.session = None
        self.compared = None  # the second session in compare mode: fed what the first is

    @property
    def waiting(self) -> bool:
        return bool(self.queue)

    def type(self, text: str) -> str | None:
        """Typed or pasted text: fed now when nothing waits before it (and it is short), else
        queued for `run_for`."""
        if self.session is not None and not self.queue and len(text) <= PASTE_SLICE:
            return self._feed(Text(text, Tally(left=len(text))))
        self.queue.push_text(text)
        return None

    def refeed_first(self, text: str, label: str, only: str = "session") -> None:
        """`text` before anything still queued (what was typed, to a new model: `only` is
        "session" or "compared"); `label` starts the notice that says how it went."""
        self.queue.push_text_first(text, label, only)

    def reset(self) -> None:
        """Drop what waits and empty both sessions (the stream and the memory)."""
        self.queue.clear()
        for session in (self.session, self.compared):
            if session is not None:
                session.reset()

    def backspace(self) -> str | None:
        if self.session is None or self.queue:
            self.queue.push_backspace()
            return None
        return self._backspace()

    def clear(self) -> None:
        self.queue.clear()

    def run_for(self, seconds: float) -> str | None:
        """Feed what waits for about `seconds` (then the screen draws); the notice of the last
        operation that finished, or of the paste still going through."""
        said = None
        ends = time.perf_counter() + seconds
        while self.queue:  # at least one operation, however short the time
            op = self.queue.pop(PASTE_SLICE)
            note = self._feed(op) if isinstance(op, Text) else self._backspace()
            said = note if note is not None else said
            if time.perf_counter() >= ends:
                break
        waiting = self.queue.waiting_chars()
        if waiting:
            # the engine goes on with the paste while the screen draws
            ahead = self.queue.next_text(PASTE_SLICE)
            for session in (self.session, self.compared):
                if session is not None:
                    session.feed_ahead(ahead)
            return f"feeding the paste: {count(waiting, 'character')} to go"
        return said

    def _feed(self, op: Text) -> str | None:
        tally = op.tally
        first = self.compared if tally.only == "compared" else self.session
        if first is None:
            return None  # compare mode ended before its catch-up was fed
        tally.add(len(op.text), first.feed(op.text))
        if self.compared is not None and not tally.only:
            self.compared.feed(op.text)
        if tally.left > 0:
            return None  # the rest of this paste is still to come: report the whole of it then
        if not (tally.skipped or tally.label):
            return ""  # the keystroke path: nothing to say
        alphabet = short_alphabet(first.alphabet)
        if tally.label:
            return f"{tally.label}: re-fed {count(tally.steps, 'step')}" + (
                f"; skipped {count(tally.skipped, 'character')} outside its alphabet "
                f"({alphabet})" if tally.skipped else "")
        if tally.chars > 1:
            return (f"fed {count(tally.steps, 'step')}; skipped "
                    f"{count(tally.skipped, 'character')} outside the model's alphabet "
                    f"({alphabet})") if tally.skipped else ""
        if tally.skipped:
            return f"{key_name(tally.last_skipped)} skipped: not in the model's alphabet ({alphabet})"
        return ""

    def _backspace(self) -> str:
        session = self.session
        if session.backspace():
            if self.compared is not None:
                self.compared.backspace()
            return ""
        if not session.steps:
            return ""
        return f"cannot undo further: only the last {session.undo_steps:,} steps can be undone"
