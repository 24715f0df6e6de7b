"""The GRU's memory over time: hidden units as rows, the newest keys as columns (LSTMVis-like).

Each text line shows two units with half blocks (▀: the upper unit in the foreground, the lower
in the background), labelled "upper/lower", under a line of the keys the columns belong to.
When the units do not all fit, the view shows a chosen few, in unit order: a mean over a group
of units washes out to grey and hides what the memory does. The few stay the same while you type,
so a unit can be followed: at first those the heads read most (the largest readout weights, a
property of the model, not of the keys), and on request those that vary most over the visible
keys. A new model chooses again.

States come from the session's undo ring, so undo and reset keep the picture exact, and nothing
is re-run to draw it.
"""

from __future__ import annotations

import functools

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from .base import SessionView

LEVELS = 21  # colours from -1 to +1; the GRU's state lies in (-1, 1)
NEGATIVE, NEUTRAL, POSITIVE = (59, 130, 246), (64, 64, 64), (249, 115, 22)
MAX_LINES = 8  # unit lines at most (16 units), fewer when the terminal is short


def _palette() -> list[Color]:
    half = LEVELS // 2
    colours = []
    for k in range(LEVELS):
        t = (k - half) / half
        end = NEGATIVE if t < 0 else POSITIVE
        colours.append(Color.from_rgb(*(round(a + (b - a) * abs(t))
                                        for a, b in zip(NEUTRAL, end))))
    return colours


PALETTE = _palette()
# "▀" with unit u above unit v: CELLS[u * LEVELS + v]
CELLS = [Style(color=PALETTE[u], bgcolor=PALETTE[v]) for u in range(LEVELS) for v in range(LEVELS)]


@functools.lru_cache(maxsize=8192)
def _run(n: int, code: int) -> Segment:
    """n cells of one colour pair; kept, as a frame draws hundreds and they recur (a Segment
    costs a microsecond to make, a lookup a twentieth of that)."""
    return Segment("▀" * n, CELLS[code])


def readout_ranking(model) -> np.ndarray:
    """Units by how strongly the heads read them (the column norms of the readout weights),
    strongest first: a choice that depends on the model only, so it holds while keys come."""
    weights = model.heads.weight.detach().numpy().astype(np.float64)  # no overflow at 3e38
    return np.argsort(-np.linalg.norm(weights, axis=0), kind="stable")


def levels(values: np.ndarray) -> np.ndarray:
    """State values in (-1, 1) as colour indices 0..LEVELS-1 (a NaN as 0's grey, an infinity
    as its end's colour: a model whose numbers overflow is drawn, not a crash)."""
    half = LEVELS // 2
    values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(np.rint((values + 1) * half), 0, LEVELS - 1).astype(np.int64)


TITLE = "memory: hidden units × keys (−1 blue, +1 orange)"
GATE_TITLE = "{gate} gate: units × keys (0 blue, ½ grey, 1 orange): {said}"
# an LSTM's state is h and c: the view draws h, what the heads read; undo restores both
LSTM_TITLE = "memory: the LSTM's h (its output) × keys (−1 blue, +1 orange); c is not drawn"


