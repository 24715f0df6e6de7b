"""Look inside one answer (f5): where it looked, what else it considered, every delay's verdict.

The pick is one step's answer at the current delay: the newest by default (it follows typing),
moved along the stream with shift+← / shift+→, or a click on a key of the view's row. The view
shades every earlier key of a window (up to 128 steps) by how much it moved that answer (the
look-back, trainer.inside.lookback), marks the strongest and says how far back it is, then
lists the head's top three answers with their probabilities, the true symbol, and whether each
delay's head is right at that step.

The look-back replays the window with autograd (tens of milliseconds on the text model), so it
is computed once typing pauses for a moment, never on the keystroke path.
"""

from __future__ import annotations

import time

import numpy as np
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

from ...core.describe import error_text
from .base import SessionView
from .memory import LEVELS, PALETTE
from .tapes import BLANK, SPACE

PAUSE_S = 0.15  # the look-back waits for typing to pause this long
GUTTER = " keys "
TITLE = "look inside (f5): shift+← → pick an answer"


def shown(ch: str, blank: str) -> str:
    return BLANK if ch == blank else SPACE if ch == " " else ch


def verdict_parts(verdicts: dict[int, bool], room: int) -> list[tuple[str, bool]]:
    """Every delay's verdict as (text, right) parts: '0✓ 1✓ 2✗' one by one when they fit in
    `room` columns, else in runs, '0–12 ✓  13 ✗  14–16 ✓' (a line still too long ends in '…')."""
    each = [(f"{d}{'✓' if good else '✗'}", good) for d, good in verdicts.items()]
    if sum(len(t) + 1 for t, _ in each) - 1 <= room:
        return spaced(each, " ")
    runs: list[list] = []
    for d, good in verdicts.items():
        if runs and runs[-1][2] == good and runs[-1][1] == d - 1:
            runs[-1][1] = d
        else:
            runs.append([d, d, good])
    return spaced([(f"{a}{'' if a == b else f'–{b}'} {'✓' if good else '✗'}", good)
                   for a, b, good in runs], "  ")


def spaced(parts: list[tuple[str, bool]], gap: str) -> list[tuple[str, bool]]:
    """`parts` with `gap` after each but the last."""
    return [(t + gap if k < len(parts) - 1 else t, good) for k, (t, good) in enumerate(parts)]


