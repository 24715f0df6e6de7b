"""Which models the app can show, in f3's order, and how one becomes a session (no Textual).

A `ModelChoice` is one of three things, and says which: a shipped model (by name), a file the
user gave or opened (by path), or a model trained in the app (the model itself, with the file
it was saved to, if any). The cycle holds them in f3's order: the `--weights` file first when
given, then the shipped ones, then every file opened or model trained here, in the order they
came. Nothing here imports torch at import time: the app's first frame does not wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SHIPPED = ("text_delay", "variable_delay", "fixed_delay")  # f3's order; the first opens
SHIPPED_NAMES = {"text_delay": "the shipped text model",
                 "variable_delay": "the shipped variable-delay letters model",
                 "fixed_delay": "the shipped fixed-delay letters model",
                 # the comparison models (letters, delays 0-4, one per cell): not in f3's cycle
                 "letters_gru": "the shipped letters GRU", "letters_lstm": "the shipped letters LSTM",
                 "letters_rnn": "the shipped letters plain RNN"}


@dataclass(eq=False)
class ModelChoice:
    """One entry of the f3 cycle. `kind` is "shipped", "file" or "trained"."""

    kind: str
    name: str = ""  # a shipped model's name, or what a trained model is called
    path: Path | None = None  # the file (a trained model's once saved)
    model: object | None = None  # a model trained here

    @classmethod
    def shipped(cls, name: str) -> "ModelChoice":
        return cls("shipped", name=name)

    @classmethod
    def file(cls, path: str | Path) -> "ModelChoice":
        return cls("file", path=Path(path))

    @classmethod
    def trained(cls, model, name: str) -> "ModelChoice":
        return cls("trained", name=name, model=model)

    def describe(self) -> str:
        """How the notice line names it: 'the shipped text model', 'mine.safetensors'."""
        if self.kind == "shipped":
            return SHIPPED_NAMES[self.name]
        if self.kind == "trained":
            return "the model trained here"
        return self.path.name

    def title(self) -> str:
        """The header's subtitle while it is in use."""
        if self.kind == "trained":
            return self.path.name if self.path is not None else self.name
        return self.resolved_path().name

    def resolved_path(self) -> Path:
        if self.kind == "shipped":
            from trainer import shipped_weights

            return shipped_weights(self.name)
        return self.path

    def same_as(self, other: "ModelChoice") -> bool:
        """The same model: a trained one is itself; files (shipped ones too) by their path."""
        if self.kind == "trained" or other.kind == "trained":
            return self is other
        if self.kind == "shipped" and other.kind == "shipped":
            return self.name == other.name
        try:
            return self.resolved_path().resolve() == other.resolved_path().resolve()
        except OSError:
            return False


class ModelCycle:
    """The models f3 steps through, and the one in use."""

    def __init__(self, weights: str | Path | None = None) -> None:
        self.choices = [ModelChoice.shipped(n) for n in SHIPPED]
        if weights is not None:
            given = self.recognise(ModelChoice.file(weights))
            if given.kind == "file":
                self.choices.insert(0, given)
            self.current = given
        else:
            self.current = self.choices[0]

    def recognise(self, choice: ModelChoice) -> ModelChoice:
        """The cycle's own entry for `choice` when it has one (a shipped file given by its
        path is the shipped model), else `choice`."""
        return next((c for c in self.choices if c.same_as(choice)), choice)

    def next(self) -> ModelChoice:
        k = self.choices.index(self.current) if self.current in self.choices else -1
        return self.choices[(k + 1) % len(self.choices)]

    def settle(self, choice: ModelChoice) -> None:
        """`choice` is in use now; one the cycle did not have joins it at the end."""
        if choice not in self.choices:
            self.choices.append(choice)
        self.current = choice

    def trained_choice(self, model) -> ModelChoice | None:
        return next((c for c in self.choices if c.kind == "trained" and c.model is model), None)


FIRST_START = ("the first start compiles the fast step for your machine (a few seconds, once); "
               "keys typed meanwhile are kept")


def compiled_before() -> bool:
    """Whether the compiled steps (echo_tui/core/kernels.py, numba) are cached beside the module:
    if not, the first model's loading takes seconds more, and the app says why."""
    return any((Path(__file__).parent / "__pycache__").glob("kernels.*.nbi"))


def open_session(choice: ModelChoice, delay: int | None, strict: bool = True,
                 clock: Callable[[], float] | None = None):
    """A warmed-up EchoSession on `choice`'s model at `delay` (runs in a thread).

    Not `strict`: a delay the model does not have falls back to the longest it has below it
    (text at 16 -> letters 0-8 at 8), else to its default.
    """
    from trainer import load_model
    from trainer.threads import use_threads

    use_threads(1)  # a keystroke's step is tiny: more threads only add latency

    from .session import EchoSession

    model = choice.model if choice.kind == "trained" else load_model(choice.resolved_path())
    warm = EchoSession(model, undo_steps=1, keep_steps=1)
    warm.feed(model.alphabet.symbols[0] * 8)  # warm up both paths, so the first key and
    warm.feed(model.alphabet.symbols[0])  # the first paste do not pay for it
    if not strict and delay not in model.head_delays:
        delay = max((d for d in model.head_delays if delay is not None and d <= delay),
                    default=None)
    kwargs = {"clock": clock} if clock is not None else {}
    return EchoSession(model, delay, **kwargs)


# the shipped comparison models, by their cell: letters, delays 0-4, one file per cell with the
# same number of recurrent parameters (`--compare rnn`)
COMPARISON = {"gru": "letters_gru", "lstm": "letters_lstm", "rnn": "letters_rnn"}


def comparison_choice(given: str) -> ModelChoice:
    """What `--compare GIVEN` names: a shipped comparison model by its cell, else a file."""
    if given in COMPARISON and not Path(given).exists():
        return ModelChoice.shipped(COMPARISON[given])
    return ModelChoice.file(Path(given).expanduser())
