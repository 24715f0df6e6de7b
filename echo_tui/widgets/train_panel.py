"""Train a model in front of the learner (ctrl+t): pick it, start it, watch it learn.

The panel runs a TrainingRun (a child process) and relays its checks from a thread worker. At
each check the typed text is re-echoed by the weights of that moment in a "learning" row, so
the echo turns from noise into the text. When the run ends, or on "use now", the new model
takes over the session; "save" writes it where the user says.

Keys typed while the form has focus go to the form; once training starts, focus returns to the
tapes so typing, delay keys and undo keep working on the current model.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual import events
from textual.widgets import Button, Input, Label, Select
from textual.worker import Worker, WorkerState, get_current_worker

from ..describe import failure_sentence, minutes_or_seconds, one_line
from .lines import TextLine
from .plots import PlotData, TrainingPlots
from .tapes import EchoStyles, append_echo, append_typed

KINDS = [("variable", "variable"), ("fixed", "fixed")]
ALPHABETS = [("letters", "letters"), ("alnum", "alnum"), ("text", "text")]
LEARN_CHARS = 512  # typed characters re-echoed at each check: enough history for any delay


class LearningRow(TextLine):
    """Two lines: the newest typed symbols, and the checkpoint's echo of them."""

    COMPONENT_CLASSES = {"learning--gutter", "learning--blank", "learning--space",
                         "learning--wrong", "learning--doubt-1", "learning--doubt-2",
                         "learning--doubt-3"}
    DEFAULT_CSS = "LearningRow { height: 2; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows = None  # (typed, echo, wrong, confidence, blank) of the newest steps

    def render(self) -> Text:
        gutter = self.get_component_rich_style("learning--gutter")
        text = Text(no_wrap=True, overflow="crop", end="")
        text.append("   typed ", gutter)
        if self.rows is None:
            text.append("\nlearning ", gutter)
            text.append("(your text, echoed by the model of the last check)", gutter)
            return text
        typed, echo, wrong, conf, blank = self.rows
        room = max(1, self.content_size.width - 9)
        styles = EchoStyles(self, "learning")
        append_typed(text, typed[-room:], styles.space)
        text.append("\nlearning ", gutter)
        append_echo(text, echo[-room:], wrong[-room:], conf[-room:], blank, styles)
        return text


