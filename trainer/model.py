"""The echo networks: an embedding, one recurrent layer, and a readout head per delay.

Both models share one body. Its recurrent layer is a GRU by default (the seed's), or an LSTM or
a plain tanh RNN (`cell=`): the layer's attribute, and so its tensors' prefix, is the cell's
name (`gru`, `lstm`, `rnn`), and `recurrent` is whichever it is. A GRU's or an RNN's state is
one tensor (1, B, H); an LSTM's is the pair (h, c).

The memory does not depend on the delay asked for; the delay only picks which readout head
decodes it. So the variable-delay model keeps one hidden state and can answer for every delay at
each step, which is what lets the app move its delay slider without re-running the stream.
"""

from __future__ import annotations

import torch
from torch import nn

from . import gru_cpu
from .alphabet import ALPHABETS, Alphabet, N, idx_to_onehot
from .config import CELL_GATES, CELLS, CELLS_SAID

_LAYERS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}  # nn.RNN's default is tanh
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # (1, B, H), or an LSTM's (h, c)


class _EchoGRU(nn.Module):
    kind = ""

    def __init__(self, hidden_size: int, n_categories: int, head_delays: list[int],
                 alphabet: Alphabet | str | None = None, cell: str = "gru"):
        super().__init__()
        if hidden_size < 1:
            raise ValueError(f"hidden size must be >= 1, got {hidden_size}")
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose {CELLS_SAID}")
        self.alphabet = _alphabet_for(n_categories, alphabet)
        self.hidden_size = hidden_size
        self.n_categories = n_categories
        self.head_delays = list(head_delays)
        self.cell = cell
        self.gates = CELL_GATES[cell]  # square blocks of H rows in each recurrent weight
        k = n_categories + 1
        self.embed = nn.Embedding(k, hidden_size)  # made in this order: a seeded GRU's weights
        setattr(self, cell, _LAYERS[cell](hidden_size, hidden_size, num_layers=1,
                                          batch_first=True))  # are the same as ever
        self.heads = nn.Linear(hidden_size, len(self.head_delays) * k)

    @property
    def recurrent(self) -> nn.GRU | nn.LSTM | nn.RNN:
        """The recurrent layer: `self.gru`, `self.lstm` or `self.rnn`."""
        return getattr(self, self.cell)

    # -- shared machinery ---------------------------------------------------------------
    def initial_state(self, batch: int = 1) -> State:
        h = self.embed.weight.new_zeros(1, batch, self.hidden_size)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def memory(self, ids: torch.Tensor, h: State | None = None):
        """Recurrent outputs (B, T, H) and the final state for a batch of symbol-id sequences."""
        return self.recurrent(self.embed(ids), h)

    def fast_memory(self, ids: torch.Tensor, h: State | None = None):
        """`memory` as training and its checks run it: a GRU on the CPU takes the fused pass
        (trainer.gru_cpu), the same to float32 rounding in about half the time; any other
        model, `memory`."""
        if gru_cpu.fits(self, ids):
            return gru_cpu.memory(self, ids, h)
        return self.memory(ids, h)

    def reset_rows(self, h: State, reset: torch.Tensor) -> State:
        """`h` with the rows where `reset` (B,) is True zeroed (an LSTM: both h and c)."""
        return _map_state(h, lambda t: t.masked_fill(reset.view(1, -1, 1), 0.0))

    @staticmethod
    def detach_state(h: State) -> State:
        return _map_state(h, torch.Tensor.detach)

    def all_heads(self, out: torch.Tensor, n: int | None = None) -> torch.Tensor:
        """Logits of every head, or of the first `n`: (..., heads, N+1)."""
        k = self.n_categories + 1
        if n is None or n >= len(self.head_delays):
            return self.heads(out).unflatten(-1, (len(self.head_delays), k))
        rows = slice(0, n * k)  # a curriculum trains the short delays' heads first
        logits = nn.functional.linear(out, self.heads.weight[rows], self.heads.bias[rows])
        return logits.unflatten(-1, (n, k))

    @torch.no_grad()
    def step(self, ids: torch.Tensor, h: State | None = None):
        """One streaming step: ids (B,) -> (logits (B, heads, N+1), new state: (1, B, H), or
        an LSTM's pair of them).

        Feeding a stream one step at a time gives the same outputs as `forward` on it.
        """
        out, h = self.recurrent(self.embed(ids)[:, None, :], h)
        return self.all_heads(out[:, 0]), h

    def _ids(self, s: str) -> torch.Tensor:
        return torch.tensor([self.alphabet.encode(s)], dtype=torch.long,
                            device=self.embed.weight.device)

    def _embed_onehot(self, x: torch.Tensor) -> torch.Tensor:
        # a one-hot row times the embedding matrix is exactly that row, so this equals embed(ids)
        return x.to(self.embed.weight.dtype) @ self.embed.weight


