"""The lean engine (a gate table and compiled loops) equals the PyTorch reference: every head's
answer, the hidden state within 1e-5 and the confidence within a byte step, over 10,000-step
streams, key by key and pasted, after undo and after a reset. Its pipelined paste (`runs`, and
the recurrence a hint starts `ahead`) gives what one `run` gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echo_tui import EchoSession
from echo_tui.core.engine import LeanEngine, TorchEngine
from trainer import Alphabet, GRUMemory, VariableDelayGRUMemory
from trainer.evaluate import random_text


def custom_model():
    torch.manual_seed(5)
    alphabet = Alphabet("aeiou XYZ!?", "exact")
    return VariableDelayGRUMemory(24, 11, len(alphabet), alphabet=alphabet).eval()


@pytest.fixture(params=["fixed", "variable", "text", "custom", "fixed-untrained"])
def model(request, fixed_model, variable_model, text_model):
    torch.manual_seed(1)
    return {"fixed": fixed_model, "variable": variable_model, "text": text_model,
            "custom": custom_model(), "fixed-untrained": GRUMemory(8, delay=0).eval()}[
        request.param]


def stream(model, n: int, seed: int) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, len(model.alphabet) + 1, (n,), generator=g).numpy()


def test_a_pasted_stream_of_10000_steps_matches_pytorch(model):
    ids = stream(model, 10_000, seed=2)
    lean, ref = LeanEngine(model), TorchEngine(model)
    h = lean.initial_state()
    for part in np.array_split(ids, 7):  # across calls, carrying the state
        got, want = lean.run(part, h), ref.run(part, h)
        assert np.array_equal(got[0], want[0])
        assert np.abs(got[1].astype(int) - want[1].astype(int)).max() <= 1
        assert np.abs(got[2] - want[2]).max() < 1e-5
        h = got[2][-1]


def test_keystrokes_match_pytorch_and_the_paste(model):
    ids = stream(model, 2_000, seed=3)
    lean, ref = LeanEngine(model), TorchEngine(model)
    heads = len(model.head_delays)
    h = lean.initial_state()
    answers = np.empty((len(ids), heads), dtype=np.int64)
    for t, i in enumerate(ids.tolist()):
        h_new, h_ref = np.empty_like(h), np.empty_like(h)
        conf, conf_ref = np.empty(heads, np.uint8), np.empty(heads, np.uint8)
        pred_ref = np.empty(heads, np.int64)
        lean.step_into(i, h, h_new, answers[t], conf)
        ref.step_into(i, h, h_ref, pred_ref, conf_ref)
        assert np.array_equal(answers[t], pred_ref)
        assert np.abs(conf.astype(int) - conf_ref.astype(int)).max() <= 1
        assert np.abs(h_new - h_ref).max() < 1e-5
        h = h_new
    pasted = lean.run(ids, lean.initial_state())
    assert np.array_equal(pasted[0], answers) and np.abs(pasted[2][-1] - h).max() < 1e-5


def stacked(chunks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.concatenate(part) for part in zip(*chunks))


class RecurrenceSpy:
    """Counts the steps an engine's recurrence runs, wherever it is started from."""

    def __init__(self, engine: LeanEngine):
        self.steps = []
        run = engine._recur

        def counted(ids, h):
            self.steps.append(len(ids))
            return run(ids, h)
        engine._recur = counted


@pytest.mark.parametrize("n, chunk", [(1, 64), (64, 64), (1000, 64), (1000, 333), (10_000, 256)])
def test_the_pipelined_paste_equals_one_run(text_model, n, chunk):
    lean = LeanEngine(text_model)
    ids = stream(text_model, n, seed=6)
    h = lean.initial_state()
    whole = lean.run(ids, h)
    chunks = list(lean.runs(ids, h, chunk))
    assert [len(c[2]) for c in chunks] == [len(p) for p in np.array_split(
        ids, range(chunk, n, chunk))]
    got = stacked(chunks)
    assert np.array_equal(got[0], whole[0]) and np.array_equal(got[2], whole[2])
    assert np.abs(got[1].astype(int) - whole[1].astype(int)).max() <= 1
    ref = stacked(TorchEngine(text_model).runs(ids, h, chunk))
    assert np.array_equal(got[0], ref[0]) and np.abs(got[2] - ref[2]).max() < 1e-5


def test_a_paste_leaves_torchs_threads_as_they_were(text_model):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lean = LeanEngine(text_model)
        list(lean.runs(stream(text_model, 600, seed=7), lean.initial_state(), 100))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_paste_abandoned_part_way_leaves_the_engine_whole(text_model):
    lean = LeanEngine(text_model)
    ids = stream(text_model, 2_000, seed=8)
    h = lean.initial_state()
    chunks = lean.runs(ids, h, 100)
    next(chunks)
    chunks.close()  # the recurrence of the second chunk was under way
    assert np.array_equal(stacked(lean.runs(ids, h, 100))[2], lean.run(ids, h)[2])


