"""What the look-inside views read from a session (no Textual): a picked step's look-back, its
top answers and every head's verdict, and the gates over a span of steps.

All of it is recomputed on demand from what the session keeps (each step's symbol, and the
state before each of the last `undo_steps` steps, in its undo ring), with PyTorch: nothing is
stored per step, and nothing runs on the keystroke path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trainer.inside import gates, lookback, top_answers

WINDOW = 128  # steps a look-back replays, at most


def reachable(session) -> tuple[int, int]:
    """(first, stop): the steps whose state before them the session still holds."""
    stop = session.steps
    return max(session.first_kept, stop - session.undo_depth), stop


def inputs(session, start: int, stop: int) -> torch.Tensor:
    """The symbol ids of steps start..stop-1."""
    lo, hi = session._rows.span(start, stop)
    return torch.from_numpy(session._rows.ids[lo:hi].astype(np.int64))


def states_before(session, start: int, stop: int) -> torch.Tensor:
    """The whole state (h, or an LSTM's h and c) before each of steps start..stop-1."""
    rows = session._rows
    size = rows.h.shape[0]
    if start == 0:  # before the first step: the zero state
        first = torch.zeros(1, size)
        rest = rows.history(0, stop - 1, session.undo_depth) if stop > 1 else np.zeros((0, size))
        return torch.cat([first, torch.from_numpy(np.asarray(rest, dtype=np.float32))])
    return torch.from_numpy(rows.history(start - 1, stop - 1, session.undo_depth))


def gates_over(session, start: int, stop: int) -> dict[str, np.ndarray]:
    """Each gate at each of steps start..stop-1: {name: (steps, hidden)} (a plain RNN: {})."""
    if stop <= start:
        return {}
    found = gates(session.model, inputs(session, start, stop), states_before(session, start, stop))
    return {name: g.numpy() for name, g in found.items()}


class GateCache:
    """One gate over a span of steps, the columns already computed reused: a step's gate
    depends only on its symbol and the state before it, so a column whose two are unchanged
    (compared exactly) is still right, whatever undo or a reset did meanwhile. A key then
    costs one new column, not the whole view's."""

    def __init__(self) -> None:
        self.key = None  # (model, gate name)
        self.start, self.ids, self.before, self.values = 0, None, None, None

    def gate(self, session, name: str, start: int, stop: int) -> np.ndarray:
        ids = inputs(session, start, stop)
        before = states_before(session, start, stop)
        out = np.empty((stop - start, session.model.hidden_size), dtype=np.float32)
        fresh = np.ones(stop - start, dtype=bool)
        if self.key == (session.model, name) and self.values is not None:
            lo, hi = max(start, self.start), min(stop, self.start + len(self.values))
            if lo < hi:
                old = slice(lo - self.start, hi - self.start)
                new = slice(lo - start, hi - start)
                same = ((self.ids[old] == ids[new].numpy())
                        & np.all(self.before[old] == before[new].numpy(), axis=1))
                out[new][same] = self.values[old][same]
                fresh[new] = ~same
        if fresh.any():
            rows = np.flatnonzero(fresh)
            found = gates(session.model, ids[rows], before[rows])
            out[rows] = found[name].numpy()
        self.key, self.start = (session.model, name), start
        self.ids, self.before, self.values = ids.numpy(), before.numpy(), out
        return out


@dataclass(frozen=True)
class Look:
    """A picked step, looked into: the window replayed for its look-back, how much each of its
    keys moved the answer (1 the most), the answer and its probability, the head's top answers,
    the true symbol, and every delay's verdict at that step."""

    step: int
    delay: int
    start: int  # the window's first step
    keys: str  # its symbols
    weights: np.ndarray  # per key of the window
    answer: str
    probability: float
    top: list[tuple[str, float]]
    truth: str  # the symbol `delay` steps back, or the blank
    verdicts: dict[int, bool]  # delay -> its head right at this step

    @property
    def strongest(self) -> int:
        """How many keys back the key that moved the answer most is."""
        return self.step - (self.start + int(np.argmax(self.weights)))


def look(session, step: int, delay: int | None = None, window: int = WINDOW) -> Look:
    """Look into the answer of step `step` at `delay` (default: the session's)."""
    model, rows = session.model, session._rows
    delay = session.delay if delay is None else delay
    first, stop = reachable(session)
    if not first <= step < stop:
        raise IndexError(f"step {step} is not reachable (its state is kept for steps "
                         f"{first}..{stop - 1})")
    start = max(first, step + 1 - window)
    ids = inputs(session, start, step + 1)
    weights, answer, p = lookback(model, ids, states_before(session, start, start + 1)[0], delay)
    after = rows.history(step, step + 1, session.undo_depth)[0]
    alphabet = rows.sym
    lo, _ = rows.span(step, step + 1)
    verdicts = {}
    for d in session.delays:
        truth = rows.truth(lo, lo + 1, d)[0]
        verdicts[d] = bool(rows.out[lo, session.delays.index(d)] == truth)
    if not torch.isfinite(weights).all():  # the loader refuses such models; a trained one...
        raise ValueError("the answer's gradient is not a number: this model's numbers overflow")
    return Look(step=step, delay=delay, start=start,
                keys=rows.decode(ids.numpy().astype(rows.dtype)), weights=weights.numpy(),
                answer=str(alphabet[answer]), probability=p,
                top=[(str(alphabet[a]), q) for a, q in top_answers(model, torch.from_numpy(after),
                                                                    delay)],
                truth=str(alphabet[rows.truth(lo, lo + 1, delay)[0]]), verdicts=verdicts)
