"""One-line text widgets (status, notices) that redraw without a layout pass.

A Static's update() asks for a new layout each time; at one update per keystroke that reflows the
whole screen (footer included) for nothing, since a line's size never changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ..describe import one_line


class TextLine(Widget):
    """A single line of plain text, cropped with an ellipsis when it does not fit."""

    # Textual draws a Text through its own content, which keeps only what the CSS says of
    # wrapping: without these a long line was cut mid-word with no ellipsis
    DEFAULT_CSS = "TextLine { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = one_line(text)

    @property
    def text(self) -> str:
        return self._text

    def show(self, text: str) -> None:
        text = one_line(text)  # a path, metadata or a child's message may hold escapes
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        return Text(self._text, no_wrap=True, overflow="ellipsis", end="")
