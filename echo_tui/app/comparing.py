"""The app's side of compare mode: which model to compare, loaded in a thread; the echo screen
(screens/comparing.py) then feeds it every key the model in use gets.

A compared model is a file (`--compare PATH`, the palette's "Compare with…") or one of the
shipped comparison models by its cell (`--compare rnn`): letters, delays 0–4, one file per
cell with the same number of recurrent parameters, each its cell's typical draw where
`echo-train sweep` found the cells differ most (docs/training.md: The comparison models).
"""

from __future__ import annotations

from textual import work

from trainer.text import inert

from ..core.describe import error_text
from ..core.models import ModelChoice, comparison_choice


class ComparesModels:
    """EchoApp's compare mode: the model to compare comes from a file or the shipped
    comparison models, loads in a thread and joins the echo screen when ready."""

    compare_at_start: ModelChoice | None = None
    compare_loading = False  # a compared model is loading (the app counts as busy)

    def action_compare_with(self) -> None:
        from ..core.served import refusal
        from .widgets import PathPrompt

        if refusal("open"):
            self.main.say(refusal("open"))
            return
        def chosen(path: str | None) -> None:
            if path:
                self.compare_with(comparison_choice(path.strip()))

        self.push_screen(PathPrompt(
            "Compare with", "A weights file that reads the same alphabet, or gru, lstm or rnn "
            "for a shipped letters model: it gets every key you type, and its echo is drawn "
            "under this one's."), chosen)

    def action_stop_comparing(self) -> None:
        self.main.stop_comparing()

    def compare_with(self, choice: ModelChoice) -> None:
        session = self.session
        if session is None or self._switching:
            self.main.say("the model is still loading: compare once it is in")
            return
        self.main.say(f"loading {inert(choice.describe())} to compare…")
        self.compare_loading = True
        self._load_compared(choice, session.delay)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _load_compared(self, choice: ModelChoice, delay: int) -> None:
        try:
            session = self.load_session(choice, delay, strict=False)
        except Exception as e:  # noqa: BLE001 - a bad file or anything else: one sentence
            self.call_from_thread(self._compare_failed, e, choice)
            return
        self.call_from_thread(self._compared_ready, session, choice)

    def _compared_ready(self, session, choice: ModelChoice) -> None:
        self.compare_loading = False
        self.main.compare(session, inert(choice.title()))

    def _compare_failed(self, error: Exception, choice: ModelChoice) -> None:
        from trainer import WeightsError

        self.compare_loading = False
        if isinstance(error, WeightsError):  # its sentence names the file: the fault first
            self.main.say(f"cannot compare: {inert(str(error))}")
        else:
            self.main.say(f"cannot compare {inert(choice.describe())}: {error_text(error)}")