class MemoryView(SessionView, Widget):
    """A heat map of hidden units over the newest keys; the newest column is the live state."""

    COMPONENT_CLASSES = {"memory--keys"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._ranking: np.ndarray | None = None  # units, most worth showing first
        self.pinned: list[int] = []  # units the user pinned (the palette): shown first
        self.chosen_by = "read most by the heads"
        self.showing = "state"  # or a gate's name (f6 cycles): what the colours are

    def model_changed(self) -> None:
        """Choose the units anew for the model now in use, and say which state they are."""
        self._ranking = None
        self.pinned = []
        self.showing = "state"
        self.retitle()
        self.refresh(layout=True)
        self.update_note()

    def retitle(self) -> None:
        if self.showing != "state":
            from trainer.inside import GATE_SAID  # here: the first frame comes before torch

            self.border_title = GATE_TITLE.format(gate=self.showing, said=GATE_SAID[self.showing])
        else:
            lstm = self.session is not None and self.session.model.cell == "lstm"
            self.border_title = LSTM_TITLE if lstm else TITLE

    def cycle_showing(self) -> str:
        """The state, then each of the cell's gates, then the state again: the notice."""
        from trainer.inside import GATE_NAMES, GATE_SAID

        session = self.session
        if session is None:
            return "the model is still loading"
        names = GATE_NAMES[session.model.cell]
        if not names:
            self.showing = "state"
            self.retitle()
            return "a plain RNN has no gates: its whole state is rewritten at every step"
        order = ["state", *names]
        self.showing = order[(order.index(self.showing) + 1) % len(order)]
        self.retitle()
        self.refresh()
        return "" if self.showing == "state" else f"the {self.showing} gate: {GATE_SAID[self.showing]}"

    def pin(self, units: list[int]) -> None:
        """Show `units` (in unit order, with those read most after them as room allows) and
        keep them while typing."""
        rest = [u for u in readout_ranking(self.session.model).tolist() if u not in units]
        self._ranking = np.array(units + rest)
        self.pinned = list(units)
        self.chosen_by = f"units {', '.join(map(str, units))} pinned"
        self.refresh()
        self.update_note()

    def choose_varying(self) -> list[int]:
        """Show the units that vary most over the visible keys (on request), after any pinned
        ones, and keep them; returns the pinned ones."""
        session = self.session
        if session is None:
            return []
        states = self.visible_states(session)[0]
        spread = states.std(0) if len(states) > 1 else np.abs(states[0])
        rest = [u for u in np.argsort(-spread, kind="stable").tolist() if u not in self.pinned]
        self._ranking = np.array(self.pinned + rest)
        self.chosen_by = ("that varied most when chosen" if not self.pinned else
                          f"units {', '.join(map(str, self.pinned))} pinned, then those that "
                          "varied most")
        self.refresh()
        self.update_note()
        return list(self.pinned)

    def ranking(self, session) -> np.ndarray:
        if self._ranking is None or len(self._ranking) != session.model.hidden_size:
            self._ranking = readout_ranking(session.model)
            self.chosen_by = "read most by the heads"
        return self._ranking

    def visible_states(self, session) -> tuple[np.ndarray, str]:
        """The states of the visible columns and their keys."""
        width = max(1, self.content_size.width - self.gutter(session))
        stop = session.steps
        oldest = max(session.first_kept, session.steps - session.undo_depth - 1)
        start = max(oldest, stop - width)
        if self.showing != "state":  # gates lie in (0, 1): drawn on the same scale as 2g - 1
            from ...core.looking import GateCache

            if stop == start:
                return np.zeros((1, session.model.hidden_size)), ""
            if getattr(self, "_gates", None) is None:
                self._gates = GateCache()
            gate = self._gates.gate(session, self.showing, start, stop)
            return 2 * gate - 1, session.window(start, stop)[0]
        if stop == start:
            return session.hidden.numpy()[None], ""
        return session.history(start, stop), session.window(start, stop)[0]

    def picture(self) -> tuple[str, np.ndarray, np.ndarray]:
        """(the keys of the columns, the units shown, their colour levels (units, columns))."""
        session = self.session
        if session is None:
            return "", np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.int64)
        states, keys = self.visible_states(session)
        units = self.units_shown(session)
        return keys, units, levels(states[:, units].T)

    def units_shown(self, session) -> np.ndarray:
        """Every unit when they fit, else the first of the ranking that fit, in unit order."""
        hidden = session.model.hidden_size
        room = self.room()
        if hidden <= room:
            return np.arange(hidden)
        return np.sort(self.ranking(session)[:room])

    def room(self) -> int:
        """Units that fit: two per line under the keys' line."""
        return 2 * max(1, self.content_size.height - 1)

    def gutter(self, session) -> int:
        """Room for a line's label, "upper/lower" unit numbers and a space."""
        digits = len(str(max(1, session.model.hidden_size - 1))) if session is not None else 1
        return max(len(" keys "), 2 * digits + 2)

    def on_resize(self) -> None:
        self.update_note()

    def stream_changed(self) -> None:
        self.update_note()

    def update_note(self) -> None:
        """Say in the border when not every unit fits (set outside render: a border set while
        rendering is drawn a frame late, or never)."""
        session = self.session
        hidden = session.model.hidden_size if session is not None else 0
        shown = min(hidden, self.room())
        note = (f"{shown} of {hidden} units, {self.chosen_by} · ^p to choose again"
                if shown < hidden else "")
        if getattr(self, "_note", None) != note:
            self._note = self.border_subtitle = note

    def render_lines_for(self) -> list[Strip]:
        keys, units, grid = self.picture()
        width = self.content_size.width
        gutter = self.gutter(self.session)
        keys_style = self.get_component_rich_style("memory--keys")
        lines = [Strip([Segment(" keys".ljust(gutter), keys_style),
                        Segment(keys.replace(" ", "␣"))])
                 .extend_cell_length(width, self.rich_style).crop(0, width)]
        if len(units) % 2:  # the last line's lower half: a neutral unit
            grid = np.vstack([grid, np.full((1, grid.shape[1]), LEVELS // 2)])
        cells = grid[0::2] * LEVELS + grid[1::2]  # a cell's style index, per line
        pad = Segment(" " * max(0, width - gutter - cells.shape[1]), self.rich_style)
        digits = (gutter - 2) // 2
        for line, top in zip(cells, range(0, len(units), 2)):
            # one segment per run of equal cells, the runs found by numpy
            starts = np.flatnonzero(np.diff(line, prepend=-1)).tolist()
            ends = starts[1:] + [len(line)]
            codes = line[starts].tolist()
            lower = str(units[top + 1]) if top + 1 < len(units) else ""
            label = f"{units[top]:>{digits}}/{lower:<{digits}} "
            segments = [Segment(label, keys_style)]
            segments += [_run(j - i, c) for i, j, c in zip(starts, ends, codes)]
            segments.append(pad)
            lines.append(Strip(segments, gutter + cells.shape[1] + len(pad.text)).crop(0, width))
        return lines

    def refresh(self, *args, **kwargs):
        self._lines = None  # whatever asks for a redraw makes the picture stale
        return super().refresh(*args, **kwargs)

    def render_line(self, y: int) -> Strip:
        if getattr(self, "_lines", None) is None:
            self._lines = self.render_lines_for()  # once per redraw, not once per line
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.content_size.width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        session = self.session
        return self.lines_for(session.model.hidden_size if session is not None else 2)

    @staticmethod
    def lines_for(units: int) -> int:
        """The lines the view draws for a model of `units` units when it has room: the keys
        and a line per two units, at most MAX_LINES of them."""
        return 1 + min(MAX_LINES, -(-units // 2))
