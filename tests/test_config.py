"""trainer.config: one TrainConfig, one set of checks and limits, one device rule, one record
of a run; trainer.model.build: one way to make a model."""

from __future__ import annotations

import json
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

from trainer import config, train, weights
from trainer.cli_base import flag
from trainer.config import (BOUNDS, ConfigError, TrainConfig, resolve_device, run_metadata,
                            validate, whole)
from trainer.model import GRUMemory, VariableDelayGRUMemory, build
from trainer.recipes import RECIPES


def test_one_definition_of_the_config_and_the_limits():
    assert train.TrainConfig is TrainConfig
    names = ("MAX_SYMBOLS", "MAX_HIDDEN", "MAX_DELAY", "MAX_HEADER")
    for module in (weights,):
        assert [getattr(module, n) for n in names] == [getattr(config, n) for n in names]
    assert BOUNDS == {"delay": (0, config.MAX_DELAY), "hidden": (1, config.MAX_HIDDEN)}


def test_every_recipe_is_valid():
    for cfg in RECIPES.values():
        assert validate(cfg) is cfg


@pytest.mark.parametrize("change, field, sentence, lo, hi", [
    (dict(delay=65), "delay", "delay 65 is out of range: use 0 to 64", 0, 64),
    (dict(hidden=0), "hidden", "hidden 0 is out of range: use 1 to 4096", 1, 4096),
    (dict(batch=0), "batch", "batch 0 is out of range: use 1 to 65536", 1, 65536),
    (dict(batch=10**9), "batch", "batch 1000000000 is out of range: use 1 to 65536", 1, 65536),
    (dict(chunk=-2), "chunk", "chunk -2 is out of range: use 1 to 4096", 1, 4096),
    (dict(chunk=10**6), "chunk", "chunk 1000000 is out of range: use 1 to 4096", 1, 4096),
    (dict(lr=float("nan")), "lr", "lr nan is out of range: use more than 0, up to 10", 0, 10),
    (dict(lr=1e12), "lr", "lr 1e+12 is out of range: use more than 0, up to 10", 0, 10),
    (dict(target=1.5), "target", "target 1.5 is out of range: use more than 0, up to 1", 0, 1),
    (dict(max_seconds=0.0), "max_seconds",
     "max_seconds 0 is out of range: use more than 0, up to 1000000", 0, 1_000_000),
    (dict(max_steps=0), "max_steps", "max_steps 0 is out of range: use 1 to 1000000000", 1,
     10**9),
    (dict(seed=10**23), "seed",
     "seed 100000000000000000000000 is out of range: use 0 to 4294967295", 0, 2**32 - 1),
    (dict(seed=-1), "seed", "seed -1 is out of range: use 0 to 4294967295", 0, 2**32 - 1),
    (dict(beta2=1.0), "beta2", "beta2 1 is out of range: use at least 0 and less than 1", 0, 1),
    (dict(hidden=8.5), "hidden", "hidden 8.5 is out of range: use 1 to 4096", 1, 4096),
    (dict(curriculum=-1), "curriculum", "curriculum -1 is out of range: use 0 to 64", 0, 64),
])
def test_a_setting_out_of_bounds_is_one_structured_sentence(change, field, sentence, lo, hi):
    with pytest.raises(ConfigError) as e:
        validate(replace(TrainConfig(), **change))
    assert str(e.value) == sentence
    assert (e.value.field, e.value.lo, e.value.hi) == (field, lo, hi)
    assert e.value.value is change[field]
    assert isinstance(e.value, ValueError)


def test_the_caller_names_the_settings():
    cfg = TrainConfig(kind="variable", delay=70, max_seconds=-1)
    with pytest.raises(ConfigError) as e:
        validate(cfg, lambda field: flag(field, cfg.kind))
    assert str(e.value) == "--max-delay 70 is out of range: use 0 to 64"
    with pytest.raises(ConfigError) as e:
        validate(replace(cfg, delay=8), lambda field: flag(field, cfg.kind))
    assert str(e.value) == "--max-seconds -1 is out of range: use more than 0, up to 1000000"


