"""The teaching flow end to end: type on the text model, train a model in the app, cycle every
model with f3, open a weights file, undo; what was typed survives every step. Then each worker's
failure path (load, save, relay, feed) on the notice line, Enter and Tab on the tapes, marks
that cannot be misread, and the layout with the training panel open at the smallest sizes."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest
import torch
from helpers import keys, ready, screen_text, settle, tape_lines, until
from textual import events
from textual.geometry import Region
from textual.widgets import Input, Select
from training_runs import ReplayRun, recorded_checkpoints

from echo_tui import create_app
from echo_tui.core.describe import JOBS
from echo_tui.core.feeding import PASTE_SLICE
from echo_tui.core.models import ModelChoice
from echo_tui.app.widgets import KeysFooter, PathPrompt, TrainPanel
from trainer import load_model, shipped_weights
from trainer.recipes import config

VARIABLE = shipped_weights("variable_delay")
TEXT = "Hello, World! It's 3 o'clock."
LETTERS = "helloworlditsoclock"  # what a letters model reads of it
# the run the panel's form asks for below: fixed, letters, delay 2, hidden 16 (cut short)
FORM = {"kind": "fixed", "alphabet": "letters", "delay": 2, "hidden": 16}


@lru_cache(maxsize=1)
def checkpoints():
    cps = recorded_checkpoints(config("fixed", hidden=16, delay=2, max_steps=40, eval_every=10))
    assert cps[-1].final and not any(cp.final for cp in cps[:-1])
    return cps


def replay(hold: int | None = None):
    """A start_run handing out the recorded checkpoints; it keeps the configs it was asked for."""
    cps = checkpoints()

    def start(cfg):
        start.cfgs.append(cfg)
        start.run = ReplayRun(cps, hold=len(cps) if hold is None else hold)
        return start.run

    start.cfgs = []
    return start


def notice(app) -> str:
    return app.main.notice.text


def error_toasts(app) -> list:
    return [n for n in app._notifications if n.severity == "error"]


async def open_panel(pilot):
    """ctrl+t, then the form filled in as FORM (as a user picks and types it)."""
    app = pilot.app
    await keys(pilot, "ctrl+t")
    panel = app.main.query_one(TrainPanel)
    assert panel.display and app.main.focused is panel.query_one("#train-start")
    panel.query_one("#train-kind", Select).value = FORM["kind"]
    panel.query_one("#train-alphabet", Select).value = FORM["alphabet"]
    await pilot.pause()  # the recipe fills delay and hidden in: ours go over them
    panel.query_one("#train-delay", Input).value = str(FORM["delay"])
    panel.query_one("#train-hidden", Input).value = str(FORM["hidden"])
    await pilot.pause()
    assert app.main.focused is panel.query_one("#train-start")
    return panel


# -- 1. the teaching sequence ------------------------------------------------------------------

async def test_the_teaching_sequence_keeps_what_was_typed_through_every_model(untrained_weights):
    start = replay()
    app = create_app(start_run=start)

    def check(typed: str, model=None, step: str = "") -> None:
        s = app.session
        assert s.typed == typed, step
        assert app.sub_title == app.current.title(), step
        if model is not None:
            assert s.model is model, step
        text = notice(app)
        assert "failed" not in text and not text.startswith("loading"), (step, text)
        assert not error_toasts(app), (step, [n.message for n in error_toasts(app)])
        assert not app.busy, step

    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        assert app.current.kind == "shipped" and app.current.name == "text_delay"
        check("", step="start")
        await keys(pilot, *TEXT)
        check(TEXT, step="typed")
        assert app.session.stream == TEXT  # the text model reads all of it

        # train in the app, to the end of the run: the trained model takes over
        panel = await open_panel(pilot)
        await keys(pilot, "enter")
        assert [(c.kind, c.alphabet, c.delay, c.hidden) for c in start.cfgs] == [
            tuple(FORM.values())]
        await until(lambda: not panel.running and app.session.model is panel.model)
        await settle(pilot)
        assert panel.checkpoint is checkpoints()[-1] and panel.checkpoint.final
        assert "now in use" in str(panel.query_one("#train-progress").render())
        trained = app.current
        assert trained.kind == "trained" and trained.model is panel.model
        check(TEXT, panel.model, "trained")
        assert app.session.stream == LETTERS
        assert notice(app) == ("now the model trained here (at delay 2: it has delay 2; your 8 "
                               "comes back with a model that has it): re-fed 19 steps; skipped 10 "
                               "characters outside its alphabet (a–z)")
        assert app.sub_title == trained.name == panel.label()

        # f3 through every model and back to the trained one
        cycle = list(app.models.choices)
        assert [c.name or c.path for c in cycle] == [
            "text_delay", "variable_delay", "fixed_delay", trained.name]
        k = cycle.index(trained)
        for n in range(1, len(cycle) + 1):
            await keys(pilot, "f3")
            await settle(pilot)
            want = cycle[(k + n) % len(cycle)]
            assert app.current is want, n
            check(TEXT, step=f"f3 #{n}: {want.describe()}")
            s = app.session
            assert s.stream == (TEXT if s.alphabet.name == "text" else LETTERS)
            assert notice(app).startswith(f"now {want.describe()}")  # (at delay …: when it
            assert ": re-fed " in notice(app)  # has not the delay chosen, 8)
        assert app.current is trained and app.session.model is panel.model

        # open a weights file with the prompt
        app.action_open_weights()
        await until(lambda: isinstance(app.screen, PathPrompt))
        await pilot.pause()
        app.screen.query_one(Input).value = str(untrained_weights)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.main
        assert app.current.kind == "file" and app.current.path == untrained_weights
        assert app.session.model.hidden_size == 48
        check(TEXT, step="opened")
        assert app.sub_title == untrained_weights.name
        assert notice(app).startswith(f"now {untrained_weights.name}: re-fed 19 steps")
        assert app.models.choices[-1] is app.current  # it joins the f3 cycle

        # backspaces: each takes a step, and the skipped keys typed after it, back
        for typed in ("Hello, World! It's 3 o'cloc", "Hello, World! It's 3 o'clo",
                      "Hello, World! It's 3 o'cl"):
            await keys(pilot, "backspace")
            check(typed, step=f"backspace to {typed!r}")
        assert app.session.stream == "helloworlditsocl"
    assert app.return_code in (None, 0)


# -- 2. each worker's failure path -------------------------------------------------------------

def load_fails(app, boom: Exception) -> None:
    """A model switch (strict=False) raises `boom` inside the load worker."""
    plain = app.load_session

    def boom_on_switch(choice, delay, strict=True):
        if not strict:
            raise boom
        return plain(choice, delay, strict)

    app.load_session = boom_on_switch


async def switch_that_fails(pilot, job: str, error: str) -> None:
    """f3 after typing; the load fails: one sentence naming the job, and the model in use, what
    was typed and the header all stay as they were; the next key still goes to it."""
    app = pilot.app
    await keys(pilot, *"Hi, Bob!")
    before, choice = app.session, app.current
    await keys(pilot, "f3")
    await settle(pilot)
    assert notice(app) == f"{JOBS[job]} failed: {error}"
    assert app.is_running and not app.busy
    assert app.session is before and app.current is choice
    assert app.session.typed == "Hi, Bob!" and app.sub_title == choice.title()
    await keys(pilot, "x")
    assert app.session is before and app.session.typed == app.session.stream == "Hi, Bob!x"
    assert "failed" not in notice(app)  # the notice went with the next key


async def test_a_load_worker_that_fails_is_named_and_the_model_in_use_stays():
    app = create_app()
    load_fails(app, RuntimeError("boom"))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await switch_that_fails(pilot, "load", "RuntimeError: boom")


async def test_a_load_that_fails_on_the_apps_thread_keeps_the_model_in_use(monkeypatch):
    # the old TypeError of the teaching flow: the header's title of the new model raised
    plain = ModelChoice.title

    def title(choice):
        if choice.kind == "shipped" and choice.name == "variable_delay":
            raise TypeError("boom")
        return plain(choice)

    monkeypatch.setattr(ModelChoice, "title", title)
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await switch_that_fails(pilot, "load", "TypeError: boom")


async def train_then_save(pilot, out):
    """Train the FORM's model to its end (it takes over), then ctrl+s it to `out`."""
    app = pilot.app
    panel = await open_panel(pilot)
    await keys(pilot, "enter")
    await until(lambda: not panel.running and app.session.model is panel.model)
    await settle(pilot)
    await keys(pilot, "ctrl+s")
    await until(lambda: isinstance(app.screen, PathPrompt))
    await pilot.pause()
    app.screen.query_one(Input).value = str(out)
    await pilot.press("enter")
    return panel


