"""The views' own rules: plot scales that never move, memory units that stay while you type, the
status line in whole words, the palette's delays in number order, how keys are named."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from helpers import keys, ready, settle

from echo_tui import create_app
from echo_tui.core.describe import key_name, minutes_or_seconds
from echo_tui.app.widgets import MemoryView
from echo_tui.app.widgets.status import status_text
from echo_tui.app.widgets.plots import accuracy_level, column, loss_level, resample
from echo_tui.app.widgets.tapes import count_mark
from trainer import shipped_weights

VARIABLE = shipped_weights("variable_delay")


def test_accuracy_is_drawn_one_decade_of_error_per_row():
    assert accuracy_level(0.0) == 0 and accuracy_level(1.0) == 4
    assert math.isclose(accuracy_level(0.9), 1) and math.isclose(accuracy_level(0.99), 2)
    assert math.isclose(accuracy_level(0.9999), 4)
    # 94% and 99% are one decade apart, not a full-height swing
    assert 0.7 < accuracy_level(0.99) - accuracy_level(0.94) < 0.8
    assert column(accuracy_level(0.99)) == [" ", " ", "█", "█"]
    assert column(accuracy_level(0.9)) == [" ", " ", " ", "█"]


def test_the_loss_axis_is_logarithmic_from_a_thousandth_to_ten():
    assert loss_level(0.001) == 0 and loss_level(10) == 4 and loss_level(100) == 4
    assert math.isclose(loss_level(0.1), 2) and loss_level(float("nan")) == 0


def test_a_long_course_is_resampled_keeping_its_ends():
    values = list(range(100))
    shown = resample(values, 10)
    assert len(shown) == 10 and shown[0] == 0 and shown[-1] == 99
    assert resample([1, 2], 10) == [1, 2]


def test_counts_and_keys_have_distinct_marks():
    assert count_mark(2) == "②" and count_mark(5) == "⑤" and count_mark(9) == "⑨"
    assert count_mark(10) == count_mark(1000) == "⋯"
    assert key_name("\n") == "Enter (↵)" and key_name("\t") == "Tab (⇥)"
    assert key_name("\x01") == "ctrl+a" and key_name("é") == "'é'"
    assert key_name("\u200b") == "U+200B"


def test_run_lengths_read_as_a_person_says_them():
    assert [minutes_or_seconds(s) for s in (10.7, 83.3, 675.0, 4132.0)] == [
        "11 s", "1.4 min", "11 min", "69 min"]


async def test_the_memory_units_stay_while_typing_until_chosen_again():
    app = create_app()  # the text model: 192 units, 16 shown
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        memory = app.main.query_one(MemoryView)
        first = memory.units_shown(app.session).tolist()
        assert len(first) == 16 and first == sorted(first)
        for text in ("Hello, World!", " The quick brown fox", " jumps over 13 lazy dogs."):
            await keys(pilot, *text)
            assert memory.units_shown(app.session).tolist() == first
        memory.choose_varying()
        varying = memory.units_shown(app.session).tolist()
        spread = memory.visible_states(app.session)[0].std(0)
        assert varying != first and min(spread[varying]) >= np.sort(spread)[-16] - 1e-6
        await keys(pilot, *"more keys")
        assert memory.units_shown(app.session).tolist() == varying  # kept once chosen
        assert "that varied most when chosen" in memory.border_subtitle


async def test_every_memory_line_labels_both_of_its_units():
    app = create_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hi")
        memory = app.main.query_one(MemoryView)
        units = memory.units_shown(app.session).tolist()
        labels = [line.text.split()[0] for line in memory.render_lines_for()[1:]]
        assert labels == [f"{units[k]}/{units[k + 1]}" for k in range(0, len(units), 2)]


async def test_the_status_line_keeps_whole_words_and_drops_parts():
    app = create_app(delay=4)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"a")
        s = partial(status_text, app.session, "")
        assert s(80) == "variable · gru · ASCII · hidden 192 · delay 4 · 1 step · acc – · conf " + (
            s(80).split("conf ")[1])
        assert "µs" not in s(80)  # the time went first
        # then the hidden size, the cell and the kind
        assert s(60).startswith("variable · ASCII · delay 4 · 1 step · acc – · conf")
        assert all(len(s(w)) <= w - 2 for w in (60, 80, 100))


async def test_the_palette_lists_the_delays_in_number_order():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        titles = sorted(c.title for c in app.get_system_commands(app.main)
                        if c.title.startswith("Set delay"))  # as the palette sorts them
        assert [int(t.split()[-1]) for t in titles] == list(range(17))
        await settle(pilot)
