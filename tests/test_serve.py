"""`echo-tui serve`: each tab its own session, a full room says so, a closed tab leaves no
process behind; what a browser session may not do on the teacher's machine is refused."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("textual_serve", reason="echo-tui serve needs the [serve] extra")
pytest.importorskip("pyte", reason="the scripted tabs read the screen with pyte")

from echo_tui import served  # noqa: E402
from echo_tui.room import Tab, server, sessions_of  # noqa: E402
from echo_tui.serve import main as serve_main  # noqa: E402
from echo_tui.serve import public_url, reach  # noqa: E402


def ready(tab: Tab) -> bool:
    return any("│ typed " in line for line in tab.lines())


async def until_gone(pid: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while sessions_of(pid):
        assert time.monotonic() < end, f"sessions left: {sessions_of(pid)}"
        await asyncio.sleep(0.1)


async def test_each_tab_is_its_own_session():
    with server("--max-sessions", "3") as (proc, port):
        a, b = Tab(port), Tab(port)
        await asyncio.gather(a.open(), b.open())
        await asyncio.gather(a.wait_for(ready), b.wait_for(ready))
        assert len(sessions_of(proc.pid)) == 2
        await asyncio.gather(a.type("alpha"), b.type("bravo"))
        await a.wait_for(lambda t: t.typed_line() == "alpha")
        await b.wait_for(lambda t: t.typed_line() == "bravo")
        assert "bravo" not in a.text() and "alpha" not in b.text()
        await asyncio.gather(a.close(), b.close())
        await until_gone(proc.pid)


async def test_a_full_room_says_so_and_the_next_gets_in_when_one_leaves():
    with server("--max-sessions", "1") as (proc, port):
        first = await Tab(port).open()
        await first.wait_for(ready)
        with pytest.raises(urllib.error.HTTPError) as full:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert full.value.code == 503 and b"The room is full" in full.value.read()
        late = await Tab(port).open()
        await late.wait_for(lambda t: "The room is full" in t.text(), timeout=10)
        await late.close()
        await first.close()
        await until_gone(proc.pid)
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


async def test_a_tab_closed_mid_paste_or_mid_training_leaves_no_process():
    with server("--max-sessions", "2") as (proc, port):
        pasting = await Tab(port).open()
        await pasting.wait_for(ready)
        await pasting.send("\x1b[200~" + "abcdefgh" * 12_500 + "\x1b[201~")  # a bracketed paste
        await pasting.wait_for(lambda t: "feeding the paste" in t.text() or
                               t.typed_line().endswith("h"))
        await pasting.close()
        training = await Tab(port, 100, 40).open()
        await training.wait_for(ready)
        await training.send("\x14")  # ctrl+t: the training panel
        await training.wait_for(lambda t: "Train a model" in t.text() or "start" in t.text())
        await training.send("\r")  # Enter: start with the recipe as filled in
        await training.wait_for(lambda t: "training" in t.text().lower() and
                                any(_is_training(pid) for pid in _descendants(proc.pid)),
                                timeout=60)
        await training.close()
        end = time.monotonic() + 10
        while _descendants(proc.pid):
            assert time.monotonic() < end, [_cmd(p) for p in _descendants(proc.pid)]
            await asyncio.sleep(0.1)


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


def _cmd(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_training(pid: int) -> bool:
    return "echo_tui.training" in _cmd(pid)


# -- what a browser session may not do ------------------------------------------------------

def test_a_served_session_refuses_what_would_touch_the_teachers_machine(monkeypatch):
    monkeypatch.delenv(served.SERVED, raising=False)
    assert served.refusal("save") is None
    monkeypatch.setenv(served.SERVED, "1")
    assert served.refusal("save") == ("saving is off in a browser session: the file would be "
                                      "written on the teacher's machine")
    assert served.refusal("open").startswith("opening a file is off in a browser session")
    assert served.refusal("export").startswith("exporting is off in a browser session")


class FakeRun:
    def __init__(self):
        self.messages, self.cancelled = [], False

    def get(self, timeout=0.0):
        return self.messages.pop(0) if self.messages else None

    def cancel(self):
        self.cancelled = True


def test_one_training_run_at_a_time_server_wide(tmp_path, monkeypatch):
    from echo_tui.training import Failed, Finished

    monkeypatch.setenv(served.TRAINING, str(tmp_path / "training.lock"))
    first = served.served_run(None, start=lambda cfg: FakeRun())
    assert isinstance(first, served.SlotRun)
    second = served.served_run(None, start=lambda cfg: FakeRun())
    said = second.get()
    assert isinstance(said, Failed) and said.text == (
        "another session is training now (one run at a time on this server): try again when "
        "it ends")
    first.run.messages.append(Finished(None))
    assert isinstance(first.get(), Finished)  # the run ended: the slot is free again
    third = served.served_run(None, start=lambda cfg: FakeRun())
    assert isinstance(third, served.SlotRun)
    third.cancel()
    assert third.run.cancelled
    monkeypatch.setenv(served.TRAINING, "off")
    off = served.served_run(None, start=lambda cfg: FakeRun()).get()
    assert off.text.startswith("training is off on this server")


def test_the_command_says_who_can_reach_it_and_refuses_bad_settings(capsys):
    assert reach("127.0.0.1") is None and reach("localhost") is None and reach("::1") is None
    assert reach("0.0.0.0") == (
        "echo-tui serve: listening on 0.0.0.0, not only this machine: anyone who can reach it "
        "on the network can open a session and type into the network")
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("0.0.0.0", 8000, "http://class.example:80/") == "http://class.example:80"
    assert not public_url("0.0.0.0", 8000).startswith("http://0.0.0.0")  # no browser gets there
    assert serve_main(["--max-sessions", "0"]) == 2
    assert capsys.readouterr().err == "echo-tui serve: --max-sessions 0 must be at least 1\n"


def test_the_load_benchmark_measures_a_small_room():
    from echo_tui.serve_bench import room

    result = asyncio.run(room(2, 4))
    assert result["sessions_failed"] == 0 and result["all_typed_right"]
    assert (result["processes_while_open"], result["processes_after"]) == (2, 0)
    assert 0 < result["first_echo_s_median"] <= result["first_echo_s_max"]
    assert 0 < result["keys_per_s_min"] <= result["keys_per_s_median"]
    assert result["memory_mb_all_sessions"] >= 2 * result["memory_mb_per_session_median"] * 0.9
