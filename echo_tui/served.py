"""A session served to a browser (`echo-tui serve`): what differs from the terminal app.

Each browser tab is its own app process, started by the server with ECHO_GRU_SERVED=1. What
would act on the teacher's machine rather than the student's is off, with one sentence saying
so: saving a trained model, opening or exporting a file by its path there. ctrl+q ends the
tab's session, not the server. Training takes one slot of the server's: one run at a time
server-wide (a lock file the server names), or none when the server says training is off.
"""

from __future__ import annotations

import fcntl
import os

SERVED = "ECHO_GRU_SERVED"  # "1" in a served session
TRAINING = "ECHO_GRU_TRAINING"  # the slot's lock file, or "off"

OFF = {
    "save": "saving is off in a browser session: the file would be written on the teacher's "
            "machine",
    "open": "opening a file is off in a browser session: its path would be on the teacher's "
            "machine (the palette's shipped models still work)",
    "export": "exporting is off in a browser session: the file would be written on the "
              "teacher's machine",
}


def served() -> bool:
    return os.environ.get(SERVED) == "1"


def refusal(action: str) -> str | None:
    """The sentence refusing `action` ("save", "open", "export") in a served session, or None
    when it may go ahead."""
    return OFF[action] if served() else None


class Refused:
    """A training run that never started: its one message says why."""

    def __init__(self, why: str) -> None:
        from .training import Failed

        self._messages = [Failed(why)]

    def get(self, timeout: float = 0.0):
        return self._messages.pop() if self._messages else None

    def cancel(self) -> None:
        self._messages.clear()


class SlotRun:
    """A training run holding the server's one training slot (an exclusive lock on a file)
    until it ends, is cancelled, or its session's process exits."""

    def __init__(self, run, fd: int) -> None:
        self.run, self._fd = run, fd

    def get(self, timeout: float = 0.0):
        from .training import Checked

        message = self.run.get(timeout=timeout)
        if message is not None and not isinstance(message, Checked):
            self._release()  # finished or failed: the next session may train
        return message

    def cancel(self) -> None:
        self.run.cancel()
        self._release()

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the file lets go of its lock
            self._fd = -1


def served_run(cfg, start):
    """`start(cfg)` (the training child) for a served session: the run takes the server's
    training slot, or is refused in one sentence when training is off or another session holds
    it."""
    lock = os.environ.get(TRAINING, "off")
    if lock == "off":
        return Refused("training is off on this server (echo-tui serve --training one turns "
                       "it on)")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return Refused("another session is training now (one run at a time on this server): "
                       "try again when it ends")
    return SlotRun(start(cfg), fd)
