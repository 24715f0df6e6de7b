"""echo-tui: type, and watch a GRU echo your keys back with a delay.

The app is a view of one EchoSession (`app.session`). It loads models (in a thread, after the
first frame is drawn, so the frame never waits for torch), cycles through them, and owns help,
the palette and quitting; the echo screen owns typing and the views.

This module imports neither torch nor trainer at import time: that is what makes the first frame
fast.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from textual.worker import Worker, WorkerState

from trainer.text import inert

from ..core.models import COMPARISON, comparison_choice
from .comparing import CompareMode
from .saving import SavesModels
from .palette import palette_commands
from ..core.describe import JOBS, delay_range, error_text, failure_sentence
from ..core.models import (FIRST_START, SHIPPED, SHIPPED_NAMES, ModelChoice, ModelCycle,
                     compiled_before, open_session)
from .screens import EchoScreen, ServedEchoScreen
from .hangup import Ending
from ..core.served import refusal, served
from .screens.echo import help_bindings
from .terminal import driver_for
from .widgets import HelpScreen, PathPrompt
from .widgets.help_text import INTRO, help_sections

class EchoApp(SavesModels, App):
    """Every keystroke through the GRU, its echo under what you typed, at a delay you choose
    (and, in compare mode, a second model's echo under it: `CompareMode`)."""

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
                 start_run: Callable | None = None, compare: str | None = None,
                 lesson=None) -> None:
        super().__init__()
        self.lesson_at_start = lesson  # a lessons.Lesson the screen opens on (--lesson)
        self.start_run = start_run  # how the training panel starts a run (tests script one)
        self.comparing = CompareMode(self, comparison_choice(compare) if compare is not None
                                     else None)
        if compare is not None:
            if weights is None and compare in COMPARISON:  # a shipped cell: beside the GRU
                from trainer import shipped_weights

                weights = shipped_weights(COMPARISON["gru"])
        self.weights = Path(weights) if weights is not None else None
        self.start_delay = delay
        self.error: str | None = None  # why the app gave up at start, for the command line
        self.show_memory = memory  # at start; f2 then toggles the screen's
        self._clock = clock  # the sessions' timer; tests pass a fake one for stable pictures
        self.models = ModelCycle(self.weights)
        self._switching = False
        self.first_frame_at: float | None = None
        self.model_ready_at: float | None = None
        # SIGTERM, SIGHUP or a vanished terminal end the app as a quit does (terminal restored,
        # training stopped), with their status, and within a bound whatever is stuck
        self.ending = Ending(self)

    def get_driver_class(self):
        return driver_for(super().get_driver_class())

    def on_mount(self) -> None:
        if not self.is_headless:  # a test's app leaves its process's signals alone
            self.ending.install()

    @property
    def current(self) -> ModelChoice:
        """The model in use (or loading, at start)."""
        return self.models.current

    def get_default_screen(self) -> Screen:
        loading = self.weights.name if self.weights else SHIPPED_NAMES[SHIPPED[0]]
        screen = ServedEchoScreen if served() else EchoScreen  # a browser's keys in a browser
        self.main = screen(loading, self.show_memory, self.start_run, id="main")
        self.main.chosen_delay = self.start_delay  # --delay: the user's choice from the start
        return self.main

    @property
    def session(self):
        """The EchoSession in use (the echo screen's); None until the first model is in."""
        return self.main.session

    def start_loading(self) -> None:
        """Called once the first frame is drawn: only now does torch get imported."""
        self.first_frame_at = time.perf_counter()
        self.torch_at_first_frame = "torch" in sys.modules  # the bench checks it stays False
        if not compiled_before():
            self.main.say(FIRST_START)
        self._load(self.current, self.start_delay, switching=False)

    # -- compare mode (CompareMode): the palette's and the tests' names for it ---------------
    @property
    def compare_loading(self) -> bool:
        return self.comparing.loading

    @property
    def switching(self) -> bool:
        """A model is loading to take the place of the one in use."""
        return self._switching

    def compare_with(self, choice: ModelChoice) -> None:
        self.comparing.compare_with(choice)

    def action_compare_with(self) -> None:
        self.comparing.ask()

    def action_stop_comparing(self) -> None:
        self.main.stop_comparing()

    # -- waiting for the app (the bench and the tests) -------------------------------------
    @property
    def busy(self) -> bool:
        """True while keys or a paste wait to be fed, or a model is loading."""
        return (self.session is None or self._switching or self.compare_loading
                or self.main.busy)

    async def wait_idle(self) -> None:
        """Until the model is ready and everything queued has been fed (for tests and bench)."""
        while self.busy:
            await asyncio.sleep(0.005)

    # -- loading ---------------------------------------------------------------------------
    def load_session(self, choice: ModelChoice, delay: int | None, strict: bool = True):
        """A session on `choice` (runs in a thread; tests may wrap it). Not `strict`: a delay
        the model does not have falls back to its default."""
        return open_session(choice, delay, strict, self._clock)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, choice: ModelChoice, delay: int | None, switching: bool) -> None:
        # a failure anywhere here, or in what runs after it on the app's thread, is reported by
        # on_worker_state_changed; the expected ones (a bad file) get their own words
        try:
            session = self.load_session(choice, delay, strict=not switching)
        except Exception as e:  # noqa: BLE001 - whatever it is, the app must not hang "loading"
            self.call_from_thread(self._load_failed, e, switching)
            return
        self.call_from_thread(self._model_ready, session, choice)

    def _load_failed(self, error: Exception, switching: bool) -> None:
        from trainer import WeightsError

        self._switching = False
        if switching or self.session is not None:
            # a bad file's sentence as it is; anything else with its kind, as a worker's is
            said = inert(str(error)) if isinstance(error, WeightsError) else error_text(error)
            # plain text: a path or message with "[/b]" in it would be a markup error
            self.notify(said, title="Cannot switch model", severity="error", markup=False)
            self.main.say(f"{JOBS['load']} failed: {said}")
            self.main.redraw()
            return
        # a bad file exits 1 with the WeightsError's sentence; a bad start delay exits 2
        self.error = str(error)
        usage = isinstance(error, ValueError) and not isinstance(error, WeightsError)
        self.exit(return_code=2 if usage else 1)

    def _model_ready(self, session, choice: ModelChoice) -> None:
        # what can fail comes first, so a failure leaves the model in use and what was typed
        # exactly as they were
        title, name = choice.title(), choice.describe()
        self.models.settle(choice)
        old = self.session
        self._switching = False
        self.sub_title = inert(title)  # a file's name: its escapes must not reach the terminal
        # what was typed carries over, as typed: fed to the new model before any key still
        # queued; what it cannot read is skipped, and the notice says how much
        self.main.use_session(session, old.typed if old is not None else "",
                              f"now {name}{self._delay_kept(session)}" if old is not None
                              else "")
        if self.model_ready_at is None:
            self.model_ready_at = time.perf_counter()
            if self.main.notice.text == FIRST_START:
                self.main.say("")
        self.comparing.started()

    def _delay_kept(self, session) -> str:
        """The notice's word on a chosen delay the new model does not have."""
        chosen = self.main.chosen_delay
        if chosen is None or chosen == session.delay:
            return ""
        return (f" (at delay {session.delay}: it has {delay_range(session.delays)}; your "
                f"{chosen} comes back with a model that has it)")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "load":
            self._switching = False  # the model in use stays; the keys go on to it
            self.main.redraw()
        if event.worker.group == "compare":
            self.comparing.worker_failed()
        self.main.say(failure_sentence(event.worker))

    def _switch_to(self, choice: ModelChoice) -> None:
        if self.session is None or self._switching:
            self.main.say("the model is still loading")
            return
        self._switching = True
        choice = self.models.recognise(choice)
        self.main.say(f"loading {choice.describe()}…")
        chosen = self.main.chosen_delay  # the user's, kept through models that lack it
        self._load(choice, self.session.delay if chosen is None else chosen, switching=True)

    # -- actions -----------------------------------------------------------------------------
    def action_switch_model(self) -> None:
        """f3: the next model in the cycle (shipped ones, and any the user gave or opened)."""
        self._switch_to(self.models.next())

    def use_trained(self, model, label: str) -> None:
        """A model trained in the app takes over the session, joining the f3 cycle."""
        self._switch_to(self.models.trained_choice(model) or ModelChoice.trained(model, label))

    def action_open_weights(self) -> None:
        if refusal("open"):
            self.main.say(refusal("open"))
            return

        def opened(path: str | None) -> None:
            if path:
                self._switch_to(ModelChoice.file(Path(path).expanduser()))

        self.push_screen(PathPrompt(
            "Open weights", "A weights file made by echo-train. What you typed is kept and "
            "fed to it; f3 then cycles through it too."), opened)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        keys: dict[str, list[str]] = {}
        for binding in help_bindings(browser=served()):
            if binding.tooltip:
                keys.setdefault(binding.tooltip, []).append(self.get_key_display(binding))
        help_screen = HelpScreen(INTRO, help_sections(self.session, keys,
                                                      list(self.main.notice.recent)),
                                 self.main.feed_text)
        self.push_screen(help_screen, help_screen.deliver)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Keys":  # Textual's own panel: Tab is a typed key here
                command = SystemCommand("Keys", "Every key of echo-tui and what it does, "
                                        "with what the views show (f1)", self.action_help)
            yield command
        yield from palette_commands(self)

def create_app(weights: str | Path | None = None, delay: int | None = None, **kwargs) -> EchoApp:
    """The app on `weights` (default: the shipped text model, or the shipped letters GRU when
    `compare` names a shipped cell) at start `delay`."""
    return EchoApp(weights, delay, **kwargs)


def run_app(weights: str | None, delay: int | None, compare: str | None = None,
            memory: bool = True, lesson: str | None = None) -> int:
    """Run the app on arguments already checked (`echo-tui`, and a served session, whose
    server checked them once for every tab); its exit status. `memory`: the memory view shown
    at start; `lesson`: a lesson's name or path, checked already."""
    if lesson is not None:
        from ..lessons import LessonError, find_lesson

        try:
            lesson = find_lesson(lesson)
        except LessonError as e:  # the file changed since it was checked
            print(e, file=sys.stderr)
            return 2
    app = create_app(weights, delay, compare=compare, memory=memory, lesson=lesson)
    app.run()
    if app.ending.code is not None:  # a signal or a vanished terminal: nothing more to say,
        app.ending.finish()  # and a stuck output thread must not hold the interpreter's exit
    if app.error:
        print(inert(app.error), file=sys.stderr)
    return app.return_code or 0