async def test_a_save_worker_that_fails_is_named(monkeypatch, tmp_path):
    import trainer

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(trainer, "save_model", boom)
    app = create_app(weights=VARIABLE, start_run=replay())
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        out = tmp_path / "mine.safetensors"
        panel = await train_then_save(pilot, out)
        await until(lambda: "failed" in notice(app))
        assert notice(app) == f"{JOBS['save']} failed: RuntimeError: boom"
        assert not out.exists() and app.is_running and app.screen is app.main
        await keys(pilot, "d")
        assert app.session.stream == "abcd" and app.session.model is panel.model


async def test_a_save_that_fails_writing_keeps_the_model_beside_it(monkeypatch, tmp_path):
    import errno

    import trainer.weights

    def disk_full(target, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(trainer.weights, "replace_atomically", disk_full)
    app = create_app(weights=VARIABLE, start_run=replay())
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        out = tmp_path / "mine.safetensors"
        panel = await train_then_save(pilot, out)
        await until(lambda: "could not write" in notice(app))
        (kept,) = tmp_path.glob("mine.unsaved-*.safetensors")
        assert notice(app) == (f"could not write {out} (no space left on the device); the model "
                               f"stays here (^s tries again) and was saved to {kept} instead")
        saved = load_model(kept)
        assert all(torch.equal(a, b) for a, b in zip(saved.state_dict().values(),
                                                     panel.model.state_dict().values()))
        assert not out.exists() and app.session.model is panel.model


class FailingRun(ReplayRun):
    """A run that cannot be followed: its first message raises."""

    def __init__(self):
        super().__init__([], hold=0)

    def get(self, timeout: float):
        raise RuntimeError("boom")


async def test_a_relay_worker_that_fails_is_named_and_training_stops():
    runs = []
    app = create_app(weights=VARIABLE, start_run=lambda cfg: runs.append(FailingRun()) or runs[-1])
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        model = app.session.model
        panel = await open_panel(pilot)
        await keys(pilot, "enter")
        await until(lambda: not panel.running)
        await settle(pilot)
        sentence = f"{JOBS['relay']} failed: RuntimeError: boom"
        assert notice(app) == sentence
        assert str(panel.query_one("#train-progress").render()) == f"training stopped: {sentence}"
        assert runs[0].cancelled and app.is_running
        await keys(pilot, "d")
        assert app.session.stream == "abcd" and app.session.model is model


async def test_a_feed_pump_that_fails_is_named_and_the_keys_go_on():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        plain = app.session.feed

        def boom_on_a_paste(text):
            if len(text) > 1:
                raise RuntimeError("boom")
            return plain(text)

        app.session.feed = boom_on_a_paste
        app.post_message(events.Paste("x" * (2 * PASTE_SLICE + 1)))
        await settle(pilot)
        assert notice(app) == (f"{JOBS['feed']} failed: RuntimeError: boom; "
                               "the keys still waiting were dropped")
        assert app.is_running and not app.busy
        assert app.session.stream == "abc"  # nothing of the paste went in
        await keys(pilot, "d")
        assert app.session.stream == app.session.typed == "abcd"
        assert tape_lines(app)[0] == "abcd"


# -- 3. Enter and Tab on the tapes -------------------------------------------------------------

async def test_enter_and_tab_are_kept_marked_and_named():
    app = create_app(weights=VARIABLE, delay=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)

        def post(*events_):
            for event in events_:
                app.post_message(event)

        def enter():  # a fresh event each time: a handled one is marked stopped
            return events.Key("enter", "\r")

        def tab():
            return events.Key("tab", "\t")

        post(events.Key("a", "a"), enter())
        await settle(pilot)
        assert notice(app) == "Enter (↵) skipped: not in the model's alphabet (a–z)"
        post(tab())
        await settle(pilot)
        assert notice(app) == "Tab (⇥) skipped: not in the model's alphabet (a–z)"
        assert app.main.focused is None  # Tab typed, not moving the focus
        post(events.Key("b", "b"), enter(), events.Key("c", "c"), tab(), events.Key("d", "d"))
        await settle(pilot)
        s = app.session
        assert s.typed == "a\n\tb\nc\td" and s.stream == "abcd" and s.steps == 4
        marks, typed, echo = tape_lines(app, marks=True)[:3]
        assert typed == "abcd"
        assert marks == " ②↵⇥"
        assert notice(app) == ""


# -- 4. marks are unambiguous ------------------------------------------------------------------

async def test_a_skipped_digit_and_a_count_of_skipped_keys_look_different():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        marks = []
        for text in ("a5b", "a  ,,,b"):
            await keys(pilot, "ctrl+r", *text)
            assert app.session.stream == "ab" and app.session.typed == text
            rows = tape_lines(app, marks=True)
            assert rows[1] == "ab"
            marks.append(rows[0])
        assert marks == [" 5", " ⑤"]


# -- 5. layout with the training panel open ----------------------------------------------------

def check_layout(app, words: bool) -> None:
    width, height = app.size
    screen = Region(0, 0, width, height)
    main = app.main
    for widget in main.query("*"):
        if widget.display and all(a.display for a in widget.ancestors_with_self
                                  if a is not app and a is not main):
            region = widget.region
            assert screen.contains_region(region), (widget, region, (width, height))
    text = screen_text(app)
    lines = text.splitlines()
    assert len(lines) == height
    panel = main.query_one(TrainPanel)
    assert panel.region.bottom <= height and panel.region.height > 2
    assert "Enter start · Esc cancel" in lines[panel.region.bottom - 1]
    notice_line = main.query_one("#notice")
    status_line = main.query_one("#status")
    footer = main.query_one(KeysFooter)
    rows = [notice_line.region.y, status_line.region.y, footer.region.y]
    assert rows == [height - 3, height - 2, height - 1]
    assert panel.region.bottom <= notice_line.region.y
    assert status_line.text and status_line.text in lines[height - 2]
    assert notice_line.text in lines[height - 3]
    shown = [k for k in footer.query("*") if type(k).__name__ == "FooterKey" and k.display]
    assert shown
    for key in shown:
        assert footer.region.contains_region(key.region), (key, key.region, footer.region)
    assert "f1 help" in lines[-1] and "^q quit" in lines[-1]
    if words:
        s = status_line.text
        assert "delay " in s and re.search(r"\bsteps?\b", s), s
        assert "d4" not in s and not re.search(r"\bst\b", s), s


@pytest.mark.parametrize("size", [(60, 18), (80, 24)])
async def test_the_training_panel_fits_before_and_during_a_run(size):
    start = replay(hold=2)
    app = create_app(weights=VARIABLE, start_run=start)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await keys(pilot, *"abcabc")
        panel = await open_panel(pilot)
        await settle(pilot)
        check_layout(app, words=size == (80, 24))
        await keys(pilot, "enter")
        await until(lambda: panel.checkpoint is checkpoints()[1])
        await settle(pilot)
        assert panel.running
        check_layout(app, words=size == (80, 24))
        await keys(pilot, *"de")
        check_layout(app, words=size == (80, 24))
