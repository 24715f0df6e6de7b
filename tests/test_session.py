"""EchoSession: streaming equals batch, undo is exact, storage stays bounded."""

from __future__ import annotations

import random

import numpy as np

import pytest
import torch
from helpers import batch_echo, fake_clock

from echo_tui import EchoSession
from echo_tui.core.session import Fed
from trainer.evaluate import random_text


def true_echo(text: str, d: int) -> str:
    return (" " * d + text)[:len(text)]


def test_typing_key_by_key_equals_batch_for_every_delay(variable_model):
    text = random_text(600, seed=1)
    s = EchoSession(variable_model)
    for ch in text:
        assert s.feed(ch).steps == 1
    assert s.stream == text and s.steps == 600
    for d in variable_model.head_delays:
        s.delay = d
        assert s.echo == batch_echo(variable_model, text, d)


def test_paste_equals_typing_across_chunks(variable_model):
    # 2,500 symbols: the batched path crosses two CHUNK boundaries
    text = random_text(2500, seed=2)
    typed, pasted = EchoSession(variable_model), EchoSession(variable_model)
    for ch in text:
        typed.feed(ch)
    assert pasted.feed(text).steps == 2500
    for d in variable_model.head_delays:
        typed.delay = pasted.delay = d
        assert pasted.echo == typed.echo == batch_echo(variable_model, text, d)
        assert pasted.correct == typed.correct
    # the paste's hidden state continues the stream as well as the typed one does
    pasted.feed("hello")
    typed.feed("hello")
    assert torch.allclose(pasted.hidden, typed.hidden, atol=1e-5)
    assert pasted.echo == typed.echo == batch_echo(variable_model, text + "hello", 8)


@pytest.mark.parametrize("between", ["nothing", "a key", "a backspace", "a reset", "a paste"])
def test_a_hint_of_the_next_paste_changes_nothing_whatever_comes_first(text_model, between):
    text = random_text(3_000, symbols=text_model.alphabet.symbols, seed=12)
    hinted, plain = EchoSession(text_model), EchoSession(text_model)
    for s in (hinted, plain):
        s.feed(text[:500])
    hinted.feed_ahead(text[500:])
    for s in (hinted, plain):
        {"nothing": lambda: None, "a key": lambda: s.feed("x"), "a backspace": s.backspace,
         "a reset": s.reset, "a paste": lambda: s.feed(text[:700])}[between]()
        s.feed(text[500:])
    assert hinted.stream == plain.stream and hinted.correct == plain.correct
    for d in text_model.head_delays:
        hinted.delay = plain.delay = d
        assert hinted.echo == plain.echo
    assert torch.equal(hinted.hidden, plain.hidden)
    assert hinted.engine._ahead is None  # used, or dropped


def test_random_streams_and_delays_match_batch(variable_model, fixed_model):
    rng = random.Random(7)
    for _ in range(12):
        model = rng.choice([variable_model, fixed_model])
        text = random_text(rng.randint(1, 120), seed=rng.randint(0, 10**6))
        d = rng.choice(model.head_delays)
        s = EchoSession(model, d)
        pieces = text
        while pieces:  # a mix of keys and pastes
            k = rng.choice([1, 1, 1, 3, 9, 40])
            s.feed(pieces[:k])
            pieces = pieces[k:]
        assert s.echo == batch_echo(model, text, d)
        expected = sum(a == b for a, b in zip(s.echo[d:], text[:len(text) - d]))
        assert s.correct == expected
        assert s.accuracy == pytest.approx(expected / (len(text) - d) if len(text) > d else 0.0)


def test_backspace_restores_the_hidden_state_exactly(variable_model):
    s = EchoSession(variable_model)
    s.feed("abacab")
    before = s.hidden.clone()
    s.feed("x")
    assert not torch.equal(s.hidden, before)
    assert s.backspace() is True
    assert torch.equal(s.hidden, before)
    assert s.stream == "abacab" and s.steps == 6


def test_backspace_into_a_paste_and_retype(variable_model):
    text = random_text(1500, seed=3)
    s = EchoSession(variable_model)
    s.feed(text)
    states = {}
    ref = EchoSession(variable_model)
    for i, ch in enumerate(text):
        if i in (1499, 1024, 1023, 700):
            states[i] = ref.hidden.clone()
        ref.feed(ch)
    for n in range(1500, 699, -1):
        if n in states:
            assert torch.allclose(s.hidden, states[n], atol=1e-5)
        assert s.backspace()
    assert s.stream == text[:699] and s.steps == 699
    s.feed("zzz")
    assert s.echo == batch_echo(variable_model, text[:699] + "zzz", s.delay)
    assert s.correct == sum(a == b for a, b in zip(s.echo[s.delay:], s.stream))


