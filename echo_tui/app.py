"""echo-tui: type, and watch a GRU echo your keys back with a delay.

The app is a view of one EchoSession (`app.session`). It loads models (in a thread, after the
first frame is drawn, so the frame never waits for torch), cycles through them, and owns help,
the palette and quitting; the echo screen owns typing and the views.

This module imports neither torch nor trainer at import time: that is what makes the first frame
fast.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .cli import one_line
from .screens import EchoScreen
from .screens.echo import BINDINGS as SCREEN_BINDINGS
from .describe import count, describe_alphabet, short_alphabet
from .widgets import HelpScreen, PathPrompt

SHIPPED = ("text_delay", "variable_delay", "fixed_delay")  # f3's order; the first opens


@dataclass(eq=False)
class Trained:
    """A model trained in the app: a choice of the f3 cycle with no file until it is saved."""

    model: object
    label: str
    path: Path | None = None
SHIPPED_NAMES = {"text_delay": "the shipped text model", "variable_delay":
                 "the shipped variable-delay letters model", "fixed_delay":
                 "the shipped fixed-delay letters model"}


class EchoApp(App):
    """Every keystroke through the GRU, its echo under what you typed, at a delay you choose."""

    CSS_PATH = "app.tcss"
    TITLE = "echo-gru"
    BINDINGS = [
        Binding("f1", "help", "help", show=False, id="help-app"),
        Binding("ctrl+q", "quit", "quit", id="quit", show=False),  # the screen's shows it
        Binding("ctrl+p", "command_palette", "commands", id="command-palette", priority=True,
                show=False),  # the footer shows the palette key on its right anyway
    ]

    def __init__(self, weights: str | Path | None = None, delay: int | None = None, *,
                 memory: bool = True, clock: Callable[[], float] | None = None,
                 start_run: Callable | None = None) -> None:
        super().__init__()
        self.start_run = start_run  # how the training panel starts a run (tests script one)
        self.weights = Path(weights) if weights is not None else None
        self.start_delay = delay
        self.session = None  # the EchoSession, once a model has loaded
        self.error: str | None = None  # why the app gave up at start, for the command line
        self.show_memory = memory
        self._clock = clock  # the sessions' timer; tests pass a fake one for stable pictures
        # what f3 cycles through: shipped names and paths of the user's own files
        self.choices: list[str | Path] = [*([self.weights] if self.weights else []), *SHIPPED]
        self.current: str | Path = self.choices[0]
        self._before_open = self.current  # where an opened file joins the cycle: after this
        self._switching = False
        self.first_frame_at: float | None = None
        self.model_ready_at: float | None = None

    def get_default_screen(self) -> Screen:
        self.main = EchoScreen(id="main")
        return self.main

    def start_loading(self) -> None:
        """Called once the first frame is drawn: only now does torch get imported."""
        self.first_frame_at = time.perf_counter()
        self.torch_at_first_frame = "torch" in sys.modules  # the bench checks it stays False
        self._load(self.current, self.start_delay, switching=False)

    # -- what the tests and the bench drive ------------------------------------------------
    def feed_text(self, text: str) -> None:
        self.main.feed_text(text)

    def action_reset(self) -> None:
        self.main.action_reset()

    @property
    def busy(self) -> bool:
        """True while keys or a paste wait to be fed, or a model is loading."""
        return self.session is None or self._switching or self.main.busy

    async def wait_idle(self) -> None:
        """Until the model is ready and everything queued has been fed (for tests and bench)."""
        while self.busy:
            await asyncio.sleep(0.005)

    # -- loading ---------------------------------------------------------------------------
    def load_session(self, choice: str | Path, delay: int | None, strict: bool = True):
        """Load a model and start a session on it (runs in a thread; tests may wrap it).

        `choice` is a shipped model's name or a path. Not `strict`: a delay the model does not
        have falls back to its default.
        """
        import torch

        torch.set_num_threads(1)  # a keystroke's step is tiny: more threads only add latency
        from trainer import load_model, shipped_weights

        from .session import EchoSession

        if isinstance(choice, Trained):
            model, path = choice.model, choice.path
        else:
            path = shipped_weights(choice) if isinstance(choice, str) else Path(choice)
            model = load_model(path)
        warm = EchoSession(model, undo_steps=1, keep_steps=1)
        warm.feed(model.alphabet.symbols[0] * 8)  # warm up both paths, so the first key and
        warm.feed(model.alphabet.symbols[0])  # the first paste do not pay for it
        if not strict and delay not in model.head_delays:
            delay = None
        kwargs = {"clock": self._clock} if self._clock is not None else {}
        return EchoSession(model, delay, **kwargs), path

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, choice: str | Path, delay: int | None, switching: bool) -> None:
        try:
            session, path = self.load_session(choice, delay, strict=not switching)
        except Exception as e:  # noqa: BLE001 - whatever it is, the app must not hang "loading"
            self.call_from_thread(self._load_failed, e, choice, switching)
            return
        self.call_from_thread(self._model_ready, session, path, choice)

    def _load_failed(self, error: Exception, choice, switching: bool) -> None:
        from trainer import WeightsError

        self._switching = False
        if switching or self.session is not None:
            # plain text: a path or message with "[/b]" in it would be a markup error
            self.notify(one_line(str(error)), title="Cannot switch model", severity="error",
                        markup=False)
            self.main.say("")
            self.main.refresh_views()
            return
        # a bad file exits 1 with the WeightsError's sentence; a bad start delay exits 2
        self.error = str(error)
        usage = isinstance(error, ValueError) and not isinstance(error, WeightsError)
        self.exit(return_code=2 if usage else 1)

    def _model_ready(self, session, path: Path | None, choice) -> None:
        old, self.session = self.session, session
        self._switching = False
        if path is not None:
            choice = self._shipped_name(path) or choice  # a shipped file given by its path
        self.current = choice
        if choice not in self.choices:
            self.choices.insert(self.choices.index(self._before_open) + 1, choice)
        self.weights_path = path
        self.sub_title = path.name if path is not None else choice.label
        if old is not None and old.typed:
            # what was typed carries over, as typed: fed to the new model before any key still
            # queued; what it cannot read is skipped, and the notice says how much
            self.main.refeed_first(old.typed, f"now {self.model_name(choice)}")
        if self.model_ready_at is None:
            self.model_ready_at = time.perf_counter()
        self.main.memory.refresh(layout=True)
        self.main.refresh_views()
        self.main.kick()

    def _shipped_name(self, path: Path) -> str | None:
        from trainer import shipped_weights

        here = Path(path).resolve()
        found = next((n for n in SHIPPED if shipped_weights(n).resolve() == here), None)
        if found is not None and here in [Path(c).resolve() for c in self.choices
                                          if not isinstance(c, str)]:
            self.choices = [c for c in self.choices
                            if isinstance(c, str) or Path(c).resolve() != here]
        return found

    def model_name(self, choice) -> str:
        if isinstance(choice, Trained):
            return "the model trained here"
        return SHIPPED_NAMES.get(choice, str(choice)) if isinstance(choice, str) else (
            Path(choice).name)

    def _switch_to(self, choice: str | Path) -> None:
        if self.session is None or self._switching:
            self.main.say("the model is still loading")
            return
        self._switching = True
        self._before_open = self.current
        self.main.say(f"loading {self.model_name(choice)}…")
        self._load(choice, self.session.delay, switching=True)

    # -- actions -----------------------------------------------------------------------------
    def action_switch_model(self) -> None:
        """f3: the next model in the cycle (shipped ones, and any the user gave or opened)."""
        k = self.choices.index(self.current) if self.current in self.choices else -1
        self._switch_to(self.choices[(k + 1) % len(self.choices)])

    def use_trained(self, model, label: str) -> None:
        """A model trained in the app takes over the session, joining the f3 cycle."""
        self._switch_to(Trained(model, label))

    def save_trained(self, model, cfg, checkpoint) -> None:
        """Ask where, then write the trained model there (atomically, never over a non-file)."""
        def chosen(path: str | None) -> None:
            if path:
                self._save(model, cfg, checkpoint, Path(path).expanduser())

        self.push_screen(PathPrompt(
            "Save the trained model", "A weights file; afterwards `echo-tui --weights PATH` "
            "opens it.", "trained.safetensors"), chosen)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, model, cfg, checkpoint, path: Path) -> None:
        from trainer import save_model

        try:
            written = save_model(model, path, recipe="echo-tui", config=json.dumps(asdict(cfg)),
                                 seed=cfg.seed, device=cfg.device, train_steps=checkpoint.step,
                                 train_seconds=f"{checkpoint.seconds:.2f}",
                                 train_samples=checkpoint.samples,
                                 heldout_accuracy=f"{checkpoint.heldout:.6f}",
                                 command="echo-tui training panel")
        except (ValueError, OSError) as e:
            self.call_from_thread(self.notify, one_line(str(e)), title="Not saved",
                                  severity="error", markup=False)
            return
        for choice in self.choices:
            if isinstance(choice, Trained) and choice.model is model:
                choice.path = written
        self.call_from_thread(self.main.say, one_line(
            f"saved {written}: open it with echo-tui --weights {path}"))

    def action_open_weights(self) -> None:
        def opened(path: str | None) -> None:
            if path:
                self._switch_to(Path(path).expanduser())

        self.push_screen(PathPrompt(
            "Open weights", "A weights file made by echo-train. What you typed is kept and "
            "fed to it; f3 then cycles through it too."), opened)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        help_screen = HelpScreen(self.help_intro(), self.help_sections(), self.main.feed_text)
        self.push_screen(help_screen, help_screen.deliver)

    def help_intro(self) -> str:
        return ("Each key you type is one step of a GRU, its memory kept from key to key. Under "
                "what you typed is its echo at the chosen delay.")

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        s = self.session
        alphabet = short_alphabet(s.alphabet) if s is not None else "symbols"
        reads = (f"{describe_alphabet(s.alphabet)}; "
                 f"{'upper case folds to lower' if s.alphabet.case == 'fold' else 'case kept'}"
                 if s is not None else "the model's symbols")
        keys: dict[str, list[str]] = {}
        for binding in SCREEN_BINDINGS:
            if binding.tooltip:
                keys.setdefault(binding.tooltip, []).append(self.get_key_display(binding))
        return [
            ("Keys", [
                (alphabet, f"one GRU step each: {reads}"),
                ("other keys", "no step: marked dim over the next typed key (the key itself, or "
                               "how many), and named on the notice line"),
                ("paste", "every character in order, exactly as if typed"),
                *((" or ".join(k), what) for what, k in keys.items()),
                ("^p", "commands: reset, set delay, switch or open a model, views…"),
                ("click the slider", "set the delay"),
                ("mouse wheel", "scroll the tapes"),
            ]),
            ("The tapes", [
                ("·", "a blank: the model's 'nothing yet' (the first keys have no echo)"),
                ("␣", "a space (the text model reads it)"),
                ("red", "a mistake: not the key typed as many steps back as the delay"),
                ("tinted", "the model was unsure of its answer: light under 99% sure, deeper "
                           "under 90%, deepest under 50%"),
            ]),
            ("The status line", [
                ("acc", "share of echoes at this delay that were right, over every step since "
                        "the reset that has a symbol to echo"),
                ("conf", "the model's mean probability for its own answers at this delay"),
                ("µs/step", "time the GRU took per step for the last key or paste"),
            ]),
        ]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Reset", "Forget the stream and the GRU's memory (ctrl+r)",
                            self.action_reset)
        if self.session is not None:
            for d in self.session.delays:
                yield SystemCommand(f"Set delay {d}",
                                    f"Echo each key {count(d, 'step')} later",
                                    partial(self.main.set_delay, d),
                                    discover=len(self.session.delays) <= 17)
        yield SystemCommand("Switch model", "The next model: shipped text, letters variable, "
                            "letters fixed, and your own (f3)", self.action_switch_model)
        yield SystemCommand("Open weights…", "Load a weights file made by echo-train, keeping "
                            "what you typed", self.action_open_weights)
        yield SystemCommand("Toggle memory view", "Show or hide the memory over time (f2)",
                            self.main.action_toggle_memory)
        yield SystemCommand("Every delay at once", "Each delay's echo in its own row, or the "
                            "tapes (f4)", self.main.action_toggle_delays)
        yield SystemCommand("Train a model…", "Train one here and watch it learn; it takes over "
                            "when done (ctrl+t)", self.main.action_toggle_train)


def create_app(weights: str | Path | None = None, delay: int | None = None, **kwargs) -> EchoApp:
    """The app on `weights` (default: the shipped text model) at start `delay`."""
    return EchoApp(weights, delay, **kwargs)
