"""Ending the app within a bound, whatever the terminal does: closed, stuck or gone.

Textual 8.2.8's Linux driver can keep the process alive for ever once its terminal goes:

- its output thread dies on the first write that fails (EIO once the terminal has closed);
  the writes queue up behind it, and at 30 the app's thread blocks in `Queue.put` for ever
  (in `App._shutdown -> LinuxDriver.close -> WriterThread.stop` too);
- a terminal that is still there but not read (a stalled ssh session) blocks the output thread
  in its write, with the same end;
- the SIGCONT a closing terminal sends with its SIGHUP restarts "application mode" from inside a
  signal handler: a second input and output thread, on a terminal that is gone;
- its input thread spins on a terminal that reads end-of-file;
- a signal handler added with asyncio runs only when the event loop does, so SIGTERM cannot
  end an app whose thread is blocked in that `put`.

`SafeWriter` is the output thread made safe: a failed write means the terminal is gone (the
rest is dropped) and neither `write` nor `stop` blocks past a bound once the app is ending.
`Ending` owns the app's end: SIGTERM and SIGHUP are caught by a plain signal handler (it runs
even while the app's thread waits on a lock), ask the app to exit as ctrl+q does, and start a
watchdog that stops writing to a terminal that does not drain after WRITES_GIVE_UP_S and ends
the process after LAST_RESORT_S whatever else is stuck. A vanished terminal seen by the input or
output thread ends the app the same way, as SIGHUP would.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from typing import Callable

from textual.drivers.linux_driver import WriterThread  # Textual's output thread, as it runs it

ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
HANGUP = 128 + signal.SIGHUP  # the exit status when the terminal vanished
WRITES_GIVE_UP_S = 1.0  # after a signal: a terminal that has not drained by then is not waited on
LAST_RESORT_S = 2.0  # after a signal: the process ends by then, whatever is stuck
PUT_WAIT_S = 0.25  # how often a write blocked on a full queue looks whether the app is ending


class SafeWriter(WriterThread):
    """Textual's output thread, which drops what it cannot write rather than dying, and whose
    queue never holds the app's thread once the terminal is gone (`discard`)."""

    def __init__(self, file, on_gone: Callable[[], None] = lambda: None) -> None:
        super().__init__(file)
        self.gone = False  # the terminal failed a write, or the app gave up on it
        self._on_gone = on_gone

    def write(self, text: str) -> None:
        while not self.gone:  # a slow terminal holds the app back; a vanished one does not
            try:
                self._queue.put(text, timeout=PUT_WAIT_S)
                return
            except queue.Full:
                if not self.is_alive():
                    self.discard()

    def run(self) -> None:
        write, flush = self._file.write, self._file.flush
        while (text := self._queue.get()) is not None:
            if self.gone:
                continue
            try:
                write(text)
                if self._queue.qsize() == 0:
                    flush()
            except (OSError, ValueError):  # EIO: the terminal has closed
                self.discard()
                self._on_gone()
        if not self.gone:
            try:
                flush()
            except (OSError, ValueError):
                pass

    def discard(self) -> None:
        """Write nothing more: what is queued is dropped, so no `put` stays blocked."""
        self.gone = True
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def stop(self, timeout: float = 1.0) -> None:
        """End the thread once what is queued is written, waiting `timeout` at most."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            self.discard()
            self._queue.put(None)
        self.join(timeout if not self.gone else 0.1)  # a write that hangs is not waited out


class Ending:
    """How the app ends on a signal or a vanished terminal: as ctrl+q does, and within
    LAST_RESORT_S in every case. `install` from the app's thread once it runs."""

    def __init__(self, app) -> None:
        self.app = app
        self.code: int | None = None  # the exit status, once ending has begun
        self._lock = threading.Lock()
        self.writer: SafeWriter | None = None  # the driver's, once it has one

    def install(self) -> bool:
        """Catch SIGTERM and SIGHUP (a SIGHUP that is ignored, as under nohup, stays so).
        False where signals cannot be caught (not the main thread: a test's app)."""
        try:
            for sig in ENDING_SIGNALS:
                if sig == signal.SIGHUP and signal.getsignal(sig) is signal.SIG_IGN:
                    continue
                signal.signal(sig, self._on_signal)
        except ValueError:
            return False
        return True

    def _on_signal(self, signum: int, _frame) -> None:
        self.begin(128 + signum)

    def hung_up(self) -> None:
        """The terminal has gone (end-of-file or EIO): end as its SIGHUP would."""
        self.begin(HANGUP)

    def begin(self, code: int) -> None:
        """Ask the app to exit with `code` and make sure the process does within the bound
        (any thread, a signal handler too; a second call changes nothing)."""
        with self._lock:
            if self.code is not None:
                return
            self.code = code
        threading.Thread(target=self._watch, name="echo-tui ending", daemon=True).start()
        loop = self.app._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.app.exit, None, code)
            except RuntimeError:  # the loop closed meanwhile: the watchdog ends it
                pass

    def _watch(self) -> None:
        time.sleep(WRITES_GIVE_UP_S)
        if self.writer is not None:
            self.writer.discard()  # a terminal that does not drain holds nothing up any more
        time.sleep(LAST_RESORT_S - WRITES_GIVE_UP_S)
        self.finish()

    def finish(self) -> None:
        """End the process now with the ending's status, whatever else still runs (the
        training child dies with it: it watches its stdin and its parent). Nothing is
        flushed: a terminal that has gone or does not drain must not hold the exit."""
        if self.code is not None:
            os._exit(self.code)