class TrainPanel(Vertical):
    """Kind, alphabet, delay and hidden size from trainer's recipes; start, cancel, use, save."""

    class UseModel(Message):
        """A trained model is to take over the session."""

        def __init__(self, model, label: str) -> None:
            super().__init__()
            self.model, self.label = model, label

    class SaveModel(Message):
        """A trained model is to be saved (the app asks where)."""

        def __init__(self, model, cfg, checkpoint) -> None:
            super().__init__()
            self.model, self.cfg, self.checkpoint = model, cfg, checkpoint

    class Notice(Message):
        """Something for the notice line, where the learner looks."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    session = var(None)  # bound from the screen: the learning row re-echoes what was typed

    def __init__(self, start_run: Callable | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start_run = start_run  # cfg -> a started run; tests pass a scripted one
        self.run = None
        self.cfg = None  # the running (or last) run's TrainConfig
        self.checkpoint = None
        self.model = None  # the newest checkpoint's model
        self.losses: list[float] = []
        self.course: list[float] = []  # per check: the worst delay in training

    def compose(self) -> ComposeResult:
        with Horizontal(id="train-form"):
            yield Select(KINDS, value="fixed", allow_blank=False, compact=True, id="train-kind")
            yield Select(ALPHABETS, value="letters", allow_blank=False, compact=True,
                         id="train-alphabet")
            yield Label(" delay ", id="train-delay-label")
            yield Input("4", compact=True, restrict=r"\d{0,3}", id="train-delay")
            yield Label(" hidden ")
            yield Input("64", compact=True, restrict=r"\d{0,4}", id="train-hidden")
        with Horizontal(id="train-buttons"):
            yield Button("start", compact=True, id="train-start")
            yield Button("cancel", compact=True, id="train-cancel", disabled=True)
            yield Button("use now", compact=True, id="train-use", disabled=True)
            yield Button("save…", compact=True, id="train-save", disabled=True)
        yield TextLine("", id="train-progress")
        yield TrainingPlots(id="train-plots")
        yield LearningRow(id="learning")

    def on_mount(self) -> None:
        self.border_title = "train a model (ctrl+t)"
        self.border_subtitle = "Enter start · Esc cancel · ^u use · ^s save"
        self._filled = False  # the recipes import torch: not before the first frame

    def opened(self) -> None:
        """The panel is shown: fill the form from the recipes, the first time."""
        if not self._filled:
            self._filled = True
            self.fill_recipe()

    # -- the form -------------------------------------------------------------------------
    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._filled:
            self.fill_recipe()

    def fill_recipe(self) -> None:
        """Delay and hidden size from the recipe that suits the kind and alphabet."""
        from trainer.recipes import RECIPES, recipe_for

        kind, alphabet = self._select("kind"), self._select("alphabet")
        r = RECIPES[recipe_for(kind, alphabet)]
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
        """Before a run: how long the chosen recipe took where it was measured."""
        from trainer.recipes import measured_time, recipe_for

        try:
            cfg = self.config()
        except ValueError as e:
            self.say(str(e))
            return
        measured = measured_time(recipe_for(cfg.kind, cfg.alphabet, cfg.delay), cfg)
        if measured is None:
            self.say("Enter starts · no time measured for these settings: the recipes' are")
        else:
            seconds, how = measured
            self.say(f"Enter starts · about {minutes_or_seconds(seconds)} to "
                     f"{100 * cfg.target:g}% (measured {how})")
        self.query_one(TrainingPlots).show(plan(cfg))

    def on_key(self, event: events.Key) -> None:
        # Enter starts from any field of the form; on a closed list too (Textual's Select would
        # open it), but not in an open list, where it picks an entry
        if event.key == "enter" and isinstance(self.screen.focused, Select) and not self.running:
            event.stop()
            event.prevent_default()
            self.start()

    def _select(self, name: str) -> str:
        return self.query_one(f"#train-{name}", Select).value

    def config(self):
        """The TrainConfig the form asks for; ValueError with one sentence when it cannot be."""
        from trainer.limits import MAX_DELAY, MAX_HIDDEN
        from trainer.recipes import config, recipe_for

        kind, alphabet = self._select("kind"), self._select("alphabet")
        delay = _whole(self.query_one("#train-delay", Input).value, "delay", MAX_DELAY, 0)
        hidden = _whole(self.query_one("#train-hidden", Input).value, "hidden", MAX_HIDDEN, 1)
        # "auto": the child takes CUDA when there is one
        return config(recipe_for(kind, alphabet, delay), kind=kind, alphabet=alphabet,
                      delay=delay, hidden=hidden, device="auto")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"train-start": self.start, "train-cancel": self.cancel, "train-use": self.use_now,
         "train-save": self.save}[event.button.id]()

    # -- the run --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.run is not None

    def start(self) -> None:
        if self.running:
            return
        try:
            cfg = self.config()
        except ValueError as e:
            self.say(str(e))
            return
        from .. import training

        self.cfg = cfg
        self.checkpoint = self.model = None
        self.losses, self.course = [], []
        self.query_one(TrainingPlots).show(plan(cfg))
        self.run = (self.start_run or _process_run)(cfg)
        self._buttons()
        delays = f"delay {cfg.delay}" if cfg.kind == "fixed" else f"delays 0–{cfg.delay}"
        self.say(f"starting: {cfg.kind}, {cfg.alphabet}, {delays}, hidden {cfg.hidden}, on "
                 f"{max(1, training.CORES - 1)} of {training.CORES} cores…")
        self.screen.set_focus(None)  # back to typing: keys go to the tapes
        self._relay(self.run)

    def cancel(self) -> None:
        """Stop the run now (Esc); the current model stays."""
        if not self.running:
            return
        run, self.run = self.run, None
        self.workers.cancel_group(self, "relay")
        run.cancel()
        self._buttons()
        self.say("cancelled: nothing is training; the current model stays")

    def use_now(self) -> None:
        """The newest checkpoint takes over the session (training goes on, if it runs)."""
        if self.model is None:
            self._nothing_yet("to use")
            return
        self.post_message(self.UseModel(self.model, self.label()))

    def save(self) -> None:
        if self.model is None:
            self._nothing_yet("to save")
            return
        self.post_message(self.SaveModel(self.model, self.cfg, self.checkpoint))

    def _nothing_yet(self, what: str) -> None:
        """A key that has nothing to act on says so, rather than nothing."""
        when = ("after its first check" if self.running
                else "train one first: ctrl+t, then Enter")
        self.post_message(self.Notice(f"no model trained here yet {what}: {when}"))

    def label(self) -> str:
        return f"trained here ({self.cfg.kind}, {self.cfg.alphabet}, step {self.checkpoint.step:,})"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # the relay: the run cannot be followed, so it ends
            if self.run is not None:
                self.run.cancel()
                self.run = None
            self._buttons()
            sentence = failure_sentence(event.worker)
            self.say(f"training stopped: {sentence}")
            self.post_message(self.Notice(sentence))

    @work(thread=True, exclusive=True, group="relay", exit_on_error=False)
    def _relay(self, run) -> None:
        """Pass the run's messages to the panel, rebuilding each checkpoint's model and its
        echo of the typed text here, off the app's thread."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            message = run.get(timeout=0.1)
            if message is None:
                continue
            kind, body = message
            learned = None
            try:
                if kind in ("check", "done") and body is not None:
                    model = body.model(asdict(self.cfg))
                    typed, delay = self.app.call_from_thread(self._typed_and_delay)
                    learned = (model, _learning_rows(model, typed, delay))
            except Exception as e:  # noqa: BLE001 - the panel must not wait for ever
                run.cancel()
                kind, body = "error", f"its weights could not be read ({e})"
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._take, run, kind, body, learned)
            if kind != "check":
                return

    def _typed_and_delay(self) -> tuple[str, int | None]:
        s = self.session
        return (s.typed[-LEARN_CHARS:], s.delay) if s is not None else ("", None)

    def _take(self, run, kind: str, body, learned) -> None:
        if run is not self.run:
            return  # a cancelled run's last word
        if kind == "error":
            self.run = None
            self._buttons()
            self.say(one_line(f"training stopped: {body}"))
            return
        if body is not None:
            self.checkpoint = body
            self.model, rows = learned
            self.losses.append(body.loss)
            self.course.append(body.in_training())
            self.query_one(TrainingPlots).show(PlotData(
                delays=list(self.model.head_delays), by_delay=list(body.by_delay),
                trained=body.trained_delay, step=self.cfg.curriculum_step,
                target=self.cfg.target, course=list(self.course), losses=list(self.losses)))
            self.query_one(LearningRow).rows = rows
            self.query_one(LearningRow).refresh()
            self.say(self.progress_text(body))
        if kind == "done":
            self.run = None
            self._buttons()
            if self.model is not None:
                self.say(("target reached" if body.reached else "stopped at its limit")
                         + f" after {body.seconds:.1f} s, {self.held_text(body)}: now in use; "
                         "^s saves it")
                self.use_now()
            return
        self._buttons()

    def progress_text(self, cp) -> str:
        """The check's figures, each named for what it measures."""
        return f"step {cp.step:,} · {cp.seconds:.1f} s · loss {cp.loss:.4f} · {self.held_text(cp)}"

    def held_text(self, cp) -> str:
        """The held-out figure of a check, named for the delays it covers."""
        if self.cfg.kind == "fixed":
            return f"held-out {100 * cp.heldout:.2f}% (delay {self.cfg.delay})"
        if cp.trained_delay < self.cfg.delay:
            return (f"held-out {100 * cp.in_training():.2f}% (worst of delays "
                    f"0–{cp.trained_delay}, in training)")
        return f"held-out {100 * cp.heldout:.2f}% (worst of delays 0–{self.cfg.delay})"

    def say(self, text: str) -> None:
        self.query_one("#train-progress", TextLine).show(text)

    def _buttons(self) -> None:
        running = self.running
        self.query_one("#train-start", Button).disabled = running
        self.query_one("#train-cancel", Button).disabled = not running
        self.query_one("#train-use", Button).disabled = self.model is None
        self.query_one("#train-save", Button).disabled = self.model is None
        for widget in self.query("#train-form Select, #train-form Input"):
            widget.disabled = running

    def on_unmount(self) -> None:
        if self.run is not None:  # leaving the app leaves nothing running
            self.run.cancel()
            self.run = None


