"""Lessons on the echo screen: the lesson in progress (`LessonHost`), what the screen publishes
for its checks (`publish`), and the palette's entries for lessons.

The lesson lives on the screen, not on a model or a stream: a model switch (f3), a reset
(ctrl+r) and a training run leave it and its progress as they are. The screen counts the
learner's actions a check may ask about (`lesson_saw`: keys, undos, resets, delay changes);
a model switch is counted here, from the session changing.
"""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import SystemCommand
from textual.binding import Binding

from ...lessons import SHIPPED_LESSONS, LessonError, LessonRun, Published, find_lesson
from ...core.served import served
from ..widgets import PathPrompt
from ..widgets.lesson_panel import LessonPanel

COUNTED = ("keys", "undos", "resets", "delay_changes", "model_switches")
ALPHABETS = ("letters", "alnum", "text")
NO_LESSON = "no lesson is open: ctrl+p, Lessons… opens one"
LESSON_BINDINGS = [  # the echo screen's: keys every browser gives to the page
    Binding("f7", "lesson_back", "back", show=False, id="lesson-back",
            tooltip="the lesson's step before (its checks from now on)"),
    Binding("f9", "lesson_skip", "skip", show=False, id="lesson-skip",
            tooltip="skip the lesson's step, left undone"),
]


def publish(screen) -> Published:
    """What the echo `screen` (and its app) shows now, as a lesson sees it."""
    app = screen.app
    facts: dict = {f"count_{k}": v for k, v in screen.lesson_counts.items()}
    s = screen.session
    if s is not None:
        m = s.model
        facts.update(
            delay=s.delay, model_name=str(app.sub_title), model_kind=m.kind,
            model_cell=getattr(m, "cell", "gru"),
            model_alphabet=s.alphabet.name if s.alphabet.name in ALPHABETS else "other",
            model_hidden=m.hidden_size, model_delays=tuple(s.delays),
            model_source=app.current.kind, typed=s.typed, steps=s.steps,
            accuracy=100 * s.accuracy if s.scored else None)
    views = set()
    if screen.show_memory:
        views.add("memory")
        if screen.memory.showing != "state":
            views.add("gates")
    if screen.every_delay:
        views.add("every-delay")
    inside = not screen.inspect.has_class("-hidden")
    if inside:
        views.add("inside")
    if not screen.train.has_class("-hidden"):
        views.add("training")
    if type(app.screen).__name__ == "HelpScreen":
        views.add("help")
    facts["views"] = frozenset(views)
    c = screen.compared
    if c is not None:
        facts.update(compare_cell=getattr(c.model, "cell", "gru"),
                     compare_name=screen.compared_name, compare_hidden=c.model.hidden_size,
                     compare_accuracy=100 * c.accuracy if c.scored else None)
    look = screen.inspect.looked if inside else None
    if look is not None:
        strongest = look.start + int(look.weights.argmax()) if len(look.weights) else look.step
        facts.update(pick_step=look.step + 1, pick_delay=look.delay,
                     pick_back=look.step - strongest, pick_right=look.answer == look.truth)
    facts.update(training(screen.train, screen.training))
    return Published(**facts)


def training(panel, control) -> dict:
    """The training panel's newest run, as Published's training_* facts."""
    cfg = panel.cfg
    if cfg is None:
        return {}
    cp = panel.checkpoint
    state = "running" if panel.running else (panel.ended or "finished")
    return dict(training_state=state, training_checks=len(control.losses),
                training_kind=cfg.kind, training_alphabet=cfg.alphabet,
                training_cell=cfg.cell, training_max_delay=cfg.delay,
                training_hidden=cfg.hidden,
                training_curriculum=cp.trained_delay if cp is not None else None,
                training_accuracy=100 * cp.in_training() if cp is not None else None)


class LessonHost:
    """Mixed into EchoScreen: the lesson in progress, shown in its LessonPanel (`#lesson`)."""

    lesson_run: LessonRun | None = None
    _lesson_session = None

    @property
    def lesson_panel(self) -> LessonPanel:
        return self.__dict__.get("_lesson_panel") or self.__dict__.setdefault(
            "_lesson_panel", self.query_one(LessonPanel))

    def on_mount(self) -> None:
        lesson = getattr(self.app, "lesson_at_start", None)
        if lesson is not None:
            self.open_lesson(lesson)

    @property
    def lesson_counts(self) -> dict[str, int]:
        """The learner's actions since the app started (a `count ...` check reads growth)."""
        return self.__dict__.setdefault("_lesson_counts", dict.fromkeys(COUNTED, 0))

    def lesson_saw(self, what: str, n: int = 1) -> None:
        self.lesson_counts[what] += n

    def publish(self) -> Published:
        session = self.session
        if session is not self._lesson_session:
            if self._lesson_session is not None and session is not None:
                self.lesson_saw("model_switches")
            self._lesson_session = session
        return publish(self)

    def open_lesson(self, lesson) -> None:
        """`lesson` (a lessons.Lesson) from its first step, in the panel."""
        self.lesson_run = LessonRun(lesson, self.publish())
        self.lesson_panel.set_class(False, "-hidden")
        self.lesson_panel.opened(self.lesson_run)
        self.refit()
        self.say(f"lesson: {lesson.title}: f7 goes back a step, f9 skips one")

    def close_lesson(self) -> None:
        self.lesson_run = None
        self.lesson_panel.opened(None)
        self.lesson_panel.set_class(True, "-hidden")
        self.refit()
        self.say("the lesson is closed; what you typed stays")

    def _lesson_moved(self, moved: bool, why: str) -> None:
        if not moved:
            self.say(why)
            return
        self.lesson_panel.opened(self.lesson_run)
        self.refit()

    def action_lesson_back(self) -> None:
        if self.lesson_run is None:
            self.say(NO_LESSON)
            return
        self._lesson_moved(self.lesson_run.back(), "this is the lesson's first step")

    def action_lesson_skip(self) -> None:
        if self.lesson_run is None:
            self.say(NO_LESSON)
            return
        self._lesson_moved(self.lesson_run.skip(), "the lesson is over: f7 goes back a step")

    def ask_lesson(self) -> None:
        """The palette's "Lessons…": a shipped lesson's name, or (not in a browser) a file."""
        browser = served()
        names = ", ".join(SHIPPED_LESSONS)

        def chosen(given: str | None) -> None:
            if not given:
                return
            given = given.strip()
            if browser and given not in SHIPPED_LESSONS:
                self.say(f"this session opens the shipped lessons only: {names}")
                return
            try:
                self.open_lesson(find_lesson(given))
            except LessonError as e:
                self.say(str(e))

        where = "" if browser else ", or a lesson file's path"
        self.app.push_screen(PathPrompt("Open a lesson", f"A shipped lesson ({names}){where}."),
                             chosen)


def lesson_commands(app) -> Iterable[SystemCommand]:
    """The palette's entries for lessons."""
    screen = app.main
    yield SystemCommand("Lessons…", "A guided walk through the app that checks each step: "
                        f"{', '.join(SHIPPED_LESSONS)}, or your own", screen.ask_lesson)
    for name in SHIPPED_LESSONS:
        yield SystemCommand(f"Lesson: {name}", "Open this shipped lesson from its first step",
                            partial(_open_shipped, screen, name))
    if screen.lesson_run is not None:
        yield SystemCommand("Close the lesson", "Hide the lesson panel; what you typed stays",
                            screen.close_lesson)


def _open_shipped(screen, name: str) -> None:
    screen.open_lesson(find_lesson(name))
