"""The echo screen's look-inside keys: the inspect view (f5) and its pick (shift+← →), the
memory view's gates (f6), pinned units and the export to .npz (the palette)."""

from __future__ import annotations

from textual.worker import Worker

from ...core.describe import failure_sentence
from ..widgets import PathPrompt


class LookingHost:
    """Mixed into EchoScreen, which has `inspect` (InspectView), `memory` (MemoryView),
    `show_memory` and `say`."""

    def export_failed(self, worker: Worker) -> None:
        """The export's worker failed (EchoScreen.WORKER_FAILED): what _export did not foresee."""
        self.say(failure_sentence(worker))

    def action_toggle_inspect(self) -> None:
        opening = self.inspect.has_class("-hidden")
        self.inspect.set_class(not opening, "-hidden")
        self.refit()
        if opening:
            self.say("look inside: shift+← → or a click picks the answer")

    def action_pick(self, steps: int) -> None:
        if self.inspect.has_class("-hidden"):
            self.action_toggle_inspect()
            return
        self.say(self.inspect.move(steps))

    def choose_varying_units(self) -> None:
        """The palette's "choose the units that vary most now": pinned units stay first."""
        self.show_memory = True
        pinned = self.memory.choose_varying()
        self.say("the memory view shows the units that vary most over the keys on screen"
                 + (f", after the pinned {', '.join(map(str, pinned))}" if pinned else "")
                 + "; kept while you type")

    def action_cycle_gates(self) -> None:
        self.show_memory = True
        self.say(self.memory.cycle_showing())

    def ask_pinned_units(self) -> None:
        session = self.session
        if session is None:
            return
        top = session.model.hidden_size - 1

        def chosen(text: str | None) -> None:
            if text is None:
                return
            try:
                units = sorted({int(t) for t in text.replace(",", " ").split()})
            except ValueError:
                units = []
            if not units or units[0] < 0 or units[-1] > top:
                self.say(f"pin units by number, 0 to {top}, separated by spaces: not {text!r}")
                return
            self.show_memory = True
            self.memory.pin(units)
            self.say(f"the memory view shows units {', '.join(map(str, units))} first")

        self.app.push_screen(PathPrompt(
            "Pin units", f"Unit numbers, 0 to {top}, separated by spaces: the memory view "
            "shows them first and keeps them while you type.",
            placeholder=" ".join(str(u) for u in (3, 17, 42) if u <= top) or "0"), chosen)

    def ask_export(self) -> None:
        """Write the stream's numbers (trainer.trace) to a .npz file the user names."""
        from ...core.served import refusal

        session = self.session
        if refusal("export"):
            self.say(refusal("export"))
            return
        if session is None or not session.steps:
            self.say("nothing typed to export yet")
            return

        def chosen(path: str | None) -> None:
            if path:
                self.run_worker(lambda: self._export(session, path), thread=True,
                                group="export", exit_on_error=False)

        self.app.push_screen(PathPrompt(
            "Export the stream", "A .npz file (NumPy): the symbols, hidden states, gates, "
            "every head's answers and confidence, and the look-back of the picked answer (f5).",
            "trace.npz"), chosen)

    def _export(self, session, path: str) -> None:
        from pathlib import Path

        from trainer.outpath import OutputError, write_output
        from trainer.trace import npz_bytes, trace

        from trainer.text import inert

        try:
            pick = self.inspect.picked_step() - session.first_kept
            arrays = trace(session.model, session.stream, session.delay, pick)
            written = write_output(Path(path).expanduser(), npz_bytes(arrays), "a NumPy file")
        except (OutputError, OSError, ValueError) as e:
            self.app.call_from_thread(self.say, inert(f"not exported: {e}"))
            return
        self.app.call_from_thread(self.say, inert(
            f"exported {len(arrays['symbols']):,} steps to {written}"))
