"""The seed's accuracy checks, done right, and fast batched versions of them.

The seed metric (the homework's check): a string s goes through the model from a fresh state,
and the characters of s[:-d] are compared with the output's [d:] (blanks kept, so the two stay
aligned); accuracy is correct over compared characters.

String lengths: the homework's own for its settings (fixed delay up to 4: 15..25 characters;
variable delays up to 8: 20), and at least 20 characters longer than the delay beyond them, so
every delay is scored on every string and every check ends.
"""

from __future__ import annotations

import math
import string
import time
from collections.abc import Sequence

import torch

from .data import _generator
from .model import GRUMemory, VariableDelayGRUMemory

FINAL_TEST_SEED = 20261128  # the final checks' data; training's held-out data never uses it
FIXED_LENGTHS = (15, 25)  # the seed's fixed-delay check draws strings of 15..25 characters
VARIABLE_LENGTH = 20  # ... and its variable-delay check strings of 20
SEED_DELAY, SEED_MAX_DELAY = 4, 8  # the settings those lengths were made for
MIN_COMPARED = 20  # beyond them, strings are this much longer than the longest delay


def check_lengths(model) -> tuple[int, int]:
    """(shortest, longest) string of the homework's check for `model`."""
    longest_delay = max(model.head_delays)
    if getattr(model, "kind", None) == "fixed":
        if longest_delay <= SEED_DELAY:
            return FIXED_LENGTHS
        lo = longest_delay + MIN_COMPARED
        return lo, lo + FIXED_LENGTHS[1] - FIXED_LENGTHS[0]
    if longest_delay <= SEED_MAX_DELAY:
        return VARIABLE_LENGTH, VARIABLE_LENGTH
    return (longest_delay + MIN_COMPARED,) * 2


def test_model(model: GRUMemory, n_chars: int = 100_000, seed: int = FINAL_TEST_SEED) -> float:
    """The seed's fixed-delay check through `test_run`, over at least `n_chars` characters."""
    g = _generator(seed)
    d, correct, total = model.delay, 0, 0
    lo, hi = check_lengths(model)
    while total < n_chars:  # ends: every string compares at least lo - d >= 11 characters
        s = _random_string(model, int(torch.randint(lo, hi + 1, (), generator=g)), g)
        correct, total = _score(s, model.test_run(s), d, correct, total)
    return correct / total


def test_variable_delay_model(model: VariableDelayGRUMemory, n_chars: int = 100_000,
                              seq_length: int | None = None,
                              seed: int = FINAL_TEST_SEED) -> float:
    """The seed's variable-delay check through `test_run`: random delays 0..max_delay.

    `seq_length` defaults to the homework's 20, or max_delay + 20 for longer delays.
    """
    if seq_length is None:
        seq_length = check_lengths(model)[0]
    if seq_length <= model.max_delay:
        raise ValueError(f"strings of {seq_length} compare nothing at delay {model.max_delay}")
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


# the arithmetic of one pass of a check at most, so a pass ends in about a second at any size (a
# check looks at its deadline, and Ctrl-C is answered, between passes): 10^11 binds no recipe
# (tests/test_supervise.py holds it) and cuts hidden 4096 to a few strings a pass
PASS_FLOPS = 1e11


def step_flops(model) -> int:
    """Arithmetic of one step of one stream, at most: each weight used once, multiplied and
    added (any model: the baselines' too)."""
    return 2 * sum(p.numel() for p in model.parameters())


def seed_batches(model, seed: int = FINAL_TEST_SEED, batch: int = 4096):
    """The check's strings in batches: (ids (B, T_max), lengths (B, 1)), endless."""
    lo, hi = check_lengths(model)
    dev = model.embed.weight.device
    g = _generator(seed, dev)
    n = len(model.alphabet)
    while True:
        ids = torch.randint(1, n + 1, (batch, hi), generator=g, device=dev)
        lengths = torch.randint(lo, hi + 1, (batch, 1), generator=g, device=dev)
        yield ids, lengths


def seed_accuracies(model, n_chars: int = 100_000, seed: int = FINAL_TEST_SEED,
                    batch: int = 1024, deadline: float | None = None,
                    decides: Sequence[tuple[float, int]] = ()) -> dict[int, float]:
    """The seed metric for every delay the model has, batched: {delay: accuracy}.

    Equal to looping `test_run` over the same strings (the GRU is causal, so the columns past a
    string's end never touch its score), only far faster; at least `n_chars` per delay, or
    fewer when `deadline` (a time.perf_counter() value) comes first, or once every question in
    `decides` is answered (see `seed_counts`).
    """
    counts = seed_counts(model, n_chars, seed, batch, deadline, decides=decides)
    return {d: c / t if t else 0.0 for d, (c, t) in counts.items()}


