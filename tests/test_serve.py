"""`echo-tui serve` through the server, with scripted tabs speaking the page's protocol: each tab
its own session, forked from a preloaded parent that runs one thread; a full room says so; what
a hostile tab sends (a huge terminal, a paste full of escapes, a socket it stops reading, a
storm of opening and dropping) leaves the other tabs, the server and the machine as they were;
however a tab ends, its process goes, and the log says why."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("textual_serve", reason="echo-tui serve needs the [serve] extra")
pytest.importorskip("pyte", reason="the scripted tabs read the screen with pyte")

from echo_tui.bench.room import Tab, rss_mb, server, sessions_of, tail, until  # noqa: E402
from echo_tui.bench.room import drawn as ready  # noqa: E402
from echo_tui.core.served import MAX_COLUMNS, MAX_ROWS  # noqa: E402

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def log_lines(proc) -> list[str]:
    return [line for line in tail(proc.log, 20_000).splitlines()
            if line.startswith("echo-tui serve: session")]


def _last_ended(why: str, proc) -> bool:
    """Whether the server's last session line says a session ended for `why`."""
    lines = log_lines(proc)
    return bool(lines) and re.search(rf"session \d+ ended after \d+ s: {why}$", lines[-1])


@pytest.fixture(scope="module")
def room():
    """One server for this module's tests (each starts from an empty room)."""
    with server("--max-sessions", "3") as (proc, port):
        yield proc, port


async def test_each_tab_is_its_own_session_forked_from_a_one_thread_parent(room):
    proc, port = room
    a, b = Tab(port), Tab(port)
    await asyncio.gather(a.open(), b.open())
    await asyncio.gather(a.wait_for(ready), b.wait_for(ready))
    pids = sessions_of(proc.pid)
    assert len(pids) == 2
    parents = {int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
               for pid in pids}
    assert len(parents) == 1  # both forks of the one preloaded parent
    (parent,) = parents
    assert len(os.listdir(f"/proc/{parent}/task")) == 1  # it started no thread pool
    assert {open(f"/proc/{pid}/comm").read().strip() for pid in pids} == {"echo-gru tab"}
    for pid in pids:  # the memory ceiling's backstop: a bound on what each may allocate
        limits = open(f"/proc/{pid}/limits").read()
        data = next(line for line in limits.splitlines() if line.startswith("Max data size"))
        assert data.split()[3] != "unlimited", data
    await asyncio.gather(a.type("alpha"), b.type("bravo"))
    await a.wait_for(lambda t: t.typed_line() == "alpha")
    await b.wait_for(lambda t: t.typed_line() == "bravo")
    assert "bravo" not in a.text() and "alpha" not in b.text()
    await asyncio.gather(a.close(), b.close())
    await until(lambda: not sessions_of(proc.pid), "end of both sessions")
    ended = [line for line in log_lines(proc) if " ended after " in line]
    assert len(ended) >= 2 and all(line.endswith(": closed") for line in ended[-2:]), ended


async def test_a_paste_is_text_whatever_it_holds(room):
    """ESC inside a paste is a character, never a key: ctrl+q does not end the session,
    ctrl+r does not reset it, an arrow's sequence is not reordered."""
    proc, port = room
    tab = await Tab(port).open()
    await tab.wait_for(ready)
    await tab.type("mn")
    await tab.wait_for(lambda t: t.typed_line() == "mn")
    await tab.send(f"{PASTE_START}abc\x1b\x11def{PASTE_END}")  # ESC, ctrl+q
    await tab.send(f"{PASTE_START}xyz\x1b\x12uvw{PASTE_END}")  # ESC, ctrl+r
    await tab.send(f"{PASTE_START}ab\x1b[Acd{PASTE_END}")  # ESC [ A: the up arrow's sequence
    await tab.type("!")
    # the text model reads '[' and 'A': they are steps; ESC and the controls are kept, no step
    await tab.wait_for(lambda t: t.typed_line() == "mnabcdefxyzuvwab[Acd!")
    assert sessions_of(proc.pid), "the paste ended the session"
    await tab.close()
    await until(lambda: not sessions_of(proc.pid), "the session's end")


