"""The training panel's form (a part of TrainPanel): kind, alphabet, cell, delay and hidden
size, filled from the recipes, and driven by keyboard alone.

Tab and shift+Tab move among the fields (the screen sends a Tab from the tapes in too, while
the panel shows); on a closed list ↑ ↓ open it (Textual's Select) and ← → step its value;
Enter starts a run from any field, and nothing else does. Before a run the progress line says
how long these settings took where they were measured, or that the recipe's time is a rough
guide.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input, Label, Select

from ...core.describe import minutes_or_seconds
from ...training.checkpoint import PlotData
from .plots import TrainingPlots

KINDS = [("variable", "variable"), ("fixed", "fixed")]
ALPHABETS = [("letters", "letters"), ("alnum", "alnum"), ("text", "text")]
CELLS = [("gru", "gru"), ("lstm", "lstm"), ("rnn", "rnn")]
CHOICES = {"train-kind": KINDS, "train-alphabet": ALPHABETS, "train-cell": CELLS}


class TrainForm:
    """Mixed into TrainPanel, which has `running`, `_filled`, `say` and `start`."""

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._filled:  # another cell keeps the recipe's sizes: they suit every cell
            (self.say_estimate if event.select.id == "train-cell" else self.fill_recipe)()

    def fill_recipe(self) -> None:
        """Delay and hidden size from the recipe that suits the kind and alphabet."""
        from trainer.recipes import RECIPES, offered_first

        kind, alphabet = self._select("kind"), self._select("alphabet")
        r = RECIPES[offered_first(kind, alphabet)]
        self.query_one("#train-delay-label", Label).update(
            " delay " if kind == "fixed" else " max delay ")
        self.query_one("#train-delay", Input).value = str(r.delay)
        self.query_one("#train-hidden", Input).value = str(r.hidden)
        self.say_estimate()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filled and not self.running:
            self.say_estimate()

    def say_estimate(self) -> None:
        """Before a run: how long it took where it was measured, for these very settings; or,
        said to be rough, how long the recipe's own took."""
        from trainer.recipes import MEASURED, measured_time, recipe_for

        try:
            cfg = self.config()
        except ValueError as e:
            self.say(str(e))
            return
        name = recipe_for(cfg.kind, cfg.alphabet, cfg.delay)
        measured, recipe = measured_time(name, cfg), MEASURED.get(name)
        if measured is not None:
            seconds, how = measured
            self.say(f"Enter starts · about {minutes_or_seconds(seconds)} to "
                     f"{100 * cfg.target:g}% (measured {how})")
        elif recipe is not None:
            self.say(f"Enter starts · these settings were never timed: the {name} recipe's "
                     f"own took {minutes_or_seconds(recipe[0])} ({recipe[1]}), a rough guide")
        else:
            self.say("Enter starts · these settings were never timed")
        self.query_one(TrainingPlots).show(plan(cfg))

    def on_key(self, event: events.Key) -> None:
        # Enter starts from any field of the form; on a closed list too (Textual's Select would
        # open it), but not in an open list, where it picks an entry. On a closed list, ← and
        # → pick the entry before or after (↑ and ↓ open it, as Textual's Select does); Tab
        # and shift+Tab only ever move between the fields
        focused = self.screen.focused
        if not isinstance(focused, Select) or focused.expanded:
            return
        if event.key == "enter" and not self.running:
            event.stop()
            event.prevent_default()
            self.start()
        elif event.key in ("left", "right") and not focused.disabled:
            event.stop()
            event.prevent_default()
            values = [value for _, value in CHOICES[focused.id]]
            at = values.index(focused.value) + (1 if event.key == "right" else -1)
            focused.value = values[max(0, min(len(values) - 1, at))]

    def _select(self, name: str) -> str:
        return self.query_one(f"#train-{name}", Select).value

    def config(self):
        """The TrainConfig the form asks for; ValueError with one sentence when it cannot be."""
        from trainer.config import validate, whole
        from trainer.recipes import config, recipe_for

        kind, alphabet = self._select("kind"), self._select("alphabet")
        delay = whole(self.query_one("#train-delay", Input).value, "delay")
        hidden = whole(self.query_one("#train-hidden", Input).value, "hidden")
        # "auto": the child resolves it (trainer.config.resolve_device), as echo-train does
        return validate(config(recipe_for(kind, alphabet, delay), kind=kind, alphabet=alphabet,
                               delay=delay, hidden=hidden, device="auto",
                               cell=self._select("cell")))


def plan(cfg) -> PlotData:
    """The plots before a run's first check: its delays, and where its curriculum starts."""
    delays = [cfg.delay] if cfg.kind == "fixed" else list(range(cfg.delay + 1))
    trained = cfg.delay if cfg.kind == "fixed" or cfg.curriculum is None else min(
        cfg.curriculum, cfg.delay)
    return PlotData(delays=delays, trained=trained, step=cfg.curriculum_step, target=cfg.target)
