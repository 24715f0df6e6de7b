"""A session served to a browser (`echo-tui serve`): what differs from the terminal app.

Each browser tab is its own app process, forked by the server with ECHO_GRU_SERVED=1. What
would act on the teacher's machine rather than the student's is off, with one sentence saying
so, and is not offered: saving a trained model, opening or exporting a file by its path there.
ctrl+q ends the tab's session, not the server. A tab's terminal is as large as a screen can show
at most (`clamp_size`), at connect and at every resize. A session tells the server of its
training runs (`report`): one JSON line each on a pipe the server gave it, which the server's
log shows, made inert. Its training takes one slot of the server's (training/slot.py).

The app, its training slot and the server all read this policy, so it sits below them all.
"""

from __future__ import annotations

import json
import os

SERVED = "ECHO_GRU_SERVED"  # "1" in a served session
REPORT_FD = "ECHO_GRU_REPORT_FD"  # the pipe a session's events go to the server by

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


def report(event: str, **fields) -> None:
    """One line to the server's log about this session (served sessions only)."""
    fd = os.environ.get(REPORT_FD)
    if not fd:
        return
    try:
        os.write(int(fd), (json.dumps({"event": event, **fields}) + "\n").encode())
    except (OSError, ValueError):
        pass  # the server has gone: the session ends with it


# what a screen can show: a 4K monitor at a 9-pixel font is about 400 by 150 cells. A page may
# ask for any size; a bigger one only costs memory (Textual keeps every cell of the screen)
MAX_COLUMNS, MAX_ROWS = 400, 150
MIN_COLUMNS, MIN_ROWS = 10, 4


def clamp_size(width, height) -> tuple[int, int]:
    """A terminal size a tab asked for, as whole numbers within what a screen can show (80 by
    24 for what is not a number)."""
    def whole(value, default: int, lo: int, hi: int) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return default
        return max(lo, min(hi, number))

    return (whole(width, 80, MIN_COLUMNS, MAX_COLUMNS), whole(height, 24, MIN_ROWS, MAX_ROWS))
