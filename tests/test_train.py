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



@pytest.mark.parametrize("stride", [1, 2, 3])
def test_stride_steps_in_a_row_score_every_position_of_a_chunk_once(stride):
    chunk = list(range(32))
    for first in (0, 7):  # from any step on
        scored = [i for step in range(first, first + stride)
                  for i in chunk[train_module.scored_positions(step, stride)]]
        assert sorted(scored) == chunk


def test_a_head_stride_below_one_is_refused_by_name():
    from trainer.config import ConfigError, validate

    with pytest.raises(ConfigError, match="^head_stride 0 is out of range: use 1 to 4096$"):
        validate(replace(RECIPES["lesson"], head_stride=0))


def test_the_wilson_bound_only_rises_with_more_characters_at_the_same_errors():
    # what lets a count stop early: a bound short of the target at the most characters a count
    # can reach is short at every smaller count too
    from trainer.evaluate import lower_bound

    for errors in (0, 1, 3, 20):
        bounds = [lower_bound(n - errors, n) for n in range(max(errors, 1), 200_000, 997)]
        assert bounds == sorted(bounds)


def test_a_count_that_cannot_clear_the_target_stops_early_with_the_same_verdict():
    from trainer.evaluate import lower_bound, seed_counts
    from trainer.train import build_model

    model = build_model(tiny()).eval()  # untrained: about 1 in 27 right
    full = seed_counts(model, 50_000, seed=3)
    cut = seed_counts(model, 50_000, seed=3, must_clear=0.9999)
    assert max(t for _, t in cut.values()) < 50_000 <= min(t for _, t in full.values())
    assert min(lower_bound(c, t) for c, t in full.values()) < 0.9999
    assert min(lower_bound(c, t) for c, t in cut.values()) < 0.9999


def test_a_count_that_can_clear_the_target_is_counted_whole(fixed_model):
    from trainer.evaluate import seed_counts

    full = seed_counts(fixed_model, 100_000, seed=3)
    assert seed_counts(fixed_model, 100_000, seed=3, must_clear=0.999) == full
    # the shipped model errs a few times in 100,000: 99.999% cannot be shown, the count stops
    cut = seed_counts(fixed_model, 100_000, seed=3, must_clear=0.99999)
    assert sum(t for _, t in cut.values()) < sum(t for _, t in full.values())


@pytest.mark.parametrize("trained", [True, False])
def test_a_count_that_just_clears_the_target_is_never_cut(trained, variable_model):
    # the short delays compare more characters per string than the longest: each delay's count
    # must be bounded on its own, or a pass at delay 0 would be cut short as a failure
    from trainer.evaluate import lower_bound, seed_counts
    from trainer.train import build_model

    model = variable_model if trained else build_model(
        replace(RECIPES["variable"], hidden=8)).eval()
    full = seed_counts(model, 50_000, seed=5)
    just = min(lower_bound(c, t) for c, t in full.values())
    assert seed_counts(model, 50_000, seed=5, must_clear=just) == full


def test_head_weights_grow_with_the_delay_and_average_one():
    import torch

    delays = torch.arange(17)
    assert train_module.head_weights(delays, 16, 0.0) is None
    w = train_module.head_weights(delays, 16, 1.0)
    assert float(w.mean()) == pytest.approx(1.0)
    assert float(w[16] / w[0]) == pytest.approx(2.0)  # 1 + slope at the longest delay
    assert torch.all(w[1:] > w[:-1])


def test_the_weighed_loss_is_each_heads_mean_loss_weighed():
    import torch

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 4, 7, generator=g)
    targets = torch.randint(0, 7, (3, 5, 4), generator=g)
    plain = train_module.head_loss(logits, targets, None)
    assert torch.allclose(train_module.head_loss(logits, targets, torch.ones(4)), plain)
    w = torch.tensor([0.5, 1.0, 1.0, 1.5])
    per_head = torch.stack([torch.nn.functional.cross_entropy(logits[:, :, h].reshape(-1, 7),
                                                              targets[:, :, h].reshape(-1))
                            for h in range(4)])
    assert torch.allclose(train_module.head_loss(logits, targets, w), (per_head * w).mean())


