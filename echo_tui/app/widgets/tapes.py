"""What was typed and its echo, as two tapes aligned column by column (step t under step t).

Each row of steps takes three lines: marks for skipped keys, the typed symbols, their echo; in
compare mode a fourth, the compared model's echo at the same delay.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.widget import Widget

from ...core.describe import delay_range
from .base import SessionView

GUTTER = ("typed ", " echo ")
BLANK = "·"  # the echo's blank, drawn so a learner sees the model chose "no output"
SPACE = "␣"  # a typed or echoed space, drawn so it is not mistaken for a blank
EMPTY_HINT = "Type: each key is one step of the GRU, and its echo appears under it, delayed."
# confidence bytes (255 = certain) at which an echo counts as sure, fairly sure, unsure
SURE, FAIRLY, UNSURE = round(0.99 * 255), round(0.9 * 255), round(0.5 * 255)


# how many keys were skipped before a step, when more than one: circled numbers, drawn in their
# own style, so a count is never read as a skipped digit ("5" is the key 5, "⑤" five keys)
# (② to ⑨: terminal fonts have them; most lack the circled numbers past ten)
COUNTS = "②③④⑤⑥⑦⑧⑨"
MANY = "⋯"  # ten or more


def visible(ch: str) -> str:
    """A skipped character as a one-cell mark: itself when printable, else a stand-in."""
    return {" ": SPACE, "\n": "↵", "\r": "↵", "\t": "⇥"}.get(ch, ch if ch.isprintable() else "?")


def echo_labels(session, compared) -> tuple[str, str]:
    """The gutter of the echo rows (in use, compared): ' echo ' alone; in compare mode each
    model's cell ('  gru ', '  rnn '), or ' echo ' and '  vs  ' for two of one cell."""
    if compared is None or session is None:
        return GUTTER[1], ""
    if session.model.cell == compared.model.cell:
        return GUTTER[1], "  vs  "
    return f"{session.model.cell:>5} ", f"{compared.model.cell:>5} "


def append_compared(text: Text, compared, start: int, stop: int, delay: int,
                    styles: "EchoStyles", note_style) -> None:
    """The compared model's echo of steps start..stop-1 at `delay`: as much of it as it has
    been fed (it catches up after joining), or a note when it has no such delay."""
    if delay not in compared.delays:
        text.append(f"(no delay {delay}: it has {delay_range(compared.delays)})", note_style)
        return
    lo, hi = max(start, compared.first_kept), min(stop, compared.steps)
    if lo >= hi:
        return
    text.append(" " * (lo - start))
    _, echo, wrong = compared.window(lo, hi, delay=delay)
    append_echo(text, echo, wrong, compared.confidence(lo, hi, delay=delay),
                compared.alphabet.blank, styles)


def count_mark(n: int) -> str:
    """The one-cell mark for `n` >= 2 skipped keys."""
    return COUNTS[n - 2] if n - 2 < len(COUNTS) else MANY


def doubt(conf: np.ndarray) -> np.ndarray:
    """0 sure (p >= 0.99), 1 fairly sure (>= 0.9), 2 unsure (>= 0.5), 3 a guess."""
    return 3 - np.searchsorted([UNSURE, FAIRLY, SURE], conf, side="right")


class EchoStyles:
    """The component styles an echo row is drawn with, looked up once per render."""

    def __init__(self, widget: Widget, prefix: str):
        get = widget.get_component_rich_style
        self.blank = get(f"{prefix}--blank")
        self.space = get(f"{prefix}--space")
        wrong = get(f"{prefix}--wrong")
        # the mistake's foreground only: its component style also carries a background, which
        # would cover the doubt tint under it
        self.wrong = Style(color=wrong.color, bold=wrong.bold, underline=wrong.underline)
        self.doubt = [Style()] + [get(f"{prefix}--doubt-{k}") for k in (1, 2, 3)]
        self._combined: dict[tuple[int, str], Style] = {}

    def of(self, level: int, drawn: str) -> Style:
        """The style of an answer: its doubt level's tint (level % 4), the mistake's look over
        it (level >= 4), on a blank's or a space's look when it is drawn as one."""
        key = (level, drawn)
        if key not in self._combined:
            base = (self.blank if drawn == BLANK else self.space) if drawn else Style()
            self._combined[key] = Style.chain(
                base, self.doubt[level % 4], self.wrong if level >= 4 else Style())
        return self._combined[key]


