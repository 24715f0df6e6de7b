"""echo-train at any size: its settings have ranges and a memory bound, its threads follow the
cores it was given, and --max-seconds and Ctrl-C are honoured while a step is still running.

A "step" here is a fake training's sleep of a minute in the worker thread, standing for one
long call into PyTorch at hidden 4096 (`python -m trainer.bench.stops` times the real one).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from trainer import cli
from trainer.config import (ALPHABET_SIZES, RANGES, ConfigError, TrainConfig, check_memory,
                            memory_needed, validate)
from trainer.recipes import RECIPES, config
from trainer.threads import configure_waiting, cores, use_threads

# a training whose first step never ends: it publishes the model, then sleeps in the worker
SLOW_TRAIN = textwrap.dedent("""
    import sys, time
    import trainer.train
    from trainer.train import Progress, build_model

    def slow(cfg, on_progress=None, on_check=None, control=None):
        model, p = build_model(cfg), Progress(step=7, samples=7)
        control.model, control.progress = model, p
        print("step under way", flush=True)
        time.sleep(60)

    trainer.train.train = slow
    from trainer.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def run_slow(tmp_path, *args: str, interrupt: bool = False):
    """The command with SLOW_TRAIN: (exit status, output, seconds from the step's start to the
    end, or to Ctrl-C's answer)."""
    out = tmp_path / "m.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_TRAIN, "fixed", "--hidden", "8", "--device", "cpu",
         "--out", str(out), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "step under way" in line:
            break
    started = time.monotonic()
    if interrupt:
        proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=30)
    took = time.monotonic() - started
    return code, "".join(lines) + proc.stdout.read(), took, out


def test_max_seconds_ends_training_in_the_middle_of_a_step(tmp_path):
    code, output, took, out = run_slow(tmp_path, "--max-seconds", "1")
    assert code == 0 and out.exists(), output
    assert took < 1 + 2, f"it took {took:.1f} s"
    assert ("echo-train: warning: stopped by --max-seconds 1 at step 7 (step 8 was under way "
            "and is left out): no held-out check had run yet; the file is written anyway") in output


def test_ctrl_c_ends_a_run_whose_step_is_still_running(tmp_path):
    code, output, took, out = run_slow(tmp_path, "--max-seconds", "600", interrupt=True)
    assert code == 130 and not out.exists(), output
    assert took < 2, f"it took {took:.1f} s"
    assert "echo-train: interrupted; nothing written" in output and "Traceback" not in output


def test_every_setting_has_a_range_and_every_recipe_keeps_to_them():
    numbers = [f.name for f in dataclasses.fields(TrainConfig)
               if f.name not in ("kind", "cell", "alphabet", "device", "orthogonal")]
    others = ["threads", "chars", "streams", "stream_steps"]  # --threads; eval's
    assert sorted(numbers + others) == sorted(RANGES)
    for cfg in RECIPES.values():
        assert validate(cfg) is cfg


def test_the_alphabet_sizes_the_estimate_uses_are_the_alphabets():
    from trainer.alphabet import Alphabet

    assert {name: len(Alphabet.named(name)) for name in ALPHABET_SIZES} == ALPHABET_SIZES


@pytest.mark.parametrize("argv, message", [
    (["fixed", "--batch", "1000000000"], "--batch 1000000000 is out of range: use 1 to 65536"),
    (["fixed", "--seed", "99999999999999999999999"],
     "--seed 99999999999999999999999 is out of range: use 0 to 4294967295"),
    (["fixed", "--chunk", "1000000"], "--chunk 1000000 is out of range: use 1 to 4096"),
    (["fixed", "--threads", "0"], "--threads 0 is out of range: use 1 to 1024"),
    (["variable", "--max-seconds", "inf"],
     "--max-seconds inf is out of range: use more than 0, up to 1000000"),
    (["fixed", "--lr", "1e12"], "--lr 1e+12 is out of range: use more than 0, up to 10"),
])
def test_hostile_settings_are_refused_in_one_line(capsys, tmp_path, argv, message):
    assert cli.main(argv + ["--out", str(tmp_path / "x")]) == 2
    out, err = capsys.readouterr()
    assert err == f"echo-train: error: {message}\n" and out == ""


