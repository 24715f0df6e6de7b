"""`echo-train compare`: every cell at every hidden size under one budget, the delays each
holds, the per-delay table, --json and --plot; bad options refused before any training."""

from __future__ import annotations

import json

import pytest

from trainer.cli import main
from trainer.compare import Run, configs


def test_held_is_the_longest_run_of_delays_from_zero_at_the_threshold():
    assert Run("gru", 8, accuracy=[0.995, 0.99, 0.98, 0.999]).held() == 1
    assert Run("rnn", 8, accuracy=[0.5, 0.999]).held() == -1
    assert Run("lstm", 8, accuracy=[1.0, 1.0]).held() == 1


def test_every_run_shares_the_budget_and_recipe_but_its_cell_and_size():
    cfgs = configs(cells=("gru", "rnn"), hidden_sizes=(16, 32), max_delay=8, steps=123)
    assert [(c.cell, c.hidden) for c in cfgs] == [("gru", 16), ("gru", 32), ("rnn", 16),
                                                   ("rnn", 32)]
    assert {(c.max_steps, c.delay, c.lr, c.batch, c.chunk, c.curriculum) for c in cfgs} == {
        (123, 8, cfgs[0].lr, cfgs[0].batch, cfgs[0].chunk, cfgs[0].curriculum)}
    timed = configs(cells=("lstm",), hidden_sizes=(16,), max_delay=8, seconds=5.0)
    assert (timed[0].max_steps, timed[0].max_seconds) == (None, 5.0)


def test_a_small_comparison_prints_the_tables_and_writes_json_and_png(tmp_path, capsys):
    out, png = tmp_path / "cmp.json", tmp_path / "cmp.png"
    assert main(["compare", "--cells", "rnn,gru", "--hidden", "8", "--max-delay", "2",
                 "--steps", "20", "--chars", "200", "--device", "cpu", "--json", str(out),
                 "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "rnn hidden 8: holds" in printed and "gru hidden 8: holds" in printed
    assert "delays held at ≥ 99%, of 0–2" in printed
    data = json.loads(out.read_text())
    assert data["budget"] == {"steps": 20} and data["max_delay"] == 2
    assert [(r["cell"], r["hidden"], r["steps"]) for r in data["runs"]] == [("rnn", 8, 20),
                                                                           ("gru", 8, 20)]
    for r in data["runs"]:
        assert len(r["accuracy"]) == 3
        assert r["held"] == Run(r["cell"], r["hidden"], accuracy=r["accuracy"]).held()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--cells", "gru,foo"], "--cells: 'foo' is not a cell; use gru, lstm, rnn"),
    (["--hidden", "16,0"], "--hidden: '0' is not a hidden size from 1 to 4096"),
    (["--hidden", ""], "--hidden '': give at least one value"),
    (["--max-delay", "33"], "--max-delay 33 is out of range: use 1 to 32"),
    (["--steps", "0"], "--steps 0 must be at least 1"),
    (["--seconds", "-1"], "--seconds -1.0 must be positive"),
])
def test_bad_options_are_refused_in_one_line(argv, message, capsys):
    assert main(["compare", *argv]) == 2
    assert capsys.readouterr().err == f"echo-train: error: {message}\n"


def test_an_output_that_is_a_directory_is_refused_before_training(tmp_path, capsys):
    assert main(["compare", "--json", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"echo-train: error: --json {tmp_path}: is a directory; refusing to replace it with a "
        "JSON file\n")


def test_a_plot_without_matplotlib_is_refused_before_training(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["compare", "--plot", str(tmp_path / "c.png")]) == 2
    assert capsys.readouterr().err == (
        "echo-train: error: --plot needs matplotlib, which is not installed: "
        "pip install '.[plot]' in the echo-gru checkout\n")
    assert not (tmp_path / "c.png").exists()
