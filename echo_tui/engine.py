"""How a session runs its model: one step per keystroke, or a run of steps for a paste.

An engine answers in numpy: for each step, every head's answer (argmax), its probability as
one byte (255 = certain), and the hidden state.

`LeanEngine` is what sessions use. The GRU's input comes from an embedding, so the input half of
every gate, W_ih · embed(id) + b_ih, is one row of a table computed once per model; a step is
then one H x 3H matrix-vector product, the gate arithmetic, and the heads' product. For one
stream, PyTorch spends most of a step dispatching its operators, not computing; so the step is
one compiled loop (numba), which writes straight into the session's rows. A paste runs the
recurrence in that loop and the heads as one matrix product (numpy's BLAS) over all its states.

`TorchEngine` is the reference: the model's own PyTorch calls. The tests hold the two equal.
"""

from __future__ import annotations

import numpy as np
import torch

from .kernels import answers, recur, step


def engine_for(model):
    """The engine a session runs `model` with."""
    return LeanEngine(model)


def confidence_bytes(probs: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] as bytes: round(p * 255)."""
    return np.rint(probs * 255).astype(np.uint8)


class TorchEngine:
    """The model's `step` and `memory`, under no_grad: the reference."""

    def __init__(self, model):
        self.model = model
        self._ids = [torch.tensor([i]) for i in range(len(model.alphabet) + 1)]

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.model.hidden_size, dtype=np.float32)

    @torch.no_grad()
    def step_into(self, i: int, h: np.ndarray, h_out: np.ndarray, pred: np.ndarray,
                  conf: np.ndarray) -> None:
        """One symbol from state `h`: the new state into `h_out`, every head's answer and
        confidence byte into `pred` and `conf`."""
        logits, h_new = self.model.step(self._ids[i], torch.from_numpy(h).view(1, 1, -1))
        best, answer = logits[0].softmax(-1).max(-1)
        h_out[:] = h_new.view(-1).numpy()
        pred[:] = answer.numpy()
        conf[:] = confidence_bytes(best.numpy())

    @torch.no_grad()
    def run(self, ids: np.ndarray, h: np.ndarray):
        """Symbols in order from state `h`: (answers (k, heads), confidence bytes (k, heads),
        the state after each step (k, H))."""
        x = torch.from_numpy(ids.astype(np.int64))[None]
        out, _ = self.model.memory(x, torch.from_numpy(h).view(1, 1, -1))
        best, answer = self.model.all_heads(out[0]).softmax(-1).max(-1)
        return answer.numpy(), confidence_bytes(best.numpy()), out[0].numpy()


class LeanEngine:
    """The same model as a gate table, two weight matrices and compiled loops."""

    def __init__(self, model):
        sd = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
        with torch.no_grad():
            table = sd["embed.weight"] @ sd["gru.weight_ih_l0"].T + sd["gru.bias_ih_l0"]
        self.hidden_size = model.hidden_size
        self.k = len(model.alphabet) + 1  # classes per head
        self.table = _f32(table)  # (K, 3H): the input half of every gate, per symbol
        self.whh = _f32(sd["gru.weight_hh_l0"])  # (3H, H)
        self.bhh = _f32(sd["gru.bias_hh_l0"])
        self.wo = _f32(sd["heads.weight"])  # (heads * K, H)
        self.bo = _f32(sd["heads.bias"])
        self._wo_t = np.ascontiguousarray(self.wo.T)  # for the paste's one matrix product

    def initial_state(self) -> np.ndarray:
        return np.zeros(self.hidden_size, dtype=np.float32)

    def step_into(self, i: int, h: np.ndarray, h_out: np.ndarray, pred: np.ndarray,
                  conf: np.ndarray) -> None:
        step(self.table, self.whh, self.bhh, self.wo, self.bo, self.k, i, h, h_out, pred, conf)

    def run(self, ids: np.ndarray, h: np.ndarray):
        states = np.empty((len(ids), self.hidden_size), dtype=np.float32)
        recur(self.table, self.whh, self.bhh, ids.astype(np.int64), h, states)
        logits = states @ self._wo_t
        logits += self.bo
        heads = logits.shape[1] // self.k
        pred = np.empty((len(ids), heads), dtype=np.int64)
        conf = np.empty((len(ids), heads), dtype=np.uint8)
        answers(logits.reshape(len(ids), heads, self.k), pred, conf)
        return pred, conf, states


def _f32(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.numpy(), dtype=np.float32)
