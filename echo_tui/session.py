"""The streaming core: each symbol is one GRU step, the hidden state carried from key to key.

EchoSession knows nothing of Textual; the app and its widgets are views of one.

Why the storage looks like this (sessions may run to millions of steps, with flat per-step cost):

- Outputs of every head. The GRU's memory does not depend on the delay, and each step yields
  logits for every head delay at once, so the argmax of every head, and its probability as one
  byte (the confidence), are stored per step (rows of preallocated numpy arrays, grown by
  doubling). Changing the delay reads another column: the whole stream re-renders at the new
  delay with no re-run.
- Kept stream: the last `keep_steps` (default KEEP_STEPS = 1,000,000) steps. The buffers grow
  by doubling up to keep_steps + max delay + max(keep_steps, CHUNK) rows, then are compacted to
  the newest `keep_steps` (amortised O(1) per step: one copy per `keep_steps` steps). `steps`,
  `accuracy` and `mean_confidence` still count every step since the reset; `stream`, `echo`,
  `typed` and `window()` describe the kept steps, which start at step `first_kept`.
  Backspace right after a compaction can leave fewer kept steps (never fewer than keep_steps −
  undo_steps) until new ones come.
- What was typed. Every character fed is kept as typed (code points, upper case and keys outside
  the alphabet included), with the place of each step's own character in it. So a model switch
  re-feeds the text itself (a text model gets its capitals and punctuation back after a visit
  to the letters model), and the views can mark where skipped keys were. At most MAX_GAP
  skipped characters are kept between two steps; more are dropped (a paste of a megabyte of
  emoji does not grow the session).
- Undo: the hidden state from before each of the last `undo_steps` (default UNDO_STEPS =
  10,000) steps sits in a ring (10,000 x hidden floats: 5 MB at hidden 128). Backspace restores
  it exactly; the memory view reads the states it holds. Past the window `backspace()` refuses:
  it returns False while `steps` > 0 and `undo_depth` is 0, and the app says so. A backspace
  takes back one step and the skipped keys typed after it; those typed before it stay.
- Accuracy and confidence: per-head sums, updated as steps come and go, so reading them at any
  delay is O(1).
- Pastes: `feed` runs more than a few symbols through the engine in chunks of CHUNK steps; the
  outputs equal stepping one symbol at a time (the tests check it), only far faster. The engine
  computes the next chunk while the session stores one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .engine import engine_for
from .kernels import score_row

UNDO_STEPS = 10_000
KEEP_STEPS = 1_000_000
CHUNK = 256  # steps per chunk of a paste: amortises the calls, and a slice of a paste in the
# app (4,096 characters) is sixteen chunks, which keeps the engine's pipeline full
AHEAD = 4 * CHUNK  # steps `feed_ahead` starts: about as long as the app takes to draw a frame
STEP_PATH_MAX = 4  # feeds up to this many symbols go step by step (the keystroke path)
MAX_GAP = 1000  # skipped characters kept between two steps
_FIRST_CAPACITY = 4096


@dataclass(frozen=True, slots=True)
class Fed:
    """What one `feed` did: GRU steps made, characters skipped (outside the alphabet: no step),
    and the last of those (None when none was)."""

    steps: int
    skipped: int = 0
    last_skipped: str | None = None


NOTHING, STEPPED = Fed(0), Fed(1)  # the keystroke path's results, made once


class EchoSession:
    """A stream of symbols through one model, with its echo at a settable delay."""

    def __init__(self, model, delay: int | None = None, *, undo_steps: int = UNDO_STEPS,
                 keep_steps: int = KEEP_STEPS, clock: Callable[[], float] = time.perf_counter,
                 engine=None):
        if undo_steps < 0 or keep_steps < max(1, undo_steps):
            raise ValueError("need 0 <= undo_steps <= keep_steps and keep_steps >= 1")
        self.model = model
        self.engine = engine_for(model) if engine is None else engine
        self.alphabet = model.alphabet
        self.delays = tuple(model.head_delays)
        self.undo_steps = undo_steps
        self.keep_steps = keep_steps
        self._clock = clock
        self._delay_arr = np.asarray(self.delays, dtype=np.int64)
        self._margin = max(self.delays)  # ids kept before the window, to judge its first echoes
        self._max_rows = keep_steps + self._margin + max(keep_steps, CHUNK)
        n_ids = len(self.alphabet) + 1
        self._dtype = np.uint8 if n_ids <= 256 else np.int32
        self._sym = np.array([self.alphabet.blank, *self.alphabet.symbols], dtype="<U1")
        self._lut = np.array([self.alphabet.id_of(chr(c)) or 0 for c in range(128)],
                             dtype=self._dtype)  # ASCII -> id, 0 = not in the alphabet
        self._undo = np.zeros((undo_steps, model.hidden_size), dtype=np.float32)
        self._delay = self._default_delay() if delay is None else self._check_delay(delay)
        self.reset()

    # -- the contract --------------------------------------------------------------------
    @property
    def delay(self) -> int:
        return self._delay

    @delay.setter
    def delay(self, value: int) -> None:
        self._delay = self._check_delay(value)

    def feed(self, text: str) -> Fed:
        """Feed every symbol of `text` in order: what was done, as a Fed. Characters outside
        the alphabet are no step; `skipped` counts them since the reset."""
        if len(text) == 1:
            return self._feed_key(text)
        codes, ids, pos = self._encode(text)
        n_skipped = len(codes) - len(ids)
        self.skipped += n_skipped
        last_skipped = None
        if n_skipped:
            skipped = np.ones(len(codes), dtype=bool)
            skipped[pos] = False
            last_skipped = text[np.flatnonzero(skipped)[-1]]
        if len(codes) == 0:
            return NOTHING
        at = self._append_typed(codes, pos)
        if len(ids) == 0:
            return Fed(0, n_skipped, last_skipped)
        t0 = self._clock()
        if len(ids) <= STEP_PATH_MAX:
            for i, a in zip(ids.tolist(), at.tolist()):
                self._step(i, a)
        else:
            start = 0
            for pred, conf, states in self.engine.runs(ids, self._h, CHUNK):
                stop = start + len(states)
                self._store(ids[start:stop], at[start:stop], pred, conf, states)
                start = stop
        self.last_step_s = (self._clock() - t0) / len(ids)
        self.last_feed_steps = len(ids)
        return Fed(len(ids), n_skipped, last_skipped)

    def feed_ahead(self, text: str) -> None:
        """A hint that `feed(text)` comes next: the engine starts on it now, so what the caller
        does meanwhile (the app draws a frame) costs the paste nothing. Anything else fed or
        undone first, and the hint is dropped; the outputs are the same either way."""
        ids = self._encode(text)[1]
        if len(ids) > STEP_PATH_MAX:
            self.engine.ahead(ids[:AHEAD], self._h)

    def _feed_key(self, ch: str) -> Fed:
        """One character: the keystroke path, in scalars (for one symbol, a paste's array
        operations would cost more than the GRU step itself)."""
        code = ord(ch)
        i = int(self._lut[code]) if code < 128 else (self.alphabet.id_of(ch) or 0)
        if self._raw_n == len(self._raw):
            self._raw = np.concatenate((self._raw, np.zeros_like(self._raw)))
        self._raw[self._raw_n] = code
        self._raw_n += 1
        if not i:
            self.skipped += 1
            self._trim_gap(self._pending_start())
            return Fed(0, 1, ch)
        t0 = self._clock()
        self._step(i, self._raw_n - 1 + self._raw_dropped)
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
        if self._n == 0:
            if self.steps or not self._raw_n:
                return False
            self._raw_n = 0
            return True
        if self.undo_depth == 0:
            return False
        r = self._n - 1
        self._score(r, r + 1, -1)
        self._h = self._undo[(self._base + r) % self.undo_steps].copy()
        self._raw_n = int(self._at[r])  # the step's own character and all typed after it
        self._n = r
        self.undo_depth -= 1
        return True

    def reset(self) -> None:
        """Forget the stream and the hidden state: back to the model's initial state."""
        rows = min(_FIRST_CAPACITY, self._max_rows)
        heads = len(self.delays)
        self._ids = np.zeros(rows, dtype=self._dtype)
        self._out = np.zeros((rows, heads), dtype=self._dtype)
        self._conf = np.zeros((rows, heads), dtype=np.uint8)
        self._at = np.zeros(rows, dtype=np.int64)  # where each step's character is in _raw
        self._raw = np.zeros(rows, dtype=np.uint32)  # what was typed, as code points
        self._raw_n = 0
        self._raw_dropped = 0  # code points dropped from the front of _raw by compaction
        self._n = 0  # rows in use
        self._base = 0  # step number of row 0 (rows before it were dropped)
        self._h = self.engine.initial_state()
        self._correct = np.zeros(heads, dtype=np.int64)
        self._conf_sum = np.zeros(heads, dtype=np.int64)
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
        return float(self._correct[self._head]) / scored if scored else 0.0

    # -- more for the views ----------------------------------------------------------------
    @property
    def steps(self) -> int:
        """Steps since the reset, including any dropped from the kept window."""
        return self._base + self._n

    @property
    def first_kept(self) -> int:
        return self.steps - self.kept

    @property
    def kept(self) -> int:
        # once rows have been dropped, the first `_margin` rows only judge the window's first
        # echoes; backspace right after a compaction can bring `_n` below keep_steps + margin
        margin = self._margin if self._base else 0
        return min(self._n - margin, self.keep_steps)

    @property
    def scored(self) -> int:
        return max(0, self.steps - self._delay)

    @property
    def correct(self) -> int:
        return int(self._correct[self._head])

    @property
    def mean_confidence(self) -> float:
        """The current delay's mean probability for its own answer, over every step since the
        reset (0.0 before the first)."""
        return float(self._conf_sum[self._head]) / (255 * self.steps) if self.steps else 0.0

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def hidden(self) -> torch.Tensor:
        """The GRU's current hidden state, shape (hidden_size,)."""
        return torch.from_numpy(self._h)

    @property
    def typed(self) -> str:
        """What was typed over the kept steps, as typed: upper case and skipped keys included
        (at most MAX_GAP skipped characters between two steps)."""
        return self._text(self._gap_start(self._n - self.kept), self._raw_n)

    @property
    def pending(self) -> str:
        """The skipped characters typed since the last step."""
        return self._text(self._pending_start(), self._raw_n)

    def window(self, start: int, stop: int, delay: int | None = None):
        """Steps start..stop-1 (within the kept ones) as (typed, echo, wrong).

        `wrong` is a bool array: where the echo differs from the true delayed symbol (the symbol
        of step t - delay, blank when t < delay).
        """
        d = self._delay if delay is None else self._check_delay(delay)
        lo, hi = self._rows(start, stop)
        ids = self._ids[lo:hi]
        echo = self._out[lo:hi, self.delays.index(d)]
        return self._decode(ids), self._decode(echo), echo != self._truth(lo, hi, d)

    def confidence(self, start: int, stop: int, delay: int | None = None) -> np.ndarray:
        """Each step's probability for its echo at `delay`, as a byte (255 = certain)."""
        d = self._delay if delay is None else self._check_delay(delay)
        lo, hi = self._rows(start, stop)
        return self._conf[lo:hi, self.delays.index(d)]

    def skips(self, start: int, stop: int) -> tuple[np.ndarray, str]:
        """For steps start..stop-1: how many skipped characters came right before each (counts,
        at most MAX_GAP) and the last of them (a string, ' ' where none was)."""
        lo, hi = self._rows(start, stop)
        ends = self._at[lo:hi]
        starts = np.empty_like(ends)
        if hi > lo:
            starts[0] = self._gap_start(lo)
            starts[1:] = ends[:-1] + 1
        counts = ends - starts
        last = np.where(counts > 0, self._raw[np.maximum(ends - 1, 0)], ord(" "))
        return counts, last.astype("<u4").tobytes().decode("utf-32-le", "replace")

    def history(self, start: int, stop: int) -> np.ndarray:
        """The hidden state after each of steps start..stop-1: (stop - start, hidden_size).

        Only steps whose state the undo ring still holds (the last `undo_depth`, and the state
        the oldest of them started from) can be read.
        """
        oldest = max(0, self.steps - self.undo_depth - 1)
        if not oldest <= start <= stop <= self.steps:
            raise IndexError(f"states of steps {start}..{stop} are not kept "
                             f"(kept: {oldest}..{self.steps})")
        out = np.empty((stop - start, self._h.shape[0]), dtype=np.float32)
        if stop == start:
            return out
        last = stop - start - (1 if stop == self.steps else 0)  # the newest is the live state
        idx = (np.arange(start + 1, start + 1 + last)) % max(1, self.undo_steps)
        out[:last] = self._undo[idx]
        if stop == self.steps:
            out[-1] = self._h
        return out

    def true_echo(self) -> str:
        """What a perfect echo of `stream` would be at the current delay."""
        lo, hi = self._rows(self.first_kept, self.steps)
        return self._decode(self._truth(lo, hi, self._delay))

    # -- machinery ---------------------------------------------------------------------------
    @property
    def _head(self) -> int:
        return self.delays.index(self._delay)

    def _rows(self, start: int, stop: int) -> tuple[int, int]:
        if not self.first_kept <= start <= stop <= self.steps:
            raise IndexError(f"steps {start}..{stop} are not all kept "
                             f"(kept: {self.first_kept}..{self.steps})")
        return start - self._base, stop - self._base

    def _truth(self, lo: int, hi: int, d: int) -> np.ndarray:
        """The true echo of rows lo..hi-1 at delay d: the symbol d steps back, else blank."""
        truth = np.zeros(hi - lo, dtype=self._dtype)
        first = max(lo, d - self._base)  # the first row whose true echo is a symbol
        if first < hi:
            truth[first - lo:] = self._ids[first - d:hi - d]
        return truth

    def _default_delay(self) -> int:
        return self.delays[len(self.delays) // 2]  # the fixed model's own; mid-range if variable

    def _check_delay(self, value) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"delay must be a whole number, got {value!r}")
        value = int(value)
        if value not in self.delays:
            if self.model.kind == "fixed":
                raise ValueError(f"this fixed-delay model echoes at delay {self.delays[0]} only, "
                                 f"not {value}")
            raise ValueError(f"delay {value} is outside 0..{self.delays[-1]}")
        return value

    def _encode(self, text: str):
        """Text -> (code points of every character, ids of those in the alphabet, where those
        are in the text)."""
        if text.isascii():
            codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
            found = self._lut[codes]
            pos = np.flatnonzero(found)
            return codes.astype(np.uint32), found[pos], pos
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        id_of = self.alphabet.id_of
        found = [id_of(ch) for ch in text]
        pos = np.array([k for k, i in enumerate(found) if i is not None], dtype=np.int64)
        ids = np.array([i for i in found if i is not None], dtype=self._dtype)
        return codes, ids, pos

    def _decode(self, ids: np.ndarray) -> str:
        return self._sym[ids].tobytes().decode("utf-32-le")

    def _text(self, lo: int, hi: int) -> str:
        return self._raw[lo:hi].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    def _gap_start(self, row: int) -> int:
        """Where the skipped characters before `row` begin in _raw."""
        return int(self._at[row - 1]) + 1 if row > 0 else 0

    def _pending_start(self) -> int:
        return self._gap_start(self._n)

    def _append_typed(self, codes: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Append typed characters; returns where the stepped ones land, counted from the
        first character ever kept (so a compaction on the way does not move them)."""
        gap0 = self._pending_start()
        need = self._raw_n + len(codes)
        if need > len(self._raw):
            raw = np.zeros(max(need, 2 * len(self._raw)), dtype=np.uint32)
            raw[:self._raw_n] = self._raw[:self._raw_n]
            self._raw = raw
        s = self._raw_n
        self._raw[s:need] = codes
        self._raw_n = need
        at = s + pos
        bounds = np.concatenate(([gap0 - 1], at, [need]))
        gaps = np.diff(bounds) - 1  # skipped characters before each step, and after the last
        if gaps.max() > MAX_GAP:
            keep = np.ones(need - gap0, dtype=bool)
            for k in np.flatnonzero(gaps > MAX_GAP):
                first = bounds[k] + 1 - gap0
                keep[first:first + gaps[k] - MAX_GAP] = False
            moved = np.cumsum(keep) - 1  # old place -> new place, counted from gap0
            at = gap0 + moved[at - gap0]
            kept = self._raw[gap0:need][keep]
            self._raw[gap0:gap0 + len(kept)] = kept
            self._raw_n = gap0 + len(kept)
        return at + self._raw_dropped

    def _trim_gap(self, start: int) -> None:
        """Keep at most MAX_GAP skipped characters after the last step."""
        extra = self._raw_n - start - MAX_GAP
        if extra > 0:
            self._raw[start:self._raw_n - extra] = self._raw[start + extra:self._raw_n]
            self._raw_n -= extra

    def _reserve(self, k: int) -> None:
        need = self._n + k
        if need <= len(self._ids):
            return
        if len(self._ids) < self._max_rows:
            size = min(max(need, 2 * len(self._ids)), self._max_rows)
            for name in ("_ids", "_out", "_conf", "_at"):
                old = getattr(self, name)
                new = np.zeros((size,) + old.shape[1:], dtype=old.dtype)
                new[:self._n] = old[:self._n]
                setattr(self, name, new)
            if need <= size:
                return
        # full: keep the newest keep_steps rows plus the margin their echoes are judged by
        keep = self.keep_steps + self._margin
        drop = self._n - keep
        cut = self._gap_start(drop)  # the first kept row's skipped characters stay
        for a in (self._ids, self._out, self._conf, self._at):
            a[:keep] = a[drop:self._n]
        self._raw[:self._raw_n - cut] = self._raw[cut:self._raw_n]
        self._raw_n -= cut
        self._raw_dropped += cut
        self._at[:keep] -= cut
        self._base += drop
        self._n = keep

    def _step(self, i: int, at: int) -> None:
        if self._n == len(self._ids):
            self._reserve(1)
        r = self._n
        if self.undo_steps:
            self._undo[(self._base + r) % self.undo_steps] = self._h
        h = np.empty_like(self._h)
        self.engine.step_into(i, self._h, h, self._out[r], self._conf[r])
        self._h = h
        self._ids[r] = i
        self._at[r] = at - self._raw_dropped
        self._n = r + 1
        self._score(r, r + 1, +1)
        self.undo_depth = min(self.undo_steps, self.undo_depth + 1)

    def _store(self, ids: np.ndarray, at: np.ndarray, pred: np.ndarray, conf: np.ndarray,
               states: np.ndarray) -> None:
        """Rows for steps of `ids` from the current state, as the engine ran them."""
        k = len(ids)
        self._reserve(k)
        r = self._n
        h_before = self._h
        self._ids[r:r + k] = ids
        self._out[r:r + k] = pred
        self._conf[r:r + k] = conf
        self._at[r:r + k] = at - self._raw_dropped
        self._h = states[-1].copy()
        self._n = r + k
        self._score(r, r + k, +1)
        if self.undo_steps:
            # the state before step t is the state after step t - 1
            self._ring_write(self._base + r, h_before, states[:-1])
        self.undo_depth = min(self.undo_steps, self.undo_depth + k)

    def _ring_write(self, t: int, first: np.ndarray, rest: np.ndarray) -> None:
        """The states before steps t, t+1, ...: `first`, then the rows of `rest`."""
        u = self.undo_steps
        states = np.concatenate((first[None], rest)) if len(rest) < u else rest[-u:]
        t += 1 + len(rest) - len(states)
        k = t % u
        n = min(u - k, len(states))
        self._undo[k:k + n] = states[:n]
        self._undo[:len(states) - n] = states[n:]

    def _score(self, lo: int, hi: int, sign: int) -> None:
        """Add (sign=+1) or take back (-1) rows lo..hi-1 in every head's counts."""
        if hi - lo == 1:
            score_row(self._out, self._ids, self._conf, lo, self._base, self._delay_arr,
                      self._correct, self._conf_sum, sign)
            return
        for j, d in enumerate(self.delays):
            first = max(lo, d - self._base)
            if first < hi:
                hits = np.count_nonzero(self._out[first:hi, j] == self._ids[first - d:hi - d])
                self._correct[j] += sign * hits
        self._conf_sum += sign * self._conf[lo:hi].sum(0, dtype=np.int64)
