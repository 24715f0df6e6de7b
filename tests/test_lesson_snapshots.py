"""Snapshots of a lesson's step before and after its check ticks, at 80×24 and 60×18 (update
with `pytest --snapshot-update`, and look at each changed picture first). The shipped text
model echoes these keys surely and rightly, whatever its retraining; the memory view is hidden
(f2), its colours being the weights'."""

from __future__ import annotations

import pytest
from helpers import fake_clock, keys, ready

from echo_tui import create_app
from echo_tui.lessons import find_lesson


def typing(*names: str):
    async def run_before(pilot):
        await ready(pilot)
        await keys(pilot, "f2", *names)
        pilot.app.main.lesson_panel.look()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
@pytest.mark.parametrize("ticked", [False, True])
def test_a_step_before_and_after_its_check_ticks(snap_compare, size, ticked):
    # before: 11 keys, the step's box empty; after: the 12th, the step ticked done above the next
    app = create_app(clock=fake_clock(), lesson=find_lesson("memory-and-delay"))
    typed = "Hello, Ada!" + ("?" if ticked else "")
    assert snap_compare(app, run_before=typing(*typed), terminal_size=size)
