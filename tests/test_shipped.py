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


def test_the_comparison_models_share_size_recipe_and_budget():
    import json

    from trainer import load_model

    configs = {}
    for cell in ("gru", "lstm", "rnn"):
        model = load_model(shipped_weights(f"letters_{cell}"))
        assert (model.cell, model.hidden_size, model.max_delay) == (cell, 128, 16)
        assert model.alphabet.name == "letters"
        cfg = json.loads(model.metadata["config"])
        configs[cell] = {k: v for k, v in cfg.items() if k != "cell"}
        assert cfg["max_steps"] == 8000 and model.metadata["recipe"] == "long"
    assert configs["gru"] == configs["lstm"] == configs["rnn"]


def test_the_comparison_models_hold_where_the_readme_says():
    from trainer import load_model

    for cell in ("gru", "rnn"):  # every delay 0-16
        acc = seed_accuracies(load_model(shipped_weights(f"letters_{cell}")), n_chars=20_000)
        assert min(acc.values()) >= 0.9995, (cell, acc)
    acc = seed_accuracies(load_model(shipped_weights("letters_lstm")), n_chars=20_000)
    assert min(acc[d] for d in range(9)) >= 0.99  # 0-8 held (9 is at the edge)
    assert max(acc[d] for d in range(13, 17)) < 0.10  # 13-16 never trained
