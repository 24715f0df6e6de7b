"""How the echo screen's views share its rows, at any size from 60×18.

The header, the slider, the notice line, the status line (and compare mode's second one) and
the footer always show. The tapes (or every delay) keep at least one row of steps. What the user
opened gets the rest in this order: the training panel, look inside (f5), the panel's plots,
the memory view (f2), each whole or not at all, so no box ever loses its bottom border and the
status line is never pushed off. What is left then goes to the tapes' line of marks (keys that
were no step), the memory view's unit lines (up to its share of the height), the blank row
above the slider, a second notice line when a notice needs one, and the tapes. A view opened but left out for want of rows is named in the
tapes' (or every delay's) bottom border: "no room: f2 memory".

`fit` is the arithmetic (no Textual); `FittingHost` applies it to the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_WIDTH, MIN_HEIGHT = 60, 18  # below it: "too small"
LINES = 5  # header, slider, notice, status, footer: one row each
TAPES_MIN = 4  # a border above and below, a typed row and an echo row
INSPECT_ROWS = 6  # its border and four lines
PANEL_ROWS = 7  # its border, the form, the buttons, the progress line, the learning row's two
PLOT_ROWS = 6
MEMORY_MIN = 4  # its border, the keys and one line of two units
MEMORY_SHARE, MEMORY_SHARE_TRAINING = 0.4, 0.2  # of the height, at most
LESSON_MIN, LESSON_SHARE = 4, 0.5  # a lesson: its border, its step's title and a check


@dataclass(frozen=True)
class Fit:
    """What shows: the panel (and its plots), look inside, the memory view's rows (0: left out),
    the gap above the slider, the notice's rows, and the views opened but left out."""

    panel: bool
    plots: bool
    inspect: bool
    memory_rows: int
    gap: bool
    notice_rows: int
    left_out: tuple[str, ...]
    lesson: int = 0  # the lesson panel's rows (0: none, or left out)


def fit(height: int, *, comparing: bool, training: bool, inspecting: bool, memory: bool,
        memory_lines: int, long_notice: bool = False, lesson_rows: int = 0) -> Fit:
    """The rows of a screen `height` rows high: `memory_lines` is what the memory view would
    draw (its keys line and unit lines, without its border); `lesson_rows` what the lesson
    panel would (its border too; 0: no lesson), after look inside, cut to fit (LESSON_MIN)."""
    room = height - LINES - comparing - TAPES_MIN - comparing  # a compared echo row too
    left_out = []

    def take(rows: int, name: str, wanted: bool) -> bool:
        nonlocal room
        if not wanted:
            return False
        if rows > room:
            left_out.append(name)
            return False
        room -= rows
        return True

    panel = take(PANEL_ROWS, "^t training", training)
    inspect = take(INSPECT_ROWS, "f5 look inside", inspecting)
    lesson = min(lesson_rows, max(LESSON_MIN, int(LESSON_SHARE * height)), room)
    lesson = lesson if take(lesson if lesson >= LESSON_MIN else LESSON_MIN, "lesson",
                            lesson_rows > 0) else 0
    plots = panel and take(PLOT_ROWS, "", True)  # what a run shows, before the memory view
    memory_shown = take(MEMORY_MIN, "f2 memory", memory)
    take(1, "", True)  # the tapes' line of marks for skipped keys, above what was typed
    memory_rows = 0
    if memory_shown:
        share = MEMORY_SHARE_TRAINING if panel else MEMORY_SHARE
        natural = min(2 + memory_lines, max(MEMORY_MIN, int(share * height)))
        extra = min(room, natural - MEMORY_MIN)
        memory_rows, room = MEMORY_MIN + extra, room - extra
    gap = take(1, "", True)
    notice_rows = 1 + take(1, "", long_notice)
    return Fit(panel=panel, plots=plots, inspect=inspect, memory_rows=memory_rows, gap=gap,
               notice_rows=notice_rows, left_out=tuple(n for n in left_out if n), lesson=lesson)


def left_out_note(fit_: Fit) -> str:
    """'no room: f5 look inside, f2 memory': what the tapes' border says first of the views
    left out."""
    return f"no room: {', '.join(fit_.left_out)}" if fit_.left_out else ""


class FittingHost:
    """Mixed into EchoScreen: `refit` lays the views out for the screen's size and what is
    open, whenever either changes."""

    fitted: Fit | None = None

    # -- size ---------------------------------------------------------------------------
    def on_resize(self, event) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit_classes(self, width: int, height: int) -> bool:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        return small

    def _fit(self, width: int, height: int) -> None:
        if self._fit_classes(width, height):
            self.query_one("#too-small").update(
                f"The terminal is too small: {width}×{height}.\n"
                f"echo-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}.")
        self.refit()

    def show_notice(self, text: str) -> None:
        """`text` on the notice line, the rows laid out again when it needs a second one."""
        width = self.app.size.width
        two = self.notice.needs_two_lines(width)
        self.notice.show(text)
        if self.notice.needs_two_lines(width) != two:
            self.refit()

    def refit(self) -> None:
        if not self.is_mounted:
            return
        width, height = self.app.size
        session = self.session
        units = session.model.hidden_size if session is not None else 2
        f = fit(height, comparing=self.compared is not None, training=not self.train.has_class("-hidden"),
                inspecting=not self.inspect.has_class("-hidden"),
                memory=self.show_memory, memory_lines=self.memory.lines_for(units),
                long_notice=self.notice.needs_two_lines(width),
                lesson_rows=self.lesson_panel.natural_rows(width - 4))
        self.fitted = f
        self.slider.styles.margin = (1 if f.gap else 0, 1, 0, 1)
        self.train.set_class(not f.panel, "-no-room")
        for plots in self.query("#train-plots"):  # built at the panel's first opening
            plots.set_class(not f.plots, "-no-room")
        self.inspect.set_class(not f.inspect, "-no-room")
        self.lesson_panel.set_class(not f.lesson, "-no-room")
        self.lesson_panel.rows = max(0, f.lesson - 2)
        if f.lesson:
            self.lesson_panel.styles.height = f.lesson
        self.memory.set_class(f.memory_rows == 0, "-no-room")
        if f.memory_rows:
            self.memory.styles.max_height = f.memory_rows
        self.notice.styles.height = f.notice_rows
        note = left_out_note(f)
        self.tapes.room_note = self.delays.room_note = note
        self.tapes.update_subtitle()
        self.delays.update_note()
