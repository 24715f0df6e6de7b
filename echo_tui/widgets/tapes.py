"""What was typed and its echo, as two tapes aligned column by column (step t under step t)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

GUTTER = ("typed ", " echo ")
BLANK = "·"  # the echo's blank, drawn so a learner sees the model chose "no output"
EMPTY_HINT = ("Type letters: each key is one step of the GRU, and its echo appears under it, "
              "delayed.")


class Tapes(Widget):
    """Rows of `typed` over `echo`; wraps at the widget's width, newest row always in view.

    Only the visible rows are read from the session, so drawing costs the same at step 10 as at
    step 1,000,000.
    """

    COMPONENT_CLASSES = {"tapes--gutter", "tapes--blank", "tapes--wrong", "tapes--cursor"}

    def render(self) -> Text:
        session = getattr(self.app, "session", None)
        if session is None:
            return Text("loading the model… keys you type now are kept and fed once it is ready",
                        style=self.get_component_rich_style("tapes--blank"))
        width, height = self.content_size
        row_w = max(1, width - len(GUTTER[0]))
        pairs = max(1, (height + 1) // 3)  # a pair is two lines plus a blank line between pairs
        steps = session.steps
        last = steps // row_w  # the row holding the cursor (the next key's column)
        first = max(session.first_kept // row_w, last - pairs + 1)
        gutter = self.get_component_rich_style("tapes--gutter")
        styles = {
            (False, False): "",
            (False, True): self.get_component_rich_style("tapes--blank"),
            (True, False): self.get_component_rich_style("tapes--wrong"),
            (True, True): self.get_component_rich_style("tapes--wrong"),
        }
        text = Text(end="")
        for row in range(first, last + 1):
            start = max(row * row_w, session.first_kept)
            stop = min((row + 1) * row_w, steps)
            typed, echo, wrong = session.window(start, stop)
            pad = " " * (start - row * row_w)
            text.append(GUTTER[0], gutter)
            text.append(pad + typed)
            if row == last:
                text.append(" ", self.get_component_rich_style("tapes--cursor"))
            text.append("\n")
            text.append(GUTTER[1], gutter)
            text.append(pad)
            _append_runs(text, echo, wrong.tolist(), styles)
            if row != last:
                text.append("\n\n")
        if steps == 0:
            text.append("\n\n" + EMPTY_HINT, self.get_component_rich_style("tapes--blank"))
        return text


def _append_runs(text: Text, echo: str, wrong: list[bool], styles: dict) -> None:
    """Append `echo` in runs of one style: blanks dim, mistakes highlighted."""
    i, n = 0, len(echo)
    while i < n:
        key = (wrong[i], echo[i] == " ")
        j = i + 1
        while j < n and (wrong[j], echo[j] == " ") == key:
            j += 1
        text.append(echo[i:j].replace(" ", BLANK), styles[key])
        i = j
