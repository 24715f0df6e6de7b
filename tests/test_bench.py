import json
import math
import subprocess

import pytest
import torch

from trainer import N, idx_to_onehot
from trainer import baselines, bench
from trainer.cli import main
from trainer.data import echo_target
from trainer.evaluate import seed_accuracies, stream_accuracies


# -- the quick benchmark, end to end -----------------------------------------------------------

@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    assert main(["bench", "--quick", "--json", str(path), "--device", "cpu"]) == 0
    return json.loads(path.read_text())


def test_quick_bench_names_the_machine(quick):
    m = quick["machine"]
    assert quick["quick"] is True
    assert m["cpu"] and m["cores"] >= 1 and m["torch"] == torch.__version__
    assert m["device"] == "cpu" and m["train_threads"] >= 1


@pytest.mark.parametrize("kind,delays", [("fixed", {"4"}), ("variable", set(map(str, range(9))))])
def test_quick_bench_training_figures_are_consistent(quick, kind, delays):
    section = quick["training"][kind]
    assert set(section) == {"ours", "baseline", "speedup"}
    assert section["ours"]["name"] == "echo-gru"
    assert section["baseline"]["name"] == {"fixed": "homework", "variable": "published"}[kind]
    for run in (section["ours"], section["baseline"]):
        assert run["train_seconds"] > 0 and run["eval_seconds"] > 0
        assert run["checks"] >= 1 and run["steps"] >= 1 and run["samples"] >= run["steps"]
        # a capped run stops at the first check past its cap (ours counts its checks in it)
        assert run["train_seconds"] <= run["cap_s"] + 2 * run["check_spacing_s"] + 1
        assert 0 <= run["final_heldout"] <= 1
        assert set(run["stream_accuracy_per_delay"]) == delays
        assert all(0 <= a <= 1 for a in run["stream_accuracy_per_delay"].values())
        assert run["stream_accuracy"] == min(run["stream_accuracy_per_delay"].values())
        times = [run["time_to"][bench.key(x)] for x in bench.THRESHOLDS]
        reached = [t for t in times if t is not None]
        assert all(0 < t <= run["train_seconds"] + 1e-9 for t in reached)
        assert reached == sorted(reached)  # a higher bar is never cleared sooner
        assert times[len(reached):] == [None] * (len(times) - len(reached))
    for x in bench.THRESHOLDS:
        ours, theirs = (section[w]["time_to"][bench.key(x)] for w in ("ours", "baseline"))
        r = section["speedup"][bench.key(x)]
        if ours is None:
            assert r == {"value": None, "lower_bound": False}
        elif theirs is None:
            assert r["lower_bound"] and r["value"] == pytest.approx(
                section["baseline"]["cap_s"] / ours)
        else:
            assert not r["lower_bound"] and r["value"] == pytest.approx(theirs / ours)


def test_quick_bench_streaming_figures(quick):
    s = quick["streaming"]
    assert s["threads"] == 1 and s["model"]
    assert s["steps"] == s["paste_keys_symbols"] >= 2000
    assert 0 < s["step_median_us"] <= s["step_p99_us"]
    assert s["paste_symbols"] >= s["paste_keys_symbols"]
    assert s["paste_batched_per_s"] > 0 and s["paste_keys_per_s"] > 0
    # a key costs at least its one-step call, so key-by-key cannot beat the median call rate
    assert s["paste_keys_per_s"] <= 1e6 / s["step_median_us"] * 1.5
    assert s["outputs_match"] is True


def test_quick_bench_app_section_and_targets(quick):
    a = quick["app"]
    assert set(bench.APP_KEYS) <= set(a)
    if a["available"]:
        assert a["error"] is None
        assert all(a[k] is None or a[k] > 0 for k in bench.APP_KEYS)
    else:
        assert a["error"] and all(a[k] is None for k in bench.APP_KEYS)
    rows = quick["targets"]
    assert len(rows) == 7 and all(isinstance(r["met"], bool) for r in rows)
    s = quick["streaming"]
    by_name = {r["target"]: r for r in rows}
    median = next(r for name, r in by_name.items() if "median" in name)
    assert median["value"] == s["step_median_us"]
    assert median["met"] == (s["step_median_us"] <= bench.TARGET_STEP_MEDIAN_US)


# -- the pieces --------------------------------------------------------------------------------

