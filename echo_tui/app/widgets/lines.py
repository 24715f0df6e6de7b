"""One-line text widgets (status, notices) that redraw without a layout pass.

A Static's update() asks for a new layout each time; at one update per keystroke that reflows the
whole screen (footer included) for nothing, since a line's size never changes.
"""

from __future__ import annotations

import textwrap
from collections import deque

from rich.text import Text
from textual.widget import Widget

from trainer.text import inert


class TextLine(Widget):
    """A single line of plain text, cropped with an ellipsis when it does not fit."""

    # Textual draws a Text through its own content, which keeps only what the CSS says of
    # wrapping: without these a long line was cut mid-word with no ellipsis
    DEFAULT_CSS = "TextLine { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = inert(text)

    @property
    def text(self) -> str:
        return self._text

    def show(self, text: str) -> None:
        text = inert(text)  # a path, metadata or a child's message may hold escapes
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self._text, no_wrap=True, overflow="ellipsis", end="")


class NoticeLine(TextLine):
    """The notice line: one line, or two when the screen gives it a second row (the screen's
    fitting does, when a notice needs it and a row is free); what does not fit ends in an
    ellipsis, and the recent notices are kept whole for help (f1) to list."""

    DEFAULT_CSS = "NoticeLine { height: 1; }"
    KEPT = 20

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, **kwargs)
        self.recent: deque[str] = deque(maxlen=self.KEPT)  # oldest first

    def show(self, text: str) -> None:
        text = inert(text)
        if text and text != self._text:
            self.recent.append(text)
        super().show(text)

    def needs_two_lines(self, width: int) -> bool:
        return len(self._text) > width - 2  # the line's padding

    def render(self) -> Text:
        width = max(1, self.content_size.width)
        if self.content_size.height < 2 or len(self._text) <= width:
            return super().render()
        lines = textwrap.wrap(self._text, width) or [""]
        second = " ".join(lines[1:])
        if len(second) > width:
            second = second[:width - 1] + "…"
        return Text(f"{lines[0]}\n{second}", no_wrap=True, overflow="ellipsis", end="")
