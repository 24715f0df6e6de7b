"""The status line: the model, its delay and how it is doing, in as many words as fit."""

from __future__ import annotations

from ..describe import count, duration, short_alphabet
from .base import SessionView
from .lines import TextLine


class StatusLine(SessionView, TextLine):
    """Model kind, alphabet, hidden size, delay, steps, accuracy, confidence, the last step's
    time: whole words, leaving out the least needed parts until the rest fits."""

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
    parts = [(s.kind, 5), (short_alphabet(s.alphabet), 4), (f"hidden {s.model.hidden_size}", 6),
             (f"delay {s.delay}", 0), (count(s.steps, "step"), 1), (f"acc {acc}", 2),
             (f"conf {conf}", 3), (lat, 7)]
    parts = [p for p in parts if p[0]]
    room = width - 2  # the line's padding
    while len(parts) > 1 and len(" · ".join(t for t, _ in parts)) > room:
        parts.remove(max(parts, key=lambda p: p[1]))
    return " · ".join(t for t, _ in parts)
