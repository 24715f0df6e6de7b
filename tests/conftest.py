"""Fixtures for the tests (the shipped models, an untrained file) and the async test runner.
The tests' helper functions are in helpers.py."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from private import fixture_names

# trainer before torch: it says how torch's threads wait (trainer.threads), which OpenMP reads
# once, as torch loads; a shared machine then slows the tests rather than stalling them
from trainer import VariableDelayGRUMemory, load_model, save_model, shipped_weights  # isort: skip
import torch  # noqa: E402

torch.set_num_threads(1)
ASYNC_TIMEOUT_S = 120  # generous: a shared 2-core machine can stall a test for many seconds


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests in a fresh event loop (no asyncio plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = fixture_names(pyfuncitem)
        test = pyfuncitem.obj(**{k: pyfuncitem.funcargs[k] for k in names})
        asyncio.run(asyncio.wait_for(test, ASYNC_TIMEOUT_S))  # a hang fails, with its traceback
        return True
    return None


@pytest.fixture(scope="session")
def text_model():
    return load_model(shipped_weights("text_delay"))


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
