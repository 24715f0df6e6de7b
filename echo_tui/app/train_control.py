"""Training from the echo screen: the run, followed, and what its training panel is to draw.

The screen owns a `TrainingControl` and hands it what the panel asks for (start, cancel). The
control starts the run (`start_run`: a TrainingRun, a child process, unless a test gives
another) and follows it from a thread worker run on the screen, so a failure there is reported
as any worker's is (`failed`). At each check it rebuilds the checkpoint's model and re-echoes
the typed text through it, off the app's thread, then gives the panel the check, its model,
the plots and the learning row; at the end it tells the panel how the run ended.

Not a widget: it draws nothing and posts nothing; the panel draws, the screen talks to the app.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Callable

from textual.worker import get_current_worker

from ..core.describe import failure_sentence
from ..core.served import served
from ..training.checkpoint import Checked, Failed, Finished, PlotData
from ..training.slot import served_run

LEARN_CHARS = 512  # typed characters re-echoed at each check: enough history for any delay
RELAY = "relay"  # the relay worker's group (describe.JOBS names its failures)


class TrainingControl:
    """Starts, follows and cancels the training runs the panel (`view`) asks for; the relay
    worker runs on `host` (the screen), whose worker events reach `failed`."""

    def __init__(self, host, view, start_run: Callable | None = None) -> None:
        self.host = host
        self.view = view  # the TrainPanel: it shows what this hands it
        # cfg -> a started run (tests script one; a browser session takes the server's slot)
        self.start_run = start_run or (served_run if served() else process_run)
        self.run = None
        self.cfg = None  # the running (or last) run's TrainConfig
        self.checkpoint = None
        self.model = None  # the newest checkpoint's model
        self.losses: list[float] = []
        self.course: list[float] = []  # per check: the worst delay in training

    @property
    def running(self) -> bool:
        return self.run is not None

    def start(self, cfg) -> None:
        """Start a run of `cfg` (the panel already shows it starting) and follow it."""
        self.cancel()  # the panel asks for one run at a time: a left-over one is not followed
        self.cfg = cfg
        self.checkpoint = self.model = None
        self.losses, self.course = [], []
        self.run = self.start_run(cfg)
        self.host.run_worker(partial(self._relay, self.run, cfg), name=RELAY, group=RELAY,
                             thread=True, exclusive=True, exit_on_error=False)

    def cancel(self) -> None:
        """Stop the run now, if one runs (the panel says so itself); the current model stays."""
        if self.run is None:
            return
        run, self.run = self.run, None
        self.host.workers.cancel_group(self.host, RELAY)
        run.cancel()

    def failed(self, worker) -> str:
        """The relay `worker` failed: the run cannot be followed, so it ends; the panel says
        so, and so does the sentence returned, for the notice line."""
        if self.run is not None:
            self.run.cancel()
            self.run = None
        sentence = failure_sentence(worker)
        self.view.stopped(sentence)
        return sentence

    # -- the relay ----------------------------------------------------------------------------
    def _relay(self, run, cfg) -> None:
        """Pass the run's messages to the app's thread, rebuilding each checkpoint's model and
        its echo of the typed text here, off the app's thread."""
        worker = get_current_worker()
        call = self.host.app.call_from_thread
        while not worker.is_cancelled:
            message = run.get(timeout=0.1)
            if message is None:
                continue
            learned = None
            try:
                if not isinstance(message, Failed) and message.checkpoint is not None:
                    model = message.checkpoint.model(asdict(cfg))
                    typed, delay = call(self._typed_and_delay)
                    learned = (model, learning_rows(model, typed, delay))
            except Exception as e:  # noqa: BLE001 - the panel must not wait for ever
                run.cancel()
                message = Failed(f"its weights could not be read ({e})")
            if worker.is_cancelled:
                return
            call(self._take, run, message, learned)
            if not isinstance(message, Checked):
                return

    def _typed_and_delay(self) -> tuple[str, int | None]:
        """What was typed and the delay, from the session the panel is bound to."""
        s = self.view.session
        return (s.typed[-LEARN_CHARS:], s.delay) if s is not None else ("", None)

    def _take(self, run, message, learned) -> None:
        """On the app's thread: the run's message, to the panel."""
        if run is not self.run or not self.view.shows(self.cfg):
            return  # a cancelled run's last word (the panel's cancel may be on its way here)
        if isinstance(message, Failed):
            self.run = None
            self.view.stopped(message.text)
            return
        cp = message.checkpoint
        if cp is not None:
            self.checkpoint = cp
            self.model, rows = learned
            self.losses.append(cp.loss)
            self.course.append(cp.in_training())
            plot = PlotData(delays=list(self.model.head_delays), by_delay=list(cp.by_delay),
                            trained=cp.trained_delay, step=self.cfg.curriculum_step,
                            target=self.cfg.target, course=list(self.course),
                            losses=list(self.losses))
            self.view.checked(cp, self.model, plot, rows)
        if isinstance(message, Finished):
            self.run = None
            # a "done" without figures: the last check stands
            self.view.finished(cp if cp is not None else self.checkpoint)


def process_run(cfg):
    """The run of `cfg` in a child process, started."""
    from ..training.run import TrainingRun

    run = TrainingRun(cfg)
    run.start()
    return run


def learning_rows(model, typed: str, delay: int | None):
    """The newest steps of `typed` through `model`: (typed, echo, wrong, confidence, blank)."""
    from ..core.session import EchoSession

    if delay not in model.head_delays:
        delay = None
    learn = EchoSession(model, delay, undo_steps=0, keep_steps=max(1, len(typed)))
    learn.feed(typed)
    stream, echo, wrong = learn.window(learn.first_kept, learn.steps)
    return (stream, echo, wrong, learn.confidence(learn.first_kept, learn.steps),
            model.alphabet.blank)