def test_reset_forgets_stream_state_and_counts(variable_model):
    s = EchoSession(variable_model, 2)
    s.feed("hello world")
    s.reset()
    assert (s.stream, s.echo, s.steps, s.accuracy, s.scored) == ("", "", 0, 0.0, 0)
    assert torch.equal(s.hidden, torch.zeros(variable_model.hidden_size))
    assert s.delay == 2  # the delay survives a reset
    s.feed("abc")
    assert s.echo == batch_echo(variable_model, "abc", 2)


def test_out_of_alphabet_keys_are_no_step_and_upper_case_folds(variable_model):
    s = EchoSession(variable_model)
    assert s.feed("1") == Fed(0, 1, "1")
    assert s.feed("Ab c!") == Fed(3, 2, "!")
    assert s.stream == "abc" and s.skipped == 3
    assert s.feed("é") == Fed(0, 1, "é")  # non-ASCII takes the slow path
    assert s.feed("d") == Fed(1) and s.feed("") == Fed(0)


def test_changing_the_delay_rerenders_without_rerun(variable_model):
    s = EchoSession(variable_model, 0)
    text = "abacabadabacaba"
    s.feed(text)
    for d in (3, 8, 0, 5):
        s.delay = d
        assert s.echo == batch_echo(variable_model, text, d)
        assert s.stream == text
    s.delay = 3
    assert s.true_echo() == true_echo(text, 3)
    typed, echo, wrong = s.window(0, len(text))
    assert typed == text
    assert list(wrong) == [a != b for a, b in zip(echo, true_echo(text, 3))]


def test_bad_delays_are_refused_with_clear_messages(variable_model, fixed_model):
    s = EchoSession(variable_model)
    assert s.delay == 4  # mid-range by default
    with pytest.raises(ValueError, match=r"^delay 9 is outside 0\.\.8$"):
        s.delay = 9
    with pytest.raises(TypeError, match="whole number"):
        s.delay = 2.5
    f = EchoSession(fixed_model)
    assert f.delay == 4 and f.delays == (4,)
    with pytest.raises(ValueError, match=r"^this fixed-delay model echoes at delay 4 only, not 3$"):
        f.delay = 3
    with pytest.raises(ValueError):
        EchoSession(fixed_model, 0)


def test_undo_window_is_bounded_and_refuses_past_it(variable_model):
    s = EchoSession(variable_model, undo_steps=5, keep_steps=50)
    s.feed("abcdefgh")
    assert s.undo_depth == 5
    for _ in range(5):
        assert s.backspace()
    assert s.backspace() is False and s.steps == 3 and s.stream == "abc"
    s.feed("x")
    assert s.undo_depth == 1 and s.backspace() and not s.backspace()
    empty = EchoSession(variable_model)
    assert empty.backspace() is False