@torch.no_grad()
def seed_counts(model, n_chars: int = 100_000, seed: int = FINAL_TEST_SEED, batch: int = 1024,
                deadline: float | None = None,
                must_clear: float | None = None,
                decides: Sequence[tuple[float, int]] = ()) -> dict[int, tuple[int, int]]:
    """{delay: (correct, compared)} of the seed metric: see `seed_accuracies`.

    With `must_clear`, the count stops as soon as some delay has more errors than can let its
    95% lower bound (lower_bound) clear `must_clear` at the count's end: the counts so far
    then say so too, and the cost of a check that cannot pass is saved.

    `decides` is what a training check asks of the count: (threshold, n) pairs, each asking
    whether the worst accuracy among the first n delays reaches threshold. The count stops once
    every answer is sure to be no: for each pair, some delay among its n already has more
    errors than it can have and still reach the threshold when the count ends. The accuracies
    so far then give the whole count's answers, on fewer characters.
    """
    dev = model.embed.weight.device
    correct = torch.zeros(len(model.head_delays), dtype=torch.long, device=dev)
    total = torch.zeros_like(correct)
    shortest, longest = check_lengths(model)
    fewest = shortest - max(model.head_delays)  # compared per string, at least
    logits_per_string = longest * len(model.head_delays) * (len(model.alphabet) + 1)
    # no more strings than one pass needs, logits of at most about 64 MB and PASS_FLOPS a pass
    batch = max(1, min(batch, -(-n_chars // fewest), 16_000_000 // logits_per_string,
                       int(PASS_FLOPS // (longest * step_flops(model)))))
    delays = torch.tensor(model.head_delays, device=dev)
    # what no delay's count can end above: every pass adds at least `fewest` characters a
    # string to each delay, so there are at most `passes`, and at most (longest - d) to delay d
    passes = -(-n_chars // (batch * fewest))
    most = [passes * batch * (longest - d) for d in model.head_delays]
    for ids, lengths in seed_batches(model, seed, batch):  # ends: each pass adds >= `fewest`
        t = torch.arange(ids.shape[1], device=dev)
        pred = model.all_heads(_memory(model, ids)[0]).argmax(-1)  # (B, T, heads)
        src = t[:, None] - delays  # (T, heads): the step each output echoes
        mask = (src >= 0) & (t[:, None] < lengths[:, :, None])  # (B, T, heads) compared
        back = ids[:, src.clamp(min=0)]  # (B, T, heads)
        correct += ((pred == back) & mask).sum((0, 1))
        total += mask.sum((0, 1))
        if int(total.min()) >= n_chars or (deadline is not None
                                           and time.perf_counter() >= deadline):
            break
        # the bound at `most` with these errors: more compared characters only raise it
        errors = (total - correct).tolist()
        if must_clear is not None and any(
                lower_bound(n - e, n) < must_clear for n, e in zip(most, errors)):
            break
        if decides and all(any(_misses(e, n, threshold) for e, n in zip(errors[:first], most))
                           for threshold, first in decides):
            break
    return {d: (c, t) for d, c, t in zip(model.head_delays, correct.tolist(), total.tolist())}


def _memory(model, ids, h=None):
    """`model.memory(ids, h)`, by the fused pass where the model has one (echo-gru's own models:
    trainer.gru_cpu); the benchmarks' baselines have only `memory`."""
    return getattr(model, "fast_memory", model.memory)(ids, h)


def _misses(errors: int, most: int, threshold: float) -> bool:
    """Whether a count with `errors` so far, of `most` characters at the end at most, ends with
    an accuracy below `threshold` for certain (a hair of margin for the float division that
    the accuracy is)."""
    return errors > (1 - threshold) * most * (1 + 1e-9) + 1e-9


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


def stream_accuracies(model, n_steps: int = 10_000, n_streams: int = 8,
                      seed: int = FINAL_TEST_SEED, chunk: int = 1000,
                      deadline: float | None = None) -> dict[int, float]:
    """Accuracy on `n_streams` unbroken streams of `n_steps` for every delay: {delay: accuracy}.

    Only steps t >= d are scored: those where the true echo is a symbol. A `deadline` (a
    time.perf_counter() value) cuts the streams short: the steps run so far are scored.
    """
    counts = stream_counts(model, n_steps, n_streams, seed, chunk, deadline)
    return {d: c / t if t else 0.0 for d, (c, t) in counts.items()}


@torch.no_grad()
def stream_counts(model, n_steps: int = 10_000, n_streams: int = 8,
                  seed: int = FINAL_TEST_SEED, chunk: int = 1000,
                  deadline: float | None = None) -> dict[int, tuple[int, int]]:
    """{delay: (correct, scored)} on unbroken streams: see `stream_accuracies`."""
    dev = model.embed.weight.device
    g = _generator(seed + 1, dev)
    ids = torch.randint(1, len(model.alphabet) + 1, (n_streams, n_steps), generator=g, device=dev)
    delays = torch.tensor(model.head_delays, device=dev)
    correct = torch.zeros(len(delays), dtype=torch.long, device=dev)
    h, done = None, 0
    chunk = max(1, min(chunk, int(PASS_FLOPS // (n_streams * step_flops(model)))))
    for start in range(0, n_steps, chunk):
        out, h = _memory(model, ids[:, start:start + chunk], h)
        pred = model.all_heads(out).argmax(-1)  # (B, T, heads)
        t = torch.arange(start, start + pred.shape[1], device=dev)
        src = t[:, None] - delays  # (T, heads)
        hit = (pred == ids[:, src.clamp(min=0)]) & (src >= 0)
        correct += hit.sum((0, 1))
        done = start + pred.shape[1]
        if deadline is not None and time.perf_counter() >= deadline:
            break
    scored = (done - delays).clamp(min=0) * n_streams
    return {d: (c, s) for d, c, s in zip(model.head_delays, correct.tolist(), scored.tolist())}


def random_text(n: int, symbols: str = string.ascii_lowercase, seed: int = 0) -> str:
    """Random text over `symbols`, for tests and benchmarks."""
    g = _generator(seed)
    return "".join(symbols[i] for i in torch.randint(0, len(symbols), (n,), generator=g).tolist())
