"""The app's side of compare mode: which model to compare, loaded in a thread; the echo screen
(screens/comparing.py) then feeds it every key the model in use gets.

A compared model is a file (`--compare PATH`, the palette's "Compare with…") or one of the
shipped comparison models by its cell (`--compare rnn`): letters, delays 0–4, one file per
cell with the same number of recurrent parameters, each its cell's typical draw where
`echo-train sweep` found the cells differ most (docs/training.md: The comparison models).
"""

from __future__ import annotations

from functools import partial

from trainer.text import inert

from ..core.describe import error_text
from ..core.models import ModelChoice, comparison_choice


class CompareMode:
    """EchoApp's compare mode, an object the App holds (as the echo screen holds its
    TrainingControl): the model to compare comes from a file or the shipped comparison models,
    loads in a thread worker on `host` (the App, group "compare") and joins the echo screen when
    ready. It uses the host's public face only: `session`, `switching` (a model is loading),
    `main` (the echo screen), `load_session`, `push_screen`, `run_worker`, `call_from_thread`."""

    def __init__(self, host, at_start: ModelChoice | None = None) -> None:
        self.host = host
        self.at_start = at_start  # `--compare`: loaded once the model in use is ready
        self.loading = False  # a compared model is loading (the app counts as busy)

    def ask(self) -> None:
        """The palette's "Compare with…": a prompt for a file or a shipped cell."""
        from ..core.served import refusal
        from .widgets import PathPrompt

        if refusal("open"):
            self.host.main.say(refusal("open"))
            return

        def chosen(path: str | None) -> None:
            if path:
                self.compare_with(comparison_choice(path.strip()))

        self.host.push_screen(PathPrompt(
            "Compare with", "A weights file that reads the same alphabet, or gru, lstm or rnn "
            "for a shipped letters model: it gets every key you type, and its echo is drawn "
            "under this one's."), chosen)

    def started(self) -> None:
        """The model in use is ready: the `--compare` model, if any, loads now."""
        if self.at_start is not None:
            choice, self.at_start = self.at_start, None
            self.compare_with(choice)

    def compare_with(self, choice: ModelChoice) -> None:
        session = self.host.session
        if session is None or self.host.switching:
            self.host.main.say("the model is still loading: compare once it is in")
            return
        self.host.main.say(f"loading {inert(choice.describe())} to compare…")
        self.loading = True
        self.host.run_worker(partial(self._load, choice, session.delay), name="_load_compared",
                             group="compare", thread=True, exclusive=True, exit_on_error=False)

    def worker_failed(self) -> None:
        """The loading worker failed in a way `_load` did not catch: the App says so."""
        self.loading = False

    def _load(self, choice: ModelChoice, delay: int) -> None:
        try:
            session = self.host.load_session(choice, delay, strict=False)
        except Exception as e:  # noqa: BLE001 - a bad file or anything else: one sentence
            self.host.call_from_thread(self._failed, e, choice)
            return
        self.host.call_from_thread(self._ready, session, choice)

    def _ready(self, session, choice: ModelChoice) -> None:
        self.loading = False
        self.host.main.compare(session, inert(choice.title()))

    def _failed(self, error: Exception, choice: ModelChoice) -> None:
        from trainer import WeightsError

        self.loading = False
        if isinstance(error, WeightsError):  # its sentence names the file: the fault first
            self.host.main.say(f"cannot compare: {inert(str(error))}")
        else:
            self.host.main.say(f"cannot compare {inert(choice.describe())}: {error_text(error)}")