def test_kept_window_is_bounded_and_counts_stay_whole(variable_model):
    # keep 300 steps; feed 5,000 in a mix of keys and pastes: buffers compact many times
    text = random_text(5000, seed=4)
    s = EchoSession(variable_model, 2, undo_steps=100, keep_steps=300)
    i = 0
    while i < len(text):
        k = 1 if (i // 500) % 2 else 700
        s.feed(text[i:i + k])
        i += k
    assert s.steps == 5000 and s.kept == 300 and s.first_kept == 4700
    assert len(s._rows.ids) <= 300 + 8 + 1024  # keep + margin + slack: bounded
    assert s.stream == text[-300:]
    full = batch_echo(variable_model, text, 2)
    assert s.echo == full[-300:]
    assert s.correct == sum(a == b for a, b in zip(full[2:], text))
    _, echo, wrong = s.window(4700, 4710)
    assert list(wrong) == [a != b for a, b in zip(echo, text[4698:4708])]
    with pytest.raises(IndexError):
        s.window(4000, 4010)


def test_latency_is_measured_per_step(variable_model):
    s = EchoSession(variable_model, clock=fake_clock(1e-4))
    assert s.last_step_s is None
    s.feed("a")
    assert s.last_step_s == pytest.approx(1e-4) and s.last_feed_steps == 1
    s.feed("abcdefghij")
    assert s.last_step_s == pytest.approx(1e-5) and s.last_feed_steps == 10


# -- what was typed, skip marks, confidence, memory history -------------------------------------

def test_typed_keeps_the_text_as_typed_and_marks_where_keys_were_skipped(variable_model):
    s = EchoSession(variable_model, 2)
    assert s.feed("Hi ,Bob!") == Fed(5, 3, "!")
    assert s.feed("é") == Fed(0, 1, "é")
    assert s.stream == "hibob" and s.typed == "Hi ,Bob!é" and s.pending == "!é"
    counts, last = s.skips(0, 5)
    assert counts.tolist() == [0, 0, 2, 0, 0] and last == "  ,  "  # " ," came before 'b'
    assert s.skipped == 4


def test_the_same_skips_whether_typed_or_pasted(variable_model):
    text = "The quick, brown fox -- jumps!! over 12 lazy dogs.\n" * 30
    typed, pasted = EchoSession(variable_model), EchoSession(variable_model)
    for ch in text:
        typed.feed(ch)
    pasted.feed(text)
    assert typed.typed == pasted.typed == text
    assert typed.stream == pasted.stream
    for a, b in zip(typed.skips(0, typed.steps), pasted.skips(0, pasted.steps)):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def test_backspace_takes_back_a_step_with_the_skipped_keys_typed_after_it(variable_model):
    s = EchoSession(variable_model)
    s.feed("ab, c.")
    assert s.backspace()  # 'c' and the '.' after it; the ', ' before it stays
    assert s.stream == "ab" and s.typed == "ab, " and s.pending == ", "
    s.feed("d")
    assert s.typed == "ab, d" and s.skips(2, 3)[0].tolist() == [2]
    assert s.backspace() and s.backspace() and s.typed == "a"
    assert s.backspace() and (s.typed, s.steps) == ("", 0)
    s.feed("!?")  # skipped keys with no step before them: a backspace takes them back too
    assert s.pending == "!?" and s.backspace() and s.typed == ""
    assert not s.backspace()  # nothing left


def test_deleted_keys_never_come_back_with_a_model_switch(variable_model, text_model):
    """The issue's case: 'a!b', two backspaces, and the '!' was re-fed to the text model."""
    s = EchoSession(variable_model)
    for ch in "a!b":
        s.feed(ch)
    assert s.backspace() and s.backspace()
    assert s.typed == "" and s.skips(0, 0)[0].tolist() == [] and s.pending == ""
    other = EchoSession(text_model)
    other.feed(s.typed)
    assert other.stream == ""


def test_a_flood_of_skipped_keys_is_counted_but_not_all_kept(variable_model):
    from echo_tui.core.session import MAX_GAP

    s = EchoSession(variable_model)
    s.feed("a" + "1" * (3 * MAX_GAP) + "b" + "2" * 10)
    s.feed("3" * (2 * MAX_GAP))
    assert s.skipped == 5 * MAX_GAP + 10
    assert s.typed == "a" + "1" * MAX_GAP + "b" + ("2" * 10 + "3" * (2 * MAX_GAP))[-MAX_GAP:]
    assert s.skips(1, 2)[0].tolist() == [MAX_GAP] and len(s.pending) == MAX_GAP


def test_typed_survives_compaction(variable_model):
    text = "".join(f"{ch}{'.' if i % 7 == 0 else ''}" for i, ch in
                   enumerate(random_text(3000, seed=9)))
    s = EchoSession(variable_model, undo_steps=50, keep_steps=400)
    for k in range(0, len(text), 97):
        s.feed(text[k:k + 97])
    assert s.first_kept > 0 and s.stream == text.replace(".", "")[-400:]
    assert text.endswith(s.typed) and s.typed.replace(".", "") == s.stream
    assert s.skips(s.first_kept, s.steps)[0].sum() == s.typed.count(".")


def test_confidence_is_each_heads_probability_for_its_answer(variable_model):
    text = random_text(300, seed=5)
    s = EchoSession(variable_model)
    s.feed(text[:150])
    for ch in text[150:]:
        s.feed(ch)
    ids = torch.tensor([variable_model.alphabet.encode(text)])
    with torch.no_grad():
        probs = variable_model.all_heads(variable_model.memory(ids)[0])[0].softmax(-1)
    for d in (0, 4, 8):
        want = (probs[:, d].max(-1).values * 255).round().to(torch.uint8).numpy()
        got = s.confidence(0, 300, delay=d)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, d
        s.delay = d
        assert s.mean_confidence == pytest.approx(got.sum() / (255 * 300))
    assert s.backspace() and s.mean_confidence == pytest.approx(
        s.confidence(0, 299).sum() / (255 * 299))


def test_history_gives_the_state_after_each_step(variable_model):
    text = random_text(40, seed=6)
    s = EchoSession(variable_model, undo_steps=30, keep_steps=100)
    s.feed(text[:25])
    for ch in text[25:]:
        s.feed(ch)
    ids = torch.tensor([variable_model.alphabet.encode(text)])
    with torch.no_grad():
        states = variable_model.memory(ids)[0][0].numpy()
    got = s.history(9, 40)  # the oldest kept: the state the 30 undoable steps started from
    assert np.allclose(got, states[9:40], atol=1e-5)
    with pytest.raises(IndexError):
        s.history(8, 40)
    s.backspace()
    assert np.allclose(s.history(30, 39), states[30:39], atol=1e-5)
