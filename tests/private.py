"""Every private name of Textual or pytest the tests use, in one place (the structure test keeps
them here): when an upgrade renames one, this is the module to mend. Textual is pinned to 8.2.8,
pytest-textual-snapshot and pytest to what pyproject's [test] extra says."""

from __future__ import annotations

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS  # noqa: F401 - the sequences a terminal sends
from textual._xterm_parser import XTermParser  # noqa: F401 - Textual's own input parser
from textual.keys import _character_to_key


def character_to_key(ch: str) -> str:
    """The key name Textual gives a typed character ('.' -> 'full_stop')."""
    return _character_to_key(ch)


def screen_update(app):
    """The whole screen as one render update, the screens below a modal included."""
    return app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)


def screen_strips(app) -> list:
    """The screen's rows as drawn: a Strip (segments) per row."""
    return app.screen._compositor.render_strips()


def fixture_names(pyfuncitem) -> list[str]:
    """The fixtures a test function asks for, by name."""
    return pyfuncitem._fixtureinfo.argnames
