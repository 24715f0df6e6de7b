"""The shipped weights pass the homework's checks, done right, and hold up on long streams.

The README's figures come from `echo-train eval` over 1,000,000 characters per delay; these
tests run smaller checks so the suite stays fast.
"""

from trainer import evaluate, seed_accuracies, shipped_weights, stream_accuracies
from trainer.weights import shipped_weights_dir


def test_shipped_files_are_where_the_app_looks():
    assert {p.name for p in shipped_weights_dir().glob("*.safetensors")} == {
        "fixed_delay.safetensors", "variable_delay.safetensors", "text_delay.safetensors",
        "letters_gru.safetensors", "letters_lstm.safetensors", "letters_rnn.safetensors"}
    assert shipped_weights("fixed_delay").is_file()


def test_fixed_model_passes_the_seed_check(fixed_model):
    assert fixed_model.delay == 4 and fixed_model.alphabet.name == "letters"
    assert evaluate.test_model(fixed_model, n_chars=20_000) >= 0.9995


def test_variable_model_passes_the_seed_check(variable_model):
    assert variable_model.max_delay == 8 and variable_model.alphabet.name == "letters"
    assert evaluate.test_variable_delay_model(variable_model, n_chars=20_000) >= 0.9995


def test_text_model_passes_the_check_and_keeps_blank_and_space_apart(text_model):
    assert text_model.max_delay == 16 and text_model.alphabet.name == "text"
    assert evaluate.test_variable_delay_model(text_model, n_chars=20_000) >= 0.9995
    assert text_model.test_run("Hello, World!", 3) == "···Hello, Wor"  # blank ·, space kept
    assert text_model.test_run("a b", 0) == "a b"


def test_every_delay_holds_on_long_streams(variable_model, fixed_model, text_model):
    for model in (fixed_model, variable_model, text_model):
        per_delay = stream_accuracies(model, n_steps=3_000, n_streams=4)
        assert set(per_delay) == set(model.head_delays)
        assert min(per_delay.values()) >= 0.9995, per_delay
        assert min(seed_accuracies(model, n_chars=20_000).values()) >= 0.9995


def test_metadata_records_how_they_were_made(fixed_model, variable_model, text_model):
    for model, cmd in ((fixed_model, "echo-train fixed --target 0.99999"),
                       (variable_model, "echo-train variable --target 0.99999"),
                       (text_model, "echo-train variable --alphabet text")):
        meta = model.metadata
        assert meta["command"].startswith(cmd)
        assert float(meta["heldout_accuracy"]) >= 0.9999
        assert float(meta["stream_accuracy"]) >= 0.9999
        assert float(meta["train_seconds"]) > 0 and int(meta["train_samples"]) > 0


def test_the_comparison_models_are_the_sweeps_typical_draws_where_the_cells_differ_most():
    import json
    from dataclasses import asdict, replace
    from pathlib import Path

    from trainer import load_model
    from trainer.sweep.space import config_for

    sweep = json.loads((Path(__file__).parent.parent / "docs" / "sweep.json").read_text())
    rows = {r["id"]: r for r in sweep["rows"]}
    gap = sweep["comparison"]
    assert (gap["size"], gap["max_delay"]) == (6336, 4)  # docs/sweep.md says why
    for cell in ("gru", "lstm", "rnn"):
        model = load_model(shipped_weights(f"letters_{cell}"))
        row = rows[gap["typical"][cell]]
        assert (model.cell, model.hidden_size, model.max_delay) == (cell, row["hidden"], 4)
        assert model.metadata["recipe"] == f"sweep trial {row['id']}"
        assert json.loads(model.metadata["config"]) == asdict(replace(config_for(row),
                                                                      device="cpu"))


def test_the_comparison_models_hold_where_the_readme_says():
    from trainer import load_model

    acc = {cell: seed_accuracies(load_model(shipped_weights(f"letters_{cell}")), n_chars=20_000)
           for cell in ("gru", "lstm", "rnn")}
    assert min(acc["rnn"].values()) >= 0.998  # every delay 0-4
    assert acc["gru"][0] >= 0.999 and 0.95 <= acc["gru"][2] <= 0.99 and acc["gru"][4] < 0.90
    assert acc["lstm"][0] >= 0.98 and acc["lstm"][4] < 0.40