async def test_a_huge_terminal_is_clamped_by_query_and_by_message(room):
    proc, port = room
    bomb = await Tab(port, 100_000, 100_000).open()  # asked for at connect
    await bomb.wait_for(ready)
    (pid,) = sessions_of(proc.pid)
    await bomb.ws.send_str(json.dumps(["resize", {"width": 100_000, "height": 100_000}]))
    for width in range(1, 60):  # a storm of resizes: the latest reaches the app, at a pace
        await bomb.ws.send_str(json.dumps(["resize", {"width": 10 ** width, "height": -1}]))
    await bomb.ws.send_str(json.dumps(["resize", {"width": "wide", "height": None}]))
    await bomb.ws.send_str(json.dumps(["resize", {"width": 100_000, "height": 100_000}]))
    await bomb.type("ok")
    await bomb.wait_for(lambda t: t.typed_line() == "ok")
    # the app draws at the clamped size: its status line reaches the last clamped row
    assert bomb.screen.columns == MAX_COLUMNS and bomb.screen.lines == MAX_ROWS
    await bomb.wait_for(lambda t: "acc" in t.lines()[MAX_ROWS - 2])
    assert rss_mb(pid) < 500, f"a clamped session holds {rss_mb(pid):.0f} MB"
    fresh = await Tab(port).open()  # the server answers another tab meanwhile
    await fresh.wait_for(ready, timeout=10)
    await asyncio.gather(bomb.close(), fresh.close())
    await until(lambda: not sessions_of(proc.pid), "the sessions' end")


async def test_input_past_the_bounds_waits_or_ends_the_session(room):
    """Past the burst, input goes at the server's pace, all of it; a message over 4 MB ends
    the session, saying why, and the room goes on."""
    from echo_tui.serve.tab import Budget

    budget, start = Budget(rate=4000, burst=1000), time.monotonic()
    await budget.spend(1000)  # the burst: at once
    assert time.monotonic() - start < 0.05
    await budget.spend(400)  # then 400 bytes at 4000 a second: a tenth of a second later
    assert 0.08 < time.monotonic() - start < 0.5
    proc, port = room
    flood = await Tab(port).open()
    await flood.wait_for(ready)
    with contextlib.suppress(ConnectionError):  # the server closes mid-message
        await flood.send("x" * (5 * 1024 * 1024))
    await until(lambda: flood.ws.closed, "the page's close")  # code 1009, or cut off
    await until(lambda: not sessions_of(proc.pid), "the flood's process to end")
    # the server logs a session's end once it has reaped the process: a moment later
    await until(lambda: _last_ended("input too large", proc), "the flood's end in the log", 20)
    await flood.close()


async def test_a_tab_that_stops_reading_then_drops_leaves_no_process(room):
    proc, port = room
    slow = await Tab(port, 200, 60, receive_buffer=4096).open()
    await slow.wait_for(ready)
    _, client_port = slow.ws.get_extra_info("sockname")[:2]
    slow.stop_reading()
    # frames the tab no longer reads (f4 redraws the screen) until the server holds 256 KiB it
    # cannot send (64 times what the tab's window takes): its sends wait on the tab. A busy
    # machine draws fewer frames a second, so the bound is time, not a count of keys.
    end = time.monotonic() + 90
    try:
        while (unsent := _unsent(port, client_port)) < 256 * 1024:
            assert time.monotonic() < end, f"the server's sends never backed up ({unsent} B)"
            await slow.send("\x1bOS" + PASTE_START + "long line of text " * 30 + PASTE_END)
            await asyncio.sleep(0.01)
        assert sessions_of(proc.pid)
    finally:
        await slow.drop()
    await until(lambda: not sessions_of(proc.pid), "the slow tab's process to end", 20)
    await until(lambda: _last_ended("closed", proc), "the slow tab's end in the log", 20)


