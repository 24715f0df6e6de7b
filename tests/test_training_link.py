"""The link to the training child holds against a child that misbehaves: every bad frame, a
flood of stderr, a stopped child, bad weights, a child left unreaped and an app that dies all
end in one sentence (or a dead child), never in a reader thread that dies unheard.

The children here are fakes: small Python scripts that write crafted frames, given to
`TrainingRun` as its command."""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import asdict, replace

import pytest
import torch
from safetensors.torch import save

from echo_tui.training import frames, run as training
from echo_tui.training.checkpoint import Checked, Checkpoint, Failed, Finished
from echo_tui.training.run import STDERR_TAIL, TrainingRun
from trainer.recipes import RECIPES
from trainer.train import TrainConfig, build_model

CFG = TrainConfig(hidden=8, delay=2)  # fixed, letters
PRELUDE = ("import os, sys, time\n"
           "from echo_tui.training.frames import die_with_parent, write_frame\n"
           "die_with_parent()\n"
           "out = sys.stdout.buffer\n")
FIGURES = {"step": 5, "seconds": 0.5, "samples": 640, "loss": 2.5, "heldout": 0.25,
           "trained_delay": 2, "reached": False, "by_delay": [0.25]}


def fake(script: str, cfg=CFG, **bounds) -> TrainingRun:
    """A started run whose child is `script` (after PRELUDE), its bounds set as given."""
    run = TrainingRun(cfg, argv=[sys.executable, "-c", PRELUDE + textwrap.dedent(script)])
    for name, value in bounds.items():
        setattr(run, name, value)
    run.start()
    return run


def sends(data: bytes, then: str = "time.sleep(60)") -> str:
    """A child's script: write `data` to stdout, then `then`."""
    return f"out.write(bytes.fromhex({data.hex()!r})); out.flush()\n{then}\n"


def frame(header, payload: bytes = b"") -> bytes:
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (struct.pack("<Q", len(head)) + head + struct.pack("<Q", len(payload)) + payload)


def until_end(run: TrainingRun, timeout: float = 15.0) -> list:
    """The run's messages up to its first that is not a check."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = run.get(0.05)
        if message is not None:
            got.append(message)
            if not isinstance(message, Checked):
                return got
    raise AssertionError(f"the run did not end within {timeout} s: {got}")


def next_message(run: TrainingRun, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while (message := run.get(0.05)) is None:
        assert time.monotonic() < deadline, f"no message within {timeout} s"
    return message


def reaped(run: TrainingRun, timeout: float = 5.0) -> int:
    """The child's exit status once the run itself has reaped it (no poll() from here)."""
    deadline = time.monotonic() + timeout
    while run._process.returncode is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run._process.returncode is not None, "the ended child was not reaped"
    with pytest.raises(ChildProcessError):  # no zombie of it is left to wait for
        os.waitpid(run._process.pid, os.WNOHANG)
    return run._process.returncode


def malformed(why: str) -> Failed:
    return Failed(f"the training process sent a malformed message ({why})")


RANDOM = random.Random(0).randbytes(4096)
BAD_FRAMES = {
    "random bytes": (RANDOM, f"a header of {struct.unpack('<Q', RANDOM[:8])[0]:,} bytes, "
                             "over the 65,536 allowed"),
    "bad JSON": (frame(b"{not json"), "header is not JSON"),
    "\\xff header": (frame(b"\xff"), "header is not UTF-8 text"),
    "2^62 header": (struct.pack("<Q", 2 ** 62) + b"{}",
                    "a header of 4,611,686,018,427,387,904 bytes, over the 65,536 allowed"),
    "deep JSON": (frame(b"[" * 60_000), "header is not JSON"),
    "no kind": (frame({"step": 1}), "header has no kind"),
    "list header": (frame([1, 2]), "header is not a JSON object"),
    "unknown kind": (frame({"kind": "hello"}), "unknown kind 'hello'"),
    "string step": (frame({"kind": "check", **FIGURES, "step": "12"}),
                    "step is not a whole number, 0 or more"),
    "bool step": (frame({"kind": "check", **FIGURES, "step": True}),
                  "step is not a whole number, 0 or more"),
    "NaN loss": (frame(b'{"kind": "check", "step": 1, "seconds": 0.5, "samples": 1, '
                       b'"loss": NaN, "heldout": 0.5, "trained_delay": 2, "reached": false}'),
                 "loss is not a finite number, 0 or more"),
    "float reached": (frame({"kind": "done", **FIGURES, "reached": 1.0}),
                      "reached is not true or false"),
    "by_delay over 1": (frame({"kind": "check", **FIGURES, "by_delay": [1.5]}),
                        "by_delay is not a list of accuracies from 0 to 1"),
    "missing field": (frame({"kind": "check", "step": 1}), "a check without seconds"),
    "extra field": (frame({"kind": "check", **FIGURES, "pickle": "x"}),
                    "a check with an unknown field 'pickle'"),
    "past the delay": (frame({"kind": "check", **FIGURES, "trained_delay": 3}),
                       "trained_delay is past the run's delay"),
    "error without text": (frame({"kind": "error", "message": 5}),
                           "an error without a message text"),
}


