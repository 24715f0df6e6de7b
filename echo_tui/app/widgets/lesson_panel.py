"""The lesson panel: the step a lesson is at, its text, and its checks ticking live.

The panel follows the screen's revision (a key, the delay, a model) and looks again a few times
a second for what no revision marks (a view opened, help, a training check): each look builds
one small Published (the screen's `publish`) and hands it to the LessonRun, which says whether anything shown changed.
Everything drawn from a lesson file is plain text (rich Text, never markup), and the reader
already wrote its control characters as escapes.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.widget import Widget

from ...lessons import DONE, LessonRun
from .base import SessionView

LOOK_S = 0.2  # how often the panel looks for changes no revision marks
MAX_TEXT_LINES = 6
KEYS_NOTE = "f7 back · f9 skip"


class LessonPanel(SessionView, Widget):
    """The lesson in progress (`run`, a LessonRun, or None: the panel is hidden)."""

    DEFAULT_CSS = """
    LessonPanel { height: auto; border: round $success; border-title-color: $text-success;
                  border-subtitle-color: $text-muted; padding: 0 1; }
    LessonPanel > .lesson--title { text-style: bold; }
    LessonPanel > .lesson--done { color: $text-success; }
    LessonPanel > .lesson--open { color: $text-warning; }
    """
    COMPONENT_CLASSES = {"lesson--title", "lesson--done", "lesson--open"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.run: LessonRun | None = None
        self.rows = 0  # the rows the screen's fitting gives it (0: as many as it wants)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(LOOK_S, self.look)

    def revised(self) -> None:
        self.look()

    def look(self) -> None:
        """Hand the run what the screen shows now; redraw when a tick or a step changed."""
        if self.run is None or not self.screen.is_mounted:
            return
        if self.run.update(self.screen.publish()):
            self.retitle()
            self.screen.refit()  # another step may want other rows
            self.refresh(layout=True)

    def retitle(self) -> None:
        run = self.run
        if run is None:
            return
        n = len(run.lesson.steps)
        where = "done" if run.over else f"step {run.index + 1}/{n}"
        self.border_title = Text(f"lesson: {run.lesson.title} · {where}")
        self.border_subtitle = Text(KEYS_NOTE)

    def lines(self, width: int) -> list[tuple[str, str]]:
        """(text, style class) per line, most wanted first trimmed last: see `fitted`."""
        run = self.run
        if run is None:
            return []
        width = max(10, width)
        out: list[tuple[str, str]] = []
        done = run.last_done
        if done is not None:
            out.append((f"✓ {done.title}: done", "lesson--done"))
        step = run.step
        if step is None:
            ticked, skipped = run.tally()
            out.append((f"✓ lesson done: {ticked} of {len(run.outcomes)} steps done, "
                        f"{skipped} skipped · ^p Lessons… for another", "lesson--done"))
            return out
        out.append((step.title, "lesson--title"))
        text = [line for p in step.text for line in textwrap.wrap(p, width)]
        if len(text) > MAX_TEXT_LINES:
            text = text[:MAX_TEXT_LINES - 1] + [text[MAX_TEXT_LINES - 1][:width - 1] + "…"]
        out += [(line, "") for line in text]
        out += [(f"{'✓' if held else '☐'} {check.text}",
                 "lesson--done" if held else "lesson--open")
                for check, held in zip(step.checks, run.holding)]
        return out

    def fitted(self, width: int, rows: int) -> list[tuple[str, str]]:
        """`lines` in `rows` lines: the line of the step done before goes first, then the
        step's text is cut (ending in "…"); the title and the checks stay."""
        out = self.lines(width)
        if rows <= 0 or len(out) <= rows:
            return out
        if self.run.last_done is not None and self.run.step is not None:
            out = out[1:]  # what the learner must read now comes before what they did
            if len(out) <= rows:
                return out
        keep = [k for k, (_, style) in enumerate(out) if style != ""]
        text = [k for k, (_, style) in enumerate(out) if style == ""]
        room = max(0, rows - len(keep))
        chosen = set(text[:room])
        lines = [out[k] for k in sorted(set(keep) | chosen)][:rows]
        if room and len(text) > room:
            k = lines.index(out[text[room - 1]])
            lines[k] = (lines[k][0][:width - 1] + "…", "")
        return lines

    def natural_rows(self, width: int) -> int:
        """The rows it wants, its border included (0: no lesson)."""
        return len(self.lines(width)) + 2 if self.run is not None else 0

    def render(self) -> Text:
        width = self.content_size.width or self.size.width
        out = Text(end="", no_wrap=True, overflow="ellipsis")
        for k, (line, style) in enumerate(self.fitted(width, self.rows)):
            if k:
                out.append("\n")
            out.append(line, self.get_component_rich_style(style) if style else "")
        return out

    def opened(self, run: LessonRun | None) -> None:
        self.run = run
        self.retitle()
        self.refresh(layout=True)

    def tally_text(self) -> str:
        run = self.run
        done = sum(o == DONE for o in run.outcomes) if run else 0
        return f"{done} of {len(run.outcomes)} steps done" if run else ""
