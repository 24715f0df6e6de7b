"""The stop rule: a check that passes on a small sample is confirmed on characters first, and
only confident characters earn the (costlier) long-stream check."""

from dataclasses import replace

import pytest

from trainer.recipes import RECIPES
from trainer import train as train_module


@pytest.fixture
def checks(monkeypatch):
    seen = {"streams": 0}

    def counts(model, chars, **kw):
        return {d: seen["counts"] for d in model.head_delays}

    def streams(model, steps, **kw):
        seen["streams"] += 1
        return {d: 1.0 for d in model.head_delays}

    monkeypatch.setattr(train_module, "seed_accuracies",
                        lambda model, chars, **kw: {d: 1.0 for d in model.head_delays})
    monkeypatch.setattr(train_module, "seed_counts", counts)
    monkeypatch.setattr(train_module, "stream_accuracies", streams)
    return seen


def tiny():
    return replace(RECIPES["fixed"], hidden=8, delay=1, batch=4, chunk=4, max_steps=20,
                   eval_every=5, seed=0)


def test_characters_short_of_confidence_skip_the_stream_check(checks):
    checks["counts"] = (9_999, 10_000)  # 99.99% on 10,000: its lower bound is below 99.99%
    _, p = train_module.train(tiny())
    assert checks["streams"] == 0 and p.heldout_stream == 0.0
    assert not p.reached and p.step == 20  # ran to --max-steps: never confident


def test_confident_characters_then_streams_stop_training(checks):
    checks["counts"] = (10_000_000, 10_000_000)
    _, p = train_module.train(tiny())
    assert checks["streams"] == 1 and p.heldout_stream == 1.0
    assert p.reached and p.step == 5  # the first check

