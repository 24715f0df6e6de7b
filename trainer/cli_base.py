"""What every `echo-train` command shares: the one-line refusal, the options' names and the
--device option (its rule is trainer.config.resolve_device)."""

from __future__ import annotations

import argparse

from .config import ConfigError
from .config import resolve_device as _resolve

DEVICES = ["auto", "cpu", "cuda", "mps"]


class CliError(Exception):
    """A one-line refusal: printed as `echo-train: error: ...`, exit status 2."""


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown for plain options; the recipe-decided ones say so themselves."""

    def _get_help_string(self, action):
        if action.default is None or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def flag(field: str, kind: str = "fixed") -> str:
    """The option that sets TrainConfig `field`: --max-seconds; a variable model's delay is its
    --max-delay."""
    if field == "delay" and kind == "variable":
        return "--max-delay"
    return "--" + field.replace("_", "-")


def resolve_device(name: str) -> str:
    """--device `name` as the device to use (trainer.config.resolve_device); CliError when the
    machine has no such device."""
    try:
        return _resolve(name, flag)
    except ConfigError as e:
        raise CliError(str(e)) from None


def refuse_outputs(outputs, plot) -> None:
    """CliError for the first (option, path, what) of `outputs` that cannot be written, or
    for a `plot` path without matplotlib: checked before any training time is spent."""
    import importlib.util

    from .outpath import OutputError, output_target

    for option, path, what in outputs:
        if path is None:
            continue
        try:
            output_target(path, what)
        except OutputError as e:
            raise CliError(f"{option} {e}") from None
    if plot is not None and importlib.util.find_spec("matplotlib") is None:
        raise CliError("--plot needs matplotlib, which is not installed: "
                       "pip install 'echo-gru[plot]'")
