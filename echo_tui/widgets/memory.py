"""The GRU's hidden state as a strip of coloured cells, redrawn after every step."""

from __future__ import annotations

import math

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

LEVELS = 21  # colours from -1 to +1; the GRU's state lies in (-1, 1)
NEGATIVE, NEUTRAL, POSITIVE = (59, 130, 246), (64, 64, 64), (249, 115, 22)


def _palette() -> list[Style]:
    half = LEVELS // 2
    styles = []
    for k in range(LEVELS):
        t = (k - half) / half
        end = NEGATIVE if t < 0 else POSITIVE
        rgb = (round(a + (b - a) * abs(t)) for a, b in zip(NEUTRAL, end))
        styles.append(Style(bgcolor=Color.from_rgb(*rgb)))
    return styles


PALETTE = _palette()


class MemoryView(Widget):
    """One cell per hidden unit: blue for negative, grey near zero, orange for positive.

    Drawn line by line straight from segments (Textual's line API): it redraws on every
    keystroke, and building rich Text with a style per cell cost more than the model's step.
    """

    def levels(self) -> np.ndarray:
        """Each hidden unit's colour index, 0..LEVELS-1 (empty before the model is ready)."""
        session = getattr(self.app, "session", None)
        if session is None:
            return np.zeros(0, dtype=np.int64)
        half = LEVELS // 2
        values = session.hidden.numpy()
        return np.clip(np.rint((values + 1) * half), 0, LEVELS - 1).astype(np.int64)

    def render_line(self, y: int) -> Strip:
        width = max(1, self.content_size.width)
        row = self.levels()[y * width:(y + 1) * width].tolist()
        segments, i = [], 0
        while i < len(row):  # one segment per run of equal colours
            j = i + 1
            while j < len(row) and row[j] == row[i]:
                j += 1
            segments.append(Segment(" " * (j - i), PALETTE[row[i]]))
            i = j
        return Strip(segments, len(row)).extend_cell_length(width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        session = getattr(self.app, "session", None)
        size = session.model.hidden_size if session is not None else 1
        return math.ceil(size / max(1, width))
