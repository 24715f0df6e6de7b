"""Long sessions through EchoSession: bounded memory, O(1) work per step, the echo right to the end.

The suite drives 200,000 steps with a small kept window and undo ring, so the buffers compact
dozens of times; `pytest -m slow` adds the 1,000,000-step run. Per-step timing is not asserted
here (it would flake on a shared machine): the structural property behind flat latency is, and
`python -m echo_tui.bench --long` measures the thousandth and the millionth step.
"""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
import torch

from echo_tui import EchoSession
from echo_tui.core.session import CHUNK, UNDO_STEPS
from trainer.evaluate import random_text

JUNK = "1 !\n\t\x00é😀Ж\x1b[31m"


def capacity(s: EchoSession) -> int:
    """The most rows the buffers may ever hold (the documented bound)."""
    return s.keep_steps + max(s.delays) + max(s.keep_steps, CHUNK)


def reference(model, stream: bytes) -> np.ndarray:
    """Every head's argmax for the whole stream, batched from a fresh state: (steps, heads)."""
    ids = torch.from_numpy(np.frombuffer(stream, dtype=np.uint8).astype(np.int64) - 96)[None]
    preds, h = [], None
    with torch.no_grad():
        for i in range(0, ids.shape[1], 8192):
            out, h = model.memory(ids[:, i:i + 8192], h)
            preds.append(model.all_heads(out[0]).argmax(-1).numpy().astype(np.uint8))
    return np.concatenate(preds)


def decode(ids: np.ndarray) -> str:
    return "".join((" " + string.ascii_lowercase)[i] for i in ids.tolist())


def drive(model, steps: int, keep: int, undo: int, seed: int):
    """Pastes (with junk in them), bursts of keys and runs of backspace until `steps` steps.

    Checks after every action that the buffers stay within their bound and that every backspace
    is answered as the undo window says. Returns the session, the stream it must hold, and the
    number of steps fed (undone ones included) and compactions seen.
    """
    rng = random.Random(seed)
    s = EchoSession(model, undo_steps=undo, keep_steps=keep)
    undo_ring = s._rows.undo
    stream, depth, fed = bytearray(), 0, 0
    cap = capacity(s)
    compactions = []  # rows copied by each compaction
    reserve = s._reserve

    def counting_reserve(k: int) -> None:
        base = s._rows.base
        reserve(k)
        if s._rows.base != base:
            compactions.append(s._rows.n)
            assert len(s._rows.ids) == cap  # full size from the first compaction on: no more growth

    s._reserve = counting_reserve
    while len(stream) < steps:
        r = rng.random()
        if r < 0.6:  # a paste
            text = random_text(rng.randint(5, 6000), seed=rng.randrange(10**9))
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(JUNK) * rng.randint(0, 40) + text[cut:].upper()
            pieces = [text]
        elif r < 0.9:  # keys
            pieces = [rng.choice(string.ascii_lowercase + JUNK) for _ in range(rng.randint(1, 20))]
        else:  # a run of backspace, sometimes past the undo window
            for _ in range(rng.randint(1, undo + 50)):
                can = depth > 0 and len(stream) > 0
                assert s.backspace() is can
                if can:
                    del stream[-1]
                    depth -= 1
            pieces = []
        for text in pieces:
            symbols = "".join(c for c in text.lower() if c in string.ascii_lowercase)
            assert s.feed(text).steps == len(symbols)
            stream += symbols.encode()
            depth = min(undo, depth + len(symbols))
            fed += len(symbols)
        # bounded: the buffers never pass their cap, the undo ring is never reallocated
        assert len(s._rows.ids) == len(s._rows.out) <= cap
        assert s._rows.out.nbytes <= cap * len(s.delays) and s._rows.ids.nbytes <= cap
        assert s._rows.undo is undo_ring and tuple(s._rows.undo.shape) == (undo, model.hidden_size)
        assert s.steps == len(stream) and s.undo_depth == depth
        assert s.stream == stream[len(stream) - s.kept:].decode()
        assert keep - undo <= s.kept <= keep or s.kept == len(stream)
    return s, bytes(stream), fed, compactions


