"""Training plots on fixed, labelled axes: held-out accuracy per delay, its course, the loss.

Why our own widget rather than textual-plotext: the panel has four chart rows at 80×24, and the
charts must keep their scale from check to check. plotext spends rows and columns on frames
and tick marks and rescales to its data unless told; here each chart is a few lines of text
with one labelled axis, drawn on a scale that never moves:

- accuracy on a log-of-error axis, one row per decade (90%, 99%, 99.9%, 99.99%), so a model at
  94–99% is drawn as the one decade it is, not as full-height swings, and 99.99% is visible;
- the loss on a log axis from 0.001 to 10, one row per decade.

Bars and areas are filled with eighth blocks, so a row holds eight steps of its decade.
"""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ...training.checkpoint import PlotData

ROWS = 4  # chart rows: one decade each
EIGHTHS = " ▁▂▃▄▅▆▇█"
ACC_LABELS = ("99.99", "99.9", "99", "90")  # the top of each row's decade, in %
LOSS_LABELS = ("10", "1", "0.1", "0.01")  # the loss axis: 0.001 at the bottom
LOSS_FLOOR = -3  # log10 of the loss axis's bottom


def accuracy_level(acc: float) -> float:
    """Decades of accuracy (0 at 0% … 90%, 1 at 90%, 2 at 99%, …), 0..ROWS."""
    if not acc > 0:
        return 0.0
    if acc >= 1:
        return float(ROWS)
    return max(0.0, min(float(ROWS), -math.log10(1 - acc)))


def loss_level(loss: float) -> float:
    """Decades of loss above 0.001, 0..ROWS (10 and over at the top)."""
    if not loss > 0 or math.isnan(loss):
        return 0.0
    return max(0.0, min(float(ROWS), math.log10(loss) - LOSS_FLOOR))


def column(level: float) -> list[str]:
    """A bar of `level` (0..ROWS) as ROWS cells, top first, in eighth blocks."""
    eighths = round(level * 8)
    cells = []
    for row in range(ROWS - 1, -1, -1):  # the top row first
        fill = max(0, min(8, eighths - 8 * row))
        cells.append(EIGHTHS[fill])
    return cells


def resample(values: list[float], width: int) -> list[float]:
    """Every value when they fit, else `width` of them evenly spread, the first and last kept."""
    if len(values) <= width:
        return list(values)
    return [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]


class TrainingPlots(Widget):
    """Three charts side by side: held-out by delay, its worst over checks, the loss."""

    COMPONENT_CLASSES = {"plots--axis", "plots--title", "plots--passed", "plots--training",
                         "plots--next", "plots--later", "plots--course", "plots--loss"}
    DEFAULT_CSS = "TrainingPlots { height: 6; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = PlotData()

    def show(self, data: PlotData) -> None:
        self.data = data
        self.refresh()

    def render(self) -> Text:
        width = self.content_size.width
        d = self.data
        style = self.get_component_rich_style
        axis = style("plots--axis")
        gutter = max(len(x) for x in ACC_LABELS) + 2  # "99.99 ┤"
        per_delay = 2 if width >= 90 and len(d.delays) <= 24 else 1
        bars_w = max(max(len(d.delays), 1) * per_delay, 10)
        loss_gutter = len("0.001") + 2
        rest = max(0, width - gutter - bars_w - 3 - 3 - loss_gutter)
        course_w = max(8, rest // 2)
        loss_w = max(8, rest - course_w)
        charts = [  # (titles, longest first; axis gutter; width; axis labels; cells)
            (("held-out % by delay", "% by delay", "by delay"), gutter, bars_w, ACC_LABELS,
             self._bars(bars_w)),
            (("worst delay in training, by check", "worst in training", "worst"), 0, course_w,
             (), self._area([accuracy_level(a) for a in d.course], course_w,
                            style("plots--course"))),
            (("loss, log scale", "loss (log)", "loss"), loss_gutter, loss_w, LOSS_LABELS,
             self._area([loss_level(x) for x in d.losses], loss_w, style("plots--loss"))),
        ]
        lines = [Text(no_wrap=True, overflow="crop", end="") for _ in range(ROWS + 2)]
        for k, (titles, g, w, labels, cells) in enumerate(charts):
            # the second chart reads on the first one's axis: its rows are the same decades
            sep = "" if k == 0 else " ┆ " if k == 1 else "   "
            title = next((t for t in titles if len(t) <= w), "")
            lines[0].append(" " * (len(sep) + g))
            lines[0].append(title.ljust(w), style("plots--title"))
            for row in range(ROWS):
                lines[1 + row].append(sep, axis)
                if g:
                    lines[1 + row].append(f"{labels[row]:>{g - 2}} ┤", axis)
                for ch, st in cells[row]:
                    lines[1 + row].append(ch, st)
            lines[ROWS + 1].append(" " * len(sep) + ("0.001 ┴" if k == 2 else "    0 ┴" if k == 0
                                                      else ""), axis)
            lines[ROWS + 1].append(self._x_axis(k, w), axis)
        return Text("\n", no_wrap=True, overflow="crop", end="").join(lines)

    def _x_axis(self, k: int, w: int) -> str:
        d = self.data
        if k == 0:
            if not d.delays:
                return "delays".ljust(w)
            if len(d.delays) == 1:
                return f"delay {d.delays[0]}".center(w)[:w]
            first, last = str(d.delays[0]), str(d.delays[-1])
            return (first + "delay".center(w - len(first) - len(last)) + last)[:w]
        if k == 1:
            n = len(d.course)
            return _fit_label(f"{n} checks" if n != 1 else "1 check", w)
        return _fit_label(f"now {d.losses[-1]:.3g}" if d.losses else "", w)

    def _bars(self, width: int) -> list[list[tuple[str, Style]]]:
        """Per row, (cell, style) for each delay's bar, coloured by where it stands."""
        d = self.data
        rows: list[list[tuple[str, Style]]] = [[] for _ in range(ROWS)]
        if not d.delays:
            for row in rows:
                row.append((" " * width, Style()))
            return rows
        cell_w = width // len(d.delays)
        bar_w = 1 if cell_w <= 2 else min(4, cell_w - 1)  # a lone delay gets a wider bar
        style = self.get_component_rich_style
        for delay, acc in zip(d.delays, d.by_delay or [0.0] * len(d.delays)):
            if delay > d.trained + d.step:
                st = style("plots--later")
            elif delay > d.trained:
                st = style("plots--next")
            elif acc >= d.target:
                st = style("plots--passed")
            else:
                st = style("plots--training")
            cells = column(accuracy_level(acc) if d.by_delay else 0.0)
            for row, ch in enumerate(cells):
                # an empty bar still shows where its delay stands on the bottom row
                shown = ch if ch != " " or row < ROWS - 1 else "_"
                rows[row].append((shown * bar_w, st))
                rows[row].append((" " * (cell_w - bar_w), Style()))
        return rows

    def _area(self, levels: list[float], width: int, st: Style) -> list[list[tuple[str, Style]]]:
        values = resample(levels, width)
        rows: list[list[tuple[str, Style]]] = [[] for _ in range(ROWS)]
        cols = [column(v) for v in values]
        for row in range(ROWS):
            body = "".join(c[row] for c in cols)
            rows[row].append((body.ljust(width), st))
        return rows


def _fit_label(label: str, width: int) -> str:
    """`label` centred on an axis line of `width`, or the bare line when it does not fit."""
    if not label or len(label) + 2 > width:
        return "─" * width
    return f" {label} ".center(width, "─")
