"""Every cell (GRU, LSTM, plain tanh RNN) streams through a session as a GRU does: fed key by key
and pasted, a 10,000-step random stream gives `forward`'s answer on every head and the model's
own state (within 1e-5; an LSTM's cell state c too), through undo (which restores the state
vector, an LSTM's c included, bit for bit) and reset. The PyTorch reference engine agrees."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echo_tui import EchoSession
from echo_tui.core.engine import LeanEngine, TorchEngine
from trainer import GRUMemory, VariableDelayGRUMemory, idx_to_onehot

CELLS = ("gru", "lstm", "rnn")
KINDS = ("fixed", "variable")
STEPS = 10_000


def _model(kind: str, cell: str):
    torch.manual_seed({"gru": 11, "lstm": 12, "rnn": 13}[cell])
    if kind == "fixed":
        return GRUMemory(24, delay=3, cell=cell).eval()
    return VariableDelayGRUMemory(24, max_delay=6, cell=cell).eval()


def _stream(model, n: int, seed: int) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, len(model.alphabet) + 1, (n,), generator=g).numpy()


@torch.no_grad()
def _expected(model, ids: np.ndarray):
    """forward's answers for every head (steps, heads), each step's h, and the final state
    vector (h, or an LSTM's h then c)."""
    x = torch.from_numpy(ids.astype(np.int64))[None]
    out, final = model.memory(x)
    onehot = idx_to_onehot(x)
    if model.kind == "fixed":
        answers = model(onehot)[0][0].argmax(-1)[:, None]
    else:
        answers = torch.stack([model(onehot, d)[0].argmax(-1) for d in model.head_delays], -1)
    parts = final if isinstance(final, tuple) else (final,)
    return answers.numpy(), out[0].numpy(), torch.cat([p.view(-1) for p in parts]).numpy()


def _text(model, ids: np.ndarray) -> str:
    return "".join(model.alphabet.symbols[i - 1] for i in ids.tolist())


def _answers(session) -> np.ndarray:
    return session._rows.out[:session._rows.n].astype(np.int64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cell", CELLS)
def test_keys_and_paste_equal_forward_through_undo_and_reset(kind, cell):
    model = _model(kind, cell)
    ids = _stream(model, STEPS, seed=1)
    text = _text(model, ids)
    answers, hs, final = _expected(model, ids)
    hidden = model.hidden_size
    keyed = EchoSession(model, undo_steps=600)
    assert keyed.engine.state_size == hidden * (2 if cell == "lstm" else 1)
    assert keyed.state_label.startswith("h (")
    for ch in text:
        keyed.feed(ch)
    pasted = EchoSession(model, undo_steps=600)
    pasted.feed(text)
    for s in (keyed, pasted):
        assert s.steps == STEPS and np.array_equal(_answers(s), answers)
        assert np.abs(s._rows.h - final).max() < 1e-5
        assert np.abs(s.hidden.numpy() - hs[-1]).max() < 1e-5
        assert np.abs(s.history(STEPS - 500, STEPS) - hs[-500:]).max() < 1e-5
    # undo: 50 back restores the state (c too) bit for bit; re-typed, the same again
    state_before = keyed._rows.h.copy()
    back_then = keyed._rows.undo[(STEPS - 50) % 600].copy()  # the state before step STEPS-50
    for _ in range(50):
        assert keyed.backspace()
    assert np.array_equal(keyed._rows.h, back_then)
    for ch in text[-50:]:
        keyed.feed(ch)
    assert np.array_equal(keyed._rows.h, state_before)
    assert np.array_equal(_answers(keyed), answers)
    for _ in range(50):
        pasted.backspace()
    pasted.feed(text[-50:])
    assert np.array_equal(_answers(pasted), answers) and np.abs(pasted._rows.h - final).max() < 1e-5
    # reset: back to zeros, and the stream again gives the same
    for s in (keyed, pasted):
        s.reset()
        assert s.steps == 0 and not s._rows.h.any()
    pasted.feed(text[:3_000])
    for ch in text[:300]:
        keyed.feed(ch)
    assert np.array_equal(_answers(pasted), answers[:3_000])
    assert np.array_equal(_answers(keyed), answers[:300])
    assert np.abs(pasted.hidden.numpy() - hs[2_999]).max() < 1e-5


@pytest.mark.parametrize("cell", CELLS)
def test_the_lean_engine_equals_the_reference_key_by_key_and_pasted(cell):
    """The reference (the model's own PyTorch calls, state flattened as the lean one's) over
    2,000 steps: it steps an LSTM in Python, so fewer steps than the session test."""
    model = _model("variable", cell)
    ids = _stream(model, 2_000, seed=2)
    lean, ref = LeanEngine(model), TorchEngine(model)
    assert lean.state_size == ref.state_size
    h = lean.initial_state()
    got, want = lean.run(ids, h), ref.run(ids, h)
    assert np.array_equal(got[0], want[0]) and np.abs(got[2] - want[2]).max() < 1e-5
    assert np.abs(got[1].astype(int) - want[1].astype(int)).max() <= 1
    heads = len(model.head_delays)
    for t, i in enumerate(ids[:300].tolist()):
        out, out_ref = np.empty_like(h), np.empty_like(h)
        pred, pred_ref = np.empty(heads, np.int64), np.empty(heads, np.int64)
        conf, conf_ref = np.empty(heads, np.uint8), np.empty(heads, np.uint8)
        lean.step_into(i, h, out, pred, conf)
        ref.step_into(i, h, out_ref, pred_ref, conf_ref)
        assert np.array_equal(pred, pred_ref) and np.abs(out - out_ref).max() < 1e-5
        assert np.array_equal(pred, got[0][t])
        h = out


@pytest.mark.parametrize("cell", CELLS)
def test_the_pipelined_paste_and_ahead_equal_one_run(cell):
    model = _model("variable", cell)
    lean = LeanEngine(model)
    ids = _stream(model, 1_000, seed=3)
    h = lean.initial_state()
    whole = lean.run(ids, h)
    lean.ahead(ids[:300], h)
    got = [np.concatenate(p) for p in zip(*lean.runs(ids, h, 128))]
    assert np.array_equal(got[0], whole[0]) and np.array_equal(got[2], whole[2])
    assert got[2].shape == (1_000, lean.state_size)
