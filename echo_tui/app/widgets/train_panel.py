"""Train a model in front of the learner (ctrl+t): pick it, start it, watch it learn.

The panel is the view: the form, its buttons, the progress line, the plots and a "learning"
row. It asks by message (`Start`, `Cancel`, `Use`, `Save`, `Notice`); the screen answers, and
its `TrainingControl` runs the training and hands the panel each check (`checked`) and the end
(`finished`, `stopped`). At each check the typed text is re-echoed by the weights of that
moment in the learning row, so the echo turns from noise into the text. When the run ends, or
on "use now", the new model takes over the session; "save" writes it where the user says.

Keys typed while the form has focus go to the form; once training starts, focus returns to the
tapes so typing, delay keys and undo keep working on the current model.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Select

from trainer.text import inert

from ...core.served import served
from ...training.slot import limits
from .base import SessionView
from .lines import TextLine
from ...training.checkpoint import PlotData
from .plots import TrainingPlots
from .train_form import CHOICES, TrainForm, plan
from .tapes import EchoStyles, append_echo, append_typed



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


class BuiltWhenOpened:
    """A panel whose children are composed at its first opening (`build`), not when it is
    mounted: most sessions never train, and the training form's thirty widgets were two fifths
    of what a session did to start (thirty tabs of a room start at once). Its `compose` yields
    nothing until `built`."""

    built = False

    async def build(self) -> None:
        if not self.built:
            self.built = True
            await self.recompose()


class TrainPanel(BuiltWhenOpened, TrainForm, SessionView, Vertical):
    """Kind, alphabet, delay and hidden size from trainer's recipes; start, cancel, use, save;
    and the run's progress, plots and learning row, as its TrainingControl hands them over."""

    @dataclass
    class Start(Message):
        """A run of `cfg` (the form's TrainConfig) is to start; the panel shows it starting."""

        cfg: object

    @dataclass
    class Cancel(Message):
        """The run is to stop now; the panel shows it cancelled."""

    @dataclass
    class Use(Message):
        """A trained model is to take over the session."""

        model: object
        label: str

    @dataclass
    class Save(Message):
        """A trained model is to be saved (the app asks where)."""

        model: object
        cfg: object
        checkpoint: object

    @dataclass
    class Notice(Message):
        """Something for the notice line, where the learner looks."""

        text: str

    # the screen's session (SessionView): the learning row re-echoes what was typed in it
    FOLLOWS_REVISION = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.running = False  # from the start asked for until the run's end, or its cancel
        self.ended = None  # how the last run ended (finished, cancelled, failed)
        self.cfg = None  # the running (or last) run's TrainConfig
        self.checkpoint = self.model = None  # the newest check shown, and its model

    def compose(self) -> ComposeResult:
        if not self.built:  # until the first opening (BuiltWhenOpened)
            return
        with Horizontal(id="train-form"):
            for name, start in (("kind", "fixed"), ("alphabet", "letters"), ("cell", "gru")):
                yield Select(CHOICES[f"train-{name}"], value=start, allow_blank=False,
                             compact=True, id=f"train-{name}")
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
        served_panel(self)
        self._filled = False  # the recipes import torch: not before the first frame

    async def opened(self) -> None:
        """The panel is shown: its form built the first time (`build`), filled from the recipes."""
        await self.build()
        served_panel(self)
        if not self._filled:
            self._filled = True
            self.fill_recipe()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"train-start": self.start, "train-cancel": self.cancel, "train-use": self.use_now,
         "train-save": self.save}[event.button.id]()

    # -- the run: asked for here, run by the screen's TrainingControl -----------------------
    def start(self) -> None:
        """Start a run of what the form asks for (Enter, "start")."""
        if self.running:
            return
        try:
            cfg = self.config()
        except ValueError as e:
            self.say(str(e))
            return
        self.cfg, self.running = cfg, True
        self.ended = None  # how it ended, for a lesson's check: finished, cancelled or failed
        self.checkpoint = self.model = None
        self.query_one(TrainingPlots).show(plan(cfg))
        self._buttons()
        delays = f"delay {cfg.delay}" if cfg.kind == "fixed" else f"delays 0–{cfg.delay}"
        cell = f"{cfg.cell} cell, " if cfg.cell != "gru" else ""
        self.say(f"starting: {cfg.kind}, {cell}{cfg.alphabet}, {delays}, hidden {cfg.hidden}, on "
                 f"{cores_text()}…")
        self.screen.set_focus(None)  # back to typing: keys go to the tapes
        self.post_message(self.Start(cfg))

    def cancel(self) -> None:
        """Stop the run now (Esc); the current model stays."""
        if not self.running:
            return
        self.running = False
        self.ended = "cancelled"
        self.post_message(self.Cancel())
        self._buttons()
        self.say("cancelled: nothing is training; the current model stays")

    def use_now(self) -> None:
        """The newest checkpoint takes over the session (training goes on, if it runs)."""
        if self.model is None:
            self._nothing_yet("to use")
            return
        self.post_message(self.Use(self.model, self.label()))

    def save(self) -> None:
        if self.model is None:
            self._nothing_yet("to save")
            return
        self.post_message(self.Save(self.model, self.cfg, self.checkpoint))

    def _nothing_yet(self, what: str) -> None:
        """A key that has nothing to act on says so, rather than nothing."""
        when = ("after its first check" if self.running
                else f"train one first: {'f8' if served() else 'ctrl+t'}, then Enter")
        self.post_message(self.Notice(f"no model trained here yet {what}: {when}"))

    def label(self) -> str:
        return f"trained here ({self.cfg.kind}, {self.cfg.alphabet}, step {self.checkpoint.step:,})"

    # -- what the TrainingControl hands the panel -------------------------------------------
    def shows(self, cfg) -> bool:
        """Whether the panel shows the run of `cfg` now: not once it asked to cancel it, or
        started another (before the control has heard)."""
        return self.running and cfg is self.cfg

    def checked(self, cp, model, plot: PlotData, rows) -> None:
        """A check of the run: its figures, its plots, and its model's echo of the typed text."""
        before = self.checkpoint
        self.checkpoint, self.model = cp, model
        self.query_one(TrainingPlots).show(plot)
        self.query_one(LearningRow).rows = rows
        self.query_one(LearningRow).refresh()
        added = before is not None and cp.trained_delay > before.trained_delay
        self.say(progress_text(self.cfg, cp, added))
        self._buttons()

    def finished(self, cp) -> None:
        """The run's end (`cp`: its last check): its model takes over, if it has one."""
        self.running = False
        self.ended = "finished"
        self._buttons()
        if self.model is None or cp is None:
            self.say("training ended before its first check: the current model stays")
            return
        self.say(("target reached" if cp.reached else "stopped at its limit")
                 + f" after {cp.seconds:.1f} s, {held_text(self.cfg, cp)}: now in use"
                 + ("" if served() else "; ^s saves it"))
        self.use_now()

    def stopped(self, why: str) -> None:
        """The run ended early: `why`, one sentence."""
        self.running = False
        self.ended = "failed"
        self._buttons()
        self.say(inert(f"training stopped: {why}"))

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


