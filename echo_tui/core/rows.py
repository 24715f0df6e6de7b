"""A session's per-step storage: each step's symbol, every head's answer and confidence, the
hidden states undo restores, and every head's running counts.

Why it looks like this (sessions may run to millions of steps, with flat per-step cost):

- Outputs of every head. The GRU's memory does not depend on the delay, and each step yields
  logits for every head delay at once, so the argmax of every head, and its probability as one
  byte (the confidence), are stored per step (rows of preallocated numpy arrays, grown by
  doubling). Changing the delay reads another column: the whole stream re-renders at the new
  delay with no re-run.
- Kept rows: the buffers grow by doubling up to keep_steps + max delay + max(keep_steps, chunk)
  rows, then are compacted to the newest keep_steps plus the max delay (the margin that judges
  their first echoes): amortised O(1) per step, one copy per `keep_steps` steps. `base` is the
  step number of row 0.
- Undo: the engine's state from before each of the last `undo_steps` steps sits in a ring
  (10,000 x state floats: 5 MB at hidden 128), allocated once; the live state `h` is the
  newest, so `history` reads both. A state is the engine's vector: an LSTM's holds h then c,
  so undo restores both; `history` reads the first `width` floats of each (h).
- Accuracy and confidence: per-head sums, updated as steps come and go, so reading them at any
  delay is O(1).

The session writes a keystroke's row itself (`EchoSession._step`: a method call here would cost
more than the writes); a paste's rows come in through `store`. The typed record (`typed.Typed`)
has one position per row: `reserve`, `store` and `pop` move it with the rows (the session calls
`reserve` through its `_reserve` only, the one way rows get room).
"""

from __future__ import annotations

import numpy as np

from .kernels import score_row

FIRST_CAPACITY = 4096


