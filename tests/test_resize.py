"""Terminal faults: shrinking the terminal to almost nothing and back while typing loses nothing."""

from __future__ import annotations

import string

from helpers import batch_echo, ready, screen_text, settle, shown, tape_lines
from textual import events
from textual.widgets import Static

from echo_tui import create_app
from echo_tui.app.screens.echo import MIN_HEIGHT, MIN_WIDTH
from echo_tui.app.widgets import HelpScreen
from trainer import shipped_weights
from trainer.evaluate import random_text

SIZES = [(100, 30), (10, 3), (40, 10), (1, 1), (MIN_WIDTH - 1, MIN_HEIGHT), (3, 200),
         (MIN_WIDTH, MIN_HEIGHT), (500, 2), (100, 30), (2, 2), (100, 30)]


def too_small(app) -> bool:
    return app.main.has_class("-too-small")


async def test_resizing_down_to_tiny_and_back_while_typing_loses_nothing(variable_model):
    app = create_app(weights=shipped_weights("variable_delay"), delay=2)
    typed = ""
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        for k, (w, h) in enumerate(SIZES):
            await pilot.resize_terminal(w, h)
            assert tuple(app.size) == (w, h)
            small = w < MIN_WIDTH or h < MIN_HEIGHT
            assert too_small(app) == small
            notice = app.main.query_one("#too-small", Static)
            assert notice.display == small
            if small:
                assert f"The terminal is too small: {w}×{h}." in str(notice.render())
            # keys and a paste typed at this size: as a fast terminal sends them
            chunk = random_text(7, seed=k)
            for ch in chunk[:4]:
                app.post_message(events.Key(ch, ch))
            app.post_message(events.Key("backspace", None))
            app.post_message(events.Paste(chunk[4:].upper() + "1!"))
            app.post_message(events.Key("right", None))
            app.post_message(events.Key("left", None))
            typed = typed + chunk[:3] + chunk[4:]
            await settle(pilot)
            assert app.session.stream == typed, f"keys lost at {w}×{h}"
            assert app.session.delay == 2
            if not small:
                rows = tape_lines(app)
                assert rows[-2].endswith(typed[-10:])  # the newest key is in view again
                assert rows[-1].endswith(shown(app.session.echo)[-10:])
                assert "too small" not in screen_text(app)
        # a long paste fed across resizes: every slice lands, in order
        long = random_text(30_000, seed=99)
        app.post_message(events.Paste(long))
        for w, h in ((20, 5), (1, 1), (120, 40), (MIN_WIDTH, MIN_HEIGHT)):
            await pilot.resize_terminal(w, h)
        await settle(pilot)
        typed += long
        assert app.session.stream == typed
        assert app.session.echo == batch_echo(variable_model, typed, 2)
        # help opened while tiny, closed after growing back
        await pilot.resize_terminal(8, 4)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.resize_terminal(100, 30)
        await pilot.press("escape")
        await pilot.press(*"xyz")
        await settle(pilot)
        typed += "xyz"
        assert app.session.stream == typed and not too_small(app)
        assert tape_lines(app)[-2].endswith("xyz")
        assert set(app.session.stream) <= set(string.ascii_lowercase)
