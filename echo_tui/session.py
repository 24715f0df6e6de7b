"""The streaming core: each symbol is one GRU step, the hidden state carried from key to key.

EchoSession knows nothing of Textual; the app and its widgets are views of one.

Why the storage looks like this (sessions may run to millions of steps, with flat per-step cost):

- Outputs of every head. The GRU's memory does not depend on the delay, and each step yields
  logits for every head delay at once, so the argmax of every head is stored per step (a row of a
  preallocated numpy array, uint8 where the alphabet allows; grown by doubling). Changing the
  delay reads another column: the whole stream re-renders at the new delay with no re-run.
- Kept stream: the last `keep_steps` (default KEEP_STEPS = 1,000,000) steps. The buffers grow
  by doubling up to keep_steps + max delay + max(keep_steps, CHUNK) rows (20 MB at the defaults
  with 9 heads), then are compacted to the newest `keep_steps` (amortised O(1) per step: one copy
  per `keep_steps` steps). `steps` and `accuracy` still count every step since the reset;
  `stream`, `echo` and `window()` describe the kept steps, which start at step `first_kept`.
  Backspace right after a compaction can leave fewer kept steps (never fewer than keep_steps −
  undo_steps) until new ones come.
- Undo: the hidden state from before each of the last `undo_steps` (default UNDO_STEPS = 10,000)
  steps sits in a ring (10,000 x hidden floats: 5 MB at hidden 128). Backspace restores it
  exactly. Past the window `backspace()` refuses: it returns False while `steps` > 0 and
  `undo_depth` is 0, and the app says so.
- Accuracy: a correct-count per head, updated as steps come and go, so reading it at any delay
  is O(1).
- Pastes: `feed` runs more than a few symbols as batched `model.memory` calls of CHUNK steps; the
  argmax equals stepping one symbol at a time (the tests check it), only far faster.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

UNDO_STEPS = 10_000
KEEP_STEPS = 1_000_000
CHUNK = 1024  # steps per batched model call: amortises the call, keeps the screen responsive
STEP_PATH_MAX = 4  # feeds up to this many symbols go step by step (the keystroke path)
_FIRST_CAPACITY = 4096


class EchoSession:
    """A stream of symbols through one model, with its echo at a settable delay."""

    def __init__(self, model, delay: int | None = None, *, undo_steps: int = UNDO_STEPS,
                 keep_steps: int = KEEP_STEPS, clock: Callable[[], float] = time.perf_counter):
        if undo_steps < 0 or keep_steps < max(1, undo_steps):
            raise ValueError("need 0 <= undo_steps <= keep_steps and keep_steps >= 1")
        self.model = model
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
        symbols = [" "] + list(self.alphabet.symbols)
        self._sym = np.array(symbols, dtype="<U1")
        self._lut = np.array([self.alphabet.id_of(chr(c)) or 0 for c in range(128)],
                             dtype=self._dtype)  # ASCII -> id, 0 = not in the alphabet
        self._id_tensors = [torch.tensor([i]) for i in range(n_ids)]
        self._undo = torch.zeros(undo_steps, model.hidden_size)
        self._delay = self._default_delay() if delay is None else self._check_delay(delay)
        self.reset()

    # -- the contract --------------------------------------------------------------------
    @property
    def delay(self) -> int:
        return self._delay

    @delay.setter
    def delay(self, value: int) -> None:
        self._delay = self._check_delay(value)

    def feed(self, text: str) -> int:
        """Feed every symbol of `text` in order; returns the number of steps made.

        Characters outside the alphabet are no step: they are counted in `skipped`, and the last
        one is in `last_skipped` (None when this feed skipped nothing).
        """
        ids, self.last_skipped, n_skipped = self._encode(text)
        self.skipped += n_skipped
        if len(ids) == 0:
            return 0
        t0 = self._clock()
        if len(ids) <= STEP_PATH_MAX:
            for i in ids.tolist():
                self._step(i)
        else:
            for start in range(0, len(ids), CHUNK):
                self._batch(ids[start:start + CHUNK])
        self.last_step_s = (self._clock() - t0) / len(ids)
        self.last_feed_steps = len(ids)
        return len(ids)

    def backspace(self) -> bool:
        """Undo the last step, restoring the hidden state from before it exactly.

        Returns False when there is nothing to undo: an empty stream, or a step older than the
        undo window (`undo_depth` is 0 while `steps` > 0).
        """
        if self._n == 0 or self.undo_depth == 0:
            return False
        r = self._n - 1
        self._score(r, r + 1, -1)
        t = self._base + r
        self._h = self._undo[t % self.undo_steps].clone().view(1, 1, -1)
        self._n = r
        self.undo_depth -= 1
        return True

    def reset(self) -> None:
        """Forget the stream and the hidden state: back to the model's initial state."""
        rows = min(_FIRST_CAPACITY, self._max_rows)
        self._ids = np.zeros(rows, dtype=self._dtype)
        self._out = np.zeros((rows, len(self.delays)), dtype=self._dtype)
        self._n = 0  # rows in use
        self._base = 0  # step number of row 0 (rows before it were dropped)
        self._h = self.model.initial_state(1)
        self._correct = np.zeros(len(self.delays), dtype=np.int64)
        self.undo_depth = 0
        self.skipped = 0
        self.last_skipped: str | None = None
        self.last_step_s: float | None = None
        self.last_feed_steps = 0

    @property
    def stream(self) -> str:
        """The kept symbols fed since the reset (all of them up to `keep_steps`)."""
        return self.window(self.first_kept, self.steps)[0]

    @property
    def echo(self) -> str:
        """The model's echo of `stream` at the current delay: same length, blank as ' '."""
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
    def kind(self) -> str:
        return self.model.kind

    @property
    def hidden(self) -> torch.Tensor:
        """The GRU's current hidden state, shape (hidden_size,)."""
        return self._h.view(-1)

    def window(self, start: int, stop: int, delay: int | None = None):
        """Steps start..stop-1 (within the kept ones) as (typed, echo, wrong).

        `wrong` is a bool array: where the echo differs from the true delayed symbol (the symbol
        of step t - delay, blank when t < delay).
        """
        d = self._delay if delay is None else self._check_delay(delay)
        if not self.first_kept <= start <= stop <= self.steps:
            raise IndexError(f"steps {start}..{stop} are not all kept "
                             f"(kept: {self.first_kept}..{self.steps})")
        lo, hi = start - self._base, stop - self._base
        ids = self._ids[lo:hi]
        echo = self._out[lo:hi, self.delays.index(d)]
        truth = np.zeros_like(ids)
        first = max(lo, d - self._base)  # the first row whose true echo is a symbol
        if first < hi:
            truth[first - lo:] = self._ids[first - d:hi - d]
        return self._decode(ids), self._decode(echo), echo != truth

    def true_echo(self) -> str:
        """What a perfect echo of `stream` would be at the current delay."""
        lo, hi = self.first_kept - self._base, self._n
        d = self._delay
        truth = np.zeros(hi - lo, dtype=self._dtype)
        first = max(lo, d - self._base)
        if first < hi:
            truth[first - lo:] = self._ids[first - d:hi - d]
        return self._decode(truth)

    # -- machinery ---------------------------------------------------------------------------
    @property
    def _head(self) -> int:
        return self.delays.index(self._delay)

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
        """Text -> (ids of the symbols in the alphabet, last skipped character, skipped count)."""
        if text.isascii():
            ids = self._lut[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
            out = np.flatnonzero(ids == 0)
            if len(out) == 0:
                return ids, None, 0
            return ids[ids != 0], text[out[-1]], len(out)
        id_of = self.alphabet.id_of
        found = [id_of(ch) for ch in text]
        ids = np.array([i for i in found if i is not None], dtype=self._dtype)
        skipped = [ch for ch, i in zip(text, found) if i is None]
        return ids, (skipped[-1] if skipped else None), len(skipped)

    def _decode(self, ids: np.ndarray) -> str:
        return self._sym[ids].tobytes().decode("utf-32-le")

    def _reserve(self, k: int) -> None:
        need = self._n + k
        if need <= len(self._ids):
            return
        if len(self._ids) < self._max_rows:
            size = min(max(need, 2 * len(self._ids)), self._max_rows)
            ids = np.zeros(size, dtype=self._dtype)
            out = np.zeros((size, len(self.delays)), dtype=self._dtype)
            ids[:self._n] = self._ids[:self._n]
            out[:self._n] = self._out[:self._n]
            self._ids, self._out = ids, out
            if need <= size:
                return
        # full: keep the newest keep_steps rows plus the margin their echoes are judged by
        keep = self.keep_steps + self._margin
        drop = self._n - keep
        self._ids[:keep] = self._ids[drop:self._n]
        self._out[:keep] = self._out[drop:self._n]
        self._base += drop
        self._n = keep

    def _step(self, i: int) -> None:
        self._reserve(1)
        r = self._n
        if self.undo_steps:
            self._undo[(self._base + r) % self.undo_steps].copy_(self._h.view(-1))
        logits, self._h = self.model.step(self._id_tensors[i], self._h)
        self._ids[r] = i
        self._out[r] = logits[0].argmax(-1).numpy()
        self._n = r + 1
        self._score(r, r + 1, +1)
        self.undo_depth = min(self.undo_steps, self.undo_depth + 1)

    @torch.no_grad()
    def _batch(self, ids: np.ndarray) -> None:
        k = len(ids)
        self._reserve(k)
        r = self._n
        x = torch.from_numpy(ids.astype(np.int64))[None]
        h_before = self._h
        out, self._h = self.model.memory(x, h_before)
        pred = self.model.all_heads(out[0]).argmax(-1)  # (k, heads)
        self._ids[r:r + k] = ids
        self._out[r:r + k] = pred.numpy()
        self._n = r + k
        self._score(r, r + k, +1)
        if self.undo_steps:
            # a one-layer GRU's output at step t is its hidden state after t
            before = torch.cat([h_before.view(1, -1), out[0, :-1]])
            self._ring_write(self._base + r, before)
        self.undo_depth = min(self.undo_steps, self.undo_depth + k)

    def _ring_write(self, t: int, states: torch.Tensor) -> None:
        u = self.undo_steps
        if len(states) > u:
            t += len(states) - u
            states = states[-u:]
        k = t % u
        first = min(u - k, len(states))
        self._undo[k:k + first] = states[:first]
        self._undo[:len(states) - first] = states[first:]

    def _score(self, lo: int, hi: int, sign: int) -> None:
        """Add (sign=+1) or take back (-1) rows lo..hi-1 in every head's correct-count."""
        if hi - lo == 1:
            src = lo - self._delay_arr
            valid = src + self._base >= 0
            hit = (self._out[lo] == self._ids[np.maximum(src, 0)]) & valid
            self._correct += sign * hit
            return
        for j, d in enumerate(self.delays):
            first = max(lo, d - self._base)
            if first < hi:
                hits = np.count_nonzero(self._out[first:hi, j] == self._ids[first - d:hi - d])
                self._correct[j] += sign * hits
