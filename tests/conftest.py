"""Shared helpers for the echo_tui tests: shipped models, a fake clock, plain-text screens."""

from __future__ import annotations

import io
import itertools

import pytest
import torch
from rich.console import Console

from trainer import VariableDelayGRUMemory, load_model, save_model, shipped_weights

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def variable_model():
    return load_model(shipped_weights("variable_delay"))


@pytest.fixture(scope="session")
def fixed_model():
    return load_model(shipped_weights("fixed_delay"))


@pytest.fixture
def untrained_weights(tmp_path):
    """A seeded, untrained variable-delay model: its pictures never change with retraining."""
    torch.manual_seed(0)
    path = tmp_path / "untrained.safetensors"
    save_model(VariableDelayGRUMemory(48, 8), path, seed=0)
    return path


def fake_clock(step_s: float = 42e-6):
    """A clock that advances `step_s` per call: latencies on screen become fixed numbers."""
    ticks = itertools.count()
    return lambda: next(ticks) * step_s


def batch_echo(model, text: str, delay: int) -> str:
    """The model's batch output for `text` at `delay`: the reference the app must match."""
    if not text:
        return ""
    ids = torch.tensor([model.alphabet.encode(text)])
    with torch.no_grad():
        pred = model.all_heads(model.memory(ids)[0])[0].argmax(-1)
    return model.alphabet.decode(pred[:, model.head_delays.index(delay)].tolist())


def screen_text(app) -> str:
    """What the terminal shows now, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


async def ready(pilot) -> None:
    """Wait for the model and for everything queued to be fed, then for the screen."""
    await pilot.app.wait_idle()
    await pilot.pause()
