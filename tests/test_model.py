import pytest
import torch

from factories import untrained
from trainer import GRUMemory, N, VariableDelayGRUMemory, idx_to_onehot
from trainer.evaluate import _score, seed_accuracies, seed_batches


def _stepwise(model, ids):
    """All heads' logits for (B, T) ids fed one step at a time: (B, T, heads, N+1)."""
    h, outs = None, []
    for t in range(ids.shape[1]):
        logits, h = model.step(ids[:, t], h)
        outs.append(logits)
    return torch.stack(outs, 1)


def test_shapes_follow_the_seed():
    m = GRUMemory(hidden_size=64, n_categories=N)
    x = idx_to_onehot(torch.randint(1, N + 1, (2, 15)))
    logits, h = m(x, None)
    assert logits.shape == (2, 15, N + 1) and h.shape == (1, 2, 64)
    assert m.delay == 4
    v = VariableDelayGRUMemory(hidden_size=32, max_delay=8)
    assert v(x, torch.tensor([0, 8])).shape == (2, 15, N + 1)
    assert v.max_delay == 8


@pytest.mark.parametrize("seed", range(3))
def test_fixed_step_equals_forward_on_random_prefixes(seed, fixed_model):
    for model in (untrained("fixed", seed), fixed_model):
        g = torch.Generator().manual_seed(seed)
        ids = torch.randint(1, N + 1, (3, int(torch.randint(1, 120, (), generator=g))), generator=g)
        batch, _ = model(idx_to_onehot(ids))
        stream = _stepwise(model, ids)[:, :, 0]
        assert torch.equal(stream.argmax(-1), batch.argmax(-1))
        torch.testing.assert_close(stream, batch, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_variable_step_equals_forward_for_every_delay(seed, variable_model):
    for model in (untrained("variable", seed), variable_model):
        g = torch.Generator().manual_seed(seed)
        ids = torch.randint(1, N + 1, (4, int(torch.randint(1, 120, (), generator=g))), generator=g)
        stream = _stepwise(model, ids)
        for d in range(model.max_delay + 1):
            batch = model(idx_to_onehot(ids), torch.full((4,), d))
            assert torch.equal(stream[:, :, d].argmax(-1), batch.argmax(-1)), d
            torch.testing.assert_close(stream[:, :, d], batch, rtol=1e-5, atol=1e-5)


def test_variable_forward_picks_each_rows_delay():
    model = untrained("variable")
    ids = torch.randint(1, N + 1, (3, 10))
    mixed = model(idx_to_onehot(ids), torch.tensor([0, 2, 5]))
    for row, d in enumerate([0, 2, 5]):
        torch.testing.assert_close(mixed[row], model(idx_to_onehot(ids[row:row + 1]), d)[0])


def test_test_run_keeps_length_and_blanks(fixed_model, variable_model):
    assert fixed_model.test_run("abacabadabacaba") == "    abacabadaba"
    assert variable_model.test_run("abacaba", 3) == "   abac"
    assert variable_model.test_run("abacaba", 0) == "abacaba"
    assert variable_model.test_run("ABACABA", 8) == " " * 7
    assert fixed_model.test_run("") == ""


def test_test_run_refuses_bad_input(variable_model, fixed_model):
    with pytest.raises(ValueError, match=r"delay 9 is outside 0\.\.8"):
        variable_model.test_run("abc", 9)
    with pytest.raises(ValueError, match=r"'1' is not in the alphabet 'abcdefghijklmnopqrstuvwxyz'"):
        fixed_model.test_run("ab1")


def test_alphabet_must_match_categories():
    with pytest.raises(ValueError, match="alphabet has 3 symbols but n_categories is 26"):
        GRUMemory(8, alphabet="abc")


@pytest.mark.parametrize("kind", ["fixed", "variable"])
def test_batched_seed_check_equals_test_run_loop(kind):
    model = untrained(kind, seed=4)
    fast = seed_accuracies(model, n_chars=300, seed=9, batch=16)
    counts = {d: [0, 0] for d in model.head_delays}
    for ids, lengths in seed_batches(model, seed=9, batch=16):
        for row, n in zip(ids.tolist(), lengths[:, 0].tolist()):
            s = model.alphabet.decode(row[:n])
            for d in model.head_delays:
                out = model.test_run(s) if kind == "fixed" else model.test_run(s, d)
                counts[d] = list(_score(s, out, d, *counts[d]))
        if min(t for _, t in counts.values()) >= 300:
            break
    for d, (correct, total) in counts.items():
        assert fast[d] == pytest.approx(correct / total, abs=1e-12)
