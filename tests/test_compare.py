"""Compare mode: a second model fed the same keys as the one in use, its echo drawn under the
first one's. Typing, paste, undo, reset and the delay move both; leaving keeps the text; a model
that cannot be compared is refused in one sentence."""

from __future__ import annotations

import pytest
import torch
from textual import events
from helpers import batch_echo, keys, ready, screen_text, settle, until

from echo_tui import create_app
from echo_tui.cli import main as tui_main
from echo_tui.core.models import ModelChoice
from echo_tui.app.widgets.status import compared_text
from trainer import Alphabet, load_model, save_model, shipped_weights
from trainer.model import build

VARIABLE = shipped_weights("variable_delay")


@pytest.fixture
def weak_rnn(tmp_path):
    """A seeded, untrained plain RNN on letters, delays 0-8: its mistakes show."""
    torch.manual_seed(1)
    path = tmp_path / "weak_rnn.safetensors"
    save_model(build("variable", 16, 8, Alphabet.named("letters"), cell="rnn"), path, seed=1)
    return path


def notice(app) -> str:
    return app.main.notice.text


async def comparing(pilot) -> None:
    await until(lambda: pilot.app.main.compared is not None or not pilot.app.compare_loading)
    await settle(pilot)


def assert_in_step(app, weak) -> None:
    """The compared session has been fed exactly what the one in use was, and its echo is
    the compared model's batch output of that stream."""
    main, compared = app.session, app.main.compared
    assert compared.stream == main.stream and compared.steps == main.steps
    assert compared.typed == main.typed
    if compared.delay == main.delay:
        assert compared.echo == batch_echo(weak, compared.stream, compared.delay)


async def test_typing_paste_undo_reset_and_delay_move_both_models(weak_rnn):
    weak = load_model(weak_rnn)
    app = create_app(weights=VARIABLE, delay=2, compare=str(weak_rnn))
    async with app.run_test(size=(100, 34)) as pilot:
        await comparing(pilot)
        assert app.main.compared.model.cell == "rnn" and app.main.compared.delay == 2
        await keys(pilot, *"hello, world")
        assert app.session.stream == "helloworld"
        assert_in_step(app, weak)
        app.post_message(events.Paste("abc" * 3000 + "!x"))
        await settle(pilot)
        assert app.session.steps == 10 + 9001
        assert_in_step(app, weak)
        await keys(pilot, "backspace", "backspace", "backspace")
        assert app.session.stream.endswith("bcabca")
        assert_in_step(app, weak)
        # the compared model's memory after an undo is exactly a fresh feed's
        fresh = app.main.compared.__class__(weak, 2)
        fresh.feed(app.session.stream)
        assert torch.equal(app.main.compared.hidden, fresh.hidden)
        await keys(pilot, "right", "right")
        assert app.session.delay == app.main.compared.delay == 4
        assert_in_step(app, weak)
        await keys(pilot, "ctrl+r")
        assert app.main.compared.steps == app.session.steps == 0
        assert notice(app) == "reset: the stream and both models' memory are empty"