class Rows:
    """Rows 0..n-1 of steps base..base+n-1, the live hidden state with the undo ring of those
    before, and the per-head counts."""

    __slots__ = ("delays", "delay_arr", "margin", "keep_steps", "keep", "max_rows", "undo_steps",
                 "dtype", "sym", "ids", "out", "conf", "h", "undo", "n", "base", "correct",
                 "conf_sum")

    def __init__(self, alphabet, delays: tuple[int, ...], state_size: int, *, undo_steps: int,
                 keep_steps: int, chunk: int):
        if undo_steps < 0 or keep_steps < max(1, undo_steps):
            raise ValueError("need 0 <= undo_steps <= keep_steps and keep_steps >= 1")
        self.dtype = np.uint8 if len(alphabet) + 1 <= 256 else np.int32  # of the ids
        self.sym = np.array([alphabet.blank, *alphabet.symbols], dtype="<U1")  # id -> symbol
        self.delays = delays
        self.delay_arr = np.asarray(delays, dtype=np.int64)
        self.margin = max(delays)  # ids kept before the window, to judge its first echoes
        self.keep_steps = keep_steps
        self.keep = keep_steps + self.margin  # rows a compaction keeps
        self.max_rows = self.keep + max(keep_steps, chunk)
        self.undo_steps = undo_steps
        self.undo = np.zeros((undo_steps, state_size), dtype=np.float32)
        self.clear(np.zeros(state_size, dtype=np.float32))

    def clear(self, h: np.ndarray) -> None:
        """No rows, counts at zero, `h` the live state (the undo ring stays: its rows are written
        before they are read)."""
        self.h = h
        rows = min(FIRST_CAPACITY, self.max_rows)
        heads = len(self.delays)
        self.ids = np.zeros(rows, dtype=self.dtype)
        self.out = np.zeros((rows, heads), dtype=self.dtype)
        self.conf = np.zeros((rows, heads), dtype=np.uint8)
        self.n = 0  # rows in use
        self.base = 0  # step number of row 0 (rows before it were dropped)
        self.correct = np.zeros(heads, dtype=np.int64)
        self.conf_sum = np.zeros(heads, dtype=np.int64)

    @property
    def kept(self) -> int:
        """Steps of the kept window: the newest keep_steps (fewer right after a backspace)."""
        # once rows have been dropped, the first `margin` rows only judge the window's first
        # echoes; backspace right after a compaction can bring `n` below keep_steps + margin
        margin = self.margin if self.base else 0
        return min(self.n - margin, self.keep_steps)

    def span(self, start: int, stop: int) -> tuple[int, int]:
        """Steps start..stop-1 (all kept) as rows."""
        steps = self.base + self.n
        first = steps - self.kept
        if not first <= start <= stop <= steps:
            raise IndexError(f"steps {start}..{stop} are not all kept (kept: {first}..{steps})")
        return start - self.base, stop - self.base

    def window(self, start: int, stop: int, d: int) -> tuple[str, str, np.ndarray]:
        """Steps start..stop-1 (all kept) at delay d: (symbols, echo, where the echo is wrong)."""
        lo, hi = self.span(start, stop)
        echo = self.out[lo:hi, self.delays.index(d)]
        return self.decode(self.ids[lo:hi]), self.decode(echo), echo != self.truth(lo, hi, d)

    def confidence(self, start: int, stop: int, d: int) -> np.ndarray:
        """Steps start..stop-1 (all kept): the confidence bytes of their echoes at delay d."""
        lo, hi = self.span(start, stop)
        return self.conf[lo:hi, self.delays.index(d)]

    def decode(self, ids: np.ndarray) -> str:
        return self.sym[ids].tobytes().decode("utf-32-le")

    def reserve(self, k: int, typed) -> None:
        """Room for k more rows, here and in `typed`'s positions of them (`Typed.at`): both grow
        by doubling together, then are compacted together once full."""
        need = self.n + k
        if need <= len(self.ids):
            return
        if len(self.ids) < self.max_rows:
            fits = self.grow(need)
            typed.resize(len(self.ids), self.n)
            if fits:
                return
        typed.compact(self.compact(), self.keep)

    def grow(self, need: int) -> bool:
        """Grow by doubling (at most to max_rows) towards `need` rows: whether they fit now."""
        size = min(max(need, 2 * len(self.ids)), self.max_rows)
        for name in ("ids", "out", "conf"):
            old = getattr(self, name)
            new = np.zeros((size,) + old.shape[1:], dtype=old.dtype)
            new[:self.n] = old[:self.n]
            setattr(self, name, new)
        return need <= size

    def compact(self) -> int:
        """Keep the newest keep_steps rows plus the margin their echoes are judged by: how many
        rows went."""
        keep, drop = self.keep, self.n - self.keep
        for a in (self.ids, self.out, self.conf):
            a[:keep] = a[drop:self.n]
        self.base += drop
        self.n = keep
        return drop

    def store(self, ids: np.ndarray, at: np.ndarray, pred: np.ndarray, conf: np.ndarray,
              states: np.ndarray, typed) -> None:
        """Rows for the steps of `ids` as the engine ran them from the live state, with where
        their characters are in `typed` (counted from the first ever kept); room reserved."""
        k = len(ids)
        r = self.n
        typed.place(r, at)
        self.ids[r:r + k] = ids
        self.out[r:r + k] = pred
        self.conf[r:r + k] = conf
        self.n = r + k
        self.score(r, r + k, +1)
        if self.undo_steps:
            # the state before step t is the state after step t - 1
            self._ring_write(self.base + r, self.h, states[:-1])
        self.h = states[-1].copy()

    def pop(self, typed) -> None:
        """Take back the last row, and in `typed` its step's character and all typed after it;
        the live state is the one from before that step again (held by the ring)."""
        r = self.n - 1
        self.score(r, r + 1, -1)
        self.n = r
        typed.take_back(r)
        self.h = self.undo[(self.base + r) % self.undo_steps].copy()

    def history(self, start: int, stop: int, depth: int, width: int | None = None) -> np.ndarray:
        """The state after each of steps start..stop-1 (its first `width` floats; all when
        None), from the ring and the live state: only the last `depth` steps and the state the
        oldest of them started from are held."""
        steps = self.base + self.n
        oldest = max(0, steps - depth - 1)
        if not oldest <= start <= stop <= steps:
            raise IndexError(f"states of steps {start}..{stop} are not kept "
                             f"(kept: {oldest}..{steps})")
        width = self.h.shape[0] if width is None else width
        out = np.empty((stop - start, width), dtype=np.float32)
        if stop == start:
            return out
        last = stop - start - (1 if stop == steps else 0)  # the newest is the live state
        idx = (np.arange(start + 1, start + 1 + last)) % max(1, self.undo_steps)
        out[:last] = self.undo[idx, :width]
        if stop == steps:
            out[-1] = self.h[:width]
        return out

    def truth(self, lo: int, hi: int, d: int) -> np.ndarray:
        """The true echo of rows lo..hi-1 at delay d: the symbol d steps back, else blank."""
        truth = np.zeros(hi - lo, dtype=self.dtype)
        first = max(lo, d - self.base)  # the first row whose true echo is a symbol
        if first < hi:
            truth[first - lo:] = self.ids[first - d:hi - d]
        return truth

    def score(self, lo: int, hi: int, sign: int) -> None:
        """Add (sign=+1) or take back (-1) rows lo..hi-1 in every head's counts."""
        if hi - lo == 1:
            score_row(self.out, self.ids, self.conf, lo, self.base, self.delay_arr,
                      self.correct, self.conf_sum, sign)
            return
        for j, d in enumerate(self.delays):
            first = max(lo, d - self.base)
            if first < hi:
                hits = np.count_nonzero(self.out[first:hi, j] == self.ids[first - d:hi - d])
                self.correct[j] += sign * hits
        self.conf_sum += sign * self.conf[lo:hi].sum(0, dtype=np.int64)

    def _ring_write(self, t: int, first: np.ndarray, rest: np.ndarray) -> None:
        """The states before steps t, t+1, ...: `first`, then the rows of `rest`."""
        u = self.undo_steps
        states = np.concatenate((first[None], rest)) if len(rest) < u else rest[-u:]
        t += 1 + len(rest) - len(states)
        k = t % u
        n = min(u - k, len(states))
        self.undo[k:k + n] = states[:n]
        self.undo[:len(states) - n] = states[n:]
