"""Every delay at once: the newest keys, and under them each head's echo of them.

The multi-head model answers for every delay at every step and the session keeps every
answer, so this view only reads columns: nothing is re-run to draw it. In compare mode the
compared model's rows stand beside them, delay for delay, so where one breaks and the other
holds shows at a glance.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from .base import SessionView

from .tapes import EchoStyles, append_compared, append_echo, append_typed, echo_labels

MARK = "▶"
TITLE = "every delay at once (f4)"
SEP = " │ "  # between the model in use's rows (left) and the compared one's (right)


class AllDelays(SessionView, Widget):
    """A typed row of the newest keys, then one echo row per delay, the current one marked.

    Rows scroll to keep the current delay in view when they do not all fit.
    """

    COMPONENT_CLASSES = {"delays--gutter", "delays--current", "delays--blank", "delays--space",
                         "delays--wrong", "delays--doubt-1", "delays--doubt-2",
                         "delays--doubt-3"}
    room_note = ""  # the views opened but left out for want of rows (the screen's)

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
        compared = self.compared
        gw = self.gutter_width(session)
        width = max(1, self.content_size.width - gw)
        if compared is not None:  # two halves of the same keys, the separator between
            width = max(1, (width - len(SEP)) // 2)
        stop = session.steps
        start = max(session.first_kept, stop - width)
        gutter = self.get_component_rich_style("delays--gutter")
        current = self.get_component_rich_style("delays--current")
        styles = EchoStyles(self, "delays")
        text = Text(end="", no_wrap=True, overflow="crop")
        text.append("typed".rjust(gw - 1) + " ", gutter)
        typed = session.window(start, stop)[0]
        append_typed(text, typed, styles.space)
        if compared is not None:
            text.append(" " * (width - len(typed)))
            text.append(SEP, gutter)
            append_typed(text, typed, styles.space)
        shown = self.rows_shown(session)
        for d in shown:
            _, echo, wrong = session.window(start, stop, delay=d)
            mark = MARK if d == session.delay else " "
            text.append("\n")
            text.append(f"{mark} {d:>{gw - 4}}  ", current if d == session.delay else gutter)
            append_echo(text, echo, wrong, session.confidence(start, stop, delay=d),
                        session.alphabet.blank, styles)
            if compared is not None:
                text.append(" " * (width - len(echo)))
                text.append(SEP, gutter)
                append_compared(text, compared, start, stop, d, styles, styles.blank)
        return text

    def model_changed(self) -> None:
        self.compared_changed()  # the labels name the model in use's cell too

    def compared_changed(self) -> None:
        if self.compared is None:
            self.border_title = TITLE
            return
        left, right = (label.strip() for label in echo_labels(self.session, self.compared))
        if left == "echo":
            left, right = "in use", "compared"
        self.border_title = f"{TITLE} · left: {left} · right: {right}"

    def on_resize(self) -> None:
        self.update_note()

    def stream_changed(self) -> None:
        self.update_note()

    def update_note(self) -> None:
        """Say in the border when the rows do not all fit (set outside render: a border set
        while rendering is drawn a frame late, or never)."""
        session = self.session
        shown = len(self.rows_shown(session)) if session is not None else 0
        rows = ""
        if session is not None and shown < len(session.delays):
            first, last = self.rows_shown(session)[0], self.rows_shown(session)[-1]
            rows = f"delays {first}–{last} of {session.delays[0]}–{session.delays[-1]}"
        note = " · ".join(part for part in (self.room_note, rows) if part)
        if getattr(self, "_note", None) != note:
            self._note = self.border_subtitle = note
