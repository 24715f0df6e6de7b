"""The delay slider: 0..max_delay, moved by keys (bound on the screen) or set by a click."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from .base import SessionView

LABEL = "delay "
HINT = "   ← → to move, or click"


class DelaySlider(SessionView, Widget):
    """One line: every delay the model has, the current one as the thumb.

    Three forms, the first that fits: every delay labelled (`0─1─[2]─3`), one column per delay
    with the value beside it (`──●──── 12`), or a proportional bar. Every form is clickable.
    With a fixed-delay model it shows that model's delay and cannot move.
    """

    COMPONENT_CLASSES = {"slider--thumb", "slider--track", "slider--hint"}

    # the screen's session and delay, not its revision: a keystroke does not redraw the slider
    FOLLOWS_REVISION = False

    class Picked(Message):
        """A click chose a delay."""

        def __init__(self, delay: int) -> None:
            super().__init__()
            self.delay = delay

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spans: list[tuple[int, int, int]] = []  # (x from, x to, delay) of the drawn cells

    def on_mount(self) -> None:
        self.watch(self.screen, "delay", lambda _delay: self.refresh(), init=False)

    def render(self) -> Text:
        session = self.session
        text = Text(LABEL, no_wrap=True, overflow="crop", end="")
        self._spans = []
        if session is None:
            return text + Text("…")
        thumb = self.get_component_rich_style("slider--thumb")
        track = self.get_component_rich_style("slider--track")
        hint = self.get_component_rich_style("slider--hint")
        if session.kind == "fixed":
            text.append(f" {session.delay} ", thumb)
            text.append("   fixed-delay model: its delay cannot move", hint)
            return text
        delays, room = session.delays, self.content_size.width - len(LABEL)
        labelled = sum(len(str(d)) for d in delays) + len(delays) - 1 + 2  # + the thumb's pad
        if labelled <= room:
            self._render_labelled(text, session, thumb, track)
        else:
            self._render_columns(text, session, room, thumb, track)
        if text.cell_len + len(HINT) <= self.content_size.width:
            text.append(HINT, hint)
        return text

    def _render_labelled(self, text: Text, session, thumb, track) -> None:
        x = len(LABEL)
        for k, d in enumerate(session.delays):
            if k:
                text.append("─", track)
                x += 1
            cell = f" {d} " if d == session.delay else str(d)
            text.append(cell, thumb if d == session.delay else track)
            # a click on a cell or on the track to its left picks it
            self._spans.append((x - (1 if k else 0), x + len(cell), d))
            x += len(cell)

    def _render_columns(self, text: Text, session, room: int, thumb, track) -> None:
        """One column per delay where they fit, else a proportional bar; the value beside."""
        delays = session.delays
        label = f" {session.delay:>{len(str(delays[-1]))}}"
        width = max(2, room - len(label) - 1)
        if len(delays) <= width:
            width = len(delays)
            at = [(d, d) for d in delays]  # column i is delay i
        else:
            top = delays[-1]
            at = [(i, round(i / (width - 1) * top)) for i in range(width)]
        x0 = len(LABEL)
        pos = min(range(width), key=lambda i: abs(at[i][1] - session.delay))
        for i, d in at:
            text.append("●" if i == pos else "─", thumb if i == pos else track)
            self._spans.append((x0 + i, x0 + i + 1, d))
        text.append(label, thumb)

    def delay_at(self, x: int) -> int | None:
        """The delay drawn at column `x` of the content, or None."""
        for lo, hi, d in self._spans:
            if lo <= x < hi:
                return d
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        d = self.delay_at(offset.x)
        if d is not None:
            self.post_message(self.Picked(d))
