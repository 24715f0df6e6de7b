"""Random echo data: the seed's datasets and fast vectorised generators for training."""

from __future__ import annotations

import torch

from .alphabet import N


def echo_target(seq: torch.Tensor, delay: int) -> torch.Tensor:
    """The seed's label: `delay` blanks, then the sequence cut to its own length."""
    length = seq.shape[-1]
    d = min(delay, length)
    return torch.cat((seq.new_zeros(seq.shape[:-1] + (d,)), seq[..., : length - d]), dim=-1)


class _RandomEchoDataset(torch.utils.data.IterableDataset):
    """`size` random sequences of `seq_length` ids in 1..n_categories, seeded or not."""

    def __init__(self, seq_length, size, n_categories, seed):
        self.seq_length, self.size = seq_length, size
        self.n_categories, self.seed = n_categories, seed

    def __len__(self):
        return self.size

    def _sequences(self):
        g = _generator(self.seed)
        for _ in range(self.size):
            yield torch.randint(1, self.n_categories + 1, (self.seq_length,), generator=g), g


class EchoDataset(_RandomEchoDataset):
    """The seed's fixed-delay dataset: yields (seq, result) of ids, seq in 1..N."""

    def __init__(self, delay=4, seq_length=15, size=1000, n_categories=N, seed=None):
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        super().__init__(seq_length, size, n_categories, seed)
        self.delay = delay

    def __iter__(self):
        for seq, _ in self._sequences():
            yield seq, echo_target(seq, self.delay)


class VariableDelayEchoDataset(_RandomEchoDataset):
    """The seed's variable-delay dataset: yields (seq, delay, result), delay in 0..max_delay."""

    def __init__(self, max_delay=8, seq_length=20, size=1000, n_categories=N, seed=None):
        if max_delay < 0:
            raise ValueError(f"max_delay must be >= 0, got {max_delay}")
        super().__init__(seq_length, size, n_categories, seed)
        self.max_delay = max_delay

    def __iter__(self):
        for seq, g in self._sequences():
            delay = int(torch.randint(0, self.max_delay + 1, (), generator=g))
            yield seq, delay, echo_target(seq, delay)


def _generator(seed, device="cpu") -> torch.Generator:
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


class StreamChunks:
    """Endless random streams cut into chunks for truncated BPTT.

    Each of `batch` rows is one stream that goes on across chunks, so the model's hidden state
    can be carried; now and then a row restarts (its state must then be zeroed by the caller)
    so the model also learns the blank lead-in after a reset. Targets are made for every delay
    0..max_delay at once, shape (batch, chunk, max_delay + 1), blank where the stream is younger
    than the delay.
    """

    def __init__(self, batch, chunk, max_delay, n_categories=N, reset_prob=0.02,
                 seed=0, device="cpu"):
        self.batch, self.chunk, self.max_delay = batch, chunk, max_delay
        self.n, self.reset_prob, self.device = n_categories, reset_prob, device
        self.g = _generator(seed, device)
        self.tail = torch.zeros(batch, max_delay, dtype=torch.long, device=device)
        self.age = torch.zeros(batch, 1, dtype=torch.long, device=device)  # steps since reset
        steps = torch.arange(chunk, device=device)
        delays = torch.arange(max_delay + 1, device=device)
        # index into cat(tail, x) of the symbol `d` steps back from step t
        self._src = (max_delay + steps[:, None] - delays[None, :]).reshape(-1)
        self._steps, self._delays = steps, delays

    def __iter__(self):
        return self

    def __next__(self):
        """(x ids (B, T), targets (B, T, D+1), reset mask (B,)); the first chunk is all resets."""
        b, t, md = self.batch, self.chunk, self.max_delay
        first = not hasattr(self, "_started")
        self._started = True
        if first:
            reset = torch.ones(b, dtype=torch.bool, device=self.device)
        else:
            reset = torch.rand(b, generator=self.g, device=self.device) < self.reset_prob
        self.age = torch.where(reset[:, None], 0, self.age)
        x = torch.randint(1, self.n + 1, (b, t), generator=self.g, device=self.device)
        full = torch.cat((self.tail, x), dim=1)
        targets = full[:, self._src].view(b, t, md + 1)
        age = self.age + self._steps[None, :]  # (B, T)
        targets = torch.where(age[:, :, None] >= self._delays, targets, 0)
        self.tail = full[:, full.shape[1] - md:] if md else self.tail
        self.age = self.age + t
        return x, targets, reset
