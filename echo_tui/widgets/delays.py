"""Every delay at once: the newest keys, and under them each head's echo of them.

The multi-head model answers for every delay at every step and the session keeps every
answer, so this view only reads columns: nothing is re-run to draw it.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from .base import SessionView

from .tapes import EchoStyles, append_echo, append_typed

MARK = "▶"


class AllDelays(SessionView, Widget):
    """A typed row of the newest keys, then one echo row per delay, the current one marked.

    Rows scroll to keep the current delay in view when they do not all fit.
    """

    COMPONENT_CLASSES = {"delays--gutter", "delays--current", "delays--blank", "delays--space",
                         "delays--wrong", "delays--doubt-1", "delays--doubt-2",
                         "delays--doubt-3"}

    def gutter_width(self, session) -> int:
        return max(len("typed "), len(str(session.delays[-1])) + 4)  # "▶ 16  "

    def rows_shown(self, session) -> list[int]:
        """The delays whose rows fit, a window around the current delay."""
        room = max(1, self.content_size.height - 1)
        delays = list(session.delays)
        if len(delays) <= room:
            return delays
        k = delays.index(session.delay)
        first = max(0, min(len(delays) - room, k - room // 2))
        return delays[first:first + room]

    def render(self) -> Text:
        session = self.session
        if session is None:
            return Text("loading the model…")
        gw = self.gutter_width(session)
        width = max(1, self.content_size.width - gw)
        stop = session.steps
        start = max(session.first_kept, stop - width)
        gutter = self.get_component_rich_style("delays--gutter")
        current = self.get_component_rich_style("delays--current")
        styles = EchoStyles(self, "delays")
        text = Text(end="", no_wrap=True, overflow="crop")
        text.append("typed".rjust(gw - 1) + " ", gutter)
        append_typed(text, session.window(start, stop)[0], styles.space)
        shown = self.rows_shown(session)
        for d in shown:
            _, echo, wrong = session.window(start, stop, delay=d)
            mark = MARK if d == session.delay else " "
            text.append("\n")
            text.append(f"{mark} {d:>{gw - 4}}  ", current if d == session.delay else gutter)
            append_echo(text, echo, wrong, session.confidence(start, stop, delay=d),
                        session.alphabet.blank, styles)
        return text

    def on_resize(self) -> None:
        self.update_note()

    def stream_changed(self) -> None:
        self.update_note()

    def update_note(self) -> None:
        """Say in the border when the rows do not all fit (set outside render: a border set
        while rendering is drawn a frame late, or never)."""
        session = self.session
        shown = len(self.rows_shown(session)) if session is not None else 0
        note = (f"{shown} of {len(session.delays)} delays: ← → scroll"
                if session is not None and shown < len(session.delays) else "")
        if getattr(self, "_note", None) != note:
            self._note = self.border_subtitle = note