@pytest.mark.parametrize("text, field, result", [
    ("8", "hidden", 8), (" 64 ", "delay", 64), ("0", "delay", 0),
    ("99", "delay", "delay must be a whole number from 0 to 64, not '99'"),
    ("0", "hidden", "hidden must be a whole number from 1 to 4096, not '0'"),
    ("abc", "hidden", "hidden must be a whole number from 1 to 4096, not 'abc'"),
    ("²", "delay", "delay must be a whole number from 0 to 64, not '²'"),
    ("", "delay", "delay must be a whole number from 0 to 64, not ''"),
])
def test_a_typed_whole_number(text, field, result):
    if isinstance(result, int):
        assert whole(text, field) == result
        return
    with pytest.raises(ConfigError) as e:
        whole(text, field)
    assert str(e.value) == result and (e.value.field, e.value.value) == (field, text)


def test_the_device_rule():
    assert resolve_device("cpu") == "cpu"
    mps = getattr(torch.backends, "mps", None)
    expected = ("cuda" if torch.cuda.is_available()
                else "mps" if mps is not None and mps.is_available() else "cpu")
    assert resolve_device("auto") == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_device_the_machine_lacks_is_refused():
    with pytest.raises(ConfigError) as e:
        resolve_device("cuda")
    assert str(e.value) == "device cuda: CUDA is not available on this machine"
    with pytest.raises(ConfigError) as e:
        resolve_device("cuda", flag)
    assert str(e.value) == "--device cuda: CUDA is not available on this machine"
    assert e.value.field == "device" and e.value.value == "cuda"


def test_the_run_metadata_from_a_progress_and_from_a_checkpoint():
    cfg = TrainConfig(seed=3, batch=32, chunk=8)
    progress = train.Progress(step=20, samples=5120, seconds=1.234, heldout=0.5)
    meta = run_metadata(cfg, progress, recipe="fixed", command="echo-train fixed",
                        heldout=0.25, stream=0.75)
    assert meta == {
        "recipe": "fixed", "config": json.dumps(vars(cfg)), "cell": "gru", "seed": "3",
        "device": "cpu",
        "train_seconds": "1.23", "train_samples": "5120", "train_steps": "20", "lr": "0.007",
        "batch": "32", "chunk": "8", "heldout_accuracy": "0.250000",
        "stream_accuracy": "0.750000", "command": "echo-train fixed"}
    checkpoint = SimpleNamespace(step=7, seconds=2.0, samples=99, heldout=0.9)
    meta = run_metadata(cfg, checkpoint, recipe="echo-tui", command="echo-tui training panel",
                        note="x")
    assert meta["heldout_accuracy"] == "0.900000" and "stream_accuracy" not in meta
    assert meta["train_steps"] == "7" and meta["note"] == "x" and meta["lr"] == "0.007"
    assert all(type(v) is str for v in meta.values())


def test_one_model_builder_for_training_and_loading(tmp_path):
    from trainer import Alphabet, load_model, save_model

    letters = Alphabet.named("letters")
    fixed = build("fixed", 8, 3, letters)
    assert type(fixed) is GRUMemory and fixed.delay == 3 and fixed.hidden_size == 8
    variable = build("variable", 8, 5, letters)
    assert type(variable) is VariableDelayGRUMemory and variable.max_delay == 5
    with pytest.raises(ValueError, match="unknown model kind 'odd'; choose fixed or variable"):
        build("odd", 8, 3, letters)
    made = train.build_model(TrainConfig(kind="variable", hidden=8, delay=5))
    assert type(made) is VariableDelayGRUMemory and made.max_delay == 5
    save_model(made, tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert type(loaded) is type(made) and loaded.state_dict().keys() == made.state_dict().keys()


def test_the_lesson_recipe_is_the_panels_first_offer_not_the_commands_default():
    from trainer.recipes import RECIPES, offered_first, recipe_for

    assert recipe_for("variable", "text") == "text"  # echo-train variable --alphabet text
    assert recipe_for("variable", "text", 8) == "lesson"
    assert recipe_for("variable", "text", 12) == "text"
    assert offered_first("variable", "text") == "lesson"
    assert offered_first("variable", "letters") == recipe_for("variable", "letters")
    lesson = RECIPES["lesson"]
    assert (lesson.alphabet, lesson.delay, lesson.target) == ("text", 8, 0.999)