def _unsent(server_port: int, client_port: int) -> int:
    """Bytes the server's socket to the client at `client_port` holds unsent (/proc/net/tcp)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
                if (int(local, 16), int(remote, 16)) == (server_port, client_port):
                    return int(fields[4].split(":")[0], 16)
    return 0


@pytest.fixture(scope="module")
def one_place():
    """A server of one place, for the tests of a full room."""
    with server("--max-sessions", "1") as (proc, port):
        yield proc, port


async def test_rapid_open_and_drop_never_exceeds_the_room(one_place):
    proc, port = one_place
    most, stop = [0], threading.Event()

    def count() -> None:
        while not stop.is_set():
            most[0] = max(most[0], len(sessions_of(proc.pid)))
            time.sleep(0.002)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        for cycle in range(16):  # three tabs for one place, dropped at once or once it is up
            tabs = [Tab(port) for _ in range(3)]
            await asyncio.gather(*(t.open() for t in tabs))
            if cycle % 2:
                await asyncio.wait([asyncio.ensure_future(t.wait_for(ready, timeout=20))
                                    for t in tabs], return_when=asyncio.ALL_COMPLETED)
            await asyncio.gather(*(t.drop() for t in tabs))
        await until(lambda: not sessions_of(proc.pid), "the room to empty", 30)
    finally:
        stop.set()
        counter.join()
    assert most[0] == 1
    last = await Tab(port).open()  # the room still opens
    await last.wait_for(ready)
    await last.close()
    await until(lambda: not sessions_of(proc.pid), "the room to empty")


async def test_a_full_room_says_so_and_the_next_gets_in_when_one_leaves(one_place):
    proc, port = one_place
    first = await Tab(port).open()
    await first.wait_for(ready)
    with pytest.raises(urllib.error.HTTPError) as full:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    assert full.value.code == 503 and b"The room is full" in full.value.read()
    late = await Tab(port).open()
    await late.wait_for(lambda t: "The room is full" in t.text(), timeout=10)
    await late.close()
    await first.close()
    await until(lambda: not sessions_of(proc.pid), "the first tab's process to end")
    # the place is free once the server has finished with the closed tab: within seconds
    end = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                assert page.status == 200
                break
        except urllib.error.HTTPError as e:
            assert e.code == 503 and time.monotonic() < end
            await asyncio.sleep(0.1)
    again = await Tab(port).open()
    await again.wait_for(ready)
    await again.close()


async def test_a_session_that_quits_or_dies_ends_with_a_sentence_and_a_log_line(room):
    proc, port = room
    quitting = await Tab(port).open()
    await quitting.wait_for(ready)
    await quitting.send("\x1b[21~")  # f10: quit, in a browser (Firefox keeps ctrl+q)
    await until(lambda: quitting.close_reason is not None, "the page's close")
    assert quitting.close_reason == "You ended this session. Restart opens a new one."
    dying = await Tab(port).open()
    await dying.wait_for(ready)
    (pid,) = sessions_of(proc.pid)
    os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer would
    await until(lambda: dying.close_reason is not None, "the page's close")
    assert dying.close_reason == ("This session ended: its app stopped with an error (the "
                                  "server's log has it). Restart opens a new one.")
    ended = [line for line in log_lines(proc) if " ended after " in line][-2:]
    assert re.fullmatch(r"echo-tui serve: session \d+ ended after \d+ s: quit \(ctrl\+q\)",
                        ended[0]), ended
    assert re.fullmatch(r"echo-tui serve: session \d+ ended after \d+ s: crashed \(exit "
                        r"status -9: .*\)", ended[1]), ended
    await until(lambda: not sessions_of(proc.pid), "the sessions' end")
    fresh = await Tab(port).open()  # the room goes on
    await fresh.wait_for(ready)
    await asyncio.gather(fresh.close(), quitting.close(), dying.close())


async def test_a_tab_closed_mid_paste_or_mid_training_leaves_no_process(room):
    proc, port = room
    pasting = await Tab(port).open()
    await pasting.wait_for(ready)
    await pasting.send(PASTE_START + "abcdefgh" * 12_500 + PASTE_END)
    await pasting.wait_for(lambda t: "feeding the paste" in t.text() or
                           t.typed_line().endswith("h"))
    await pasting.close()
    training = await Tab(port, 100, 40).open()
    await training.wait_for(ready)
    await training.send("\x1b[19~")  # f8: the training panel (a browser keeps ctrl+t)
    await training.wait_for(lambda t: "train a model (f8)" in t.text())
    await training.send("\r")  # Enter: start with the recipe as filled in
    await training.wait_for(lambda t: "on one core, below the sessions" in t.text())
    await until(lambda: any(_training(pid) for pid in _descendants(proc.pid)),
                "the training child", 30)
    (child,) = [pid for pid in _descendants(proc.pid) if _training(pid)]
    one_core = {max(os.sched_getaffinity(proc.pid))}
    try:  # as it starts: one core, the last, at the lowest priority
        # the child sets its core, then its priority: wait for both, not for the first alone
        await until(lambda: os.sched_getaffinity(child) == one_core and os.getpriority(
            os.PRIO_PROCESS, child) == 19, "the child on one core at nice 19")
    except ProcessLookupError:
        pass  # it failed already: the panel says so, and the test is of its end
    await training.close()
    await until(lambda: not sessions_of(proc.pid) and not any(
        _training(pid) for pid in _descendants(proc.pid)), "the sessions and their training")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        try:
            with open(f"/proc/{todo[0]}/task/{todo[0]}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        todo = todo[1:] + kids
        out += kids
    return out


def _training(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"echo_tui.training.slot" in f.read()
    except OSError:
        return False
