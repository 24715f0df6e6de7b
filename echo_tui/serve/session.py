"""One tab of `echo-tui serve`, on the server's side: its app process, forked from the
preloaded parent (serve_child), and the pipes textual-serve's protocol runs over.

textual-serve 1.1.3's `AppService` speaks the protocol with the app process (its stdin, the
packets on its stdout) and is used as it is; only how the process is made differs
(compat.textual_serve's `ForkedAppService`): instead of a shell starting `python -m echo_tui`, the
forkserver forks the preloaded parent, handed three pipes as the child's stdin, stdout and
stderr and a fourth for the session's reports (served.report). The server keeps the app's
stderr itself, as a bounded tail (AppService would copy all of it to the server's stdout, as it
is: not inert), and reads the reports. A process is known to be gone when the forkserver,
which reaps it, reports its exit status (`AppProcess.ended`); its place in the room is free from
then on, not before.
"""

from __future__ import annotations

import asyncio
import os
import signal

STDERR_TAIL = 16 * 1024  # bytes of a session's stderr kept: its last words, for the log
REPORT_MAX = 4096  # bytes of one report line; a longer one is cut there


class Fd:
    """A file descriptor handed to the forked child (by multiprocessing's own DupFd, which
    sends it to the forkserver with the request); a plain int in the child."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self):
        from multiprocessing import reduction

        return _detached, (reduction.DupFd(self.fd),)


def _detached(dup) -> int:
    return dup.detach()


class AppProcess:
    """A tab's app process, as AppService uses one (`stdin`, `stdout`, `stderr` streams), with
    its exit (`ended`: a future of the exit status), its stderr's tail, its report lines
    (`reports`: a queue of bytes, None at the end), and `kill`."""

    def __init__(self, process, stdin, stdout, err_fd: int, report_fd: int) -> None:
        loop = asyncio.get_running_loop()
        self.process, self.pid = process, process.pid
        self.stdin, self.stdout = stdin, stdout
        self.stderr = asyncio.StreamReader()  # AppService's copy of stderr: kept empty
        self.stderr.feed_eof()
        self.tail = bytearray()
        self.reports: asyncio.Queue = asyncio.Queue()
        self.ended: asyncio.Future = loop.create_future()
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        self._readers = [asyncio.ensure_future(self._keep_tail(err_fd)),
                         asyncio.ensure_future(self._read_reports(report_fd))]
        loop.add_reader(process.sentinel, self._exited)

    @classmethod
    async def fork(cls, start, width: int, height: int, **settings) -> "AppProcess":
        """Fork the preloaded parent (`start(stdio, report, width, height, **settings)`:
        multiprocessing's Process.start, run in a thread: it waits for the forkserver)."""
        pipes = [os.pipe() for _ in range(4)]  # stdin, stdout, stderr, reports
        (in_r, in_w), (out_r, out_w), (err_r, err_w), (rep_r, rep_w) = pipes
        theirs = (in_r, out_w, err_w, rep_w)
        try:
            process = await asyncio.to_thread(
                start, (Fd(in_r), Fd(out_w), Fd(err_w)), Fd(rep_w), width, height, **settings)
        except BaseException:
            for fd in (fd for pair in pipes for fd in pair):
                os.close(fd)
            raise
        for fd in theirs:
            os.close(fd)
        loop = asyncio.get_running_loop()
        try:
            stdout = asyncio.StreamReader(limit=2 ** 16)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout),
                                         os.fdopen(out_r, "rb", 0))
            transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, os.fdopen(in_w, "wb", 0))
        except BaseException:
            process.kill()  # no session without its pipes
            raise
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        return cls(process, stdin, stdout, err_r, rep_r)

    def _exited(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(self.process.sentinel)
        if not self.ended.done():
            self.ended.set_result(self.process.exitcode)  # read from the forkserver's word
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        try:
            self.stdin.close()
        except (OSError, RuntimeError):
            pass

    async def _keep_tail(self, fd: int) -> None:
        with os.fdopen(fd, "rb", 0) as stream:
            reader = asyncio.StreamReader()
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), stream)
            while chunk := await reader.read(STDERR_TAIL):
                self.tail += chunk
                del self.tail[:-STDERR_TAIL]

    async def _read_reports(self, fd: int) -> None:
        with os.fdopen(fd, "rb", 0) as stream:
            reader = asyncio.StreamReader(limit=REPORT_MAX)
            await asyncio.get_running_loop().connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), stream)
            try:
                while line := await reader.readuntil(b"\n"):
                    await self.reports.put(line)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass
            finally:
                await self.reports.put(None)

    @property
    def alive(self) -> bool:
        return not self.ended.done()

    def kill(self) -> None:
        """SIGKILL, by pidfd where there is one (never a reused pid)."""
        if not self.alive:
            return
        try:
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def rss_mb(self) -> float:
        """Resident memory now (0 once gone): statm, the cheapest read the kernel offers."""
        try:
            with open(f"/proc/{self.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
        except (OSError, ValueError, IndexError):
            return 0.0

    def last_words(self) -> str:
        """The last line of its stderr, or ''."""
        lines = [l.strip() for l in self.tail.decode(errors="replace").splitlines() if l.strip()]
        return lines[-1] if lines else ""

    async def closed(self) -> None:
        """Until its pipes are read to their ends (after it is gone)."""
        await asyncio.gather(*self._readers, return_exceptions=True)
