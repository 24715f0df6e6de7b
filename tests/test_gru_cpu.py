"""The fused GRU pass training takes on the CPU (trainer.gru_cpu) computes what torch.nn.GRU
computes: the same outputs, last state and gradients of every weight, to float32 rounding."""

from __future__ import annotations

import pytest
import torch

from trainer import gru_cpu
from trainer.alphabet import Alphabet
from trainer.config import TrainConfig
from trainer.model import build
from trainer.train import train


def _pass(model, memory, ids, h0, every: int):
    """Outputs, last state and every gradient of a loss that reads the heads at every
    `every`-th position and the last state, as training's does."""
    model.zero_grad()
    h = None if h0 is None else h0.clone().requires_grad_(True)
    out, last = memory(ids, h)
    loss = model.all_heads(out[:, ::every]).log_softmax(-1).square().mean() + last.sin().sum()
    loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    if h is not None:
        grads["h0"] = h.grad.clone()
    return out.detach(), last.detach(), grads


@pytest.mark.parametrize("hidden, rows, steps, every, start", [
    (192, 8, 12, 1, True),  # the text recipe's width
    (64, 16, 16, 1, False),  # the fixed recipe's, from a zero state
    (5, 3, 7, 2, True),  # odd sizes, half the positions scored
    (33, 1, 1, 1, True),  # one row, one step
])
def test_the_fused_pass_gives_nn_grus_outputs_and_gradients(hidden, rows, steps, every, start):
    torch.manual_seed(hidden)
    model = build("variable", hidden, 4, Alphabet.named("text"))
    with torch.no_grad():  # weights larger than the default's, so every gate is used in earnest
        for p in model.parameters():
            p.mul_(3.0)
    ids = torch.randint(0, len(model.alphabet) + 1, (rows, steps))
    h0 = torch.randn(1, rows, hidden) if start else None
    assert gru_cpu.fits(model, ids)
    want = _pass(model, model.memory, ids, h0, every)
    got = _pass(model, model.fast_memory, ids, h0, every)
    torch.testing.assert_close(got[0], want[0], rtol=1e-5, atol=2e-6)
    torch.testing.assert_close(got[1], want[1], rtol=1e-5, atol=2e-6)
    assert got[2].keys() == want[2].keys()
    for name in want[2]:
        scale = want[2][name].abs().max().item()
        assert scale > 0, name  # every weight takes part, so a gradient that vanished shows
        torch.testing.assert_close(got[2][name], want[2][name], rtol=1e-4, atol=1e-5 * scale,
                                   msg=lambda m, name=name: f"{name}: {m}")


def test_a_state_carried_between_chunks_gives_the_whole_streams_outputs():
    torch.manual_seed(1)
    model = build("fixed", 24, 4, Alphabet.named("letters"))
    ids = torch.randint(1, len(model.alphabet) + 1, (4, 30))
    with torch.no_grad():
        whole, last = model.fast_memory(ids)
        first, h = model.fast_memory(ids[:, :11])
        second, h = model.fast_memory(ids[:, 11:], h)
        reference, _ = model.memory(ids)
    torch.testing.assert_close(torch.cat((first, second), 1), whole, rtol=0, atol=0)
    torch.testing.assert_close(h, last, rtol=0, atol=0)
    torch.testing.assert_close(whole, reference, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_other_cells_and_other_dtypes_take_their_own_pass(cell):
    torch.manual_seed(2)
    ids = torch.randint(1, 27, (2, 6))
    other = build("variable", 8, 2, Alphabet.named("letters"), cell=cell)
    assert not gru_cpu.fits(other, ids)
    double = build("variable", 8, 2, Alphabet.named("letters")).double()
    assert not gru_cpu.fits(double, ids)
    for model in (other, double):
        with torch.no_grad():
            a, b = model.fast_memory(ids)[0], model.memory(ids)[0]
        assert torch.equal(a, b)


def test_training_through_the_fused_pass_follows_training_through_nn_gru(monkeypatch):
    """Ten steps of the fixed recipe by each pass: the same weights to float32 rounding (a
    gradient that went astray anywhere would part them by far more)."""
    cfg = TrainConfig(max_steps=10, eval_every=10, heldout_chars=200)
    fused, _ = train(cfg)
    monkeypatch.setattr(type(fused), "fast_memory", type(fused).memory)
    plain, _ = train(cfg)
    for (name, a), b in zip(fused.state_dict().items(), plain.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize("bad", [-1, 27])
def test_an_id_outside_the_alphabet_is_refused_before_the_compiled_loop_reads_it(bad):
    model = build("fixed", 8, 4, Alphabet.named("letters"))  # ids 0..26: the blank and a-z
    ids = torch.tensor([[1, 2, bad, 3]])
    with pytest.raises(IndexError) as err:
        model.fast_memory(ids)
    assert str(err.value) == f"symbol ids must be 0..26; these run {min(bad, 1)}..{max(bad, 3)}"
