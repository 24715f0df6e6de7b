"""Every worker (the feed pump, model loading, training) stops cleanly when the app ends, and
keeps going right through a model switch, a reset, help and training, during a long paste."""

from __future__ import annotations

import asyncio

import pytest
from helpers import batch_echo, ready, settle
from textual import events
from training_runs import ReplayRun, recorded_checkpoints

from echo_tui import create_app
from echo_tui.app.screens import echo as echo_screen
from echo_tui.app.widgets import HelpScreen, TrainPanel
from trainer import shipped_weights
from trainer.evaluate import random_text
from trainer.recipes import config

VARIABLE = shipped_weights("variable_delay")
PASTE = random_text(200_000, seed=31)


@pytest.fixture(autouse=True)
def one_slice_a_frame(monkeypatch):
    """A frame feeds one slice of a paste however fast the machine: the paste is always still
    going through when the test acts (49 frames), never finished before it could."""
    monkeypatch.setattr(echo_screen, "FRAME_S", 0.0)


async def mid_paste(pilot) -> None:
    """Post the paste and return while it is still being fed."""
    app = pilot.app
    app.post_message(events.Paste(PASTE))
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while not (app.session.steps > 0 and app.main.busy):
        assert loop.time() < end
        await asyncio.sleep(0.001)
    assert app.session.steps < len(PASTE)


async def test_leaving_mid_paste_ends_every_worker_without_an_error():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await mid_paste(pilot)
    # run_test raised nothing: the pump stopped with the screen (it once ended in WorkerFailed)
    assert app.return_code in (None, 0)
    assert not [w for w in app.workers if w.is_running]


async def test_a_switch_mid_paste_gives_the_new_model_all_of_it(fixed_model):
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await mid_paste(pilot)
        app.post_message(events.Key("f3", None))
        await settle(pilot)
        s = app.session
        assert s.kind == "fixed" and s.stream == PASTE
        assert s.echo[-500:] == batch_echo(fixed_model, PASTE, 4)[-500:]


async def test_a_reset_mid_paste_drops_the_rest(variable_model):
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await mid_paste(pilot)
        app.post_message(events.Key("ctrl+r", None))
        await settle(pilot)
        assert app.session.steps == 0 and not app.busy
        app.post_message(events.Key("a", "a"))
        await settle(pilot)
        assert app.session.stream == "a"
        # what the engine had started of the dropped paste is not fed to the next one
        app.post_message(events.Paste(PASTE[:5_000]))
        await settle(pilot)
        s = app.session
        assert s.echo == batch_echo(variable_model, "a" + PASTE[:5_000], s.delay)


async def test_help_mid_paste_lets_the_paste_finish():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await mid_paste(pilot)
        app.post_message(events.Key("f1", None))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen) and app.session.stream == PASTE
        await pilot.press("escape")
    assert app.return_code in (None, 0)


@pytest.mark.parametrize("leave", [False, True])
async def test_training_mid_paste_and_leaving_while_both_run(leave):
    # the form's first choice: the fixed recipe (delay 4, hidden 64), cut short
    checkpoints = recorded_checkpoints(config("fixed", max_steps=20, eval_every=10))
    run = ReplayRun(checkpoints, hold=1)
    app = create_app(weights=VARIABLE, start_run=lambda cfg: run)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await mid_paste(pilot)
        await app.main.action_toggle_train()
        panel = app.main.query_one(TrainPanel)
        panel.start()
        if leave:
            return
        run.release()
        await settle(pilot)
        while panel.running or app.busy:
            await asyncio.sleep(0.01)
        await settle(pilot)
        assert app.session.kind == "fixed" and app.session.stream == PASTE
    assert run.cancelled == leave or not leave