class GRUMemory(_EchoGRU):
    """Echoes its input `delay` steps later (the seed's fixed-delay model)."""

    kind = "fixed"

    def __init__(self, hidden_size: int, n_categories: int = N, delay: int = 4,
                 alphabet: Alphabet | str | None = None, cell: str = "gru"):
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        super().__init__(hidden_size, n_categories, [delay], alphabet, cell)
        self.delay = delay

    def forward(self, x: torch.Tensor, h: State | None = None):
        """x: one-hot (B, T, N+1) -> (logits (B, T, N+1), final state)."""
        out, h = self.recurrent(self._embed_onehot(x), h)
        return self.all_heads(out)[:, :, 0], h

    @torch.no_grad()
    def test_run(self, s: str) -> str:
        """The echo of `s` from a fresh state: a string of len(s), blanks as ' '."""
        if not s:
            return ""
        out, _ = self.memory(self._ids(s))
        return self.alphabet.decode(self.all_heads(out)[0, :, 0].argmax(-1).tolist())


class VariableDelayGRUMemory(_EchoGRU):
    """Echoes its input with any delay 0..max_delay, chosen per sequence."""

    kind = "variable"

    def __init__(self, hidden_size: int, max_delay: int, n_categories: int = N,
                 alphabet: Alphabet | str | None = None, cell: str = "gru"):
        if max_delay < 0:
            raise ValueError(f"max delay must be >= 0, got {max_delay}")
        super().__init__(hidden_size, n_categories, list(range(max_delay + 1)), alphabet, cell)
        self.max_delay = max_delay

    def forward(self, x: torch.Tensor, delays: torch.Tensor | int):
        """x: one-hot (B, T, N+1), delays (B,) -> logits (B, T, N+1) at each row's delay."""
        out, _ = self.recurrent(self._embed_onehot(x))
        return self.select(self.all_heads(out), delays)

    def select(self, all_logits: torch.Tensor, delays: torch.Tensor | int) -> torch.Tensor:
        """Pick each row's head from (B, T, heads, N+1)."""
        b, t, _, k = all_logits.shape
        d = torch.as_tensor(delays, device=all_logits.device).long().expand(b)
        if (d < 0).any() or (d > self.max_delay).any():
            raise ValueError(f"delays must be within 0..{self.max_delay}")
        return all_logits.gather(2, d.view(b, 1, 1, 1).expand(b, t, 1, k)).squeeze(2)

    @torch.no_grad()
    def test_run(self, s: str, delay: int) -> str:
        """The echo of `s` at `delay` from a fresh state: a string of len(s), blanks as ' '."""
        if not 0 <= delay <= self.max_delay:
            raise ValueError(f"delay {delay} is outside 0..{self.max_delay}")
        if not s:
            return ""
        out, _ = self.memory(self._ids(s))
        return self.alphabet.decode(self.all_heads(out)[0, :, delay].argmax(-1).tolist())


def build(kind: str, hidden: int, delay: int, alphabet: Alphabet, cell: str = "gru"):
    """The model of `kind` (fixed: echoes at `delay`; variable: at every delay 0..`delay`) with
    `hidden` units of `cell` over `alphabet`: how training and the loader both make one."""
    if kind == "fixed":
        return GRUMemory(hidden, len(alphabet), delay=delay, alphabet=alphabet, cell=cell)
    if kind == "variable":
        return VariableDelayGRUMemory(hidden, delay, len(alphabet), alphabet=alphabet, cell=cell)
    raise ValueError(f"unknown model kind {kind!r}; choose fixed or variable")


def _map_state(h: State, fn) -> State:
    return tuple(fn(t) for t in h) if isinstance(h, tuple) else fn(h)


def _alphabet_for(n_categories: int, alphabet) -> Alphabet:
    if alphabet is None:
        preset = next((name for name, (symbols, _) in ALPHABETS.items()
                       if len(symbols) == n_categories), None)
        if preset is None:
            raise ValueError(f"no preset alphabet has {n_categories} symbols; pass alphabet=")
        alphabet = Alphabet.named(preset)
    if isinstance(alphabet, str):
        alphabet = Alphabet(alphabet)
    if len(alphabet) != n_categories:
        raise ValueError(f"alphabet has {len(alphabet)} symbols but n_categories is {n_categories}")
    return alphabet


__all__ = ["GRUMemory", "VariableDelayGRUMemory", "idx_to_onehot"]