def test_a_run_larger_than_the_memory_available_is_refused_naming_its_estimate(capsys, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setattr("trainer.config.available_memory", lambda: 8 * 10**9)
    assert cli.main(["fixed", "--batch", "60000", "--hidden", "4096",
                     "--out", str(tmp_path / "x")]) == 2
    need = memory_needed(config("fixed", batch=60000, hidden=4096))
    assert capsys.readouterr().err == (
        f"echo-train: error: this run needs about {need / 1e9:,.1f} GB of memory (batch 60000 × "
        "chunk 16 × hidden 4096) and this machine has 8.0 GB available: use a smaller --batch, "
        "--chunk or --hidden\n")
    with pytest.raises(ConfigError) as e:
        check_memory(config("text"), available=10**6)
    assert e.value.field == "memory" and e.value.value == memory_needed(config("text"))
    assert check_memory(config("text"), available=10**10) == config("text")


# the peak a training adds (VmHWM, this process's own high-water mark: ru_maxrss would carry
# the parent's over the fork and exec)
PEAK = textwrap.dedent("""
    import json, sys
    import torch
    from trainer.recipes import config
    from trainer.train import train

    def peak():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

    torch.set_num_threads(1)
    cfg = config(sys.argv[1], **json.loads(sys.argv[2]))
    before = peak()
    train(cfg)
    print(peak() - before)
""")


@pytest.mark.parametrize("recipe, settings", [
    ("fixed", '{"batch": 512, "chunk": 64, "max_steps": 2, "eval_every": 1000}'),
    ("text", '{"hidden": 256, "batch": 128, "chunk": 64, "curriculum": null, "max_steps": 2, '
             '"eval_every": 1, "heldout_chars": 2000}'),
])
def test_the_memory_estimate_covers_the_measured_peak(recipe, settings):
    import json

    grew = int(subprocess.run([sys.executable, "-c", PEAK, recipe, settings], check=True,
                              capture_output=True, text=True).stdout)
    estimate = memory_needed(config(recipe, **json.loads(settings)))
    assert grew <= estimate <= 4 * grew + 200 * 2**20, (grew, estimate)


def test_threads_follow_the_cores_and_wait_asleep():
    assert cores() == len(os.sched_getaffinity(0))
    before = torch.get_num_threads()
    try:
        assert use_threads(1) == 1 and torch.get_num_threads() == 1
        assert use_threads() == cores() == torch.get_num_threads()
        with pytest.raises(ValueError, match="threads 0 must be at least 1"):
            use_threads(0)
    finally:
        torch.set_num_threads(before)
    said = subprocess.run(
        [sys.executable, "-c", "import os, torch, trainer; "
         "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'), "
         "torch.get_num_threads())"],
        capture_output=True, text=True, check=True,
        env={k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")})
    assert said.stdout.split()[:2] == ["PASSIVE", "1000"]
    # the policy is set before torch loads when trainer comes first; a person's own stays
    env = {**os.environ, "OMP_WAIT_POLICY": "ACTIVE"}
    said = subprocess.run([sys.executable, "-c", "import os, trainer; "
                           "print(os.environ['OMP_WAIT_POLICY'])"], env=env,
                          capture_output=True, text=True, check=True)
    assert said.stdout.strip() == "ACTIVE"
    assert configure_waiting() == (os.environ.get("OMP_WAIT_POLICY") == "PASSIVE" and
                                   os.environ.get("GOMP_SPINCOUNT") == "1000")


def test_threads_option_sets_the_training_threads(tmp_path, monkeypatch):
    seen = {}

    def fake_train(cfg, **_):
        seen["threads"] = torch.get_num_threads()
        raise KeyboardInterrupt

    before = torch.get_num_threads()
    monkeypatch.setattr("trainer.train.train", fake_train)
    try:
        assert cli.main(["fixed", "--threads", "1", "--device", "cpu",
                         "--out", str(tmp_path / "x")]) == 130
    finally:
        torch.set_num_threads(before)
    assert seen["threads"] == 1


def test_a_checks_pass_is_bounded_at_hidden_4096_and_no_recipe_is_cut():
    from trainer.evaluate import PASS_FLOPS, check_lengths, step_flops
    from trainer.train import build_model

    for name, cfg in RECIPES.items():  # their checks are as they always were: 1,024 strings
        model = build_model(cfg)
        assert 1024 * check_lengths(model)[1] * step_flops(model) <= PASS_FLOPS, name
    big = build_model(config("text", hidden=4096))
    per_string = check_lengths(big)[1] * step_flops(big)
    assert 1 <= PASS_FLOPS // per_string <= 16