@pytest.mark.parametrize("name", list(BAD_FRAMES))
def test_a_malformed_frame_ends_the_run_in_one_sentence_and_kills_the_child(name):
    data, why = BAD_FRAMES[name]
    run = fake(sends(data))
    assert until_end(run) == [malformed(why)]
    assert run.get(0.01) == malformed(why)  # it stays the run's last word
    assert reaped(run) == -signal.SIGKILL


def test_a_payload_over_its_bound_is_refused_unread():
    run = TrainingRun(CFG)
    weights = sum(t.numel() * 4 for t in build_model(CFG).state_dict().values())
    assert run.payload_max == 2 * weights + 1024 * 1024
    data = frame({"kind": "check", **FIGURES})[:-8] + struct.pack("<Q", run.payload_max + 1)
    run = fake(sends(data))
    assert until_end(run) == [malformed(f"a payload of {run.payload_max + 1:,} bytes, over the "
                                        f"{run.payload_max:,} allowed")]
    reaped(run)


def test_a_long_error_message_is_clipped():
    run = fake(sends(frame({"kind": "error", "message": "x" * 10_000}), then="sys.exit(1)"))
    assert until_end(run) == [Failed("x" * 299 + "…")]
    assert reaped(run) == 1


def test_a_frame_cut_short_names_the_end():
    run = fake(sends(frame({"kind": "done"})[:12], then="sys.exit(0)"))
    assert until_end(run) == [
        Failed("the training process ended in the middle of a message (exit status 0)")]


def test_a_flood_of_stderr_keeps_only_its_tail_and_the_last_line_clipped():
    run = fake("""
        err = sys.stderr.buffer
        for _ in range(50):
            err.write(b"x" * 1_000_000)  # 50 MB, one line
        err.write(b"\\n" + b"boom " * 1000 + b"\\n\\n")
        err.flush()
        sys.exit(1)
    """)
    [end] = until_end(run)
    text = end.text
    assert isinstance(end, Failed) and len(text) == 300
    assert text.startswith("the training process ended (exit status 1): boom boom boom")
    assert text.endswith("…")
    assert len(run.stderr_tail) <= STDERR_TAIL  # all the app holds of the 50 MB


def test_a_stopped_child_is_named_stalled_and_killed():
    run = fake("time.sleep(60)", stall_after=0.5)
    os.kill(run._process.pid, signal.SIGSTOP)
    [end] = until_end(run)
    text = end.text
    assert isinstance(end, Failed)
    assert text.startswith("the training process has sent nothing for ")
    assert text.endswith(" s (stopped or hung)")
    assert reaped(run) == -signal.SIGKILL


def test_frames_keep_a_child_from_being_called_stalled():
    check = sends(frame({"kind": "check", **FIGURES}), then="time.sleep(0.5)")
    run = fake(check * 4 + sends(frame({"kind": "done"}), then=""))
    assert isinstance(next_message(run), Checked)
    run.stall_after = 1.2  # from here: silent 0.5 s at a time, 2 s in all
    kinds = [type(message) for message in until_end(run)]
    assert kinds == [Checked] * 3 + [Finished]


def test_stall_bounds_come_from_the_recipes():
    bounds = {name: training.stall_bound(asdict(r)) for name, r in RECIPES.items()}
    assert all(bound >= training.STALL_FLOOR_S for bound in bounds.values())
    # a bigger model and longer checks are given longer
    assert bounds["fixed"] < bounds["variable"] < bounds["text"]
    assert 30 < bounds["fixed"] < 120 and bounds["long"] < 900


def weights_of(cfg, change=None) -> bytes:
    torch.manual_seed(0)
    tensors = {k: v.clone().contiguous() for k, v in build_model(cfg).state_dict().items()}
    if change:
        change(tensors)
    return save(tensors)


def checkpoint(weights: bytes) -> Checkpoint:
    return Checkpoint(weights=weights, **FIGURES)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(tmp_path, bad):
    path = tmp_path / "weights"
    path.write_bytes(weights_of(CFG, lambda t: t["gru.weight_hh_l0"].view(-1)[7:9].fill_(bad)))
    run = fake(f"""
        payload = open({str(path)!r}, "rb").read()
        write_frame(out, "check", {FIGURES!r}, payload)
        time.sleep(60)
    """)
    message = next_message(run)
    assert isinstance(message, Checked) and message.checkpoint.step == 5
    cp = message.checkpoint
    with pytest.raises(ValueError) as e:
        cp.model(asdict(CFG))
    assert str(e.value) == "the checkpoint's weights hold NaN or infinite values"
    run.cancel()
    assert not run.alive


