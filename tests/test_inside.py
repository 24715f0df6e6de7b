"""Inside an answer (trainer.inside): look-back points where the model looked, its gradient
agrees with finite differences, the gates are the ones the layer computes, and the top answers
are the head's."""

from __future__ import annotations

import pytest
import torch

from trainer import Alphabet
from trainer.inside import answer_gradient, as_state, gates, lookback, top_answers
from trainer.model import build


def _window(model, text: str):
    return torch.tensor(model.alphabet.encode(text)), torch.zeros(
        model.hidden_size * (2 if model.cell == "lstm" else 1))


def shift_register(delay: int = 3):
    """A plain RNN built by hand whose answer at delay d depends on the key d steps back and on
    nothing else: slot 0 of the state holds the newest key (one-hot), each step shifts every
    slot one on, and head d reads slot d."""
    letters = Alphabet.named("letters")
    k = len(letters) + 1
    model = build("variable", (delay + 1) * k, delay, letters, cell="rnn").eval()
    rnn = model.rnn
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.embed.weight.copy_(torch.eye(k, (delay + 1) * k) * 3.0)
        rnn.weight_ih_l0.copy_(torch.eye((delay + 1) * k))
        for j in range(1, delay + 1):  # slot j <- slot j - 1
            rows, cols = slice(j * k, (j + 1) * k), slice((j - 1) * k, j * k)
            rnn.weight_hh_l0[rows, cols] = torch.eye(k) * 3.0
        heads = model.heads.weight.view(delay + 1, k, (delay + 1) * k)
        for d in range(delay + 1):
            heads[d, :, d * k:(d + 1) * k] = torch.eye(k) * 10.0
    return model


def test_look_back_points_at_the_one_key_an_answer_depends_on():
    model = shift_register(3)
    ids, start = _window(model, "lookbackwindow")
    for d in range(4):
        weights, answer, p = lookback(model, ids, start, d)
        assert int(weights.argmax()) == len(ids) - 1 - d
        assert model.alphabet.decode([answer]) == "lookbackwindow"[-1 - d] and p > 0.99
        others = torch.cat([weights[:len(ids) - 1 - d], weights[len(ids) - d:]])
        assert float(weights.max()) == 1.0 and float(others.abs().max()) == 0.0


def test_the_fixed_model_looks_its_delay_back(fixed_model):
    import random

    for seed in range(8):
        rng = random.Random(seed)
        ids, start = _window(fixed_model, "".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                                                  for _ in range(60)))
        weights, answer, p = lookback(fixed_model, ids, start, 4)
        assert int(weights.argmax()) == len(ids) - 1 - 4, seed
        assert answer == int(ids[-5]) and p > 0.99


def test_every_head_of_the_variable_model_looks_its_own_delay_back(variable_model):
    import random

    for seed in range(8):  # the windows the docstring of trainer.inside.lookback counts
        rng = random.Random(seed)
        text = "".join(rng.choice(variable_model.alphabet.symbols) for _ in range(60))
        ids, start = _window(variable_model, text)
        for d in variable_model.head_delays:
            weights = lookback(variable_model, ids, start, d)[0]
            assert int(weights.argmax()) == len(ids) - 1 - d, (seed, d)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_the_gradient_agrees_with_finite_differences(cell):
    torch.manual_seed(0)
    model = build("variable", 12, 4, Alphabet.named("letters"), cell=cell).double().eval()
    ids, start = _window(model, "hello")
    start = torch.randn(start.shape, dtype=torch.float64) * 0.3
    grad, answer, _ = answer_gradient(model, ids, start, 2)
    x = model.embed(ids).detach()
    u = torch.randn_like(x)

    def logp(inputs):
        with torch.no_grad():
            out, _ = model.recurrent(inputs[None], as_state(model, start))
            return float(torch.log_softmax(model.all_heads(out[0, -1])[2], -1)[answer])

    eps = 1e-5
    numeric = (logp(x + eps * u) - logp(x - eps * u)) / (2 * eps)
    assert float((grad * u).sum()) == pytest.approx(numeric, rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_the_gates_are_the_ones_the_layer_computes(cell):
    torch.manual_seed(0)
    model = build("variable", 16, 3, Alphabet.named("letters"), cell=cell).eval()
    ids = torch.tensor(model.alphabet.encode("gatesofmemory"))
    layer, n = model.recurrent, model.hidden_size
    with torch.no_grad():
        out, _ = model.memory(ids[None])
        h = torch.cat([torch.zeros(1, n), out[0, :-1]])  # the h before each step
        x = model.embed(ids)
        g = gates(model, ids, h if cell == "gru" else torch.cat([h, torch.zeros_like(h)], 1))
        pre_i = x @ layer.weight_ih_l0.T + layer.bias_ih_l0
        pre_h = h @ layer.weight_hh_l0.T + layer.bias_hh_l0
        if cell == "gru":  # h' = (1 - z) n + z h, n = tanh(W_in x + r (W_hn h))
            r, z = g["reset"], g["update"]
            new = torch.tanh(pre_i[:, 2 * n:] + r * pre_h[:, 2 * n:])
            assert torch.allclose((1 - z) * new + z * h, out[0], atol=1e-5)
        else:  # one step at a time: c is carried, so check the first step's exactly
            i, f = g["input"], g["forget"]
            pre = pre_i + pre_h
            c = i[0] * torch.tanh(pre[0, 2 * n:3 * n])  # c before the first step is 0
            assert torch.allclose(torch.sigmoid(pre[0, 3 * n:]) * torch.tanh(c), out[0, 0],
                                  atol=1e-5)
            assert torch.allclose(f, torch.sigmoid(pre[:, n:2 * n]), atol=1e-6)
    rnn = build("variable", 8, 2, Alphabet.named("letters"), cell="rnn")
    assert gates(rnn, ids, torch.zeros(len(ids), 8)) == {}


def test_top_answers_are_the_heads_most_probable(variable_model):
    ids, start = _window(variable_model, "echo")
    with torch.no_grad():
        out, _ = variable_model.memory(ids[None])
    top = top_answers(variable_model, out[0, -1], 2)
    assert [variable_model.alphabet.decode([a]) for a, _ in top][0] == "c"
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and 0.99 < sum(probs) <= 1.0 + 1e-6
    lookback(variable_model, ids, start, 2)  # leaves no gradient on the (shared) model
    assert all(p.grad is None for p in variable_model.parameters())