async def test_the_tapes_draw_the_compared_echo_under_the_first(weak_rnn):
    weak = load_model(weak_rnn)
    app = create_app(weights=VARIABLE, delay=3, compare=str(weak_rnn), memory=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await comparing(pilot)
        await keys(pilot, *"abcdefgh")
        text = screen_text(app).splitlines()
        gru = next(line for line in text if line.startswith("│   gru "))
        rnn = next(line for line in text if line.startswith("│   rnn "))
        assert gru[len("│   gru "):].rstrip(" │") == "···abcde"
        want = batch_echo(weak, "abcdefgh", 3).replace(" ", "·")
        assert rnn[len("│   rnn "):].rstrip(" │") == want
        status = str(app.main.query_one("#compare-status").render())
        assert status.startswith("compared: weak_rnn.safetensors · rnn · hidden 16 · acc ")


async def test_leaving_compare_mode_keeps_the_text(weak_rnn):
    app = create_app(weights=VARIABLE, delay=2, compare=str(weak_rnn))
    async with app.run_test(size=(80, 24)) as pilot:
        await comparing(pilot)
        await keys(pilot, *"Keep me")
        typed = app.session.typed
        app.action_stop_comparing()
        await settle(pilot)
        assert app.main.compared is None and app.main.feeder.compared is None
        assert app.session.typed == typed == "Keep me"
        assert not app.main.query_one("#compare-status").display
        assert notice(app) == "stopped comparing with weak_rnn.safetensors; what you typed stays"
        await keys(pilot, *"ab")
        assert app.session.stream == "keepmeab"


async def test_a_model_compared_later_catches_up_on_what_was_typed(weak_rnn):
    weak = load_model(weak_rnn)
    app = create_app(weights=VARIABLE, delay=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"before it came")
        app.compare_with(ModelChoice.file(weak_rnn))
        await comparing(pilot)
        assert_in_step(app, weak)
        assert notice(app) == "comparing with weak_rnn.safetensors: re-fed 12 steps; skipped 2 " \
                              "characters outside its alphabet (a–z)"


async def test_a_model_of_another_alphabet_is_refused_and_a_switch_ends_compare_mode(
        weak_rnn, tmp_path):
    app = create_app(delay=2)  # the text model
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.compare_with(ModelChoice.file(weak_rnn))
        await comparing(pilot)
        assert app.main.compared is None
        assert notice(app) == ("cannot compare: weak_rnn.safetensors reads a–z, the model in "
                               "use ASCII; the echoes would not line up")
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"not weights")
        app.compare_with(ModelChoice.file(bad))
        await comparing(pilot)
        assert notice(app).startswith(f"cannot compare: {bad}: is not a safetensors file")
        assert app.main.compared is None
    app = create_app(weights=VARIABLE, delay=2, compare=str(weak_rnn))
    async with app.run_test(size=(80, 24)) as pilot:
        await comparing(pilot)
        await keys(pilot, *"Hi")
        await keys(pilot, "f3")  # the fixed-delay letters model: the compared one stays
        await settle(pilot)
        assert app.session.kind == "fixed" and app.main.compared is not None
        assert_in_step(app, load_model(weak_rnn))
        await keys(pilot, "f3")  # the text model: another alphabet
        await settle(pilot)
        assert app.main.compared is None and app.session.alphabet.name == "text"
        assert app.session.stream == "Hi"
        assert notice(app) == ("now the shipped text model (no longer compared with "
                               "weak_rnn.safetensors: it reads a–z): re-fed 2 steps")


async def test_a_delay_the_compared_model_lacks_is_said_not_drawn(fixed_model):
    app = create_app(weights=VARIABLE, delay=4, compare=str(shipped_weights("fixed_delay")))
    async with app.run_test(size=(80, 24)) as pilot:
        await comparing(pilot)
        await keys(pilot, *"abcdef", "right")
        assert app.session.delay == 5 and app.main.compared.delay == 4
        assert "  vs  (no delay 5: it has delay 4)" in screen_text(app)
        compared = app.main.compared
        assert compared_text(compared, "fixed_delay.safetensors", 5, 84) == (
            "compared: fixed_delay.safetensors · gru · hidden 64 · no delay 5: it has delay 4")
        assert compared_text(compared, "fixed_delay.safetensors", 5, 80) == (
            "compared: fixed_delay.safetensors · gru · no delay 5: it has delay 4")


def test_the_command_refuses_a_model_of_another_alphabet(weak_rnn, capsys):
    assert tui_main(["--compare", str(weak_rnn)]) == 2
    assert capsys.readouterr().err == (
        f"--compare {weak_rnn}: it reads a–z, the model in use ASCII; compare needs "
        "the same alphabet\n")
