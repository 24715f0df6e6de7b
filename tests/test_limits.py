"""One set of limits: what the loader refuses (tests/weights_corpus.py: "past the limit"),
`echo-train` and the app's panel refuse too."""

from __future__ import annotations

import pytest
from helpers import keys, ready
from textual.widgets import Input

from echo_tui import create_app
from echo_tui.app.widgets import TrainPanel
from trainer import cli, shipped_weights
from trainer.config import MAX_DELAY, MAX_HIDDEN, MAX_SYMBOLS


def test_the_limits_are_the_readmes():
    assert (MAX_SYMBOLS, MAX_HIDDEN, MAX_DELAY) == (256, 4096, 64)


@pytest.mark.parametrize("argv, message", [
    (["fixed", "--hidden", str(MAX_HIDDEN + 1)],
     f"--hidden {MAX_HIDDEN + 1} is out of range: use 1 to {MAX_HIDDEN}"),
    (["variable", "--max-delay", str(MAX_DELAY + 1)],
     f"--max-delay {MAX_DELAY + 1} is out of range: use 0 to {MAX_DELAY}"),
])
def test_echo_train_refuses_past_the_limits(tmp_path, capsys, argv, message):
    assert cli.main([*argv, "--out", str(tmp_path / "m.safetensors")]) == 2
    assert capsys.readouterr().err == f"echo-train: error: {message}\n"


async def test_the_panel_refuses_past_the_limits_and_takes_up_to_them():
    app = create_app(weights=shipped_weights("variable_delay"))
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await keys(pilot, "ctrl+t")
        panel = app.main.query_one(TrainPanel)
        hidden, delay = (panel.query_one(f"#train-{n}", Input) for n in ("hidden", "delay"))
        hidden.value, delay.value = str(MAX_HIDDEN), str(MAX_DELAY)
        cfg = panel.config()
        assert (cfg.hidden, cfg.delay) == (MAX_HIDDEN, MAX_DELAY)
        hidden.value = str(MAX_HIDDEN + 1)
        with pytest.raises(ValueError) as e:
            panel.config()
        assert str(e.value) == (f"hidden must be a whole number from 1 to {MAX_HIDDEN}, "
                                f"not '{MAX_HIDDEN + 1}'")
        hidden.value, delay.value = "8", str(MAX_DELAY + 1)
        with pytest.raises(ValueError) as e:
            panel.config()
        assert str(e.value) == (f"delay must be a whole number from 0 to {MAX_DELAY}, "
                                f"not '{MAX_DELAY + 1}'")

