"""Training in the app (ctrl+t): a real child process, cancel, keys during training, hot swap
and saving."""

from __future__ import annotations

import asyncio

import pytest
import torch
from helpers import batch_echo, keys, ready, settle, until
from textual.widgets import Input, Select
from training_runs import ReplayRun, endless_run, real_run, recorded_checkpoints

from echo_tui import EchoSession, create_app
from echo_tui.training.checkpoint import Checked, Finished
from echo_tui.app.widgets import PathPrompt, TrainPanel
from echo_tui.core.describe import minutes_or_seconds
from trainer import load_model, shipped_weights
from trainer.recipes import MEASURED, config

VARIABLE = shipped_weights("variable_delay")




async def open_panel(pilot, kind="fixed", alphabet="letters", delay="2", hidden="16"):
    app = pilot.app
    await keys(pilot, "ctrl+t")
    panel = app.main.query_one(TrainPanel)
    assert panel.display and app.main.focused is panel.query_one("#train-start")
    panel.query_one("#train-kind", Select).value = kind
    panel.query_one("#train-alphabet", Select).value = alphabet
    await pilot.pause()
    panel.query_one("#train-delay", Input).value = delay
    panel.query_one("#train-hidden", Input).value = hidden
    return panel


async def first_check(pilot):
    """Open the panel, start it as the form is, and wait for the run's first checkpoint."""
    panel = await open_panel(pilot)
    panel.start()
    await until(lambda: panel.checkpoint is not None)
    return panel


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


