"""Recurrent cells: GRU (the default, as it always was), LSTM and a plain tanh RNN, through the
model's streaming step, training, the weights file and `echo-train --cell`."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from trainer import GRUMemory, N, VariableDelayGRUMemory, cli, idx_to_onehot, load_model, save_model
from trainer import train as train_mod
from trainer.cli_train import describe_weights
from trainer.config import ConfigError, TrainConfig, validate
from trainer.model import build

CELLS = ("gru", "lstm", "rnn")
KINDS = ("fixed", "variable")
TINY = TrainConfig(hidden=16, delay=3, batch=8, chunk=8, max_steps=6, eval_every=3,
                   heldout_chars=200, confirm_chars=200, heldout_stream_steps=100, seed=5)


def _model(kind: str, cell: str, seed: int = 0):
    torch.manual_seed(seed)
    if kind == "fixed":
        return GRUMemory(16, delay=3, cell=cell).eval()
    return VariableDelayGRUMemory(16, max_delay=5, cell=cell).eval()


def _states(h):
    """A state as a tuple of tensors: (h,) or an LSTM's (h, c)."""
    return h if isinstance(h, tuple) else (h,)


@pytest.mark.parametrize("cell", CELLS)
def test_the_recurrent_layer_is_named_for_its_cell(cell):
    model = _model("fixed", cell)
    assert model.cell == cell and model.recurrent is getattr(model, cell)
    rows = {"gru": 3, "lstm": 4, "rnn": 1}[cell] * 16
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes[f"{cell}.weight_hh_l0"] == (rows, 16) and shapes[f"{cell}.bias_ih_l0"] == (rows,)
    assert not any(k.startswith(tuple(c + "." for c in CELLS if c != cell)) for k in shapes)
    state = model.initial_state(3)
    assert [tuple(t.shape) for t in _states(state)] == [(1, 3, 16)] * (2 if cell == "lstm" else 1)
    assert model.test_run("abcdefg") and len(model.test_run("abcdefg")) == 7


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_streaming_step_equals_forward_over_2000_steps(kind, cell):
    model = _model(kind, cell, seed=1)
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(1, N + 1, (2, 2000), generator=g)
    h, logits, hidden = model.initial_state(2), [], []
    for t in range(ids.shape[1]):
        out, h = model.step(ids[:, t], h)
        logits.append(out)
        hidden.append(_states(h)[0][0])
    stream = torch.stack(logits, 1)  # (B, T, heads, N+1)
    with torch.no_grad():
        out, final = model.memory(ids, model.initial_state(2))
        if kind == "fixed":
            batch, forward_final = model(idx_to_onehot(ids))
            assert torch.equal(stream[:, :, 0].argmax(-1), batch.argmax(-1))
            for a, b in zip(_states(forward_final), _states(final)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
        else:
            for d in model.head_delays:
                batch = model(idx_to_onehot(ids), torch.full((2,), d))
                assert torch.equal(stream[:, :, d].argmax(-1), batch.argmax(-1)), d
    torch.testing.assert_close(torch.stack(hidden, 1), out, rtol=1e-5, atol=1e-5)
    for a, b in zip(_states(h), _states(final)):  # an LSTM's cell state too
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_a_short_seeded_training_run_works_for_each_cell(kind, cell):
    cfg = replace(TINY, kind=kind, cell=cell)
    model, progress = train_mod.train(validate(cfg))
    assert model.cell == cell and model.kind == kind and progress.step == 6
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert 0 <= progress.heldout <= 1


@pytest.mark.parametrize("cell", CELLS)
def test_orthogonal_init_makes_each_gate_square_orthogonal(cell, monkeypatch):
    monkeypatch.setattr(train_mod, "StreamChunks", lambda *a, **k: iter(()))  # no steps
    model, _ = train_mod.train(replace(TINY, cell=cell))
    gates = model.recurrent.weight_hh_l0.detach().chunk(model.gates)
    assert len(gates) == {"gru": 3, "lstm": 4, "rnn": 1}[cell]
    for gate in gates:
        torch.testing.assert_close(gate @ gate.T, torch.eye(16), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_save_load_keeps_cell_and_weights(tmp_path, kind, cell):
    model = _model(kind, cell, seed=3)
    path = save_model(model, tmp_path / "m.safetensors")
    loaded = load_model(path)
    assert loaded.cell == cell and loaded.metadata["cell"] == cell
    assert loaded.state_dict().keys() == model.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(),
                                                 model.state_dict().values()))
    s = "thequickbrownfox"
    run = (lambda m: m.test_run(s)) if kind == "fixed" else (lambda m: m.test_run(s, 4))
    assert run(loaded) == run(model)