def cores_text() -> str:
    """The cores a run trains on: all but one, or in a browser's session one, below the
    sessions' priority (served.pinned_run)."""
    from trainer.threads import cores

    return ("one core, below the sessions" if served()
            else f"{max(1, cores() - 1)} of {cores()} cores")


def served_panel(panel: TrainPanel) -> None:
    """In a browser tab: the panel's key is f8 (a browser keeps ctrl+t), its title shows the
    server's training limits, and no save is offered (the file would be the teacher's)."""
    if not served():
        return
    bounds = limits()
    panel.border_title = "train a model (f8) · " + (
        bounds.describe() if bounds is not None else "off on this server")
    panel.border_subtitle = "Enter start · Esc cancel · ^u use"
    for save in panel.query("#train-save"):  # once the form is built
        save.display = False


def progress_text(cfg, cp, just_added: bool = False) -> str:
    """A check's figures, each named for what it measures."""
    return (f"step {cp.step:,} · {cp.seconds:.1f} s · loss {cp.loss:.4f} · "
            f"{held_text(cfg, cp, just_added)}")


def held_text(cfg, cp, just_added: bool = False) -> str:
    """The held-out figure of a check of a run of `cfg`, named for the delays it covers
    (trainer.report.held_words: echo-train says the same)."""
    from trainer.report import held_words

    return held_words(cfg, cp.trained_delay, cp.by_delay or [cp.heldout], just_added)
