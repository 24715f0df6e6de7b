"""The sessions' side of `echo-tui serve`: one parent preloaded once, and a fork of it per tab.

A tab's session was a fresh `python -m echo_tui`: each imported PyTorch, numba and Textual and
loaded numba's compiled steps again (about 2 s of a core), and held 360 MB, 200 MB of it its
own. Measured before choosing (2 cores, torch 2.13): importing torch took 1.2 s, numba 0.2 s,
Textual 0.1 s, the app's modules the rest of 2 s, and warming the shipped model 0.4-0.8 s; a
forked child of a parent that had done all that opened its session in 0.04 s.

So the server starts one parent through multiprocessing's forkserver, this module preloaded
(`PRELOAD`: its import runs `preload`): every module a session uses is imported, the shipped
text model's steps are compiled or read from numba's cache, and the objects made are frozen out
of the garbage collector (`gc.freeze`), so that a child's collections do not write to, and so
copy, the pages it shares with the parent. Then, for each tab, `run_session` runs in a fork.

The parent starts no thread before it forks (DESIGN.md): a child inherits a thread pool's
bookkeeping but not its threads, and waits on them for ever. OpenMP, OpenBLAS, MKL and numba
are held to one thread by the environment the server gives the parent (`THREADS`), and the
engine's recurrence thread, started by the warm-up, is ended (`engine.stop_threads`). A session
feeds one stream: one thread is what a key needs, and thirty sessions share the cores.
"""

from __future__ import annotations

import os
import sys

THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}
PRELOAD = "echo_tui.serve.preload"  # its import calls preload()
NAME = b"echo-gru tab"  # a session's process name (ps, top): at most 15 bytes
DATA_SLACK = 64 * 2 ** 20  # thread stacks (8 MB each, counted whole) and the allocator's arenas


def preload() -> None:
    """Everything a session needs, loaded in the parent before any fork (runs at import of
    PRELOAD, in the forkserver)."""
    import gc

    os.nice(10)  # every session is forked from here: below the server, which must answer
    import numpy  # noqa: F401 - each import is here to be shared by every fork
    import torch  # noqa: F401
    from textual.drivers.web_driver import WebDriver  # noqa: F401

    import trainer.recipes  # noqa: F401 - the training panel fills its form from them
    import trainer.train  # noqa: F401
    from ..app import create_app  # noqa: F401 - the App, its screens, widgets and driver
    from ..core import engine
    from ..core.models import ModelChoice, open_session
    from ..training import run  # noqa: F401

    # the compiled steps (the keystroke's and a paste's), read or compiled once for all tabs:
    # one model warms them for every model, whose sizes are arguments, not types
    session = open_session(ModelChoice.shipped("text_delay"), None)
    session.feed(session.alphabet.symbols[0] * 600)  # a paste's path, over more than a chunk
    engine.stop_threads()
    gc.collect()
    gc.freeze()


def probe() -> None:
    """Run in a fork at the server's start: exit 0 when the parent was preloaded and runs one
    thread, 3 when the preload did not happen (the forkserver skips a module that fails to
    import), 4 when the parent has other threads (a fork of it could hang)."""
    if PRELOAD not in sys.modules:
        sys.exit(3)
    sys.exit(0 if len(os.listdir(f"/proc/{os.getppid()}/task")) == 1 else 4)


def run_session(stdio, report, width: int, height: int, weights: str | None,
                delay: int | None, data_limit: int | None, memory: bool = False,
                lesson: str | None = None) -> None:
    """A tab's app (in a fork of the preloaded parent): `stdio` are the pipes textual-serve's
    protocol runs over (the web driver's stdin, stdout, stderr), `report` the pipe for the
    session's events (served.report), `weights` and `delay` the app's (checked by the server);
    `data_limit`: the server's memory ceiling in bytes, set here as a backstop under its watch
    (`_limit_data`); `memory`: whether the memory view shows at start."""
    from ..core.served import REPORT_FD

    _take_stdio(*stdio)
    os.environ[REPORT_FD] = str(report)
    os.environ["COLUMNS"], os.environ["ROWS"] = str(width), str(height)
    _name_and_bind()
    if data_limit is not None:
        _limit_data(data_limit)
    from ..app import run_app

    sys.exit(run_app(weights, delay, memory=memory, lesson=lesson))  # lesson: --lesson


def _take_stdio(stdin: int, stdout: int, stderr: int) -> None:
    """The pipes become fds 0, 1 and 2, and sys's streams over them (Textual's web driver reads
    sys.__stdin__'s fd and writes sys.__stdout__'s)."""
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", closefd=False)


def _name_and_bind() -> None:
    """Named for ps and top; ended by the kernel when the parent ends (the parent ends when the
    server does), so that no session outlives a server that was killed."""
    from multiprocessing import forkserver

    try:
        with open("/proc/self/comm", "wb") as f:
            f.write(NAME)
    except OSError:
        pass
    # the forkserver stays up while any process holds its "alive" pipe: only the server may
    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        try:
            os.close(alive)
        except OSError:
            pass
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        parent = os.getppid()
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # the parent was gone before the kernel was asked
            os._exit(1)


def _limit_data(ceiling: int) -> None:
    """RLIMIT_DATA (private writable memory: the heap, anonymous maps, thread stacks) at what
    this process holds now, plus what its resident memory may still grow by under `ceiling`
    bytes, plus DATA_SLACK: past it an allocation fails (MemoryError) and the session ends. A
    soft limit only: a training child, a new process, sets its own."""
    import resource

    try:
        with open("/proc/self/status") as f:
            status = {k: int(v.split()[0]) * 1024 for k, _, v in
                      (line.partition(":") for line in f) if k in ("VmData", "VmRSS")}
        soft = status["VmData"] + max(0, ceiling - status["VmRSS"]) + DATA_SLACK
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
    except (OSError, ValueError, KeyError):
        pass
