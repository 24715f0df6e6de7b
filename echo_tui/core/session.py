"""The streaming core: each symbol is one step of the model's cell (GRU, LSTM or plain RNN), the
state carried from key to key (an LSTM's is h and c; `hidden` and `history` give h).

EchoSession knows nothing of Textual; the app and its widgets are views of one. It runs the model
and answers for the stream; what it keeps is in two parts, each with its own module saying why it
is built so (sessions may run to millions of steps, with flat per-step cost):

- `rows.Rows`: per step, the symbol and every head's answer and confidence (so changing the
  delay reads another column, with no re-run); the live hidden state and the undo ring of those
  before it; the per-head counts.
- `typed.Typed`: every character fed, as typed, and which of them each step was.

Both grow together and are compacted together (`_reserve`), which gives the session's bounds:

- Kept stream: the last `keep_steps` (default KEEP_STEPS = 1,000,000) steps; one compaction per
  `keep_steps` steps keeps the cost amortised O(1) per step. `steps`, `accuracy` and
  `mean_confidence` still count every step since the reset; `stream`, `echo`, `typed` and
  `window()` describe the kept steps, which start at step `first_kept`. Backspace right after a
  compaction can leave fewer kept steps (never fewer than keep_steps − undo_steps) until new
  ones come.
- Undo: the hidden state from before each of the last `undo_steps` (default UNDO_STEPS =
  10,000) steps. Backspace restores it exactly; the memory view reads the states it holds. Past
  the window `backspace()` refuses: it returns False while `steps` > 0 and `undo_depth` is 0, and
  the app says so. A backspace takes back one step and the skipped keys typed after it; those
  typed before it stay.
- Pastes: `feed` runs more than a few symbols through the engine in chunks of CHUNK steps; the
  outputs equal stepping one symbol at a time (the tests check it), only far faster. The engine
  computes the next chunk while the session stores one.

The keystroke path (`_feed_key` → `_step`) writes its row into both parts itself, in scalars: it
is the app's latency path, and a method call per part would cost more than the writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .engine import STATE_LABELS, engine_for
from .kernels import score_row
from .rows import Rows
from .typed import MAX_GAP, Typed

__all__ = ["AHEAD", "CHUNK", "KEEP_STEPS", "MAX_GAP", "STEP_PATH_MAX", "UNDO_STEPS", "EchoSession",
           "Fed"]

UNDO_STEPS = 10_000
KEEP_STEPS = 1_000_000
CHUNK = 256  # steps per chunk of a paste: amortises the calls, and a slice of a paste in the
# app (4,096 characters) is sixteen chunks, which keeps the engine's pipeline full
AHEAD = 4 * CHUNK  # steps `feed_ahead` starts: about as long as the app takes to draw a frame
STEP_PATH_MAX = 4  # feeds up to this many symbols go step by step (the keystroke path)


@dataclass(frozen=True, slots=True)
class Fed:
    """What one `feed` did: steps made, characters skipped (outside the alphabet: no step),
    and the last of those (None when none was)."""

    steps: int
    skipped: int = 0
    last_skipped: str | None = None


NOTHING, STEPPED = Fed(0), Fed(1)  # the keystroke path's results, made once


def checked_delay(value, delays: tuple[int, ...], kind: str) -> int:
    """`value` if a head answers at that delay; else TypeError or ValueError, worded."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"delay must be a whole number, got {value!r}")
    value = int(value)
    if value not in delays:
        if kind == "fixed":
            raise ValueError(f"this fixed-delay model echoes at delay {delays[0]} only, "
                             f"not {value}")
        raise ValueError(f"delay {value} is outside 0..{delays[-1]}")
    return value