def plan(cfg) -> PlotData:
    """The plots before a run's first check: its delays, and where its curriculum starts."""
    delays = [cfg.delay] if cfg.kind == "fixed" else list(range(cfg.delay + 1))
    trained = cfg.delay if cfg.kind == "fixed" or cfg.curriculum is None else min(
        cfg.curriculum, cfg.delay)
    return PlotData(delays=delays, trained=trained, step=cfg.curriculum_step, target=cfg.target)


def _process_run(cfg):
    from ..training import TrainingRun

    run = TrainingRun(cfg)
    run.start()
    return run


def _whole(value: str, name: str, most: int, least: int) -> int:
    if not value.strip().isdigit() or not least <= int(value) <= most:
        raise ValueError(f"{name} must be a whole number from {least} to {most}, not {value!r}")
    return int(value)


def _learning_rows(model, typed: str, delay: int | None):
    """The newest steps of `typed` through `model`: (typed, echo, wrong, confidence, blank)."""
    from ..session import EchoSession

    if delay not in model.head_delays:
        delay = None
    learn = EchoSession(model, delay, undo_steps=0, keep_steps=max(1, len(typed)))
    learn.feed(typed)
    stream, echo, wrong = learn.window(learn.first_kept, learn.steps)
    return (stream, echo, wrong, learn.confidence(learn.first_kept, learn.steps),
            model.alphabet.blank)