def test_a_recurrence_started_ahead_is_used_once_and_only_from_its_state(text_model):
    lean = LeanEngine(text_model)
    spy = RecurrenceSpy(lean)
    ids = stream(text_model, 1_000, seed=9)
    h = lean.initial_state()
    want = lean.run(ids, h)
    spy.steps.clear()
    lean.ahead(ids[:300], h)
    got = stacked(lean.runs(ids, h, 128))
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[2], want[2])
    assert spy.steps == [300, 128, 128, 128, 128, 128, 60]  # nothing was run twice
    # started from another state (the same values, another array: a backspace or a reset),
    # or for other symbols, it is not used
    for other_h, other_ids in ((h.copy(), ids), (h, ids[::-1].copy())):
        spy.steps.clear()
        lean.ahead(other_ids[:300], other_h)
        got = stacked(lean.runs(ids, h, 500))
        assert np.array_equal(got[2], want[2]) and spy.steps == [300, 500, 500]
    # and a paste after the one it was for starts afresh
    lean.ahead(ids[:300], h)
    list(lean.runs(ids, h, 500))
    spy.steps.clear()
    list(lean.runs(ids, h, 500))
    assert spy.steps == [500, 500]


def test_sessions_agree_through_keys_pastes_undo_and_reset(model):
    symbols = model.alphabet.symbols
    text = random_text(10_000, symbols=symbols, seed=4)
    lean = EchoSession(model, undo_steps=600)
    ref = EchoSession(model, undo_steps=600, engine=TorchEngine(model))
    for s in (lean, ref):
        for k in range(0, 3_000):
            s.feed(text[k])
        s.feed(text[3_000:9_000])
        for _ in range(500):
            assert s.backspace()
        s.feed(text[9_000:])
    assert lean.stream == ref.stream and lean.steps == 10_000 - 500
    for d in model.head_delays:
        lean.delay = ref.delay = d
        assert lean.echo == ref.echo, d
        assert np.abs(lean.confidence(0, lean.steps).astype(int)
                      - ref.confidence(0, ref.steps).astype(int)).max() <= 1
    assert np.abs(lean.hidden.numpy() - ref.hidden.numpy()).max() < 1e-5
    for s in (lean, ref):
        s.reset()
        s.feed(text[:300])
    assert lean.echo == ref.echo and np.abs(lean.hidden.numpy() - ref.hidden.numpy()).max() < 1e-5


def test_the_compiled_exp_is_as_close_as_libm():
    from echo_tui.core.kernels import fexp
    import numba

    @numba.njit
    def exps(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = fexp(x[i])
        return out

    x = np.concatenate([np.linspace(-87, 88, 200_001), [0.0, -1e-8, 1e-8]]).astype(np.float32)
    exact = np.exp(x.astype(np.float64))
    assert np.abs(exps(x) / exact - 1).max() < 2e-7
    # beyond float32's range it saturates, never inf or nan, so a sigmoid stays in [0, 1]
    assert np.all(np.isfinite(exps(np.array([-1e30, -200, 200, 1e30], np.float32))))


@pytest.mark.parametrize("classes", [1, 5, 16, 17, 96, 97])
def test_each_heads_answer_is_the_first_largest_logit(classes):
    from echo_tui.core.kernels import answers

    rng = np.random.default_rng(classes)
    logits = rng.standard_normal((300, 3, classes)).astype(np.float32)
    logits[:100] = np.round(logits[:100])  # many ties: the first of them is the answer
    pred, conf = np.empty((300, 3), np.int64), np.empty((300, 3), np.uint8)
    answers(logits, pred, conf)
    assert np.array_equal(pred, logits.argmax(-1))
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    exact = np.rint(255 / probs.sum(-1).astype(np.float64))
    assert np.abs(conf - exact).max() <= 1 and np.mean(conf == exact) > 0.99


def test_pastes_overlapping_from_two_threads_give_torch_its_thread_count_back():
    """Two sessions feeding at once (the keys' worker and the training relay's re-echo) each
    hold torch to one thread for their heads; the count from before comes back only when the
    last leaves, whatever order they leave in (each saving its own 'before' left it at 1)."""
    from echo_tui.core.engine import OneTorchThread

    owner, was = OneTorchThread(), torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        first, second = owner.held(), owner.held()
        first.__enter__()
        second.__enter__()
        assert torch.get_num_threads() == 1
        first.__exit__(None, None, None)
        assert torch.get_num_threads() == 1  # the second is still inside
        second.__exit__(None, None, None)
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(was)
