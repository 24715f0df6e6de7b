"""Weights whose numbers overflow: refused at load (weights_corpus holds the files), and every
view survives them when a model gets in another way (one trained here is never loaded).

The issue's file: the shipped fixed model with every 18th value of `heads.weight` at 3e38. It
loaded, `echo-train eval` scored it 4.09% with no NaN shown, and f5 then ended the app with
"cannot convert float NaN to integer".
"""

from __future__ import annotations

import pytest
import torch
from helpers import keys, ready, screen_text, settle

from echo_tui import create_app
from trainer import GRUMemory, VariableDelayGRUMemory, WeightsError, load_model, save_model


def overflowing(model):
    """`model` with every 18th weight of its heads at 3e38: finite weights, infinite answers."""
    with torch.no_grad():
        model.heads.weight.view(-1)[::18] = 3e38
    return model.eval()


def test_the_probe_refuses_what_the_bounds_let_through(tmp_path, monkeypatch):
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_model(GRUMemory(16, delay=2), path)
    real = GRUMemory.all_heads

    def overflowed(self, out, n=None):
        return real(self, out, n) * float("inf")

    monkeypatch.setattr(GRUMemory, "all_heads", overflowed)
    with pytest.raises(WeightsError) as e:
        load_model(path)
    assert str(e.value) == (f"{path}: its weights overflow: a probe stream of every symbol "
                            "gives NaN or infinite states or answers")


@pytest.mark.parametrize("kind", ["fixed", "variable"])
async def test_every_view_survives_a_model_whose_answers_are_nan(kind):
    torch.manual_seed(0)
    model = overflowing(GRUMemory(64, delay=4) if kind == "fixed"
                        else VariableDelayGRUMemory(64, 6))
    with torch.no_grad():
        logits = model.all_heads(model.memory(torch.tensor([[1, 2, 3]]))[0])
        assert not torch.isfinite(logits).all()
    app = create_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        app.use_trained(model, "overflowing")
        await settle(pilot)
        assert app.session.model is model
        await keys(pilot, *"hello world")
        for view in ("f2", "f4", "f5", "f6", "f6", "f4", "f2", "shift+left", "left", "right"):
            await keys(pilot, view)
            await settle(pilot)
            await pilot.pause(0.3)  # the look inside waits for typing to pause
            text = screen_text(app)
            assert "10 steps" in text, text  # the status line, and the app, are still there
        assert app.main.inspect.problem == (
            "looking inside failed: ValueError: the answer's gradient is not a number: this "
            "model's numbers overflow")
        assert "looking inside failed: ValueError: the answer's gradient" in screen_text(app)