def append_echo(text: Text, echo: str, wrong: np.ndarray, conf: np.ndarray, blank: str,
                styles: EchoStyles) -> None:
    """Append an echo row in runs of one style: blanks dim, spaces as ␣, doubt as a background
    tint by confidence, mistakes in the foreground (red, underlined) over any tint: two
    channels, so a shaky right answer and a sure wrong one never look alike."""
    kind = (doubt(conf) + 4 * wrong).tolist()  # the doubt level, plus 4 when wrong

    def key(k: int):
        ch = echo[k]
        return kind[k], BLANK if ch == blank else SPACE if ch == " " else ""

    i, n = 0, len(echo)
    while i < n:
        (level, drawn), j = key(i), i + 1
        while j < n and key(j) == (level, drawn):
            j += 1
        text.append(drawn * (j - i) if drawn else echo[i:j], styles.of(level, drawn))
        i = j


def append_typed(text: Text, typed: str, space_style) -> None:
    if " " not in typed:
        text.append(typed)
        return
    for k, part in enumerate(typed.split(" ")):
        if k:
            text.append(SPACE, space_style)
        text.append(part)


class Tapes(SessionView, Widget):
    """Rows of skip marks, `typed` and `echo`; wraps at the widget's width, the newest row in
    view unless scrolled back (keys or the mouse wheel; typing comes back to the newest).

    Only the visible rows are read from the session, so drawing costs the same at step 10 as at
    step 1,000,000.
    """

    COMPONENT_CLASSES = {"tapes--gutter", "tapes--blank", "tapes--space", "tapes--wrong",
                         "tapes--cursor", "tapes--skip", "tapes--count", "tapes--doubt-1",
                         "tapes--doubt-2", "tapes--doubt-3"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scroll_back = 0  # rows back from the newest
        self._painted = None  # the layout of the last paint (`_layout`)

    # -- repainting: the newest row alone when nothing else can have changed ------------------
    def _layout(self):
        """What decides every line but the newest row's: the sessions, delay, rows shown,
        size, and whether the empty tapes' hint shows; and where the newest row's lines are.
        A key typed or undone within the newest row leaves all but that row's lines as they
        were (each step's echo is kept, never recomputed)."""
        session = self.session
        if session is None:
            return None, None
        row_w, rows, newest, oldest = self.layout_rows()
        bottom = newest - min(self.scroll_back, max(0, newest - oldest - rows + 1))
        first = max(oldest, bottom - rows + 1)
        per_row = self.lines_per_row()
        empty = session.steps == 0 and not session.pending
        key = (id(session), session.delay, id(self.compared), first, bottom, newest, oldest,
               self.content_size, per_row, empty)
        return key, (bottom - first) * per_row if bottom == newest else None

    def revised(self) -> None:
        """A new revision: a paint of the newest row's lines only, when the layout is the one
        last painted (at every key, the tapes' other rows cost as much to paint again as
        everything else on the screen); else of everything."""
        key, top = self._layout()
        if self.display and key is not None and key == self._painted and top is not None:
            self.refresh(Region(0, top, self.content_size.width, self.lines_per_row()))
            self.stream_changed()
        else:
            super().revised()
        self.room_note = ""  # the views opened but left out for want of rows (the screen's)

    # -- scrolling ----------------------------------------------------------------------
    def layout_rows(self) -> tuple[int, int, int, int]:
        """(steps per row, rows that fit, the newest row, the oldest kept row)."""
        session = self.session
        width, height = self.content_size
        row_w = max(1, width - len(GUTTER[0]))
        rows = max(1, height // self.lines_per_row())
        if session is None:
            return row_w, rows, 0, 0
        return row_w, rows, session.steps // row_w, session.first_kept // row_w

    def lines_per_row(self) -> int:
        echoes = 2 if self.compared is not None else 1
        # the marks line only where it fits
        return 2 + echoes if self.content_size.height >= 2 + echoes else 1 + echoes

    def scroll_rows(self, delta: int | None) -> None:
        """Scroll back by `delta` rows (negative: forward); None: to the oldest kept row."""
        _, rows, newest, oldest = self.layout_rows()
        most = max(0, newest - oldest - rows + 1)
        self.scroll_back = most if delta is None else max(0, min(most, self.scroll_back + delta))
        self.update_subtitle()
        self.refresh()

    def update_subtitle(self) -> None:
        """The bottom border: how far back it is scrolled, and the views left out."""
        scrolled = (f"{self.scroll_back:,} rows back · End: back to the newest"
                    if self.scroll_back else "")
        self.border_subtitle = " · ".join(part for part in (self.room_note, scrolled) if part)

    def follow(self) -> None:
        """Back to the newest row (typing does this)."""
        if self.scroll_back:
            self.scroll_rows(-self.scroll_back)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_rows(1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_rows(-1)

    # -- drawing ------------------------------------------------------------------------
    def render(self) -> Text:
        self._painted = self._layout()[0]
        session = self.session
        if session is None:
            return Text("loading the model… keys you type now are kept and fed once it is ready",
                        style=self.get_component_rich_style("tapes--blank"))
        row_w, rows, newest, oldest = self.layout_rows()
        self.scroll_back = min(self.scroll_back, max(0, newest - oldest - rows + 1))
        bottom = newest - self.scroll_back
        first = max(oldest, bottom - rows + 1)
        compared = self.compared
        marks = self.lines_per_row() == (4 if compared is not None else 3)
        echo_label, compared_label = echo_labels(session, compared)
        gutter = self.get_component_rich_style("tapes--gutter")
        skip = self.get_component_rich_style("tapes--skip")
        count = self.get_component_rich_style("tapes--count")
        styles = EchoStyles(self, "tapes")
        steps, blank = session.steps, session.alphabet.blank
        text = Text(end="")
        for row in range(first, bottom + 1):
            start = max(row * row_w, session.first_kept)
            stop = min((row + 1) * row_w, steps)
            typed, echo, wrong = session.window(start, stop)
            pad = " " * (start - row * row_w)
            if marks:
                counts, last = session.skips(start, stop)
                if row == newest and session.pending:
                    counts = np.append(counts, len(session.pending))
                    last += session.pending[-1]
                text.append(" " * len(GUTTER[0]) + pad)
                append_marks(text, counts, last, skip, count)
                text.append("\n")
            text.append(GUTTER[0], gutter)
            text.append(pad)
            append_typed(text, typed, styles.space)
            if row == newest:
                text.append(" ", self.get_component_rich_style("tapes--cursor"))
            text.append("\n")
            text.append(echo_label, gutter)
            text.append(pad)
            append_echo(text, echo, wrong, session.confidence(start, stop), blank, styles)
            if compared is not None:
                text.append("\n")
                text.append(compared_label, gutter)
                text.append(pad)
                append_compared(text, compared, start, stop, session.delay, styles,
                                styles.blank)
            if row != bottom:
                text.append("\n")
        if steps == 0 and not session.pending:
            text.append("\n\n" + EMPTY_HINT, styles.blank)
        return text


def append_marks(text: Text, counts: np.ndarray, last: str, key_style, count_style) -> None:
    """One cell per step: the skipped key before it, or how many (a circled number) when
    several, or a space; trailing spaces left out."""
    cells = counts.tolist()
    while cells and cells[-1] == 0:
        cells.pop()
    for n, ch in zip(cells, last):
        if n == 0:
            text.append(" ")
        elif n == 1:
            text.append(visible(ch), key_style)
        else:
            text.append(count_mark(n), count_style)
