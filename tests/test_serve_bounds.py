"""`echo-tui serve`'s door and bounds: the token (refused without it, and nothing starts), idle
tabs and a session past its memory ceiling ended with a sentence on their page, training within
the server's limits and its one slot freed however a run ends, the command's arguments, and the
load benchmark on a small room."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pytest

pytest.importorskip("textual_serve", reason="echo-tui serve needs the [serve] extra")
pytest.importorskip("pyte", reason="the scripted tabs read the screen with pyte")

from echo_tui.training import slot as served  # noqa: E402
from echo_tui.bench.room import Tab, server, sessions_of, tail, until  # noqa: E402
from echo_tui.bench.room import drawn as ready  # noqa: E402
from echo_tui.serve.command import main as serve_main  # noqa: E402
from echo_tui.serve.command import parse_args, public_url, reach, the_token  # noqa: E402
from trainer.config import TrainConfig  # noqa: E402

TOKEN = "classroom-42"
TRAIN = "\x1b[19~"  # f8


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as page:
            return page.status
    except urllib.error.HTTPError as e:
        return e.code


async def test_without_the_token_nothing_opens_and_nothing_starts():
    with server("--token", TOKEN, "--idle-minutes", "0.04") as (proc, port):
        base = f"http://127.0.0.1:{port}/"
        assert status_of(base) == 403
        assert status_of(base + "?token=classroom-41") == 403
        refused = Tab(port)  # the socket without the token: refused before any process
        with pytest.raises(Exception) as no:
            await refused.open()
        assert "403" in str(no.value)
        await refused.close()
        wrong = Tab(port, token="classroom-41")
        with pytest.raises(Exception):
            await wrong.open()
        await wrong.close()
        assert sessions_of(proc.pid) == []
        with urllib.request.urlopen(base + f"?token={TOKEN}", timeout=5) as page:
            html = page.read().decode()
        assert page.status == 200 and f'/ws/{TOKEN}"' in html  # the page's socket carries it
        # ...and a tab with it gets in; left idle, it ends, saying so on its page
        tab = await Tab(port, token=TOKEN).open()
        await tab.wait_for(ready)
        await tab.type("hi")
        await tab.wait_for(lambda t: t.typed_line() == "hi")
        await until(lambda: tab.close_reason is not None, "the idle end", 20)
        assert tab.close_reason == ("This session ended: nothing was typed in it for 2 s. "
                                    "Restart opens a new one.")
        await until(lambda: not sessions_of(proc.pid), "the idle session's end")
        log = tail(proc.log, 20_000)
        assert re.search(r"session 1 ended after \d+ s: idle \(nothing typed for 2 s\)", log)
        await tab.close()


async def test_a_session_past_its_memory_ceiling_ends_and_the_room_goes_on():
    with server("--memory-mb", "200", "--max-sessions", "2") as (proc, port):
        tab = await Tab(port).open()  # a session starts at about 240 MB resident: past 200
        await until(lambda: tab.close_reason is not None, "the memory ceiling's end", 20)
        assert tab.close_reason == ("This session ended: it needed more memory than this "
                                    "server gives a tab (200 MB). Restart opens a new one.")
        await until(lambda: not sessions_of(proc.pid), "the session's end")
        assert re.search(r"session 1 ended after \d+ s: memory ceiling \(\d+ MB resident, over "
                         r"200 MB\)", tail(proc.log, 20_000))
        assert status_of(f"http://127.0.0.1:{port}/") == 200  # the server answers on
        await tab.close()


async def test_served_training_takes_the_one_slot_and_frees_it_when_its_tab_closes():
    with server("--max-sessions", "2", "--training-limit", "hidden=64,minutes=1") as (
            proc, port):
        first, second = Tab(port, 100, 40), Tab(port, 100, 40)
        await asyncio.gather(first.open(), second.open())
        await asyncio.gather(first.wait_for(ready), second.wait_for(ready))
        for tab in (first, second):
            await tab.send(TRAIN)
            await tab.wait_for(lambda t: "train a model (f8) · hidden ≤ 64 · delay ≤ 16 · 1 min "
                                         "a run" in t.text())
            assert "^s" not in tab.text() and "save" not in tab.text()
        await first.send("\r")  # the fixed letters recipe: hidden 64, within the limits
        await first.wait_for(lambda t: "on one core, below the sessions" in t.text())
        await second.send("\r")
        await second.wait_for(lambda t: "another session is training now" in t.text())
        await first.close()  # its run ends with its tab, and the slot is free
        await until(lambda: len(sessions_of(proc.pid)) == 1, "the first tab's end")
        await second.send(TRAIN + TRAIN + "\r")  # the panel closed and opened: on "start"
        await second.wait_for(lambda t: "on one core, below the sessions" in t.text())
        log = tail(proc.log, 20_000)
        assert re.search(r"session 1: training started \(kind fixed, alphabet letters, cell "
                         r"gru, delay 4, hidden 64, seconds 60(\.0)?\)", log), log
        assert re.search(r"session 1: training ended: cancelled\n.*session 1 ended after \d+ s: "
                         r"closed\n", log), log
        await second.close()


class FakeRun:
    def __init__(self, cfg=None):
        self.cfg, self.messages, self.cancelled = cfg, [], False

    def get(self, timeout=0.0):
        return self.messages.pop(0) if self.messages else None

    def cancel(self):
        self.cancelled = True


def test_served_runs_keep_within_the_limits_and_free_the_slot_however_they_end(tmp_path,
                                                                              monkeypatch):
    from echo_tui.training.checkpoint import Checkpoint, Failed, Finished

    monkeypatch.setenv(served.TRAINING, str(tmp_path / "training.lock"))
    monkeypatch.setenv(served.LIMITS, "hidden=128,delay=8,minutes=2")
    started = []

    def start(cfg):
        started.append(cfg)
        return FakeRun(cfg)

    big = served.served_run(TrainConfig(hidden=4096), start).get()
    assert isinstance(big, Failed) and big.text == (
        "this server trains hidden sizes up to 128, not 4096: ask your teacher for more")
    far = served.served_run(TrainConfig(kind="variable", delay=64), start).get()
    assert far.text == "this server trains delays up to 8, not 64: ask your teacher for more"
    assert started == []  # neither started a child
    first = served.served_run(TrainConfig(max_seconds=10_800.0), start)
    assert started[-1].max_seconds == 120.0  # its time capped at the server's 2 minutes
    busy = served.served_run(TrainConfig(), start).get()
    assert busy.text == ("another session is training now (one run at a time on this "
                         "server): try again when it ends")
    cp = Checkpoint(step=1, seconds=1.0, samples=1, loss=0.1, heldout=1.0, trained_delay=4,
                    reached=True, weights=b"")
    first.run.messages.append(Finished(cp))
    assert isinstance(first.get(), Finished)  # it ended: the slot is free
    cancelled = served.served_run(TrainConfig(), start)
    cancelled.cancel()
    assert cancelled.run.cancelled
    late = served.served_run(TrainConfig(), start)  # then one that runs past its time
    late.deadline = time.monotonic() - 1
    said = late.get()
    assert said.text == ("it ran past this server's time limit for a run; the last model "
                         "checked stays (^u uses it)") and late.run.cancelled
    assert isinstance(served.served_run(TrainConfig(), start), served.SlotRun)  # free again
    monkeypatch.setenv(served.TRAINING, "off")
    assert served.served_run(TrainConfig(), start).get().text.startswith(
        "training is off on this server")


def test_the_training_limit_reads_and_refuses_as_a_teacher_types_it():
    parse = served.TrainingLimits.parse
    assert parse("hidden=256,delay=16,minutes=5") == served.TrainingLimits()
    assert parse("minutes=0.5") == served.TrainingLimits(minutes=0.5)
    assert parse(" hidden = 32 , delay=4 ") == served.TrainingLimits(hidden=32, delay=4)
    assert str(parse("delay=4")) == "hidden=256,delay=4,minutes=5"
    assert served.TrainingLimits().describe() == "hidden ≤ 256 · delay ≤ 16 · 5 min a run"
    assert parse("minutes=0.5").describe() == "hidden ≤ 256 · delay ≤ 16 · 30 s a run"
    for text, said in [
        ("hidden=0", "hidden=0: hidden must be a whole number from 1 to 4096"),
        ("delay=65", "delay=65: delay must be a whole number from 0 to 64"),
        ("minutes=-1", "minutes=-1: minutes must be a number above 0 and at most 1440"),
        ("minutes=soon", "minutes=soon: minutes must be a number above 0 and at most 1440"),
        ("layers=2", "'layers=2' is not hidden=N, delay=N or minutes=M"),
    ]:
        with pytest.raises(ValueError) as e:
            parse(text)
        assert str(e.value) == said


def test_the_command_says_who_can_reach_it_and_refuses_bad_settings(capsys):
    assert reach("127.0.0.1", None) is None and reach("localhost", None) is None
    assert reach("::1", None) is None
    assert reach("0.0.0.0", "t0ken-abc") == (
        "echo-tui serve: listening on 0.0.0.0, not only this machine: only the address with "
        "its token below opens a session")
    assert reach("0.0.0.0", None) == (
        "echo-tui serve: listening on 0.0.0.0, not only this machine, without a token "
        "(--no-token): anyone who can reach it on the network can open a session and type "
        "into the network")
    lan = the_token(parse_args(["--host", "0.0.0.0"]))
    assert lan is not None and len(lan) >= 16 and lan != the_token(parse_args(["--host", "::"]))
    assert the_token(parse_args([])) is None  # this machine only: no token unless asked
    assert the_token(parse_args(["--host", "0.0.0.0", "--no-token"])) is None
    assert the_token(parse_args(["--token", TOKEN])) == TOKEN
    assert public_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert public_url("0.0.0.0", 8000, "http://class.example:80/") == "http://class.example:80"
    assert not public_url("0.0.0.0", 8000).startswith("http://0.0.0.0")  # no browser gets there
    for argv, said in [
        (["--max-sessions", "0"], "--max-sessions 0 must be at least 1"),
        (["--token", "short"], "--token must be 8 to 128 letters, digits, '-', '_' or '.' (it "
                               "travels in the address)"),
        (["--idle-minutes", "-1"], "--idle-minutes -1 must be 0 (never) or more"),
        (["--memory-mb", "50"], "--memory-mb 50 must be at least 200 (a session needs that)"),
        (["--training-limit", "hidden=9999"], "--training-limit hidden=9999: hidden=9999: "
                                              "hidden must be a whole number from 1 to 4096"),
    ]:
        assert serve_main(argv) == 2
        assert capsys.readouterr().err == f"echo-tui serve: {said}\n"


def test_a_config_within_the_limits_keeps_its_own_shorter_time():
    bounds = served.TrainingLimits(minutes=5)
    assert bounds.refusal(TrainConfig(hidden=256, delay=16, kind="variable")) is None
    assert bounds.refusal(replace(TrainConfig(), hidden=257)) is not None


def test_the_load_benchmark_measures_a_small_room():
    from echo_tui.bench.serve import room

    result = asyncio.run(room(2, 4, hostile_s=2.0))
    assert result["sessions_failed"] == 0 and result["all_typed_right"]
    assert (result["processes_while_open"], result["processes_after"]) == (2, 0)
    assert 0 < result["first_echo_s_median"] <= result["first_echo_s_max"]
    assert 0 < result["keys_per_s_min"] <= result["keys_per_s_median"]
    assert 0 < result["uss_mb_per_session_median"] <= result["pss_mb_per_session_median"]
    assert result["pss_mb_all_sessions"] >= 2 * result["pss_mb_per_session_median"] * 0.9
    assert 0 < result["hostile_peak_mb"] < 800 and 0 < result["fresh_tab_answer_s"]