def test_time_to_reads_training_seconds_at_the_first_check_reaching_the_bar():
    # (wall seconds, eval seconds so far, samples, held-out accuracy)
    history = [(1.5, 0.5, 10, 0.5), (3.0, 1.0, 20, 0.995), (4.0, 1.2, 30, 0.98),
               (6.0, 1.5, 40, 0.9999)]
    assert bench.time_to(history, 0.99) == pytest.approx(2.0)
    assert bench.time_to(history, 0.999) == pytest.approx(4.5)
    assert bench.time_to(history, 0.9999) == pytest.approx(4.5)
    assert bench.time_to(history, 0.99999) is None
    assert bench.time_to([], 0.99) is None


def test_speedup_is_a_bound_from_the_cap_when_the_baseline_never_got_there():
    assert bench.speedup(2.0, 10.0, cap_s=180) == (5.0, False)
    assert bench.speedup(2.0, None, cap_s=180) == (90.0, True)
    assert bench.speedup(None, 10.0, cap_s=180) == (None, False)


def test_app_figures_come_from_the_subprocess_last_line(monkeypatch):
    figures = {k: 1.5 for k in bench.APP_KEYS}
    done = subprocess.CompletedProcess([], 0, stdout="starting\n" + json.dumps(figures) + "\n",
                                       stderr="")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: done)
    a = bench.bench_app(quick=True, timeout_s=5)
    assert a["available"] and a["error"] is None and a["keystrokes_per_s"] == 1.5


def test_a_failing_app_benchmark_is_reported_not_raised(monkeypatch):
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="Traceback\nImportError: x\n")
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: failed)
    a = bench.bench_app(quick=True, timeout_s=5)
    assert not a["available"] and a["error"] == "ImportError: x"
    assert all(a[k] is None for k in bench.APP_KEYS)


def test_homework_data_is_the_seed_echo():
    torch.manual_seed(0)
    for seq, result in baselines.SeedEchoDataset(delay=4, seq_length=15, size=20):
        assert seq.shape == (15,) and seq.min() >= 1 and seq.max() <= N
        assert torch.equal(result, echo_target(seq, 4))
    data, target = next(baselines.homework_fixed_batches(50))
    assert data.shape == target.shape == (50, 15)


def test_published_data_is_the_seed_variable_echo():
    seq, delays, result = next(baselines.published_variable_batches(64, 8, 20))
    assert seq.shape == result.shape == (64, 20) and delays.shape == (64,)
    assert 0 <= int(delays.min()) and int(delays.max()) <= 8
    for s, d, r in zip(seq, delays.tolist(), result):
        assert torch.equal(r, echo_target(s, d))


def test_homework_model_scores_through_the_shared_evaluator():
    torch.manual_seed(0)
    model = baselines.SeedGRUMemory(16).eval()
    ids = torch.randint(1, N + 1, (3, 25))
    logits, _ = model(idx_to_onehot(ids))
    out, _ = model.memory(ids)
    torch.testing.assert_close(model.all_heads(out)[:, :, 0], logits)
    acc = baselines.accuracies(seed_accuracies, model, 500, batch=64)
    assert set(acc) == {4} and 0 <= acc[4] <= 1
    assert set(baselines.accuracies(stream_accuracies, model, 100, 2)) == {4}


def test_published_model_views_answer_per_delay():
    torch.manual_seed(0)
    model = baselines.PublishedVariableGRU(16, max_delay=3).eval()
    ids = torch.randint(1, N + 1, (2, 20))
    for view in baselines.evaluable(model):
        d = view.head_delays[0]
        logits, _ = model(idx_to_onehot(ids), torch.full((2,), d))
        torch.testing.assert_close(view.all_heads(view.memory(ids)[0])[:, :, 0], logits)
    acc = baselines.accuracies(seed_accuracies, model, 200, batch=32)
    assert set(acc) == {0, 1, 2, 3} and all(0 <= a <= 1 for a in acc.values())


def test_a_baseline_run_keeps_checks_out_of_its_training_seconds():
    model, run = baselines.train_baseline("fixed", cap_s=0.3, check_every=5, heldout_chars=200,
                                          confirm_chars=400, heldout_seed=1)
    assert not model.training and run.history and run.seconds >= 0.3
    for wall, evals, _, acc in run.history:
        assert 0 < evals < wall and 0 <= acc <= 1
    wall, evals, samples, acc = run.history[-1]
    assert math.isclose(wall - evals, run.seconds) and samples == run.samples
    assert acc == run.heldout and run.samples == 50 * 15 * run.step
