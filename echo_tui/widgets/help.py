"""The help screen: every key the app answers to, as a modal over the tapes (F1)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do; escape or F1 closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "close help", id="help-close"),
        Binding("f1", "dismiss", "close help", show=False, id="help-close-f1"),
    ]

    def __init__(self, rows: list[tuple[str, str]], intro: str) -> None:
        super().__init__()
        self.rows = rows
        self.intro = intro

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(keys, what)
        with VerticalScroll(id="help-box") as box:
            box.border_title = "echo-tui keys"
            box.border_subtitle = "escape or F1 closes"
            yield Static(self.intro, id="help-intro")
            yield Static(table, id="help-keys")
