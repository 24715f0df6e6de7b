"""`python -m trainer.bench.trial`: the recipe trials and step profiles the README's training
tables were measured with."""

import json

import pytest

from trainer.bench import trial
from trainer.recipes import RECIPES, config

TINY = ["hidden=8", "batch=4", "chunk=8", "heldout_chars=500", "confirm_chars=1000",
        "heldout_stream_steps=200", "eval_every=5"]


def test_settings_are_set_with_their_fields_types():
    cfg = trial.with_settings(config("lesson"), ["head_stride=3", "lr=0.004", "orthogonal=false",
                                                 "curriculum=6"])
    assert (cfg.head_stride, cfg.lr, cfg.orthogonal, cfg.curriculum) == (3, 0.004, False, 6)
    assert cfg.hidden == RECIPES["lesson"].hidden  # the rest is the recipe's


@pytest.mark.parametrize("setting, message", [
    ("colour=red", "'colour=red' is not FIELD=VALUE with a training setting; the settings are: "
                   "kind, cell, "),
    ("hidden", "'hidden' is not FIELD=VALUE"),
    ("hidden=wide", "hidden=wide: not a whole number"),
    ("lr=fast", "lr=fast: not a number"),
    ("orthogonal=yes", "orthogonal=yes: not true or false"),
    ("head_stride=0", "head_stride 0 is out of range: use 1 to 4096"),
])
def test_a_bad_setting_is_refused_in_one_line(setting, message, capsys):
    assert trial.main(["fixed", setting]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trial: error: {message}") and err.count("\n") == 1


def test_a_trial_reports_the_run_it_trained(capsys):
    assert trial.main(["fixed", *TINY, "max_steps=20", "--threads", "1"]) == 0
    line, blob = capsys.readouterr().out.splitlines()
    r = json.loads(blob)
    assert r["steps"] == 20 and not r["reached"] and len(r["curve"]) == 4  # checks at 5..20
    assert line.startswith(f"fixed {' '.join(TINY)} max_steps=20, 1 thread: not reached after "
                           "20 steps")


def test_a_profile_times_each_phase_of_the_training_step(capsys):
    assert trial.main(["lesson", *TINY, "head_stride=2", "--profile", "3", "--threads", "1"]) == 0
    line, blob = capsys.readouterr().out.splitlines()
    ms = json.loads(blob)["ms"]
    assert list(ms) == list(trial.PHASES) and all(v > 0 for v in ms.values())
    assert line.endswith(f"({', '.join(f'{p} {v:.2f}' for p, v in ms.items())})")
    assert f"{sum(ms.values()):.2f} ms a step" in line
