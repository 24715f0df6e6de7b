"""Every combination of views at 60×18, 80×24 and 100×30, read off the screen: the status line
(and compare mode's), the notice and the footer always show, every box is whole, a view that
does not fit is named as left out, and a line cut short ends in an ellipsis.

The views: the memory view (f2 hides it), every delay at once (f4), look inside (f5), the
memory view's gates (f6), the training panel (ctrl+t) and compare mode.
"""

from __future__ import annotations

import itertools

from helpers import keys, ready, screen_lines, settle

from echo_tui import create_app
from echo_tui.app.screens.fitting import fit

VIEWS = ("f2", "f4", "f5", "f6", "train", "compare")
# every combination, in an order that opens the panel and starts comparing as seldom as they
# can (each restyles many widgets), the others in between
COMBINATIONS = sorted((c for n in range(len(VIEWS) + 1) for c in itertools.combinations(VIEWS, n)
                       if not ("f6" in c and "f2" in c)),  # gates are the memory view's
                      key=lambda c: [v in c for v in ("train", "compare", "f4", "f5", "f2", "f6")])


async def show(pilot, views: tuple[str, ...], compared) -> None:
    """The screen with exactly `views` open (compare mode with the session `compared`)."""
    screen = pilot.app.main
    screen.show_memory = "f2" not in views
    screen.every_delay = "f4" in views
    if ("f5" in views) == screen.inspect.has_class("-hidden"):
        screen.action_toggle_inspect()
    screen.memory.showing = "update" if "f6" in views else "state"
    screen.memory.retitle()
    if ("train" in views) == screen.train.has_class("-hidden"):
        await screen.action_toggle_train()
    if ("compare" in views) != (screen.compared is not None):
        if screen.compared is None:
            screen.compare(compared, "letters_rnn.safetensors")
        else:
            screen._drop_compared()
    screen.refit()


async def settled_lines(pilot) -> list[str]:
    """The screen once two frames in a row are the same (a view shown or hidden lays the
    screen out again over a frame or two)."""
    before = None
    for _ in range(50):
        await pilot.pause()
        lines = screen_lines(pilot.app)
        if lines == before:
            return lines
        before = lines
    raise AssertionError("the screen never settled")


def boxes(lines: list[str]) -> list[tuple[int, int, str]]:
    """(top row, bottom row, title) of each box drawn across the screen."""
    found, top = [], None
    for row, line in enumerate(lines):
        if line.startswith("╭"):
            assert top is None, f"a box opens inside another at row {row}"
            top = row
        elif line.startswith("╰"):
            assert top is not None, f"a box closes at row {row} that never opened"
            found.append((top, row, lines[top]))
            top = None
        elif top is not None:
            assert line.startswith("│") and line.rstrip().endswith("│"), (row, line)
    assert top is None, f"the box opened at row {top} has no bottom border"
    return found


def check(lines: list[str], width: int, views: tuple[str, ...]) -> None:
    said = " ".join(lines)
    assert all(len(line) <= width for line in lines)
    assert "^p" in lines[-1], "the footer"
    assert any(" steps · " in line for line in lines[-4:]), "the status line"
    if "compare" in views:
        assert lines[-2].strip().startswith("compared:"), "compare mode's status line"
    titles = " ".join(title for _, _, title in boxes(lines))
    for view, title, left_out in (("f5", "look inside", "f5 look inside"),
                                  ("train", "train a model", "^t training")):
        if view in views:
            assert title in titles or left_out in said, view
    if "f2" not in views:
        assert ("memory" in titles or "gate" in titles) or "f2 memory" in said
    for top, bottom, title in boxes(lines):
        if "look inside" in title or "train a model" in title:
            for line in lines[top + 1:bottom]:
                body = line[1:-1].rstrip()
                if "┤" in body or "┴" in body:
                    continue  # the plots: drawn to the width
                assert len(body) < width - 3 or body.endswith("…"), f"cut short: {line!r}"


async def test_every_combination_of_views_fits_at_every_size():
    app = create_app(compare="rnn")  # letters: the GRU, the plain RNN beside it
    async with app.run_test(size=(60, 18)) as pilot:
        await ready(pilot)
        await settle(pilot)
        compared = app.main.compared
        await keys(pilot, *"thequickbrownfoxjumpsoverthelazydog")
        app.main.say("cannot compare: letters_rnn.safetensors reads a–z, the model in use "
                      "ASCII; the echoes would not line up")
        await walk(pilot, compared, COMBINATIONS, check)


async def walk(pilot, compared, combinations, checked) -> None:
    """Each of `combinations` of views at 60×18, 80×24 and 100×30, the screen `checked`."""
    for size in [(60, 18), (80, 24), (100, 30)]:
        await pilot.resize_terminal(*size)
        for views in combinations:
            await show(pilot, views, compared)
            lines = await settled_lines(pilot)
            try:
                checked(lines, size[0], views)
            except AssertionError as e:
                raise AssertionError(f"{size} {views}: {e}\n" + "\n".join(lines)) from None


def test_what_the_user_opened_gets_the_rows_in_order():
    # 60×18 with everything open: the panel first, then look inside; the memory view waits
    f = fit(18, comparing=False, training=True, inspecting=True, memory=True, memory_lines=9)
    assert (f.panel, f.plots, f.inspect, f.memory_rows) == (True, False, False, 0)
    assert f.left_out == ("f5 look inside", "f2 memory")
    # 100×30: all of it but the memory view, which comes after the panel's plots
    f = fit(30, comparing=True, training=True, inspecting=True, memory=True, memory_lines=9)
    assert (f.panel, f.plots, f.inspect, f.memory_rows) == (True, True, True, 0)
    assert f.left_out == ("f2 memory",)
    # without compare mode it has room, up to its share of the height (20% while training)
    f = fit(34, comparing=False, training=True, inspecting=True, memory=True, memory_lines=9)
    assert (f.panel, f.plots, f.inspect, f.memory_rows, f.left_out) == (True, True, True, 5, ())
    # a long notice takes a second row only when one is free
    assert fit(24, comparing=False, training=False, inspecting=False, memory=True,
               memory_lines=9, long_notice=True).notice_rows == 2
    assert fit(18, comparing=True, training=True, inspecting=False, memory=False,
               memory_lines=9, long_notice=True).notice_rows == 1


# with a lesson open: the views that take rows before it and after it, at every size
LESSON_VIEWS = [(), ("f2",), ("f4",), ("f5",), ("train",), ("compare",), ("f5", "train"),
                ("f4", "f5", "compare"), ("f5", "f6", "train", "compare")]


async def test_a_lesson_fits_beside_every_view_at_every_size():
    from echo_tui.lessons import find_lesson

    app = create_app(compare="rnn", lesson=find_lesson("where-memory-breaks"))
    async with app.run_test(size=(60, 18)) as pilot:
        await ready(pilot)
        await settle(pilot)
        compared = app.main.compared
        await keys(pilot, *"thequickbrownfoxjumpsoverthelazydog")
        await walk(pilot, compared, LESSON_VIEWS, check_with_lesson)


def check_with_lesson(lines: list[str], width: int, views: tuple[str, ...]) -> None:
    check(lines, width, views)
    lesson = [(top, bottom) for top, bottom, title in boxes(lines) if "lesson:" in title]
    if not lesson:
        assert any("no room:" in line and "lesson" in line for line in lines), \
            "the lesson, shown or named as left out"
    for top, bottom in lesson:
        assert bottom - top >= 3, "its title and a check at least"
        for line in lines[top + 1:bottom]:
            body = line[1:-1].rstrip()
            assert len(body) < width - 3 or body.endswith("…"), line