class EchoSession:
    """A stream of symbols through one model, with its echo at a settable delay."""

    def __init__(self, model, delay: int | None = None, *, undo_steps: int = UNDO_STEPS,
                 keep_steps: int = KEEP_STEPS, clock: Callable[[], float] = time.perf_counter,
                 engine=None):
        self.engine = engine_for(model) if engine is None else engine
        self._rows = Rows(model.alphabet, tuple(model.head_delays), self.engine.state_size,
                          undo_steps=undo_steps, keep_steps=keep_steps, chunk=CHUNK)
        self.model = model
        self.alphabet = model.alphabet
        self.delays = self._rows.delays
        self.undo_steps = undo_steps
        self.keep_steps = keep_steps
        self._clock = clock
        self._typed = Typed(self.alphabet, self._rows.dtype, len(self._rows.ids))
        self._delay = self.delays[len(self.delays) // 2]  # the fixed model's own; else mid-range
        if delay is not None:
            self.delay = delay
        self.reset()

    # -- the contract --------------------------------------------------------------------
    @property
    def delay(self) -> int:
        return self._delay

    @delay.setter
    def delay(self, value: int) -> None:
        self._delay = checked_delay(value, self.delays, self.model.kind)

    def feed(self, text: str) -> Fed:
        """Feed every symbol of `text` in order: what was done, as a Fed. Characters outside
        the alphabet are no step; `skipped` counts them since the reset."""
        if len(text) == 1:
            return self._feed_key(text)
        ids, at, n_skipped, last_skipped = self._typed.add(text, self._rows.n)
        self.skipped += n_skipped
        if len(ids) == 0:
            return Fed(0, n_skipped, last_skipped) if n_skipped else NOTHING
        t0 = self._clock()
        if len(ids) <= STEP_PATH_MAX:
            for i, a in zip(ids.tolist(), at.tolist()):
                self._step(i, a)
        else:
            start = 0
            for pred, conf, states in self.engine.runs(ids, self._rows.h, CHUNK):
                stop = start + len(states)
                self._reserve(stop - start)
                self._rows.store(ids[start:stop], at[start:stop], pred, conf, states, self._typed)
                self.undo_depth = min(self.undo_steps, self.undo_depth + stop - start)
                start = stop
        self.last_step_s = (self._clock() - t0) / len(ids)
        self.last_feed_steps = len(ids)
        return Fed(len(ids), n_skipped, last_skipped)

    def feed_ahead(self, text: str) -> None:
        """A hint that `feed(text)` comes next: the engine starts on it now, so what the caller
        does meanwhile (the app draws a frame) costs the paste nothing. Anything else fed or
        undone first, and the hint is dropped; the outputs are the same either way."""
        ids = self._typed.encode(text)[1]
        if len(ids) > STEP_PATH_MAX:
            self.engine.ahead(ids[:AHEAD], self._rows.h)

    def _feed_key(self, ch: str) -> Fed:
        """One character: the keystroke path, in scalars (for one symbol, a paste's array
        operations would cost more than the step itself)."""
        code = ord(ch)
        typed = self._typed
        i = int(typed.lut[code]) if code < 128 else (self.alphabet.id_of(ch) or 0)
        n = typed.n
        if n == len(typed.codes):
            typed.grow()
        typed.codes[n] = code
        typed.n = n + 1
        if not i:
            self.skipped += 1
            typed.trim_gap(self._rows.n)
            return Fed(0, 1, ch)
        t0 = self._clock()
        self._step(i, n + typed.dropped)
        self.last_step_s = self._clock() - t0
        self.last_feed_steps = 1
        return STEPPED

    def backspace(self) -> bool:
        """Undo the last step, restoring the hidden state from before it exactly; the skipped
        keys typed after that step go with it, so what was typed stays a prefix of the keys
        as they came (a model switch never re-feeds a deleted key). With no step yet, the
        skipped keys typed since the reset go.

        Returns False when there is nothing to undo: an empty stream, or a step older than the
        undo window (`undo_depth` is 0 while `steps` > 0).
        """
        if self.undo_depth == 0:  # (always so while no step is kept)
            if self.steps or not self._typed.n:
                return False
            self._typed.n = 0
            return True
        self._rows.pop(self._typed)
        self.undo_depth -= 1
        return True

    def reset(self) -> None:
        """Forget the stream and the hidden state: back to the model's initial state."""
        self._rows.clear(self.engine.initial_state())
        self._typed.clear(len(self._rows.ids))
        self.undo_depth = 0
        self.skipped = 0
        self.last_step_s: float | None = None
        self.last_feed_steps = 0

    @property
    def stream(self) -> str:
        """The kept symbols fed since the reset (all of them up to `keep_steps`)."""
        return self.window(self.first_kept, self.steps)[0]

    @property
    def echo(self) -> str:
        """The model's echo of `stream` at the current delay: same length, blank as
        `alphabet.blank`."""
        return self.window(self.first_kept, self.steps)[1]

    @property
    def accuracy(self) -> float:
        """Fraction of the scored steps (t >= delay) where the echo is the true delayed symbol.

        0.0 while nothing is scored yet (see `scored`).
        """
        scored = self.scored
        return float(self._rows.correct[self._head]) / scored if scored else 0.0

    # -- more for the views ----------------------------------------------------------------
    @property
    def steps(self) -> int:
        """Steps since the reset, including any dropped from the kept window."""
        return self._rows.base + self._rows.n

    @property
    def first_kept(self) -> int:
        return self.steps - self.kept

    @property
    def kept(self) -> int:
        return self._rows.kept

    @property
    def scored(self) -> int:
        return max(0, self.steps - self._delay)

    @property
    def correct(self) -> int:
        return int(self._rows.correct[self._head])

    @property
    def mean_confidence(self) -> float:
        """The current delay's mean probability for its own answer, over every step since the
        reset (0.0 before the first)."""
        return float(self._rows.conf_sum[self._head]) / (255 * self.steps) if self.steps else 0.0

    kind = property(lambda self: self.model.kind)
    # what `hidden` and `history` show, for the memory view: "h (the LSTM's output; ...)"
    state_label = property(lambda self: STATE_LABELS[self.model.cell])

    @property
    def hidden(self) -> torch.Tensor:
        """The current hidden state h, shape (hidden_size,) (an LSTM's output, not its c)."""
        return torch.from_numpy(self._rows.h[:self.model.hidden_size])

    @property
    def typed(self) -> str:
        """What was typed over the kept steps, as typed: upper case and skipped keys included
        (at most MAX_GAP skipped characters between two steps)."""
        return self._typed.since(self._rows.n - self.kept)

    @property
    def pending(self) -> str:
        """The skipped characters typed since the last step."""
        return self._typed.since(self._rows.n)

    def window(self, start: int, stop: int, delay: int | None = None):
        """Steps start..stop-1 (within the kept ones) as (typed, echo, wrong).

        `wrong` is a bool array: where the echo differs from the true delayed symbol (the symbol
        of step t - delay, blank when t < delay).
        """
        d = self._delay if delay is None else checked_delay(delay, self.delays, self.kind)
        return self._rows.window(start, stop, d)

    def confidence(self, start: int, stop: int, delay: int | None = None) -> np.ndarray:
        """Each step's probability for its echo at `delay`, as a byte (255 = certain)."""
        d = self._delay if delay is None else checked_delay(delay, self.delays, self.kind)
        return self._rows.confidence(start, stop, d)

    def skips(self, start: int, stop: int) -> tuple[np.ndarray, str]:
        """For steps start..stop-1: how many skipped characters came right before each (counts,
        at most MAX_GAP) and the last of them (a string, ' ' where none was)."""
        return self._typed.skips(*self._rows.span(start, stop))

    def history(self, start: int, stop: int) -> np.ndarray:
        """The hidden state h after each of steps start..stop-1: (stop - start, hidden_size).

        Only steps whose state the undo ring still holds (the last `undo_depth`, and the state
        the oldest of them started from) can be read.
        """
        return self._rows.history(start, stop, self.undo_depth, self.model.hidden_size)

    def true_echo(self) -> str:
        """What a perfect echo of `stream` would be at the current delay."""
        lo, hi = self._rows.span(self.first_kept, self.steps)
        return self._rows.decode(self._rows.truth(lo, hi, self._delay))

    # -- machinery ---------------------------------------------------------------------------
    @property
    def _head(self) -> int:
        return self.delays.index(self._delay)

    def _reserve(self, k: int) -> None:
        """Room for k more steps (every row is added through here)."""
        self._rows.reserve(k, self._typed)

    def _step(self, i: int, at: int) -> None:
        """One symbol through the engine; `at`: where its character is in what was typed,
        counted from the first character ever kept."""
        rows = self._rows
        if rows.n == len(rows.ids):
            self._reserve(1)
        r = rows.n
        if self.undo_steps:
            rows.undo[(rows.base + r) % self.undo_steps] = rows.h
        h = np.empty_like(rows.h)
        self.engine.step_into(i, rows.h, h, rows.out[r], rows.conf[r])
        rows.h = h
        rows.ids[r] = i
        typed = self._typed
        typed.at[r] = at - typed.dropped
        rows.n = r + 1
        score_row(rows.out, rows.ids, rows.conf, r, rows.base, rows.delay_arr, rows.correct,
                  rows.conf_sum, 1)
        self.undo_depth = min(self.undo_steps, self.undo_depth + 1)