def test_checks_that_stop_once_decided_leave_the_run_as_whole_checks_would(monkeypatch):
    # a check stops as soon as its answers (widen the curriculum? cut the step? met the
    # target?) are all no; the run must go on exactly as after whole checks, only cheaper
    import torch

    from trainer import evaluate

    cfg = replace(RECIPES["variable"], hidden=24, delay=4, batch=16, chunk=8, lr=1e-2,
                  curriculum=1, curriculum_step=1, max_steps=240, eval_every=20,
                  heldout_chars=40_000, seed=2)  # 3 passes of 1,024 strings a check
    counted = []
    whole_counts = evaluate.seed_counts

    def counting(model, n_chars=100_000, *args, **kw):
        out = whole_counts(model, n_chars, *args, **kw)
        counted.append(sum(t for _, t in out.values()))
        return out

    monkeypatch.setattr(evaluate, "seed_counts", counting)
    monkeypatch.setattr(train_module, "seed_counts", counting)
    model, p = train_module.train(cfg)
    cheap, cheap_counted = [t.clone() for t in model.parameters()], counted[:]
    counted.clear()
    monkeypatch.setattr(train_module, "_questions", lambda *a: [])
    whole_model, whole = train_module.train(cfg)
    assert (p.step, p.trained_delay) == (whole.step, whole.trained_delay)
    assert p.trained_delay > cfg.curriculum  # the curriculum widened: checks said yes too
    assert all(torch.equal(a, b) for a, b in zip(cheap, whole_model.parameters()))
    assert sum(cheap_counted) < 0.8 * sum(counted)  # and most checks stopped early


@pytest.mark.parametrize("trained", [True, False])
def test_a_check_whose_answer_is_just_yes_is_counted_whole(trained, variable_model):
    # each delay's errors are bounded against its own most characters: a worst delay right at
    # a threshold is a yes, and its count must not be cut as a no
    from trainer.evaluate import seed_accuracies, seed_counts
    from trainer.train import build_model

    model = variable_model if trained else build_model(
        replace(RECIPES["variable"], hidden=8)).eval()
    full = seed_counts(model, 50_000, seed=5)
    acc = seed_accuracies(model, 50_000, seed=5)
    for n in (1, 4, 9):
        just = min(acc[d] for d in range(n))
        assert seed_counts(model, 50_000, seed=5, decides=[(just, n), (1.0, 9)]) == full
        if trained:
            continue
        # an eighth of the errors allowed is a no that the first of 5 passes shows: cut there
        above = 1 - (1 - just) / 8
        cut = seed_counts(model, 50_000, seed=5, decides=[(above, n)])
        assert 5 * sum(t for _, t in cut.values()) == sum(t for _, t in full.values())
        assert min(c / t for c, t in list(cut.values())[:n]) < above


def test_a_check_asks_what_the_run_decides_by_it():
    import time

    cfg = replace(RECIPES["text"], max_steps=1_000)
    now = time.perf_counter()
    p = train_module.Progress(step=10, trained_delay=4)
    # in the curriculum: widen (the trained heads at 99%)? cut the step (every head at 99.9%)?
    assert train_module._questions(cfg, p, 17, False, now) == [(0.99, 5), (0.999, 17)]
    assert train_module._questions(cfg, p, 17, True, now) == [(0.99, 5)]
    p.trained_delay = 16  # the curriculum done: the target, over every head
    assert train_module._questions(cfg, p, 17, True, now) == [(0.9999, 17)]
    p.step = 1_000  # the last check decides nothing: it is counted whole, for the record
    assert train_module._questions(cfg, p, 17, False, now) == []
