"""The footer: Textual's, showing only the keys that fit whole.

Textual's footer is a row that scrolls; at 60 columns it cut a key in half ("f▏") and ran a
label into the palette key. This one leaves out, from the right, the keys that do not fit; help
(f1) and the palette (ctrl+p) list every key anyway.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer


def _kind(widget: Widget) -> str:
    """The footer's parts by their CSS type names (Textual does not export their classes)."""
    return type(widget).__name__


def _width(widget: Widget) -> int:
    """The columns `widget` takes when shown, its margins included."""
    content = widget.get_content_width(Size(0, 0), Size(0, 0))
    if _kind(widget) == "KeyGroup":
        content = sum(_width(child) for child in widget.children)
    return content + widget.styles.gutter.width + widget.styles.margin.width


class KeysFooter(Footer):
    """A footer of whole keys: those past the right edge are left out, a group with its label."""

    async def recompose(self) -> None:
        await super().recompose()
        self.fit_keys()

    def on_resize(self) -> None:
        self.fit_keys()

    def fit_keys(self) -> None:
        width = self.size.width
        if not width:
            return
        palette = [c for c in self.children if c.has_class("-command-palette")]
        room = width - sum(_width(c) for c in palette)
        units: list[list[Widget]] = []  # a key, or a group of keys with its label
        for child in self.children:
            if child in palette:
                continue
            if _kind(child) == "FooterLabel" and units and _kind(units[-1][0]) == "KeyGroup":
                units[-1].append(child)
            else:
                units.append([child])
        used, fits = 0, True
        for unit in units:
            used += sum(_width(w) for w in unit)
            fits = fits and used <= room
            for w in unit:
                w.display = fits
