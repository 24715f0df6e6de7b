"""A stream's numbers, out to a notebook: `echo-train trace` and the app's "Export…" write them
to one .npz (NumPy) file.

Names in the file (T steps, H hidden units, D heads; symbols outside the alphabet are skipped):

- `text`: the characters fed, as typed (those outside the alphabet left out); `symbols`:
  their ids (T,), 1..n (0 is the blank)
- `alphabet`: the model's symbols, one string (id i is alphabet[i - 1]); `cell`: gru, lstm or rnn
- `head_delays` (D,): the delay each head answers for
- `hidden` (T, H): the hidden state h after each step; for an LSTM also `cell_state` (T, H), c
- `gate_<name>` (T, H): each gate at each step (a GRU's `gate_update` and `gate_reset`; an
  LSTM's `gate_forget` and `gate_input`; a plain RNN has none)
- `answers` (T, D): each head's answer (an id, 0 the blank) and `confidence` (T, D) its
  probability
- `pick`, `pick_delay`: the step looked into and the delay; `lookback` (W,): how much each of
  the `W` steps from `lookback_start` to `pick` moved that answer (1 the most)

The states come from one batched pass of the model, which the app's streaming equals.
"""

from __future__ import annotations

import io

import numpy as np
import torch

from .inside import gates, lookback, preactivations

WINDOW = 128  # steps the look-back of the picked answer replays, at most


@torch.no_grad()
def _states(model, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(h after each step (T, H), an LSTM's c after each step or None)."""
    out, _ = model.memory(ids[None])
    h = out[0]
    if model.cell != "lstm":
        return h, None
    n = model.hidden_size
    pre = preactivations(model, ids, torch.cat([torch.zeros(1, n), h[:-1]]))
    i, f = torch.sigmoid(pre[:, :n]), torch.sigmoid(pre[:, n:2 * n])
    g = torch.tanh(pre[:, 2 * n:3 * n])
    c = torch.empty_like(h)
    prev = torch.zeros(n)
    for t in range(len(ids)):  # c is a running sum: one step after another
        prev = f[t] * prev + i[t] * g[t]
        c[t] = prev
    return h, c


def trace(model, text: str, delay: int | None = None, pick: int | None = None) -> dict:
    """The arrays of the module's docstring for `text` fed to `model` from a zero state;
    `pick` (default: the last step) is looked into at `delay` (default: the middle delay)."""
    alphabet = model.alphabet
    kept = "".join(ch for ch in text if alphabet.id_of(ch) is not None)
    if not kept:
        raise ValueError("the text has no symbol of the model's alphabet")
    ids = torch.tensor(alphabet.encode(kept))
    delays = model.head_delays
    delay = delays[len(delays) // 2] if delay is None else delay
    if delay not in delays:
        raise ValueError(f"delay {delay} is not one of the model's ({delays[0]}–{delays[-1]})")
    pick = len(ids) - 1 if pick is None else pick
    if not 0 <= pick < len(ids):
        raise ValueError(f"pick {pick} is not a step of the text (0–{len(ids) - 1})")
    h, c = _states(model, ids)
    state = h if c is None else torch.cat([h, c], dim=1)
    size = state.shape[1]
    before = torch.cat([torch.zeros(1, size), state[:-1]])
    with torch.no_grad():
        probs = torch.softmax(model.all_heads(h), dim=-1)  # (T, D, K)
    conf, answers = probs.max(dim=-1)
    start = max(0, pick + 1 - WINDOW)
    weights, _, _ = lookback(model, ids[start:pick + 1], before[start], delay)
    arrays = {
        "text": np.array(kept), "symbols": ids.numpy(), "alphabet": np.array(alphabet.symbols),
        "cell": np.array(model.cell), "head_delays": np.array(delays),
        "hidden": h.numpy(), "answers": answers.numpy(), "confidence": conf.numpy(),
        "pick": np.array(pick), "pick_delay": np.array(delay),
        "lookback_start": np.array(start), "lookback": weights.numpy(),
    }
    if c is not None:
        arrays["cell_state"] = c.numpy()
    for name, values in gates(model, ids, before).items():
        arrays[f"gate_{name}"] = values.numpy()
    return arrays


def npz_bytes(arrays: dict) -> bytes:
    """The arrays as an .npz file's bytes (written atomically by the caller); no pickles."""
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()