def check_against_reference(s: EchoSession, preds: np.ndarray, stream: bytes) -> None:
    """`preds`: the reference for `stream` or for a longer stream it starts."""
    preds = preds[:len(stream)]
    truth_ids = np.frombuffer(stream, dtype=np.uint8).astype(np.int64) - 96
    tail = s.kept
    assert s.stream == stream[-tail:].decode()
    for j, d in enumerate(s.delays):
        s.delay = d
        assert s.echo == decode(preds[-tail:, j]), f"delay {d}"
        # counts cover every step since the reset, not just the kept ones
        hits = np.count_nonzero(preds[d:, j] == truth_ids[:len(truth_ids) - d])
        assert (s.correct, s.scored) == (hits, max(0, len(stream) - d))
        _, echo, wrong = s.window(s.steps - 50, s.steps)
        true = (" " * d + stream.decode())[len(stream) - 50:len(stream)]
        assert list(wrong) == [a != b for a, b in zip(echo, true)]


def run_long(model, steps: int, keep: int, undo: int, seed: int) -> None:
    s, stream, fed, compactions = drive(model, steps, keep, undo, seed)
    margin = max(s.delays)
    # amortised O(1) per step: each compaction copies keep + margin rows and frees at least
    # max(keep, CHUNK) - CHUNK + 1 rows, so the copying adds up to about one row per step fed
    assert set(compactions) == {keep + margin}
    n, freed = len(compactions), max(keep, CHUNK)
    assert (len(stream) - capacity(s)) / freed <= n <= fed / (freed - CHUNK + 1) + 1
    assert sum(compactions) <= 2 * fed
    assert s.first_kept > 0 and s._rows.base > 0
    preds = reference(model, stream)  # once: the reference of a prefix is a prefix of it
    check_against_reference(s, preds, stream)
    # backspace walks back through the undo window, then refuses; what is left is still right
    depth = s.undo_depth
    assert 0 < depth <= undo
    for _ in range(depth):
        assert s.backspace()
    assert s.backspace() is False and s.undo_depth == 0
    assert s.steps == len(stream) - depth
    check_against_reference(s, preds, stream[:len(stream) - depth])


def test_200k_steps_compact_many_times_and_stay_right(variable_model):
    run_long(variable_model, 200_000, keep=4096, undo=512, seed=1)


@pytest.mark.slow  # about 90 s: pytest -m slow runs it
def test_a_million_steps(variable_model):
    run_long(variable_model, 1_000_000, keep=100_000, undo=UNDO_STEPS, seed=2)


def test_backspace_right_after_a_compaction_keeps_the_window_whole(variable_model):
    # a compaction keeps keep_steps rows plus the margin that judges their first echoes; undoing
    # further right after it used to take the margin for kept steps and break `stream`
    s = EchoSession(variable_model, 2, undo_steps=100, keep_steps=300)
    text = random_text(2000, seed=5)
    i = 0
    while s._rows.base == 0:
        s.feed(text[i])
        i += 1
    for _ in range(100):
        assert s.backspace()
    typed = text[:i - 100]
    assert s.kept == 300 - 100 + 1 and s.first_kept == len(typed) - s.kept
    assert s.stream == typed[-s.kept:]
    assert s.echo == reference_echo(variable_model, typed, 2)[-s.kept:]
    assert s.true_echo() == (" " * 2 + typed)[len(typed) - s.kept:len(typed)]
    s.feed("abc")
    typed += "abc"
    assert s.stream == typed[-s.kept:] and s.kept == 204
    assert s.echo == reference_echo(variable_model, typed, 2)[-s.kept:]
    assert [s.backspace() for _ in range(4)] == [True, True, True, False]  # 3 more to undo
    assert s.stream == typed[:-3][-s.kept:]


def reference_echo(model, text: str, delay: int) -> str:
    preds = reference(model, text.encode())
    return decode(preds[:, model.head_delays.index(delay)])


def test_the_long_bench_reports_flat_latency_figures():
    from echo_tui.bench.long import long_session

    r = long_session(steps=6_000, keys=200, keep=2_000)  # compacts once on the way
    assert (r["steps"], r["kept"], r["undo_depth"]) == (6_200, 2_000, 2_000)
    rows = 2_000 + 8 + 2_000  # keep + margin + max(keep, CHUNK): the cap, reached
    # per row: id, 9 answers, 9 confidence bytes, where its character is (8); the undo ring;
    # what was typed (4 bytes a character, grown by doubling past the 5,800-character paste)
    typed = r["session_buffers_mb"] * 2**20 - rows * (1 + 9 + 9 + 8) - 2_000 * 128 * 4
    assert typed % 4 == 0 and 5_800 * 4 <= typed <= 2 * 5_800 * 4
    for key in ("key_at_1k_median_us", "key_at_end_median_us", "key_at_1k_p99_us",
                "key_at_end_p99_us", "paste_us_per_step"):
        assert 0 < r[key] < 1e6, key
    assert r["end_over_1k"] == r["key_at_end_median_us"] / r["key_at_1k_median_us"]
