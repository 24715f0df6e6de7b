"""Inside an answer: which past key it came from, what the gates keep, what else it considered.

Everything here is computed on demand from what a stream keeps (its symbols and the state
before each step), never on the keystroke path:

- `lookback`: replay a window of steps from the state at its start, with autograd, and take
  the gradient of one answer's log-probability with respect to each step's input (its one-hot
  symbol): its norm says how much that key moved the answer (the "connectivity" of Madsen's
  "Visualizing memorization in RNNs", Distill 2019).
- `gates`: a GRU's update and reset gates (an LSTM's forget and input gates) at each step,
  from the step's input and the state before it: no recurrence to re-run.
- `top_answers`: a head's most probable answers at one step.

A state is a flat vector as the app keeps it: h, or an LSTM's h then c.
"""

from __future__ import annotations

import math

import torch

# each cell's gates, the one that says what is kept first, and the block of the layer's weights
# each is (PyTorch stacks a GRU's as reset, update, new; an LSTM's as input, forget, cell, out)
GATE_NAMES = {"gru": ("update", "reset"), "lstm": ("forget", "input"), "rnn": ()}
_BLOCK = {"reset": 0, "update": 1, "input": 0, "forget": 1}
GATE_SAID = {"update": "how much of each unit is kept from the step before (1: all)",
             "reset": "how much of the old state the new candidate reads",
             "forget": "how much of each unit's cell state is kept (1: all)",
             "input": "how much of the new candidate is written in"}


def as_state(model, flat: torch.Tensor):
    """A flat state (S,) or (B, S) as the recurrent layer takes it: (1, B, H), or an LSTM's
    pair of them."""
    flat = torch.as_tensor(flat, dtype=model.embed.weight.dtype)
    flat = flat.reshape(-1, flat.shape[-1])[None]
    n = model.hidden_size
    if model.cell == "lstm":
        return flat[..., :n].contiguous(), flat[..., n:2 * n].contiguous()
    return flat[..., :n].contiguous()


@torch.no_grad()
def gates(model, ids: torch.Tensor, before: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each gate at each step: {name: (T, H)} for symbol ids (T,) and the flat state before
    each of those steps (T, S). A GRU's update gate is its z (PyTorch's h' = (1 - z) n + z h,
    so 1 keeps the unit); a plain RNN has no gates ({})."""
    names = GATE_NAMES[model.cell]
    if not names:
        return {}
    blocks = preactivations(model, ids, before).split(model.hidden_size, dim=-1)
    return {name: torch.sigmoid(blocks[_BLOCK[name]]) for name in names}


def preactivations(model, ids: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
    """W_ih x + b_ih + W_hh h + b_hh at each step (T, gates x H): symbol ids (T,), the flat
    state before each step (T, S), its h read. Blocks in PyTorch's order: a GRU's reset,
    update, new (whose hidden half the reset gate scales); an LSTM's input, forget, cell,
    output."""
    layer = model.recurrent
    x = model.embed(ids)
    h = torch.as_tensor(before, dtype=x.dtype)[:, :model.hidden_size]
    return (x @ layer.weight_ih_l0.T + layer.bias_ih_l0
            + h @ layer.weight_hh_l0.T + layer.bias_hh_l0)


def lookback(model, ids: torch.Tensor, start: torch.Tensor, delay: int,
             answer: int | None = None) -> tuple[torch.Tensor, int, float]:
    """How much each step of a window moved the last step's answer at `delay`.

    `ids` (T,) are the window's symbols, `start` the flat state before its first step. Returns
    (weights (T,), the answer, its probability): the norm of the gradient of the answer's
    log-probability with respect to each step's input, divided by the largest (all 0 when
    nothing moved it). `answer` defaults to the head's own (its argmax).

    The input is the step's one-hot symbol, as the seed's model reads it, so the gradient is
    the embedding row's projected onto every symbol's row: how much each possible key there
    would move the answer. The embedding row's own gradient norm measures how sensitive the
    state is to that row in any direction, most of which no key can take: on the shipped
    letters model it named the wrong key for 17 of 72 answers of delays 0-8 (8 random
    windows), the one-hot's for none (tests/test_inside.py holds this).
    """
    grad, answer, logp = answer_gradient(model, ids, start, delay, answer)
    norms = (grad @ model.embed.weight.detach().T).norm(dim=-1)
    top = norms.max()
    return (norms / top if top > 0 else norms), answer, math.exp(logp)


def answer_gradient(model, ids: torch.Tensor, start: torch.Tensor, delay: int,
                    answer: int | None = None) -> tuple[torch.Tensor, int, float]:
    """(d log p(answer) / d input of each step (T, H), the answer, log p(answer)) for the
    last step of the window: see `lookback`."""
    head = model.head_delays.index(delay)
    x = model.embed(ids).detach()[None].requires_grad_(True)
    with torch.enable_grad():
        out, _ = model.recurrent(x, as_state(model, start))
        logp = torch.log_softmax(model.all_heads(out[0, -1])[head], dim=-1)
        answer = int(logp.argmax()) if answer is None else answer
        # grad of the input alone: the model's parameters gather no .grad (the app's model is
        # shared, and a backward() would leave gradients on it)
        (grad,) = torch.autograd.grad(logp[answer], x)
    return grad[0], answer, float(logp[answer].detach())


@torch.no_grad()
def top_answers(model, state: torch.Tensor, delay: int, k: int = 3) -> list[tuple[int, float]]:
    """The `k` most probable answers of the head at `delay` after a step whose output is
    `state` (flat; its h is read): [(symbol id, probability)], most probable first."""
    h = torch.as_tensor(state, dtype=model.embed.weight.dtype)[:model.hidden_size]
    probs = torch.softmax(model.all_heads(h)[model.head_delays.index(delay)], dim=-1)
    p, i = probs.topk(min(k, probs.numel()))
    return [(int(a), float(b)) for a, b in zip(i, p)]