def test_weights_of_another_model_are_refused_in_one_sentence():
    k = len(build_model(CFG).alphabet) + 1
    other = weights_of(TrainConfig(hidden=16, delay=2))
    with pytest.raises(ValueError) as e:
        checkpoint(other).model(asdict(CFG))
    assert str(e.value) == (f"the checkpoint's weights do not fit the model (embed.weight is "
                            f"[{k}, 16], not [{k}, 8])")
    missing = weights_of(CFG, lambda t: t.pop("heads.bias"))
    with pytest.raises(ValueError) as e:
        checkpoint(missing).model(asdict(CFG))
    assert str(e.value) == "the checkpoint's weights are not this model's tensors (heads.bias)"
    whole = weights_of(CFG, lambda t: t.update({"embed.weight": t["embed.weight"].long()}))
    with pytest.raises(ValueError) as e:
        checkpoint(whole).model(asdict(CFG))
    assert str(e.value) == ("the checkpoint's weights do not fit the model (embed.weight holds "
                            "torch.int64, not floating point)")
    with pytest.raises(ValueError) as e:
        checkpoint(b"\x00" * 100).model(asdict(CFG))
    assert str(e.value) == "the checkpoint's weights are not safetensors data"
    model = checkpoint(weights_of(CFG)).model(asdict(CFG))  # and its own weights still load
    assert not model.training


def test_an_ended_child_is_reaped():
    run = fake(sends(frame({"kind": "done"}), then="sys.exit(0)"))
    assert until_end(run) == [Finished(None)]
    assert reaped(run) == 0
    assert run.get(0.01) == Failed("the training process ended (exit status 0)")


def test_a_child_that_lingers_after_its_stdout_ends_is_killed_and_reaped(monkeypatch):
    monkeypatch.setattr(training, "REAP_WAIT_S", 0.3)
    run = fake("os.close(1)\ntime.sleep(60)")
    assert until_end(run) == [Failed("the training process ended (exit status -9)")]
    assert reaped(run) == -signal.SIGKILL


def test_cancel_kills_the_child_and_waits_for_it():
    run = fake("time.sleep(60)")
    time.sleep(0.2)
    run.cancel()
    assert not run.alive and run._process.returncode == -signal.SIGKILL  # gone, not asked to go


def test_the_child_ends_when_its_stdin_closes():
    """The watch alone (the app's death closes the pipe, however it died)."""
    run = fake("time.sleep(60)")
    run._process.stdin.close()
    assert until_end(run) == [Failed("the training process ended (exit status 3)")]
    assert reaped(run) == frames.PARENT_GONE_EXIT


def test_a_child_started_off_the_main_thread_outlives_that_thread():
    """No PR_SET_PDEATHSIG there: the kernel would kill the child as the thread ends."""
    run = TrainingRun(CFG, argv=[sys.executable, "-c", PRELUDE
                                 + "sys.stderr.write('watching\\n'); sys.stderr.flush()\n"
                                 + "time.sleep(60)"])
    starter = threading.Thread(target=run.start)
    starter.start()
    starter.join()
    deadline = time.monotonic() + 10
    while b"watching" not in run.stderr_tail and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert run.alive
    run.cancel()


PARENT = """
import sys, threading, time
from echo_tui.training.run import TrainingRun
from trainer.train import TrainConfig
run = TrainingRun(TrainConfig(hidden=8, delay=2), argv=[sys.executable, "-c", sys.argv[1]])
if sys.argv[2] == "main":
    run.start()
else:  # from another thread: no PR_SET_PDEATHSIG, the stdin watch alone
    threading.Thread(target=run.start).start()
while run._process is None:
    time.sleep(0.01)
print(run._process.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("where", ["main", "thread"])
def test_the_child_dies_with_a_killed_app(where):
    child = PRELUDE + "time.sleep(60)"  # writes nothing: only the watch can end it
    parent = subprocess.Popen([sys.executable, "-c", PARENT, child, where],
                              stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait(5)
        deadline = time.monotonic() + 3
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gone(pid), f"the training child {pid} outlived its app"
    finally:
        parent.kill()
        parent.wait()


def gone(pid: int) -> bool:
    """No process `pid`, or only its zombie (dead, waiting for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_counted_model_is_the_built_one(name, cell):
    """Frames are sized by the model counted from its config (nothing is built on the app's
    thread): the count must be the real model's."""
    from trainer.train import build_model

    cfg = replace(RECIPES[name], cell=cell)
    model = build_model(cfg)
    counted = training.shape(asdict(cfg))
    assert counted.params == sum(t.numel() for t in model.state_dict().values())
    assert (counted.kind, counted.head_delays, counted.symbols) == (
        model.kind, list(model.head_delays), len(model.alphabet))
