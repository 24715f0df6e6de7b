"""The seed's accuracy checks, done right, and fast batched versions of them.

The seed metric: a string s goes through the model from a fresh state, and the characters of
s[:-d] are compared with the output's [d:] (blanks kept, so the two stay aligned); accuracy is
correct over compared characters.
"""

from __future__ import annotations

import math
import string

import torch

from .data import _generator
from .model import GRUMemory, VariableDelayGRUMemory

FINAL_TEST_SEED = 20261128  # the final checks' data; training's held-out data never uses it
FIXED_LENGTHS = (15, 25)  # the seed's fixed-delay check draws strings of 15..25 characters
VARIABLE_LENGTH = 20  # ... and its variable-delay check strings of 20


def test_model(model: GRUMemory, n_chars: int = 100_000, seed: int = FINAL_TEST_SEED) -> float:
    """The seed's fixed-delay check through `test_run`, over at least `n_chars` characters."""
    g = _generator(seed)
    d, correct, total = model.delay, 0, 0
    while total < n_chars:
        s = _random_string(model, int(torch.randint(FIXED_LENGTHS[0], FIXED_LENGTHS[1] + 1,
                                                    (), generator=g)), g)
        correct, total = _score(s, model.test_run(s), d, correct, total)
    return correct / total


def test_variable_delay_model(model: VariableDelayGRUMemory, n_chars: int = 100_000,
                              seq_length: int = VARIABLE_LENGTH,
                              seed: int = FINAL_TEST_SEED) -> float:
    """The seed's variable-delay check through `test_run`: random delays 0..max_delay."""
    g = _generator(seed)
    correct, total = 0, 0
    while total < n_chars:
        s = _random_string(model, seq_length, g)
        d = int(torch.randint(0, model.max_delay + 1, (), generator=g))
        correct, total = _score(s, model.test_run(s, d), d, correct, total)
    return correct / total


def _random_string(model, length: int, g: torch.Generator) -> str:
    ids = torch.randint(0, len(model.alphabet), (length,), generator=g).tolist()
    return "".join(model.alphabet.symbols[i] for i in ids)


def _score(s: str, result: str, d: int, correct: int, total: int) -> tuple[int, int]:
    assert len(result) == len(s), "test_run must return a string as long as its input"
    expected, got = s[: len(s) - d], result[d:]
    return correct + sum(a == b for a, b in zip(expected, got)), total + len(expected)


def seed_batches(model, n_chars: int, seed: int = FINAL_TEST_SEED, batch: int = 4096):
    """The seed check's strings in batches: (ids (B, T_max), lengths (B, 1)), endless."""
    lo, hi = FIXED_LENGTHS if getattr(model, "kind", None) == "fixed" else (VARIABLE_LENGTH,) * 2
    dev = model.embed.weight.device
    g = _generator(seed, dev)
    n = len(model.alphabet)
    while True:
        ids = torch.randint(1, n + 1, (batch, hi), generator=g, device=dev)
        lengths = torch.randint(lo, hi + 1, (batch, 1), generator=g, device=dev)
        yield ids, lengths


def seed_accuracies(model, n_chars: int = 100_000, seed: int = FINAL_TEST_SEED,
                    batch: int = 1024) -> dict[int, float]:
    """The seed metric for every delay the model has, batched: {delay: accuracy}.

    Equal to looping `test_run` over the same strings (the GRU is causal, so the columns past a
    string's end never touch its score), only far faster; at least `n_chars` per delay.
    """
    return {d: c / t for d, (c, t) in seed_counts(model, n_chars, seed, batch).items()}


@torch.no_grad()
def seed_counts(model, n_chars: int, seed: int = FINAL_TEST_SEED,
                batch: int = 1024) -> dict[int, tuple[int, int]]:
    """{delay: (correct, compared)} of the seed metric: see `seed_accuracies`."""
    dev = model.embed.weight.device
    correct = torch.zeros(len(model.head_delays), dtype=torch.long, device=dev)
    total = torch.zeros_like(correct)
    shortest = FIXED_LENGTHS[0] if getattr(model, "kind", None) == "fixed" else VARIABLE_LENGTH
    fewest = max(1, shortest - max(model.head_delays))  # characters compared per string, at least
    batch = min(batch, -(-n_chars // fewest))  # no more strings than one pass needs
    for ids, lengths in seed_batches(model, n_chars, seed, batch):
        t = torch.arange(ids.shape[1], device=dev)
        pred = model.all_heads(model.memory(ids)[0]).argmax(-1)  # (B, T, heads)
        for j, d in enumerate(model.head_delays):
            mask = (t >= d) & (t < lengths)  # compared positions of the output
            back = ids[:, (t - d).clamp(min=0)]
            correct[j] += ((pred[:, :, j] == back) & mask).sum()
            total[j] += mask.sum()
        if int(total.min()) >= n_chars:
            break
    return {d: (c, t) for d, c, t in zip(model.head_delays, correct.tolist(), total.tolist())}


def lower_bound(correct: int, total: int, z: float = 1.645) -> float:
    """Wilson score lower bound of an accuracy (one-sided 95% by default).

    At 99.99% a pass on 100,000 characters is a coin flip when the model is right at the edge;
    asking the bound to clear the target asks for a margin the final test will also see.
    """
    if total == 0:
        return 0.0
    p, n = correct / total, total
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


@torch.no_grad()
def stream_accuracies(model, n_steps: int = 10_000, n_streams: int = 8,
                      seed: int = FINAL_TEST_SEED, chunk: int = 1000) -> dict[int, float]:
    """Accuracy on `n_streams` unbroken streams of `n_steps` for every delay: {delay: accuracy}.

    Only steps t >= d are scored: those where the true echo is a symbol.
    """
    dev = model.embed.weight.device
    g = _generator(seed + 1, dev)
    ids = torch.randint(1, len(model.alphabet) + 1, (n_streams, n_steps), generator=g, device=dev)
    correct = torch.zeros(len(model.head_delays), dtype=torch.long, device=dev)
    h = None
    for start in range(0, n_steps, chunk):
        out, h = model.memory(ids[:, start:start + chunk], h)
        pred = model.all_heads(out).argmax(-1)
        for j, d in enumerate(model.head_delays):
            lo, hi = max(start, d), start + pred.shape[1]
            if lo < hi:
                correct[j] += (pred[:, lo - start:, j] == ids[:, lo - d:hi - d]).sum()
    return {d: c / (n_streams * (n_steps - d)) for d, c in zip(model.head_delays, correct.tolist())}


def random_text(n: int, symbols: str = string.ascii_lowercase, seed: int = 0) -> str:
    """Random text over `symbols`, for tests and benchmarks."""
    g = _generator(seed)
    return "".join(symbols[i] for i in torch.randint(0, len(symbols), (n,), generator=g).tolist())
