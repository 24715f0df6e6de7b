"""Nothing from a file, a path, metadata, a paste or the training child reaches the terminal
as an escape sequence: the app's screen holds no ESC or BEL, whatever came in."""

from __future__ import annotations

import shutil

from helpers import ready, screen_text, settle, until
from textual import events

from echo_tui import create_app
from echo_tui.training.checkpoint import Failed
from echo_tui.app.widgets import TrainPanel
from trainer import shipped_weights

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31m"  # set the window title, clear the screen, red


def raw_controls(text: str) -> list[str]:
    return [ch for ch in text if ch in "\x1b\x07\x9b"]


async def test_a_file_name_with_escapes_is_shown_escaped(tmp_path):
    path = tmp_path / f"x{HOSTILE}.safetensors"
    shutil.copy(shipped_weights("variable_delay"), path)
    app = create_app(weights=path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert raw_controls(text) == []
        assert "x\\x1b]0;owned\\x07" in text  # the header names the file, escaped


async def test_a_paste_with_escapes_is_fed_as_text_and_shown_inert(tmp_path):
    app = create_app(weights=shipped_weights("variable_delay"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste(f"abc{HOSTILE}\x12def"))
        await settle(pilot)
        assert app.session.typed == f"abc{HOSTILE}\x12def"  # all kept, nothing run as keys
        assert raw_controls(screen_text(app)) == []


class FailingRun:
    """A training run whose child says something hostile and ends."""

    alive = True

    def __init__(self, words: str) -> None:
        self.words = words

    def get(self, timeout: float):
        self.alive = False
        return Failed(self.words)

    def cancel(self) -> None:
        self.alive = False


async def test_the_training_childs_words_are_shown_inert():
    app = create_app(weights=shipped_weights("variable_delay"),
                     start_run=lambda cfg: FailingRun(f"boom{HOSTILE}\nsecond line"))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = app.main.query_one(TrainPanel)
        await app.main.action_toggle_train()
        await pilot.pause()
        panel.start()
        await until(lambda: not panel.running)
        await pilot.pause()
        text = screen_text(app)
        assert raw_controls(text) == []
        assert "training stopped: boom\\x1b]0;owned\\x07" in text
