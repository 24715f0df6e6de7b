"""`echo-train`'s heavy work on a thread of its own, so the command answers on time at any size.

One training step at hidden 4096 is one long call into PyTorch (tens of seconds on two cores),
and so is one pass of a check. Python runs a signal's handler, and `train` looks at the clock,
only between such calls: Ctrl-C took 29 s, and --max-seconds 20 still said "starting" after
78 s. Here the work runs on a worker thread and the command's own thread only waits, in short
joins, so that:

- Ctrl-C, SIGTERM and SIGHUP reach it at once: it says so and the process ends (`leave`),
  the worker with it, nothing written;
- at --max-seconds (and GRACE_S more) it takes the model as the last finished step left it
  and goes on to evaluate and write it (`Control`: the weights change only in the
  optimiser's step, which looks under a lock whether to stop first), while the worker ends
  the call it is in.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import time
from typing import Callable

GRACE_S = 0.5  # past --max-seconds, a step still running is waited for this long
POLL_S = 0.1  # how often the command's thread looks up from waiting


class OutOfTime(RuntimeError):
    """--max-seconds came before training could start: there is no model to write."""


class Control:
    """What `train` shares with the thread that supervises it: the model and its Progress as
    they are (`model`, `progress`, once training has started), a `lock` held while the weights
    change, and `stop`, which ends training before its next change of the weights."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.model = None
        self.progress = None

    def take(self):
        """(the model as the last finished step left it, in eval mode, a copy of its
        Progress): training is told to stop, and changes the weights no more (a step or a
        check still under way may read them). None before training has started."""
        with self.lock:
            self.stop.set()
            if self.model is None:
                return None
            return self.model.eval(), copy.copy(self.progress)


class Worker:
    """`work()` on a daemon thread; `wait` for its result from the calling thread."""

    def __init__(self, work: Callable[[], object], name: str) -> None:
        self._result: list = []
        self._error: list[BaseException] = []
        # not Thread.join or is_alive: a join that Ctrl-C interrupts marks a running thread as
        # ended in Python 3.11 (its bpo-45274 fix releases the thread's own lock)
        self.done = threading.Event()

        def run() -> None:
            try:
                self._result.append(work())
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                self._error.append(e)
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()
        _LIVE.append(self)

    def wait(self, until: float | None = None, on_wait: Callable[[], None] | None = None):
        """The work's result (or its exception, raised here). With `until` (a
        time.monotonic() value), None if it has not finished by then. Ctrl-C and signals
        reach the caller while it waits; `on_wait` is called now and then."""
        while not self.done.wait(POLL_S):
            if on_wait is not None:
                on_wait()
            if until is not None and time.monotonic() >= until:
                return None
        _LIVE.remove(self)
        if self._error:
            raise self._error[0]
        return self._result[0]


_LIVE: list[Worker] = []  # workers not yet waited out


def in_worker(work: Callable[[], object], name: str = "echo-train work",
              on_wait: Callable[[], None] | None = None):
    """`work()`'s result, computed on a worker thread while this one stays free for Ctrl-C."""
    return Worker(work, name).wait(on_wait=on_wait)


def train_supervised(cfg, on_progress=None, on_wait: Callable[[Control], None] | None = None):
    """trainer.train.train(cfg, on_progress) on a worker thread: (model, Progress, cut), `cut`
    True when --max-seconds came in the middle of a step and the model is the last finished
    step's. KeyboardInterrupt (Ctrl-C, or a signal raising it) propagates at once."""
    from .train import train

    control = Control()
    worker = Worker(lambda: train(cfg, on_progress=on_progress, control=control),
                    "echo-train training")
    started = time.monotonic()
    done = worker.wait(until=started + cfg.max_seconds + GRACE_S,
                       on_wait=(lambda: on_wait(control)) if on_wait else None)
    if done is not None:
        return (*done, False)
    taken = control.take()
    if taken is None:
        raise OutOfTime(f"--max-seconds {cfg.max_seconds:g} ran out before the model was even "
                        f"built (hidden {cfg.hidden} takes longer); nothing written")
    model, progress = taken
    progress.seconds = time.monotonic() - started
    return model, progress, True


def leave(code: int) -> int:
    """`code`, once nothing is still working; a worker still in a long call cannot be stopped,
    so then the process ends here, its output flushed, with `code`."""
    if any(not w.done.is_set() for w in _LIVE):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code
