"""Snapshot tests: what echo-tui looks like (update with `pytest --snapshot-update`).

Every picture uses a fake clock, so the status line's latency is a fixed number, and nothing in
the app blinks or ticks. The memory view is hidden in every picture that has typed steps on the
shipped weights: its colours are hidden-state values, which change whenever those weights are
retrained. The one picture of a working memory uses a seeded untrained model instead.

Pictures whose echo depends on the shipped weights (a retrained model that still echoes these
short strings perfectly draws the same picture): typed_at_delay_3, slider_moved, fixed_model,
out_of_alphabet_key.
"""

from __future__ import annotations

from conftest import fake_clock, ready

from echo_tui import create_app
from trainer import shipped_weights


def app(**kwargs):
    return create_app(clock=fake_clock(), **kwargs)


async def type_abacaba(pilot):
    await ready(pilot)
    await pilot.press("f2", *"abacaba")  # f2: memory view off, see the module docstring


def test_start_screen(snap_compare):
    # the memory view shows the initial state (all zeros), whatever the weights
    assert snap_compare(app(), run_before=ready, terminal_size=(80, 24))


def test_typed_at_delay_3(snap_compare):
    assert snap_compare(app(delay=3), run_before=type_abacaba, terminal_size=(80, 24))


def test_slider_moved(snap_compare):
    async def run_before(pilot):
        await type_abacaba(pilot)
        await pilot.press("right", "right")  # delay 3 -> 5: the whole echo re-rendered

    assert snap_compare(app(delay=3), run_before=run_before, terminal_size=(80, 24))


def test_fixed_model(snap_compare):
    assert snap_compare(app(weights=shipped_weights("fixed_delay")), run_before=type_abacaba,
                        terminal_size=(80, 24))


def test_out_of_alphabet_key(snap_compare):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f2", *"echo", "7")

    assert snap_compare(app(), run_before=run_before, terminal_size=(80, 24))


def test_help_screen(snap_compare):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f1")

    assert snap_compare(app(), run_before=run_before, terminal_size=(80, 24))


def test_too_small_terminal(snap_compare):
    assert snap_compare(app(), run_before=ready, terminal_size=(50, 12))


def test_untrained_model_memory_and_mistakes(snap_compare, untrained_weights):
    # an untrained model gets most echoes wrong: they show highlighted; its memory is seeded
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press(*"abacabadabacaba")

    assert snap_compare(app(weights=untrained_weights, delay=2), run_before=run_before,
                        terminal_size=(80, 24))


def test_long_stream_wraps_with_the_newest_key_in_view(snap_compare, untrained_weights):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f2")
        pilot.app.feed_text("thequickbrownfoxjumpsoverthelazydog" * 12)
        await ready(pilot)

    assert snap_compare(app(weights=untrained_weights, delay=8), run_before=run_before,
                        terminal_size=(80, 24))
