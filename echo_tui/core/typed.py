"""What was typed into a session: every character as it came, and which of them each step was.

Why it is kept, and not only the stream of symbols: a model switch re-feeds the text itself (a
text model gets its capitals and punctuation back after a visit to the letters model), and the
views mark where skipped keys were. So every character fed is kept as typed (code points, upper
case and keys outside the alphabet included), with the place of each step's own character in
it. At most MAX_GAP skipped characters are kept between two steps; more are dropped (a paste of
a megabyte of emoji does not grow the session).

Which characters are steps is the alphabet's to say, so the record also turns text into ids
(`encode`: ASCII through a lookup table, the rest one character at a time).

It is built around the session's rows (`rows.Rows`): `at` has one entry per step row, grown and
compacted with them (`Rows.reserve` drives both), and the caller says how many rows are in use.
A compaction drops the characters before the first kept step; positions handed across one are
counted from the first character ever kept (`dropped` + index), so it does not move them. The
keystroke path (`EchoSession._feed_key`) writes `codes`, `n` and `at` itself: a method call
there would cost more than the writes.
"""

from __future__ import annotations

import numpy as np

MAX_GAP = 1000  # skipped characters kept between two steps


class Typed:
    """The characters fed since the reset, as code points (`codes[:n]`), where each step row's
    own character is among them (`at[row]`), and the alphabet's ids for characters (`lut`)."""

    __slots__ = ("lut", "id_of", "dtype", "codes", "n", "dropped", "at")

    def __init__(self, alphabet, dtype, rows: int):
        self.id_of = alphabet.id_of
        self.dtype = dtype  # of the alphabet's ids
        self.lut = np.array([self.id_of(chr(c)) or 0 for c in range(128)],
                            dtype=dtype)  # ASCII -> id, 0 = not in the alphabet
        self.clear(rows)

    def clear(self, rows: int) -> None:
        """Nothing typed; room for `rows` step rows."""
        self.codes = np.zeros(rows, dtype=np.uint32)  # what was typed, as code points
        self.n = 0  # code points in use
        self.dropped = 0  # code points dropped from the front of `codes` by compaction
        self.at = np.zeros(rows, dtype=np.int64)  # where each step row's character is in codes

    def encode(self, text: str):
        """Text -> (code points of every character, ids of those in the alphabet, where those
        are in the text)."""
        if text.isascii():
            codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
            found = self.lut[codes]
            pos = np.flatnonzero(found)
            return codes.astype(np.uint32), found[pos], pos
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        id_of = self.id_of
        found = [id_of(ch) for ch in text]
        pos = np.array([k for k, i in enumerate(found) if i is not None], dtype=np.int64)
        ids = np.array([i for i in found if i is not None], dtype=self.dtype)
        return codes, ids, pos

    def add(self, text: str, rows: int):
        """Record `text` after step row `rows` - 1: (the ids of its symbols, where those landed
        as `append` says, how many characters were skipped, the last of those or None)."""
        codes, ids, pos = self.encode(text)
        skipped = len(codes) - len(ids)
        last = None
        if skipped:
            mask = np.ones(len(codes), dtype=bool)
            mask[pos] = False
            last = text[np.flatnonzero(mask)[-1]]
        at = self.append(codes, pos, rows) if len(codes) else pos
        return ids, at, skipped, last

    def since(self, row: int) -> str:
        """The characters from the skipped ones before step row `row` on, as typed."""
        lo = self.gap_start(row)
        return self.codes[lo:self.n].astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")

    def gap_start(self, row: int) -> int:
        """Where the skipped characters before step row `row` begin in `codes`."""
        return int(self.at[row - 1]) + 1 if row > 0 else 0

    def grow(self) -> None:
        """Double `codes` (the keystroke path calls this when it is full)."""
        self.codes = np.concatenate((self.codes, np.zeros_like(self.codes)))

    def append(self, codes: np.ndarray, pos: np.ndarray, rows: int) -> np.ndarray:
        """Append typed characters after step row `rows` - 1; `pos`: where the stepped ones are
        in `codes`. Returns where those land, counted from the first character ever kept (so a
        compaction on the way does not move them)."""
        gap0 = self.gap_start(rows)
        need = self.n + len(codes)
        if need > len(self.codes):
            raw = np.zeros(max(need, 2 * len(self.codes)), dtype=np.uint32)
            raw[:self.n] = self.codes[:self.n]
            self.codes = raw
        s = self.n
        self.codes[s:need] = codes
        self.n = need
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
            kept = self.codes[gap0:need][keep]
            self.codes[gap0:gap0 + len(kept)] = kept
            self.n = gap0 + len(kept)
        return at + self.dropped

    def place(self, row: int, at: np.ndarray) -> None:
        """Step rows from `row` on took the characters at `at` (as `append` counts them)."""
        self.at[row:row + len(at)] = at - self.dropped

    def take_back(self, row: int) -> None:
        """Step row `row` is undone: its character and all typed after it go."""
        self.n = int(self.at[row])

    def trim_gap(self, rows: int) -> None:
        """Keep at most MAX_GAP skipped characters after step row `rows` - 1."""
        start = self.gap_start(rows)
        extra = self.n - start - MAX_GAP
        if extra > 0:
            self.codes[start:self.n - extra] = self.codes[start + extra:self.n]
            self.n -= extra

    def skips(self, lo: int, hi: int) -> tuple[np.ndarray, str]:
        """For step rows lo..hi-1: how many skipped characters came right before each (at most
        MAX_GAP) and the last of them (a string, ' ' where none was)."""
        ends = self.at[lo:hi]
        starts = np.empty_like(ends)
        if hi > lo:
            starts[0] = self.gap_start(lo)
            starts[1:] = ends[:-1] + 1
        counts = ends - starts
        last = np.where(counts > 0, self.codes[np.maximum(ends - 1, 0)], ord(" "))
        return counts, last.astype("<u4").tobytes().decode("utf-32-le", "replace")

    def resize(self, size: int, rows: int) -> None:
        """Room for `size` step rows, `rows` of them in use (the rows grew)."""
        at = np.zeros(size, dtype=self.at.dtype)
        at[:rows] = self.at[:rows]
        self.at = at

    def compact(self, drop: int, keep: int) -> None:
        """The rows dropped their first `drop` of `drop + keep`: the characters before the first
        kept step's skipped ones go too."""
        cut = self.gap_start(drop)  # the first kept row's skipped characters stay
        self.at[:keep] = self.at[drop:drop + keep]
        self.codes[:self.n - cut] = self.codes[cut:self.n]
        self.n -= cut
        self.dropped += cut
        self.at[:keep] -= cut
