"""What every view of the session shares: the session and its revision, bound from the screen.

The echo screen owns the session and publishes two reactives: `session` (the EchoSession, None
while the first model loads) and `revision` (bumped whenever the stream, the delay or the model
changes). A view binds both (`data_bind`) and redraws itself when either changes; it never
reaches for the app.
"""

from __future__ import annotations

from textual.reactive import reactive, var


class SessionView:
    """A mixin for widgets drawn from the session: a new revision repaints them, and
    `stream_changed` / `model_changed` are their hooks for what a paint cannot do (a border's
    note, a choice of units)."""

    session = var(None, always_update=True)
    revision = reactive(0, always_update=True)

    def watch_session(self, old, new) -> None:
        if new is not old:
            self.model_changed()

    def watch_revision(self) -> None:
        self.stream_changed()

    def model_changed(self) -> None:
        """A new session (a new model, or the first) is shown from now on."""

    def stream_changed(self) -> None:
        """The stream, the delay or the model changed (the repaint is already asked for)."""
