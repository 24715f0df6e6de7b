"""Saving a model trained in the app (ctrl+s): where, then written atomically in a thread,
never over a directory or a pipe; a write that fails keeps the model beside the target, else
in the temporary folder, and says where."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from textual import work

from trainer.text import inert

from ..core.served import refusal
from .widgets import PathPrompt


class SavesModels:
    """Mixed into the App, which has `main` (the echo screen), `models` (the f3 cycle) and
    Textual's `push_screen`, `notify` and `call_from_thread`."""

    def save_trained(self, model, cfg, checkpoint) -> None:
        """Ask where, then write the trained model there (atomically, never over a non-file)."""
        def chosen(path: str | None) -> None:
            if path:
                self._save(model, cfg, checkpoint, Path(path).expanduser())

        if refusal("save"):
            self.main.say(refusal("save"))
            return

        self.push_screen(PathPrompt(
            "Save the trained model", "A weights file; afterwards `echo-tui --weights PATH` "
            "opens it.", "trained.safetensors"), chosen)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, model, cfg, checkpoint, path: Path) -> None:
        from trainer import save_model
        from trainer.config import resolve_device, run_metadata
        from trainer.outpath import reason, write_fallback
        from trainer.weights import model_bytes

        # what every saved file records, as echo-train's do; the device the child resolved
        cfg = replace(cfg, device=resolve_device(cfg.device))
        meta = run_metadata(cfg, checkpoint, recipe="echo-tui", command="echo-tui training panel")
        try:
            written = save_model(model, path, **meta)
        except ValueError as e:  # refused before writing (a directory, a pipe): choose again
            self.call_from_thread(self.notify, inert(str(e)), title="Not saved",
                                  severity="error", markup=False)
            return
        except OSError as e:  # the write itself failed (a full disk): keep it somewhere
            try:
                kept = f"saved to {write_fallback(path, model_bytes(model, **meta))} instead"
            except OSError as lost:
                kept = f"not saved elsewhere either ({lost.strerror or reason(lost)})"
            said = inert(f"could not write {path} ({reason(e)}); the model stays here (^s "
                            f"tries again) and was {kept}")
            self.call_from_thread(self.main.say, said)
            self.call_from_thread(self.notify, said, title="Not saved", severity="error",
                                  markup=False)
            return
        choice = self.models.trained_choice(model)
        if choice is not None:
            choice.path = written
        via = f" (written through the link to {written})" if written != path else ""
        self.call_from_thread(self.main.say, inert(  # the command first: a path is long
            f"saved: echo-tui --weights {shlex.quote(str(path))} opens it{via}"))
