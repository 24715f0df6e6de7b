"""Each shipped lesson walked to its end by scripted keys through the pilot: every step's
check passes only after the action it names, never before; the lesson and its progress stay
through a model switch, a reset and a training run."""

from __future__ import annotations

import pytest
from helpers import keys, ready, settle, until
from training_runs import ReplayRun, recorded_checkpoints

from echo_tui import create_app
from echo_tui.lessons import find_lesson
from trainer.recipes import config

# the panel's variable text run (the lesson recipe's curriculum: delays 0-4, then 2 more), tiny
RUN = config("variable", alphabet="text", hidden=64, delay=8, batch=32, max_steps=400, lr=1e-2,
             eval_every=20, heldout_chars=500, confirm_chars=500, heldout_stream_steps=200,
             curriculum=4, curriculum_step=2, curriculum_at=0.3)  # delays 0-6 at its 11th check


class StepRun(ReplayRun):
    """A replay whose checkpoints come `n` at a time (`more(n)`)."""

    def more(self, n: int) -> None:
        for message in self._rest[:n]:
            self._messages.put(message)
        self._rest = self._rest[n:]


async def at(pilot, step: int) -> None:
    """The lesson shows step `step` (1-based) once the panel has looked at the screen now."""
    screen = pilot.app.main
    await settle(pilot)
    screen.lesson_panel.look()
    assert screen.lesson_run.index + 1 == step, screen.lesson_run.step


async def palette(pilot, typed: str, entry: str) -> None:
    """Choose `entry` in the palette (ctrl+p) by typing `typed`."""
    await keys(pilot, "ctrl+p")
    await until(lambda: type(pilot.app.screen).__name__ == "CommandPalette", 10)
    await pilot.press(*typed)
    found = pilot.app.screen.query_one("CommandList")  # the palette searches as it is typed
    await until(lambda: found.option_count and entry in str(found.get_option_at_index(0).prompt),
                10)
    await pilot.press("enter")
    await until(lambda: pilot.app.screen is pilot.app.main, 10)
    await until(lambda: not pilot.app.busy, 30)


async def test_memory_and_delay_walked_to_its_end():
    app = create_app(lesson=find_lesson("memory-and-delay"))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await at(pilot, 1)
        await keys(pilot, *"hello world")  # 11 keys: not yet
        await at(pilot, 1)
        await keys(pilot, "!")
        await at(pilot, 2)
        await keys(pilot, "ctrl+r")
        await at(pilot, 2)
        await keys(pilot, *"hello")
        await at(pilot, 3)
        await keys(pilot, *["left"] * 4)  # delay 4
        await at(pilot, 3)
        await keys(pilot, "left")
        await at(pilot, 4)
        await keys(pilot, "f4")
        await at(pilot, 5)
        await keys(pilot, "f4", "backspace", "backspace")
        await at(pilot, 5)
        await keys(pilot, "backspace")
        await at(pilot, 6)
        await keys(pilot, *["right"] * 9)  # delay 12, but no keys yet
        await at(pilot, 6)
        await keys(pilot, *"twelve keys!")
        await at(pilot, 7)
        run = app.main.lesson_run
        assert run.over and run.tally() == (6, 0)
        assert "lesson done: 6 of 6 steps done, 0 skipped" in "".join(
            line for line, _ in app.main.lesson_panel.lines(76))
        await keys(pilot, "f7")  # back to the last step, from now on
        assert run.index == 5 and not run.over


async def test_where_memory_breaks_walked_to_its_end():
    app = create_app(lesson=find_lesson("where-memory-breaks"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        await at(pilot, 1)
        await keys(pilot, "f3")
        await ready(pilot)
        await at(pilot, 2)
        assert app.session.alphabet.name == "letters" and app.session.typed == "abc"
        await palette(pilot, "rnn", "Compare with the shipped RNN")
        await at(pilot, 3)
        await keys(pilot, *["left"] * 3)
        await at(pilot, 3)
        await keys(pilot, "left")
        await at(pilot, 4)
        await keys(pilot, *"thequickbrownfoxjum")
        await at(pilot, 4)
        await keys(pilot, "s")
        await at(pilot, 5)
        await palette(pilot, "lstm", "Compare with the shipped LSTM")
        await at(pilot, 5)
        await keys(pilot, *"overt")
        await at(pilot, 6)
        await keys(pilot, "f6")
        await at(pilot, 7)
        await palette(pilot, "shgru", "Compare with the shipped GRU")
        await at(pilot, 8)
        assert app.main.lesson_run.over and app.main.lesson_run.tally() == (7, 0)


@pytest.fixture(scope="module")
def checkpoints():
    return recorded_checkpoints(RUN)


async def test_watch_it_learn_walked_to_its_end_through_a_training_run(checkpoints):
    assert len(checkpoints) >= 5
    curriculum = next(k for k, cp in enumerate(checkpoints) if cp.trained_delay >= 6)
    assert 3 <= curriculum < len(checkpoints) - 1, [cp.trained_delay for cp in checkpoints]
    replay = StepRun(checkpoints, hold=0)
    app = create_app(lesson=find_lesson("watch-it-learn"), start_run=lambda cfg: replay)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abacabadabacaba")
        await at(pilot, 1)
        await keys(pilot, "ctrl+t")
        await at(pilot, 2)
        panel = app.main.train
        panel.query_one("#train-kind").value = RUN.kind
        panel.query_one("#train-alphabet").value = RUN.alphabet
        await pilot.pause()
        panel.query_one("#train-delay").value = str(RUN.delay)
        panel.query_one("#train-hidden").value = str(RUN.hidden)
        await at(pilot, 2)
        panel.start()
        await at(pilot, 3)
        replay.more(2)
        await until(lambda: len(app.main.training.losses) == 2, 30)
        await at(pilot, 3)
        replay.more(1)
        await until(lambda: len(app.main.training.losses) == 3, 30)
        await at(pilot, 4)
        replay.more(curriculum - 3)
        await until(lambda: len(app.main.training.losses) == curriculum, 30)
        await at(pilot, 4)
        replay.more(1)
        await until(lambda: len(app.main.training.losses) == curriculum + 1, 30)
        await at(pilot, 5)
        await keys(pilot, "ctrl+r", *"abacab")  # a reset keeps the lesson where it is
        await at(pilot, 5)
        await keys(pilot, "f5")
        await until(lambda: app.main.inspect.looked is not None, 30)
        await at(pilot, 6)
        replay.more(len(checkpoints))
        await until(lambda: app.current.kind == "trained" and not app.busy, 60)
        await at(pilot, 7)
        assert app.main.lesson_run.over and app.main.lesson_run.tally() == (6, 0)
        assert app.session.typed == "abacab"  # what was typed survived it all


async def test_a_delay_key_that_moves_nothing_is_not_a_delay_change(tmp_path):
    # at the longest delay → changes nothing: a check on delay changes must wait for a real one
    path = tmp_path / "edge.md"
    path.write_text("# The edge\n\nIntro.\n\n## Go to the end\n\nMove right.\n\n"
                    "check: delay = 16\n\n## Then move\n\nMove.\n\n"
                    "check: count delay-changes >= 1\n")
    app = create_app(lesson=find_lesson(str(path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *["right"] * 8)
        await at(pilot, 2)
        assert app.main.session.delay == 16
        await keys(pilot, "right", "right")  # nothing moves: still step 2
        await at(pilot, 2)
        assert app.main.session.delay == 16
        await keys(pilot, "left")
        await at(pilot, 3)  # the lesson's end: one past its last step
