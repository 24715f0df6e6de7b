"""The help screen: every key, what the views show, what the status line measures (F1)."""

from __future__ import annotations

from typing import Callable

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Sections of (what, meaning) rows; escape or F1 closes it, and typing goes back to the
    tapes: the key is fed, not lost. Push it with `callback=screen.deliver`."""

    BINDINGS = [
        Binding("escape", "dismiss", "close help", id="help-close"),
        Binding("f1", "dismiss", "close help", show=False, id="help-close-f1"),
    ]

    def __init__(self, intro: str, sections: list[tuple[str, list[tuple[str, str]]]],
                 on_typed: Callable[[str], None]) -> None:
        super().__init__()
        self.intro, self.sections, self.on_typed = intro, sections, on_typed
        self._typed_text: list[str] | None = None
        self.delivered = False

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for k, (title, rows) in enumerate(self.sections):
            if k:
                table.add_row("", "")
            table.add_row(Text(title, style="bold underline"), "")
            for what, meaning in rows:  # as text: a notice can quote a file's name, "[b]"
                table.add_row(Text(what, style="bold"), Text(meaning))
        with VerticalScroll(id="help-box") as box:
            box.border_title = "echo-tui help"
            box.border_subtitle = "escape or F1 closes · typing goes back to the tapes"
            yield Static(self.intro, id="help-intro", markup=False)
            yield Static(table, id="help-keys")

    def on_key(self, event: events.Key) -> None:
        ch = event.character
        if ch is not None and len(ch) == 1 and ch.isprintable():
            event.stop()
            self._typed(ch)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self._typed(event.text)

    def _typed(self, text: str) -> None:
        # Feeding from inside this handler while the screen closes deadlocks the app, so what
        # is typed goes out with the dismissal and is fed once this screen is gone. Keys of a
        # burst can still reach this screen after the first one closed it: they join it.
        if self._typed_text is None:
            self._typed_text = [text]
            self.dismiss()
        elif self.delivered:
            self.on_typed(text)
        else:
            self._typed_text.append(text)

    def deliver(self, _result) -> None:
        self.delivered = True
        if self._typed_text:
            self.on_typed("".join(self._typed_text))