def test_the_cell_is_validated():
    with pytest.raises(ConfigError, match="^cell xyz must be gru, lstm or rnn$"):
        validate(replace(TINY, cell="xyz"))
    with pytest.raises(ValueError, match="unknown cell 'xyz'"):
        build("fixed", 8, 2, GRUMemory(8).alphabet, cell="xyz")


def test_describe_names_the_cell_only_when_not_gru():
    meta = {"kind": "fixed", "alphabet": "abcdefghijklmnopqrstuvwxyz", "delay": "4",
            "hidden_size": "64", "heldout_accuracy": "1"}
    assert describe_weights(meta).startswith("fixed, letters a–z, delay 4")
    assert describe_weights({**meta, "cell": "gru"}) == describe_weights(meta)
    assert describe_weights({**meta, "cell": "lstm"}).startswith("fixed, lstm cell, letters")


def test_echo_train_cell_lstm_writes_an_lstm_file(tmp_path, capsys):
    out = tmp_path / "lstm.safetensors"
    code = cli.main(["fixed", "--cell", "lstm", "--hidden", "16", "--delay", "2", "--max-steps",
                     "6", "--batch", "8", "--chunk", "8", "--device", "cpu", "--out", str(out)])
    assert code == 0
    model = load_model(out)
    assert model.cell == "lstm" and model.metadata["cell"] == "lstm"
    assert '"cell": "lstm"' in model.metadata["config"]
    said = capsys.readouterr().out
    assert "training a fixed model (lstm cell, hidden 16, delay 2" in said
    assert said.splitlines()[-1] == f"try it: echo-tui --weights {out}"
    assert cli.main(["eval", str(out), "--chars", "200", "--stream-steps", "50",
                     "--streams", "1"]) == 0
    assert f"{out}: fixed, lstm cell, hidden 16, alphabet letters" in capsys.readouterr().out


def test_a_gru_trains_exactly_as_before(monkeypatch):
    """cell="gru" is the GRU as it always was: the same tensor names, and a seeded run gives the
    same weights as one whose model is built the old way, with no cell given."""
    cfg = replace(TINY, kind="variable")
    new, _ = train_mod.train(replace(cfg, cell="gru"))

    def old_build(kind, hidden, delay, alphabet, **_):
        if kind == "fixed":
            return GRUMemory(hidden, len(alphabet), delay=delay, alphabet=alphabet)
        return VariableDelayGRUMemory(hidden, delay, len(alphabet), alphabet=alphabet)

    monkeypatch.setattr(train_mod, "build", old_build)
    old, _ = train_mod.train(cfg)
    assert list(new.state_dict()) == ["embed.weight", "gru.weight_ih_l0", "gru.weight_hh_l0",
                                      "gru.bias_ih_l0", "gru.bias_hh_l0", "heads.weight",
                                      "heads.bias"]
    assert all(torch.equal(a, b) for a, b in zip(new.state_dict().values(),
                                                 old.state_dict().values()))
    torch.manual_seed(7)
    a = GRUMemory(16, delay=3)
    torch.manual_seed(7)
    b = GRUMemory(16, delay=3, cell="gru")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


# -- the app streams every cell -----------------------------------------------------------------

@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_echo_tui_accepts_an_lstm_or_rnn_file(tmp_path, cell):
    from echo_tui.cli import check

    path = tmp_path / f"{cell}.safetensors"
    torch.manual_seed(0)
    save_model(VariableDelayGRUMemory(8, 2, cell=cell), path)
    assert check(str(path), None) is None
    assert check(str(path), 2) is None


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
async def test_an_lstm_or_rnn_file_opens_in_the_app_and_echoes(tmp_path, cell):
    from helpers import batch_echo, keys, ready, settle

    from echo_tui import create_app
    from echo_tui.app.widgets.memory import LSTM_TITLE, TITLE

    path = tmp_path / f"{cell}.safetensors"
    torch.manual_seed(0)
    save_model(VariableDelayGRUMemory(8, 2, cell=cell), path)
    app = create_app(weights=path, delay=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert app.session.model.cell == cell
        await keys(pilot, *"hello")
        assert app.session.stream == "hello"
        assert app.session.echo == batch_echo(app.session.model, "hello", 1)
        assert app.session.hidden.shape == (8,)
        memory = app.main.memory
        assert memory.border_title == (LSTM_TITLE if cell == "lstm" else TITLE)
        await keys(pilot, "f3")  # to the shipped text model (a GRU): the title follows
        await settle(pilot)
        assert app.session.model.cell == "gru" and memory.border_title == TITLE
