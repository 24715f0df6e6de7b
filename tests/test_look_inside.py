"""Looking inside an answer in the app: the inspect view (f5) and its pick, the gates (f6),
pinned units, and the export to .npz (and `echo-train trace`), each against the model's own
batch arithmetic."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import keys, ready, until

from echo_tui import create_app
from echo_tui.core.looking import gates_over, look
from echo_tui.core.session import EchoSession
from trainer import Alphabet, save_model, shipped_weights
from trainer.cli import main as train_main
from trainer.inside import gates
from trainer.model import build
from trainer.trace import trace

VARIABLE = shipped_weights("variable_delay")


def notice(app) -> str:
    return app.main.notice.text


async def looked(app):
    await until(lambda: app.main.inspect.looked is not None)
    return app.main.inspect.looked


async def test_the_inspect_view_looks_into_the_picked_answer(fixed_model):
    app = create_app(weights=shipped_weights("fixed_delay"))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abcdefghij", "f5")
        first = await looked(app)
        assert (first.step, first.delay, first.answer, first.truth) == (9, 4, "f", "f")
        assert first.strongest == 4 and first.verdicts == {4: True}
        assert first.top[0][0] == "f" and first.top[0][1] == pytest.approx(first.probability)
        text = str(app.main.inspect.render())
        assert "moved it most: 'f', 4 keys back" in text and "true 'f'" in text
        await keys(pilot, "shift+left", "shift+left")
        picked = app.main.inspect.looked
        assert (picked.step, picked.answer, picked.strongest) == (7, "d", 4)
        assert notice(app) == ""
        await keys(pilot, "shift+right", "shift+right", "shift+right")
        assert app.main.inspect.looked.step == 9 and notice(app) == "that is the newest answer"
        await keys(pilot, *"kl")  # the pick follows typing: it is the newest again
        await until(lambda: app.main.inspect.looked.step == 11)


async def test_a_click_on_a_key_of_the_view_picks_it():
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abcdefgh", "f5")
        await looked(app)
        inspect = app.main.inspect
        # the box's border and padding, the gutter, then 'd' (step 3) on the keys' line
        await pilot.click(inspect, offset=(2 + len(" keys ") + 3, 1))
        assert inspect.looked.step == 3 and inspect.looked.answer == "b"


async def test_the_gates_drawn_are_a_fresh_forward_pass_gates(variable_model):
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"gatesshowwhatiskept", "f6")
        memory = app.main.memory
        assert memory.showing == "update" and notice(app).startswith("the update gate: ")
        drawn = memory.visible_states(app.session)[0]
        ids = torch.tensor(variable_model.alphabet.encode("gatesshowwhatiskept"))
        with torch.no_grad():
            out, _ = variable_model.memory(ids[None])
        before = torch.cat([torch.zeros(1, 128), out[0, :-1]])
        fresh = gates(variable_model, ids, before)["update"].numpy()
        assert np.abs(drawn - (2 * fresh - 1)).max() < 2e-5
        # undo and retype: the columns kept from before are checked, not trusted
        await keys(pilot, *["backspace"] * 6, *"sometimes")
        stream = app.session.stream
        assert stream == "gatesshowwhatsometimes"
        drawn = memory.visible_states(app.session)[0]
        ids = torch.tensor(variable_model.alphabet.encode(stream))
        with torch.no_grad():
            out, _ = variable_model.memory(ids[None])
        before = torch.cat([torch.zeros(1, 128), out[0, :-1]])
        fresh = gates(variable_model, ids, before)["update"].numpy()
        assert np.abs(drawn - (2 * fresh - 1)).max() < 2e-5
        await keys(pilot, "f6")
        assert memory.showing == "reset" and "reset gate" in memory.border_title
        await keys(pilot, "f6")
        assert memory.showing == "state" and memory.border_title.startswith("memory")


def test_gates_from_the_sessions_stored_states_equal_a_fresh_forward(tmp_path):
    torch.manual_seed(3)
    model = build("variable", 24, 4, Alphabet.named("letters"), cell="lstm").eval()
    session = EchoSession(model, 2)
    text = "longshorttermmemory" * 30
    session.feed(text[:200])
    for ch in text[200:]:
        session.feed(ch)
    session.backspace()
    stream = session.stream
    ids = torch.tensor(model.alphabet.encode(stream))
    n = model.hidden_size
    with torch.no_grad():  # a fresh forward, one step at a time, keeping h and c
        state, before = model.initial_state(), []
        for i in ids:
            before.append(torch.cat([state[0][0, 0], state[1][0, 0]]))
            _, state = model.recurrent(model.embed(i.view(1, 1)), state)
    fresh = gates(model, ids, torch.stack(before))
    stored = gates_over(session, 100, len(ids))
    for name in ("forget", "input"):
        assert np.abs(stored[name] - fresh[name][100:].numpy()).max() < 1e-5
    assert session.model.hidden_size == n


async def test_a_plain_rnn_has_no_gates_and_units_can_be_pinned(tmp_path):
    torch.manual_seed(1)
    path = tmp_path / "rnn.safetensors"
    save_model(build("variable", 40, 4, Alphabet.named("letters"), cell="rnn"), path, seed=1)
    app = create_app(weights=path, delay=2)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"plain", "f6")
        assert app.main.memory.showing == "state"
        assert notice(app) == "a plain RNN has no gates: its whole state is rewritten at every step"
        app.main.ask_pinned_units()
        await pilot.pause()
        await keys(pilot, *"39 2 x", "enter")
        assert notice(app) == "pin units by number, 0 to 39, separated by spaces: not '39 2 x'"
        app.main.ask_pinned_units()
        await pilot.pause()
        await keys(pilot, *"39, 2 7", "enter")
        assert notice(app) == "the memory view shows units 2, 7, 39 first"
        shown = app.main.memory.units_shown(app.session)
        assert {2, 7, 39} <= set(shown.tolist())
        await keys(pilot, *"more")  # kept while typing
        assert {2, 7, 39} <= set(app.main.memory.units_shown(app.session).tolist())


async def test_the_export_round_trips_the_sessions_states_and_answers(tmp_path, variable_model):
    app = create_app(weights=VARIABLE, delay=3)
    out = tmp_path / "stream.npz"
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Export me, please", "f5")
        await looked(app)
        await keys(pilot, "shift+left")
        app.main.ask_export()
        await pilot.pause()
        field = app.screen.query_one("Input")
        field.value = str(out)
        await keys(pilot, "enter")
        await until(lambda: notice(app).startswith("exported"))
        assert notice(app) == f"exported 14 steps to {out}"
        session = app.session
        with np.load(out, allow_pickle=False) as z:
            assert str(z["text"]) == session.stream == "exportmeplease"
            assert np.abs(z["hidden"] - session.history(0, session.steps)).max() < 1e-5
            answers = z["answers"]
            assert int(z["pick"]) == 12 and int(z["pick_delay"]) == 3
            picked = look(session, 12)
            assert np.allclose(z["lookback"][-len(picked.weights):], picked.weights, atol=1e-5)
            assert set(z.files) >= {"gate_update", "gate_reset", "confidence", "symbols"}
        ids = torch.tensor([variable_model.alphabet.encode("exportmeplease")])
        with torch.no_grad():
            forward = variable_model.all_heads(variable_model.memory(ids)[0])[0].argmax(-1)
        assert np.array_equal(answers, forward.numpy())


def test_echo_train_trace_writes_the_same_numbers(tmp_path, capsys, fixed_model):
    out = tmp_path / "t.npz"
    assert train_main(["trace", "--weights", str(shipped_weights("fixed_delay")), "--text",
                       "Hello, trace!", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: 10 steps, ")
    with np.load(out, allow_pickle=False) as z:
        want = trace(fixed_model, "Hello, trace!")
        assert set(z.files) == set(want)
        for name in want:
            assert np.array_equal(z[name], want[name]), name
        assert int(np.argmax(z["lookback"])) == len(z["lookback"]) - 1 - 4


@pytest.mark.parametrize("argv, message", [
    (["--text", "!!!"], "the text has no symbol of the model's alphabet"),
    (["--text", "abc", "--delay", "9"], "delay 9 is not one of the model's (4–4)"),
    (["--text", "abc", "--pick", "3"], "pick 3 is not a step of the text (0–2)"),
])
def test_trace_refuses_what_it_cannot_do_in_one_line(argv, message, tmp_path, capsys):
    weights = str(shipped_weights("fixed_delay"))
    assert train_main(["trace", "--weights", weights, "--out", str(tmp_path / "t.npz"),
                       *argv]) == 2
    assert capsys.readouterr().err == f"echo-train: error: {message}\n"
    assert not (tmp_path / "t.npz").exists()


def test_trace_refuses_a_directory_as_out(tmp_path, capsys):
    assert train_main(["trace", "--weights", str(shipped_weights("fixed_delay")), "--text",
                       "abc", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"echo-train: error: --out {tmp_path}: is a directory; "
                                       "refusing to replace it with a NumPy file\n")


async def test_an_answer_with_no_key_that_far_back_is_said_to_be_the_blank():
    app = create_app(weights=shipped_weights("fixed_delay"))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc", "f5")
        early = await looked(app)
        assert (early.step, early.answer, early.truth) == (2, " ", " ")
        text = str(app.main.inspect.render())
        assert "nothing was typed 4 keys before this one: the blank is the right answer" in text
        assert "moved it most" not in text and "▲" not in text


async def test_a_failed_look_or_export_is_said_and_typing_goes_on(tmp_path, monkeypatch):
    import echo_tui.core.looking
    import trainer.trace

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(echo_tui.core.looking, "look", boom)
    monkeypatch.setattr(trainer.trace, "trace", boom)
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc", "f5")
        await until(lambda: app.main.inspect.problem != "")
        assert str(app.main.inspect.render()) == "looking inside failed: RuntimeError: boom"
        app.main.ask_export()
        await pilot.pause()
        app.screen.query_one("Input").value = str(tmp_path / "t.npz")
        await keys(pilot, "enter")
        await until(lambda: notice(app) != "")
        assert notice(app) == "exporting the stream failed: RuntimeError: boom"
        await keys(pilot, *"de")
        assert app.session.stream == "abcde"