async def test_a_real_run_learns_takes_over_and_saves(tmp_path):
    start = real_run(max_steps=60, eval_every=20, heldout_chars=2000)
    app = create_app(weights=VARIABLE, delay=2, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hi, abcabc")
        panel = await open_panel(pilot)
        panel.start()
        assert panel.running and app.main.focused is None  # typing goes to the tapes again
        await until(lambda: panel.checkpoint is not None)
        learning = panel.query_one("#learning")
        assert learning.rows[0] == "hiabcabc"  # the typed text, as the new model reads it
        await until(lambda: not panel.running and app.session.model is panel.model)
        await settle(pilot)
        s = app.session
        assert (s.kind, s.delay, s.typed) == ("fixed", 2, "Hi, abcabc")
        assert panel.checkpoint.final and panel.checkpoint.step == 60
        assert same_weights(s.model, panel.checkpoint.model(vars(panel.cfg)))
        fresh = EchoSession(panel.model, 2)
        fresh.feed("Hi, abcabc")
        assert s.echo == fresh.echo and s.stream == fresh.stream  # as if it had been there
        await until(lambda: not start.runs[0].alive, timeout=10)  # the child ends by itself

        await keys(pilot, "ctrl+s")  # as a user saves it
        await until(lambda: isinstance(app.screen, PathPrompt))
        await pilot.pause()
        app.screen.query_one(Input).value = str(tmp_path / "mine.safetensors")
        await pilot.press("enter")
        await until(lambda: (tmp_path / "mine.safetensors").exists())
        await settle(pilot)
        saved = load_model(tmp_path / "mine.safetensors")
        assert same_weights(saved, s.model)
        assert saved.metadata["command"] == "echo-tui training panel"
        assert batch_echo(saved, "hiabcabc", 2) == s.echo
        assert "echo-tui --weights" in str(app.main.notice.render())


async def test_save_and_use_say_when_nothing_is_trained_yet():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        for key, what in (("ctrl+s", "to save"), ("ctrl+u", "to use")):
            await keys(pilot, key)
            assert str(app.main.notice.render()) == (
                f"no model trained here yet {what}: train one first: ctrl+t, then Enter")
        assert not isinstance(app.screen, PathPrompt)


async def test_ctrl_t_then_enter_starts_the_recipe_as_filled_in():
    start = endless_run()
    app = create_app(weights=VARIABLE, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, "ctrl+t", "enter")
        panel = app.main.query_one(TrainPanel)
        assert panel.running and len(start.runs) == 1
        cfg = panel.cfg
        assert (cfg.kind, cfg.alphabet, cfg.delay, cfg.hidden) == ("fixed", "letters", 4, 64)
        panel.cancel()


async def test_cancel_stops_the_child_at_once_and_keeps_the_model():
    start = endless_run()
    app = create_app(weights=VARIABLE, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        before = app.session.model
        panel = await first_check(pilot)  # the child is well under way
        await keys(pilot, "escape")
        assert not panel.running and not start.runs[0].alive
        assert start.runs[0]._process.poll() is not None  # gone, not just asked to go
        assert app.session.model is before and "cancelled" in str(
            panel.query_one("#train-progress").render())


async def test_keys_delay_and_undo_work_while_it_trains(variable_model):
    start = endless_run()
    app = create_app(weights=VARIABLE, delay=3, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = await first_check(pilot)
        await keys(pilot, *"helloworld", "backspace", "right", "x")
        s = app.session
        assert s.model is not panel.model and panel.running
        assert (s.stream, s.delay) == ("helloworlx", 4)
        assert s.echo == batch_echo(variable_model, "helloworlx", 4)
        panel.cancel()


async def test_leaving_the_app_while_it_trains_leaves_nothing_running():
    start = endless_run()
    app = create_app(weights=VARIABLE, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = await open_panel(pilot)
        panel.start()
        await until(lambda: start.runs and start.runs[0].alive)
    await asyncio.sleep(0.2)
    assert start.runs[0]._process.poll() is not None


async def test_use_now_takes_the_newest_checkpoint_while_it_goes_on():
    cfg = config("fixed", hidden=16, delay=2, max_steps=40, eval_every=10)
    checkpoints = recorded_checkpoints(cfg)
    run = ReplayRun(checkpoints, hold=2)
    app = create_app(weights=VARIABLE, start_run=lambda cfg: run)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abcabc")
        panel = await open_panel(pilot)
        panel.start()
        await until(lambda: panel.checkpoint is checkpoints[1])
        await keys(pilot, "ctrl+u")
        await settle(pilot)
        assert same_weights(app.session.model, checkpoints[1].model(vars(panel.cfg)))
        assert panel.running and app.session.stream == "abcabc"
        run.release()
        await until(lambda: not panel.running)
        await settle(pilot)
        assert same_weights(app.session.model, checkpoints[-1].model(vars(panel.cfg)))


async def test_what_the_run_says_after_cancel_is_asked_is_not_shown():
    # the panel asks by message: a check (here the run's end) can reach the control before
    # the cancel does, and must not be shown, nor its model take over
    cfg = config("fixed", hidden=16, delay=2, max_steps=40, eval_every=10)
    checkpoints = recorded_checkpoints(cfg)
    run = ReplayRun(checkpoints, hold=1)
    app = create_app(weights=VARIABLE, start_run=lambda cfg: run)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = await open_panel(pilot)
        panel.start()
        await until(lambda: panel.checkpoint is checkpoints[0])
        panel.cancel()
        app.main.training._take(run, Finished(checkpoints[-1]), (panel.model, None))
        await settle(pilot)
        assert run.cancelled and not panel.running and panel.checkpoint is checkpoints[0]
        assert "cancelled" in str(panel.query_one("#train-progress").render())
        assert app.session.kind == "variable"


async def test_the_form_refuses_what_cannot_be_trained():
    app = create_app(weights=VARIABLE, start_run=lambda cfg: 1 / 0)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = await open_panel(pilot, kind="variable", delay="99")
        panel.start()
        assert not panel.running
        assert str(panel.query_one("#train-progress").render()) == (
            "delay must be a whole number from 0 to 64, not '99'")
        panel.query_one("#train-alphabet", Select).value = "text"
        await pilot.pause()  # the lesson recipe's sizes fill the form in: offered first
        assert (panel.query_one("#train-delay", Input).value,
                panel.query_one("#train-hidden", Input).value) == ("8", "128")
        seconds, how = MEASURED["lesson"]
        assert str(panel.query_one("#train-progress").render()) == (
            f"Enter starts · about {minutes_or_seconds(seconds)} to 99.9% (measured {how})")
        panel.query_one("#train-delay", Input).value = "16"
        await pilot.pause()  # a longer delay: the text recipe, the command's default
        assert panel.config().target == 0.9999 and panel.config().max_seconds == 3 * 3600.0


async def test_a_run_whose_weights_cannot_be_read_stops_and_says_so():
    # weights of another size than the form asked for: the panel must not wait for ever
    checkpoints = recorded_checkpoints(config("fixed", hidden=8, delay=2, max_steps=10,
                                              eval_every=10))
    run = ReplayRun(checkpoints, hold=2)
    app = create_app(weights=VARIABLE, start_run=lambda cfg: run)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        panel = await open_panel(pilot, hidden="12")
        panel.start()
        await until(lambda: not panel.running)
        assert run.cancelled and app.session.kind == "variable"
        assert str(panel.query_one("#train-progress").render()).startswith(
            "training stopped: its weights could not be read (")


class ScriptedRun(ReplayRun):
    """A replay that then says "done" without figures, as a misbehaving child could."""

    def __init__(self, checkpoints):
        super().__init__([], hold=0)
        for cp in checkpoints:
            self._messages.put(Checked(cp))
        self._messages.put(Finished(None))


@pytest.mark.parametrize("checks", [0, 2])
async def test_a_done_without_figures_keeps_the_last_check(checks):
    checkpoints = recorded_checkpoints(config("fixed", hidden=16, delay=2, max_steps=20,
                                              eval_every=10))[:checks]
    app = create_app(weights=VARIABLE, start_run=lambda cfg: ScriptedRun(checkpoints))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        before = app.session.model
        panel = await open_panel(pilot)
        panel.start()
        await until(lambda: not panel.running)
        await settle(pilot)
        said = str(panel.query_one("#train-progress").render())
        if checks:
            assert panel.checkpoint is checkpoints[-1] and said.startswith("stopped at its limit")
            await until(lambda: app.session.model is panel.model)
        else:
            assert said == "training ended before its first check: the current model stays"
            assert app.session.model is before


async def test_the_panel_trains_the_cell_chosen_and_the_model_takes_over():
    """An LSTM from the panel: the run is asked for one, its checks are LSTMs, and it takes
    over the session (which streams it as it does a GRU)."""
    start = real_run(max_steps=20, eval_every=10, heldout_chars=500, target=1.0)
    app = create_app(weights=VARIABLE, start_run=start)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        panel = await open_panel(pilot)
        panel.query_one("#train-cell", Select).value = "lstm"
        await pilot.pause()
        seconds, how = MEASURED["fixed"]
        assert str(panel.query_one("#train-progress").render()).startswith(
            "Enter starts · these settings were never timed: the fixed recipe's own took "
            f"{minutes_or_seconds(seconds)} ({how}), a rough guide")
        panel.start()
        assert str(panel.query_one("#train-progress").render()).startswith(
            "starting: fixed, lstm cell, letters, delay 2, hidden 16")
        await until(lambda: not panel.running, timeout=90)
        await settle(pilot)
        assert panel.cfg.cell == "lstm" and panel.model.cell == "lstm"
        await until(lambda: app.session.model is panel.model)
        assert app.session.stream == "abc" and app.session.model.cell == "lstm"
