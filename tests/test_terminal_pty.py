"""The real `echo-tui` under a pseudo-terminal: hostile bytes, hostile pastes and signals.

What a student's terminal can send must never end the session, and a signal (the terminal
closed, `kill`) must leave the terminal usable and no training process behind.
"""

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.pty,
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")]

# what Textual writes when it gives the terminal back: main screen, cursor shown, mouse off
RESTORED = [b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l", b"\x1b[?2004l"]


def as_a_terminal_starts_it() -> None:
    """In the child: SIGHUP as a terminal's shell leaves it. A suite run under `nohup` ignores
    SIGHUP, and the app rightly keeps an ignored SIGHUP ignored, so the hangup tests would
    test nohup instead of the app."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class PtyApp:
    """`python -m echo_tui` on a 80x24 pseudo-terminal, its output collected (while
    `reading`)."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "TEXTUAL")}
        self.proc = self._spawn(args, slave, {**env, "TERM": "xterm-256color"})
        os.close(slave)
        self.master, self.output, self.reading = master, bytearray(), True
        threading.Thread(target=self._read, daemon=True).start()

    def _spawn(self, args, slave, env):
        return subprocess.Popen([sys.executable, "-m", "echo_tui", *args], stdin=slave,
                                stdout=slave, stderr=slave, env=env, start_new_session=True,
                                preexec_fn=as_a_terminal_starts_it)

    def _read(self) -> None:
        while True:
            if not self.reading:
                time.sleep(0.05)
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output.extend(data)

    def wait_for(self, text: str, since: int = 0, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while text.encode() not in self.output[since:]:
            assert self.proc.poll() is None, f"the app ended: {bytes(self.output[-500:])!r}"
            assert time.monotonic() < end, f"{text!r} never shown: {bytes(self.output[-500:])!r}"
            time.sleep(0.05)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close_master(self) -> None:
        """The terminal goes away, as when its window or tmux session is closed."""
        self.reading = False
        os.close(self.master)
        self.master = None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.master is not None:
            os.close(self.master)


@pytest.fixture
def app():
    apps = []

    def start(*args, controlling: bool = False):
        apps.append((ControllingPtyApp if controlling else PtyApp)(*args))
        return apps[-1]

    yield start
    for a in apps:
        a.close()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # a zombie has stopped; only its exit status is left to collect


def test_an_invalid_byte_and_a_hostile_paste_keep_the_session(app):
    tui = app()
    tui.wait_for("delay 8")  # the model has loaded
    tui.send(b"\xff")  # no UTF-8: Textual's own driver exits on it
    tui.wait_for("a byte that is not UTF-8 (U+FFFD) skipped")
    mark = len(tui.output)
    tui.send(b"ab\xffc")
    tui.send(b"\x1b[200~hello\x1bworld\x11more\x1b[201~")  # ctrl+q inside the paste
    tui.wait_for("fed 14 steps; skipped 2 characters", since=mark)
    tui.wait_for("17 steps", since=mark)  # a, b, c and the paste's 14: ESC, ctrl+q, \xff skipped
    tui.send(b"\x11")  # a real ctrl+q does quit
    assert tui.proc.wait(timeout=30) == 0
    assert b"Traceback" not in tui.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_restores_the_terminal_and_ends_training(app, sig):
    tui = app()
    tui.wait_for("delay 8")
    tui.send(b"\x14")  # ctrl+t: the training panel
    tui.wait_for("Enter starts")
    deadline = time.monotonic() + 30
    while not (trainers := children(tui.proc.pid)):
        assert time.monotonic() < deadline, "no training process started"
        tui.send(b"\r")  # Enter starts, once the form has focus (a later one is a typed key)
        time.sleep(0.5)
    mark = len(tui.output)
    tui.proc.send_signal(sig)
    assert tui.proc.wait(timeout=30) == 128 + sig
    deadline = time.monotonic() + 5  # the reader's last bytes
    while not all(code in tui.output[mark:] for code in RESTORED):
        assert time.monotonic() < deadline, bytes(tui.output[mark:])[-300:]
        time.sleep(0.02)
    assert b"Traceback" not in tui.output
    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in trainers):
        assert time.monotonic() < deadline, "the training process outlived the app"
        time.sleep(0.05)


class ControllingPtyApp(PtyApp):
    """The app with the pseudo-terminal as its controlling terminal, as in a terminal window
    or tmux: closing the master side sends it SIGHUP (and SIGCONT), and its reads and writes
    fail with EIO from then on."""

    def _spawn(self, args, slave, env):
        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            as_a_terminal_starts_it()

        return subprocess.Popen([sys.executable, "-m", "echo_tui", *args], stdin=slave,
                                stdout=slave, stderr=slave, env=env,
                                preexec_fn=controlling_terminal)


def ended_within(tui: PtyApp, seconds: float, since: float) -> int:
    """The app's exit status, asserting it ended within `seconds` of `since`."""
    try:
        code = tui.proc.wait(timeout=seconds + 5)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the app was still running {seconds + 5} s later") from None
    took = time.monotonic() - since
    assert took <= seconds, f"the app took {took:.2f} s to end"
    return code


def stall_output(tui: PtyApp) -> None:
    """Stop reading the terminal and type until its output buffer is full: the app's output
    thread then blocks in its write, and its queue fills behind it."""
    tui.reading = False
    termios_size = struct.pack("I", 0)
    last, still_since, deadline = -1, time.monotonic(), time.monotonic() + 20
    while time.monotonic() < deadline:
        tui.send(b"abcdefghij")
        waiting = struct.unpack("I", fcntl.ioctl(tui.master, termios.FIONREAD, termios_size))[0]
        if waiting != last:
            last, still_since = waiting, time.monotonic()
        elif time.monotonic() - still_since > 1.0:
            return  # nothing more gets through: the terminal is full
        time.sleep(0.02)
    raise AssertionError("the terminal's output never filled up")


@pytest.mark.parametrize("controlling", [True, False], ids=["sighup-and-eio", "eio-only"])
def test_a_terminal_that_closes_ends_the_app_within_3_s(app, controlling):
    # tmux kill-session, a closed window: SIGHUP, SIGCONT and EIO on every read and write; a
    # terminal that is not the controlling one gives only the EIO
    tui = app(controlling=controlling)
    tui.wait_for("delay 8")
    tui.send(b"hello world " * 20)
    closed = time.monotonic()
    tui.close_master()
    assert ended_within(tui, 3.0, closed) == 128 + signal.SIGHUP


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_app_within_3_s_when_the_terminal_is_stuck(app, sig):
    # the output is not read (a stalled ssh session): the app's thread blocks on its full output
    # queue, where an asyncio signal handler never runs
    tui = app(controlling=True)
    tui.wait_for("delay 8")
    stall_output(tui)
    sent = time.monotonic()
    tui.proc.send_signal(sig)
    assert ended_within(tui, 3.0, sent) == 128 + sig
