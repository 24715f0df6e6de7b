"""A one-line question as a modal: a path to open or to save to, or unit numbers to pin."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathPrompt(ModalScreen[str | None]):
    """Asks for a line (a path, by default); Enter returns it (stripped), Escape None."""

    DEFAULT_CSS = """
    PathPrompt { align: center middle; }
    PathPrompt > Vertical {
        width: 80%; max-width: 90; height: auto;
        border: round $primary; background: $surface; padding: 0 1;
    }
    PathPrompt #prompt-why { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "dismiss", "cancel", id="prompt-cancel")]

    def __init__(self, title: str, why: str, value: str = "",
                 placeholder: str = "path/to/model.safetensors") -> None:
        super().__init__()
        self.title_text, self.why, self.value = title, why, value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = "Enter: ok · Escape: cancel"
            yield Static(self.why, id="prompt-why", markup=False)
            yield Input(value=self.value, placeholder=self.placeholder, id="path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)
