"""The echo screen's side of training: its keys (ctrl+t, Esc, ^u, ^s) and its training panel's
requests.

The panel (`TrainPanel`) is a view that asks by message: `Start`, `Cancel`, `Use`, `Save`,
`Notice`. The screen answers here: its `TrainingControl` starts, follows and cancels the runs,
and the app takes the trained models over and saves them. The screen handles these messages
itself: one posted while the screen is running (as from the actions below) is bubbled no
further than the screen, the node that created it.
"""

from __future__ import annotations

from textual.worker import Worker

from ..widgets import TrainPanel


class TrainingHost:
    """Mixed into EchoScreen, which has `train` (its TrainPanel), `training` (the panel's
    TrainingControl, made with it) and `say` (the notice line)."""

    async def action_toggle_train(self) -> None:
        opening = self.train.has_class("-hidden")
        self.train.set_class(not opening, "-hidden")
        self.set_class(opening, "-training")
        if opening:
            await self.train.opened()  # the form is built at the first opening
        self.refit()
        if opening and not self.train.running:
            # on "start", so Enter starts with the recipe as filled in (on a Select, Enter
            # would open its list); Tab and shift+Tab reach the form
            self.set_focus(self.train.query_one("#train-start"))  # now: the next key is for it
        else:
            self.set_focus(None)

    def tab_into_form(self, event) -> bool:
        """While the panel shows, Tab and shift+Tab from the tapes go to the form's first and
        last field (Textual's focus moves on from there, through the form only); elsewhere a
        Tab is a typed key. True when `event` was that."""
        if event.key not in ("tab", "shift+tab") or not self.train.display:
            return False
        event.stop()
        event.prevent_default()
        fields = [w for w in self.focus_chain if self.train in w.ancestors]
        if fields:
            self.set_focus(fields[0] if event.key == "tab" else fields[-1])
        return True

    def action_escape(self) -> None:
        if self.train.running:
            self.train.cancel()
        elif self.focused is not None:
            self.set_focus(None)  # out of the form: typing goes to the tapes again

    def action_use_trained(self) -> None:
        self.train.use_now()

    def action_save_trained(self) -> None:
        self.train.save()

    # -- the panel's requests ---------------------------------------------------------------
    def on_train_panel_start(self, message: TrainPanel.Start) -> None:
        self.training.start(message.cfg)

    def on_train_panel_cancel(self, message: TrainPanel.Cancel) -> None:
        self.training.cancel()

    def on_train_panel_use(self, message: TrainPanel.Use) -> None:
        self.app.use_trained(message.model, message.label)

    def on_train_panel_save(self, message: TrainPanel.Save) -> None:
        self.app.save_trained(message.model, message.cfg, message.checkpoint)

    def on_train_panel_notice(self, message: TrainPanel.Notice) -> None:
        self.say(message.text)

    # -- the run's end from outside it --------------------------------------------------------
    def relay_failed(self, worker: Worker) -> None:
        """The relay failed (EchoScreen.WORKER_FAILED): the run cannot be followed, so it
        ends; the panel and the notice say so."""
        self.say(self.training.failed(worker))

    # (Textual calls this as well as the screen's own on_unmount)

    def on_unmount(self) -> None:
        self.training.cancel()  # leaving the app leaves nothing running