class InspectView(SessionView, Widget):
    """The picked answer's look-back, top answers and every head's verdict."""

    COMPONENT_CLASSES = {"inspect--gutter", "inspect--right", "inspect--wrong",
                         "inspect--pick"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.back = 0  # the pick: steps back from the newest (0 follows typing)
        self.looked = None  # the last Look, or None
        self.problem = ""  # why there is no look (nothing typed, not reachable)
        self._changed_at = None  # when the stream last changed, if not looked at since

    # -- the pick -------------------------------------------------------------------------
    def move(self, steps: int) -> str:
        """Move the pick `steps` later (negative: earlier); the notice to show."""
        from ...core.looking import reachable  # here: the app's first frame comes before torch

        session = self.session
        if session is None or not session.steps:
            return "nothing typed to look into yet"
        first, stop = reachable(session)
        back = self.back - steps
        if not 0 <= back <= stop - 1 - first:
            return ("that is the newest answer" if back < 0 else
                    f"the states of steps before {first:,} are not kept: no further back")
        self.back = back
        self.compute()
        return ""

    def picked_step(self) -> int:
        """The step picked (the newest when the pick follows typing)."""
        return max(0, self.session.steps - 1 - self.back) if self.session is not None else 0

    def on_click(self, event: events.Click) -> None:
        looked, at = self.looked, event.get_content_offset(self)
        if looked is None or at is None or at.y != 0:
            return
        column = at.x - len(GUTTER)
        shown_from = looked.start + max(0, len(looked.keys) - self.key_room())
        step = shown_from + column
        if looked.start <= step <= looked.step:
            self.back += looked.step - step
            self.compute()

    def key_room(self) -> int:
        return max(1, self.content_size.width - len(GUTTER))

    # -- computing, once typing pauses ----------------------------------------------------
    def revised(self) -> None:
        # a key only marks the look stale (no repaint: the picture is the last look's until
        # the next one); a light interval looks again once typing has paused
        self._changed_at = time.monotonic()

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(PAUSE_S / 3, self._look_if_paused)

    def _look_if_paused(self) -> None:
        changed = self._changed_at
        if changed is not None and self.display and time.monotonic() - changed >= PAUSE_S:
            self.compute()

    def on_show(self) -> None:
        self.compute()

    def model_changed(self) -> None:
        self.back = 0
        self.looked = None

    def compute(self) -> None:
        """Look into the picked answer now."""
        from ...core.looking import look, reachable

        session = self.session
        self.looked, self.problem, self._changed_at = None, "", None
        if session is None or not session.steps:
            self.problem = "type, then look inside an answer here"
        else:
            first, stop = reachable(session)
            self.back = min(self.back, stop - 1 - first)
            try:  # runs from a timer: an error here would end the app, not just the look
                self.looked = look(session, stop - 1 - self.back)
            except Exception as e:  # noqa: BLE001 - said in the view; typing goes on
                self.problem = f"looking inside failed: {error_text(e)}"
        self.border_title = (f"look inside (f5): step {self.looked.step + 1:,} at delay "
                             f"{self.looked.delay} · shift+← → pick" if self.looked else TITLE)
        self.refresh()

    # -- drawing --------------------------------------------------------------------------
    def render(self) -> Text:
        looked, session = self.looked, self.session
        gutter = self.get_component_rich_style("inspect--gutter")
        if looked is None or session is None:
            return Text(self.problem or "…", style=gutter)
        blank = session.alphabet.blank
        room = self.key_room()
        skip = max(0, len(looked.keys) - room)  # the nearest keys, when the window is wider
        keys, weights = looked.keys[skip:], looked.weights[skip:]
        strongest = int(np.argmax(looked.weights)) - skip
        text = Text(end="", no_wrap=True, overflow="ellipsis")  # a line cut short says so
        text.append(GUTTER, gutter)
        pick = self.get_component_rich_style("inspect--pick")
        # a share of the answer, 0 (grey) to 1 (orange); NaN from a model whose numbers
        # overflow reads as none (the look itself clears them: this is the last guard)
        shares = np.nan_to_num(weights, nan=0.0, posinf=1.0, neginf=0.0).clip(0.0, 1.0)
        shades = (LEVELS // 2 + np.rint(shares * (LEVELS // 2))).astype(np.int64)
        for k, (ch, shade) in enumerate(zip(keys, shades.tolist())):
            tint = Style(bgcolor=PALETTE[shade])
            text.append(shown(ch, blank), tint + pick if k == len(keys) - 1 else tint)
        text.append("\n" + " " * len(GUTTER))
        back = looked.strongest
        if looked.step < looked.delay:  # no key that far back: the right answer is the blank
            text.append(f"nothing was typed {looked.delay} keys before this one: the blank is "
                        "the right answer", gutter)
        else:
            text.append(" " * strongest + "▲ " if strongest >= 0 else "")
            text.append(f"moved it most: {shown(looked.keys[-1 - back], blank)!r}, "
                        f"{back} key{'s' * (back != 1)} back" + ("" if strongest >= 0
                                                                  else " (off the view)"),
                        gutter)
        right = self.get_component_rich_style("inspect--right")
        wrong = self.get_component_rich_style("inspect--wrong")
        text.append("\n answer ", gutter)
        ok = looked.answer == looked.truth
        text.append(f"{shown(looked.answer, blank)!r} {100 * looked.probability:.1f}%",
                    right if ok else wrong)
        others = [f"{shown(a, blank)!r} {100 * p:.1f}%" for a, p in looked.top[1:]]
        text.append(" · then " + ", ".join(others) if others else "", gutter)
        text.append(f" · true {shown(looked.truth, blank)!r}", gutter)
        text.append("\n delays ", gutter)
        room = self.content_size.width - len(" delays ")
        for said, good in verdict_parts(looked.verdicts, room):
            text.append(said, right if good else wrong)
        return text

    def get_content_height(self, container, viewport, width: int) -> int:
        return 4
