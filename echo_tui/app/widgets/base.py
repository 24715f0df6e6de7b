"""What every view of the session shares: it follows the echo screen's session and revision.

The echo screen owns the session and publishes it two ways: the reactive `session` (the
EchoSession, None while the first model loads), which a view watches, and its `revision`,
bumped whenever the stream, the delay or the model changes, which a view follows. From the
moment it is mounted a view redraws itself when either changes; it never reaches for the app.

The revision is published to followers, not through a reactive: it changes on every key, and
Textual's reactive machinery (`data_bind` re-initialises every reactive of a widget on each
copy; a watch runs each watcher in its own context) cost the keystroke path 80-150 µs with five
views. The session changes rarely, so it is an ordinary reactive.
"""

from __future__ import annotations


class SessionView:
    """A mixin for widgets drawn from the screen's session: `session` is the screen's, a new
    revision repaints the view, and `stream_changed` / `model_changed` are its hooks for what
    a paint cannot do (a border's note, a choice of units)."""

    session = None  # the screen's EchoSession, kept here as it changes
    compared = None  # the screen's compared EchoSession in compare mode, else None
    FOLLOWS_REVISION = True  # False: a view that only the session (and the delay) change

    def on_mount(self) -> None:
        screen = self.screen
        self.watch(screen, "session", self._session_changed)  # now, and on every change
        if hasattr(screen, "compared"):
            self.watch(screen, "compared", self._compared_changed)
        if self.FOLLOWS_REVISION:
            screen.follow(self)

    def _session_changed(self, session) -> None:
        if session is not self.session:
            self.session = session
            self.model_changed()
            self.refresh()

    def _compared_changed(self, compared) -> None:
        if compared is not self.compared:
            self.compared = compared
            self.compared_changed()
            self.refresh()

    def get_component_rich_style(self, *names: str, partial: bool = False, default=None):
        """Textual's, kept until this widget's styles change (`notify_style_update`, as
        Textual's own DataTable and Log keep theirs): Textual empties its cache at every
        refresh, and a view repainted at every key looked each style up afresh, about a third
        of the tapes' paint."""
        cache = self.__dict__.setdefault("_kept_component_styles", {})
        key = (names, partial, default)
        if key not in cache:
            cache[key] = super().get_component_rich_style(*names, partial=partial,
                                                          default=default)
        return cache[key]

    def notify_style_update(self) -> None:
        self.__dict__.pop("_kept_component_styles", None)
        super().notify_style_update()

    def revised(self) -> None:
        """The screen's revision changed."""
        if self.display:  # a hidden view is drawn afresh when it is shown
            self.refresh()
        self.stream_changed()

    def model_changed(self) -> None:
        """A new session (a new model, or the first) is shown from now on."""

    def compared_changed(self) -> None:
        """Compare mode began, ended, or compares another model now."""

    def stream_changed(self) -> None:
        """The stream, the delay or the model changed (the repaint is already asked for)."""
