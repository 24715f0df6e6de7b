"""A served session's training slot (`echo-tui serve`): one run at a time server-wide.

Training in a browser session takes one slot of the server's: one run at a time server-wide (a
lock file the server names), within the server's limits on the hidden size, the delays and the
minutes a run may take (`TrainingLimits`), or none when the server says training is off. A
served run's child runs on one core, below the sessions' priority
(`python -m echo_tui.training.slot CONFIG_JSON`, `pinned_run`). Each run is reported to the
server's log (core/served.py's `report`).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from dataclasses import dataclass, replace

from ..core.served import report

TRAINING = "ECHO_GRU_TRAINING"  # the slot's lock file, or "off"
LIMITS = "ECHO_GRU_TRAINING_LIMIT"  # the server's --training-limit, as given
# a served run's own ceiling on private writable memory: hidden 256, delays 0-16, text peaked at
# about 0.9 GB; a run past this fails with MemoryError, in one sentence on its panel
TRAINING_DATA_MAX = 3 * 1024 ** 3
GRACE_S = 60.0  # past its limit, a run has this long for its last check before it is stopped

@dataclass(frozen=True)
class TrainingLimits:
    """The most a served training run may take: hidden units, the delay (a fixed model's, or a
    variable one's largest), and minutes. `echo-tui serve --training-limit
    hidden=256,delay=16,minutes=5` (any of them; the others keep these defaults)."""

    hidden: int = 256
    delay: int = 16
    minutes: float = 5.0

    @classmethod
    def parse(cls, text: str) -> "TrainingLimits":
        """From 'hidden=256,delay=16,minutes=5'; ValueError with one sentence naming what is
        wrong."""
        from trainer.config import MAX_DELAY, MAX_HIDDEN

        given: dict = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in ("hidden", "delay", "minutes") or not value.strip():
                raise ValueError(f"{part!r} is not hidden=N, delay=N or minutes=M")
            given[name] = value.strip()
        limits = cls()
        bounds = {"hidden": (1, MAX_HIDDEN), "delay": (0, MAX_DELAY)}
        for name, (lo, hi) in bounds.items():
            if name in given:
                value = given[name]
                if not value.isdigit() or not lo <= int(value) <= hi:
                    raise ValueError(f"{name}={value}: {name} must be a whole number from {lo} "
                                     f"to {hi}")
                limits = replace(limits, **{name: int(value)})
        if "minutes" in given:
            try:
                minutes = float(given["minutes"])
            except ValueError:
                minutes = float("nan")
            if not 0 < minutes <= 24 * 60:
                raise ValueError(f"minutes={given['minutes']}: minutes must be a number above 0 "
                                 "and at most 1440")
            limits = replace(limits, minutes=minutes)
        return limits

    def __str__(self) -> str:
        return f"hidden={self.hidden},delay={self.delay},minutes={self.minutes:g}"

    def describe(self) -> str:
        """As the panel shows them: 'hidden ≤ 256 · delay ≤ 16 · 5 min a run'."""
        time = f"{self.minutes:g} min" if self.minutes >= 1 else f"{60 * self.minutes:.0f} s"
        return f"hidden ≤ {self.hidden} · delay ≤ {self.delay} · {time} a run"

    def refusal(self, cfg) -> str | None:
        """The sentence refusing a run of `cfg` that asks for more than these, else None."""
        if cfg.hidden > self.hidden:
            return (f"this server trains hidden sizes up to {self.hidden}, not {cfg.hidden}: "
                    "ask your teacher for more")
        if cfg.delay > self.delay:
            which = "delays" if cfg.kind == "variable" else "a delay"
            return (f"this server trains {which} up to {self.delay}, not {cfg.delay}: ask your "
                    "teacher for more")
        return None


def limits() -> TrainingLimits | None:
    """This server's training limits; None when training is off here."""
    if os.environ.get(TRAINING, "off") == "off":
        return None
    try:
        return TrainingLimits.parse(os.environ.get(LIMITS, ""))
    except ValueError:
        return TrainingLimits()


class Refused:
    """A training run that never started: its one message says why."""

    def __init__(self, why: str) -> None:
        from .checkpoint import Failed

        self._messages = [Failed(why)]

    def get(self, timeout: float = 0.0):
        return self._messages.pop() if self._messages else None

    def cancel(self) -> None:
        self._messages.clear()


class SlotRun:
    """A training run holding the server's one training slot (an exclusive lock on a file)
    until it ends, is cancelled, runs past its time limit, or its session's process exits."""

    def __init__(self, run, fd: int, seconds: float | None = None) -> None:
        self.run, self._fd = run, fd
        self.deadline = time.monotonic() + seconds + GRACE_S if seconds is not None else None
        self._stopping: str | None = None  # why it is being stopped, once it is

    def get(self, timeout: float = 0.0):
        from .checkpoint import Checked, Failed

        if self.deadline is not None and time.monotonic() > self.deadline:
            self.cancel("past the server's time limit")
            return Failed("it ran past this server's time limit for a run; the last model "
                          "checked stays (^u uses it)")
        message = self.run.get(timeout=timeout)
        if isinstance(message, Failed):
            self._release(self._stopping or "failed")  # the next session may train
        elif message is not None and not isinstance(message, Checked):
            cp = message.checkpoint
            self._release("target reached" if cp is not None and cp.reached else "its time "
                          "limit")
        return message

    def cancel(self, why: str = "cancelled") -> None:
        self._stopping = why  # its child's end, which the relay may see first, is this
        self.run.cancel()
        self._release(why)

    def _release(self, why: str) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the file lets go of its lock
            self._fd = -1
            report("training ended", why=why)


def served_run(cfg, start=None):
    """The run of `cfg` (a TrainConfig) for a served session: within the server's limits (its
    time capped at theirs) and holding the server's training slot; or refused in one sentence
    when training is off, `cfg` asks for more than the limits, or another session holds the
    slot. `start(cfg)`: the started run (default: the child on one core, `pinned_run`)."""
    lock, bounds = os.environ.get(TRAINING, "off"), limits()
    if lock == "off" or bounds is None:
        return Refused("training is off on this server (echo-tui serve --training one turns "
                       "it on)")
    if cfg is not None:
        said = bounds.refusal(cfg)
        if said:
            return Refused(said)
        cfg = replace(cfg, max_seconds=min(cfg.max_seconds, 60 * bounds.minutes))
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return Refused("another session is training now (one run at a time on this server): "
                       "try again when it ends")
    try:
        run = (start or pinned_run)(cfg)
    except BaseException:
        os.close(fd)
        raise
    if cfg is not None:
        report("training started", kind=cfg.kind, alphabet=cfg.alphabet, cell=cfg.cell,
               delay=cfg.delay, hidden=cfg.hidden, seconds=cfg.max_seconds)
    return SlotRun(run, fd, cfg.max_seconds if cfg is not None else None)


def pinned_run(cfg):
    """The training child of a served session, started: `python -m echo_tui.training.slot`, which
    takes one core (the last this process may use) and the lowest priority, below every
    session's, then trains as the app's child does."""
    from dataclasses import asdict

    from .run import TrainingRun

    run = TrainingRun(cfg, argv=[sys.executable, "-m", "echo_tui.training.slot",
                                 json.dumps(asdict(cfg))])
    run.start()
    return run


def one_core_below_sessions() -> None:
    """This process on one core at nice 19, with its own memory ceiling (TRAINING_DATA_MAX)."""
    import resource

    try:  # the priority first: a process seen on its one core is already below the sessions
        os.setpriority(os.PRIO_PROCESS, 0, 19)
    except (AttributeError, OSError):
        pass
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = TRAINING_DATA_MAX if hard == resource.RLIM_INFINITY else min(TRAINING_DATA_MAX, hard)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # a served session's training child: see pinned_run
    one_core_below_sessions()  # first: the training module counts the cores it may use
    from .child import child
    from .frames import die_with_parent

    die_with_parent()
    sys.exit(child(json.loads(sys.argv[1]), sys.stdout.buffer))
