"""What every `echo-train` command shares: the one-line refusal, the options' names and the
--device option (its rule is trainer.config.resolve_device)."""

from __future__ import annotations

import argparse
import difflib
import re

from .config import ConfigError
from .config import resolve_device as _resolve

DEVICES = ["auto", "cpu", "cuda", "mps"]


class CliError(Exception):
    """A one-line refusal: printed as `echo-train: error: ...`, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, its refusals in one line (`echo-train fixed: error: ...`, no usage before
    them), a near miss named: "unrecognized option --dealy: did you mean --delay?"."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {self._near_miss(message)}\n")

    def parse_args(self, args=None, namespace=None):
        known, extra = self.parse_known_args(args, namespace)
        if extra:  # said by the command they were given to, with its options to suggest
            (self._command(known) or self).unrecognized(extra)
        return known

    def _command(self, known) -> "Parser | None":
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(known, action.dest, None))
        return None

    def unrecognized(self, extra: list[str]):
        options = [s for a in self._actions for s in a.option_strings]
        for arg in extra:
            if arg.startswith("-"):
                name = arg.split("=", 1)[0]
                close = difflib.get_close_matches(name, options, n=1)
                hint = f": did you mean {close[0]}?" if close else f" (see {self.prog} --help)"
                self.error(f"unrecognized option {name}{hint}")
        self.error(f"unrecognized arguments: {' '.join(extra)}")

    @staticmethod
    def _near_miss(message: str) -> str:
        choice = re.search(r"invalid choice: '(.*?)' \(choose from (.*)\)$", message)
        if choice:
            offered = re.findall(r"'(.*?)'", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), offered, n=1)
            if close:
                return f"{message}: did you mean {close[0]}?"
        return message


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
                       "pip install '.[plot]' in the echo-gru checkout")
