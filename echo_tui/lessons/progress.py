"""A lesson in progress: which step, which of its checks hold now, and what is done.

The app hands `update` what it publishes whenever that may have changed (a key, a view, a
model, a training check); the run ticks each check that holds and, once all of a step's checks
hold at once, marks the step done and moves on. A step is never done on what the app published
when the step began: it waits for the learner to act (so going back to a step shows it again
rather than bouncing on). `back` and `skip` move by hand. Nothing here draws: the app's lesson
panel shows `step`, `holding` and the steps done.
"""

from __future__ import annotations

from .published import Published
from .reading import Lesson, Step

DONE, SKIPPED = "done", "skipped"


class LessonRun:
    """`lesson`, from its first step, on what the app publishes `now`."""

    def __init__(self, lesson: Lesson, now: Published) -> None:
        self.lesson = lesson
        self.index = 0  # the step shown; len(steps) once the lesson is over
        self.outcomes: list[str | None] = [None] * len(lesson.steps)
        self.now = now
        self._begin()

    def _begin(self) -> None:
        """The step at `index` begins on what is published now."""
        self.start = self.now
        self.holding = tuple(False for _ in self.step.checks) if self.step else ()

    @property
    def step(self) -> Step | None:
        """The step shown, or None when the lesson is over."""
        return self.lesson.steps[self.index] if self.index < len(self.lesson.steps) else None

    @property
    def over(self) -> bool:
        return self.step is None

    @property
    def last_done(self) -> Step | None:
        """The step before the one shown, when it was done (the panel ticks it)."""
        k = self.index - 1
        return self.lesson.steps[k] if k >= 0 and self.outcomes[k] == DONE else None

    def update(self, now: Published) -> bool:
        """Check the step on `now`; True when anything shown changed (a tick, a step)."""
        self.now = now
        step = self.step
        if step is None or now == self.start:
            return False
        holding = tuple(c.holds(now, self.start) for c in step.checks)
        if all(holding):
            self.outcomes[self.index] = DONE
            self.index += 1
            self._begin()
            return True
        changed, self.holding = holding != self.holding, holding
        return changed

    def back(self) -> bool:
        """The step before again, its checks from now on; False at the first."""
        if self.index == 0:
            return False
        self.index -= 1
        self.outcomes[self.index] = None
        self._begin()
        return True

    def skip(self) -> bool:
        """On to the next step, this one left undone; False once the lesson is over."""
        if self.step is None:
            return False
        self.outcomes[self.index] = SKIPPED
        self.index += 1
        self._begin()
        return True

    def tally(self) -> tuple[int, int]:
        """(steps done, steps skipped)."""
        return self.outcomes.count(DONE), self.outcomes.count(SKIPPED)
