"""The status line: the model, its delay and how it is doing, in as many words as fit."""

from __future__ import annotations

from trainer.text import count

from ...core.describe import delay_range, duration, short_alphabet
from .base import SessionView
from .lines import TextLine


class StatusLine(SessionView, TextLine):
    """Model kind, cell, alphabet, hidden size, delay, steps, accuracy, confidence, the last
    step's time: whole words, leaving out the least needed parts until the rest fits."""

    def __init__(self, loading: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loading_name = loading  # what the line says until the first model is in

    def stream_changed(self) -> None:
        self.show(status_text(self.session, self.loading_name, self.size.width or 200))

    def on_resize(self) -> None:
        self.stream_changed()


def status_text(s, loading: str, width: int = 200) -> str:
    if s is None:
        return f"loading {loading}…"
    acc = f"{100 * s.accuracy:.1f}%" if s.scored else "–"
    conf = f"{100 * s.mean_confidence:.0f}%" if s.steps else "–"
    lat = f"{duration(s.last_step_s)}/step" if s.last_step_s is not None else ""
    # (text, rank): the highest rank goes first when the line is too long
    parts = [(s.kind, 5), (s.model.cell, 5.5), (short_alphabet(s.alphabet), 4),
             (f"hidden {s.model.hidden_size}", 6),
             (f"delay {s.delay}", 0), (count(s.steps, "step"), 1), (f"acc {acc}", 2),
             (f"conf {conf}", 3), (lat, 7)]
    parts = [p for p in parts if p[0]]
    room = width - 2  # the line's padding
    while len(parts) > 1 and len(" · ".join(t for t, _ in parts)) > room:
        parts.remove(max(parts, key=lambda p: p[1]))
    return " · ".join(t for t, _ in parts)


class CompareStatus(SessionView, TextLine):
    """Compare mode's second status line: the compared model and how it is doing at the
    delay in use (hidden when not comparing)."""

    def compared_changed(self) -> None:
        self.display = self.compared is not None
        self.stream_changed()

    def stream_changed(self) -> None:
        if self.compared is not None:
            self.show(compared_text(self.compared, self.screen.compared_name,
                                    self.session.delay if self.session else None,
                                    self.size.width or 200))

    def on_resize(self) -> None:
        self.stream_changed()


def compared_text(c, name: str, delay: int | None, width: int = 200) -> str:
    """'compared: letters_rnn.safetensors · rnn · hidden 64 · acc 71.2% · conf 80%': the same
    figures as the status line's, for the compared model at `delay` (or why it has none)."""
    if delay is not None and delay not in c.delays:
        figures = [(f"no delay {delay}: it has {delay_range(c.delays)}", 0)]
    else:
        acc = f"{100 * c.accuracy:.1f}%" if c.scored else "–"
        conf = f"{100 * c.mean_confidence:.0f}%" if c.steps else "–"
        figures = [(f"acc {acc}", 0), (f"conf {conf}", 1)]
    lat = f"{duration(c.last_step_s)}/step" if c.last_step_s is not None else ""
    parts = [("compared:", -1), (name, 3), (c.model.cell, 2), (f"hidden {c.model.hidden_size}", 4),
             *figures, (lat, 5)]
    parts = [p for p in parts if p[0]]

    def line() -> str:
        return parts[0][0] + " " + " · ".join(t for t, _ in parts[1:])

    while len(parts) > 2 and len(line()) > width - 2:  # the line's padding
        parts.remove(max(parts, key=lambda p: p[1]))
    return line()
