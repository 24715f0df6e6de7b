"""The training form by keyboard alone: Tab and shift+Tab move among its fields while the panel
shows (from the tapes too), ↑ ↓ open a list and pick in it, ← → step a list's value, only
Enter (or the start button) starts a run, and the field with the keys is plain to see in 16
and 256 colours as in true colour."""

from __future__ import annotations

from helpers import keys, ready
from private import screen_strips
from rich.color import ColorSystem
from textual.widgets import Select

from echo_tui import create_app
from trainer import shipped_weights

FIELDS = ["train-kind", "train-alphabet", "train-cell", "train-delay", "train-hidden",
          "train-start"]


def focused_id(app) -> str | None:
    focused = app.main.focused
    return focused.id if focused is not None else None


async def press(pilot, *names: str) -> None:
    """Keys one at a time, as a person presses them (a burst can reach a widget that the key
    before has just unfocused)."""
    for name in names:
        await keys(pilot, name)


def app_with_runs():
    started = []
    app = create_app(weights=shipped_weights("fixed_delay"), start_run=started.append)
    return app, started


async def test_tab_and_shift_tab_move_among_the_fields_and_never_start_a_run():
    app, started = app_with_runs()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await keys(pilot, "ctrl+t")
        assert focused_id(app) == "train-start"  # Enter starts the recipe as filled in
        seen = []
        for _ in range(len(FIELDS)):
            await keys(pilot, "tab")
            seen.append(focused_id(app))
        assert seen == FIELDS  # round the form, back to start
        for _ in range(len(FIELDS)):
            await keys(pilot, "shift+tab")
        assert focused_id(app) == "train-start"
        assert started == [] and app.session.typed == ""  # no run, and no Tab typed
        # out to the tapes (Esc): Tab and shift+Tab go back into the form, not onto the tape
        await keys(pilot, "escape")
        assert focused_id(app) is None
        await keys(pilot, "tab")
        assert focused_id(app) == "train-kind"
        await press(pilot, "escape", "shift+tab")
        assert focused_id(app) == "train-start"
        assert started == [] and app.session.typed == ""
        await keys(pilot, "enter")  # the deliberate key
        assert len(started) == 1


async def test_after_a_run_tab_still_goes_to_the_form_and_with_the_panel_shut_it_is_typed():
    app, started = app_with_runs()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await press(pilot, "ctrl+t", "enter")
        assert len(started) == 1 and focused_id(app) is None  # typing goes on meanwhile
        await press(pilot, "escape", "a", "b", "tab")  # the run cancelled, the panel stays
        assert app.session.typed == "ab" and focused_id(app) == "train-kind"
        await press(pilot, "escape", "ctrl+t", "tab")  # the panel shut: Tab is a typed key
        assert app.session.typed == "ab\t" and focused_id(app) is None


async def test_the_arrows_open_a_list_pick_in_it_and_step_its_value():
    app, started = app_with_runs()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await press(pilot, "ctrl+t", "tab")
        kind = app.main.query_one("#train-kind", Select)
        assert kind.value == "fixed"
        await keys(pilot, "left")
        assert kind.value == "variable" and app.session.delay == 4  # not the delay's key
        await keys(pilot, "right")
        assert kind.value == "fixed"
        await press(pilot, "tab", "down")
        alphabet = app.main.query_one("#train-alphabet", Select)
        assert alphabet.expanded
        await press(pilot, "down", "enter")  # picks, does not start
        assert not alphabet.expanded and alphabet.value == "alnum" and started == []
        await keys(pilot, "up")
        assert alphabet.expanded
        await keys(pilot, "escape")
        assert not alphabet.expanded and focused_id(app) == "train-alphabet"


def downgraded(style, system: ColorSystem) -> tuple:
    """A cell's (colour, background) as a terminal of `system` shows them."""
    return tuple(c.downgrade(system).get_truecolor() if c is not None else None
                 for c in (style.color, style.bgcolor))


def contrast(a, b) -> float:
    """WCAG's contrast ratio of two colours (1: none, 21: black on white)."""
    def luminance(rgb) -> float:
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def cell_style(app, word: str):
    """The style of the training form's cells that show `word`."""
    panel = app.main.train.region
    for strip in screen_strips(app)[panel.y:panel.bottom]:
        for segment in strip:
            if word in segment.text:
                return segment.style
    raise AssertionError(f"{word!r} is not in the form")


async def test_the_focused_field_stands_out_in_16_and_256_colours():
    app, _ = app_with_runs()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await keys(pilot, "ctrl+t")
        for word, key in (("start", None), ("fixed", "tab"), ("letters", "tab")):
            if key:
                await keys(pilot, key)
            await pilot.pause()
            focused = cell_style(app, word)
            await keys(pilot, "tab")  # the same field, without the keys
            await pilot.pause()
            plain = cell_style(app, word)
            await keys(pilot, "shift+tab")
            for system in (ColorSystem.STANDARD, ColorSystem.EIGHT_BIT, ColorSystem.TRUECOLOR):
                fg, bg = downgraded(focused, system)
                assert bg != downgraded(plain, system)[1], (word, system)
                assert contrast(fg, bg) >= 4.5, (word, system)  # its text readable on it
            assert focused.bold
