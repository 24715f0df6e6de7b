"""`echo-train sweep` on a real local Ray (the [sweep] extra; `.ci/run` installs it with
`.[test]`): a few tiny trials through Ray Tune, a diverged one among them, and a sweep
interrupted by Ctrl-C that a resume finishes without running a finished trial again.

One local Ray serves the module (started once: it takes seconds), in its own temporary folder
(RAY_TMPDIR), dashboard off, shut down and removed after; the interrupted sweep reaches it by
its address, as a sweep reaches a cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from trainer.cli import main
from trainer.sweep import ledger, space

ray = pytest.importorskip("ray", reason="the [sweep] extra (ray[tune]) is not installed")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    # a short path: Ray's sockets live under it, and a socket's path is at most 107 bytes
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    before = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = folder
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    yield
    ray.shutdown()
    if before is None:
        del os.environ["RAY_TMPDIR"]
    else:
        os.environ["RAY_TMPDIR"] = before
    shutil.rmtree(folder, ignore_errors=True)


def test_a_tiny_sweep_runs_on_local_ray_and_writes_a_row_per_trial(local_ray, tmp_path,
                                                                    capsys):
    folder, out = tmp_path / "sweep", tmp_path / "sweep.json"
    png, md = tmp_path / "sweep.png", tmp_path / "sweep.md"
    assert main(["sweep", "--cells", "gru,rnn", "--hidden", "8", "--max-delay", "2",
                 "--draws", "1", "--steps", "20", "--dir", str(folder), "--json",
                 str(out), "--plot", str(png), "--markdown", str(md)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = md.read_text().splitlines()
    assert table[0] == "| cell | size | D = 2 |" and table[2].startswith("| gru | hidden 8 | **")
    printed = capsys.readouterr().out
    assert "sweep: 2 of 2 done, 0 running, 0 left" in printed
    assert "trainability: draws holding every delay 0..D" in printed
    data = json.loads(out.read_text())
    assert [(r["cell"], r["hidden"], r["steps"], len(r["accuracy"])) for r in data["rows"]] \
        == [("gru", 8, 20, 3), ("rnn", 8, 20, 3)]
    assert data["rows"][0]["settings"] == data["rows"][1]["settings"] == space.draw(0, 0, 1)
    assert {r["threads"] for r in data["rows"]} == {1}  # the one CPU Ray gave each trial
    assert data["ranges"] == json.loads(json.dumps(space.RANGES))
    assert [(e["cell"], e["draws"]) for e in data["trainability"]] == [("gru", 1), ("rnn", 1)]


def test_an_interrupted_sweep_resumes_without_repeating_a_finished_trial(local_ray, tmp_path,
                                                                          capsys):
    folder = tmp_path / "sweep"
    # three trials, two at a time; the third diverges (a result, not an error)
    specs = space.plan(["gru"], [8], [2], 2, steps=300)
    specs += space.plan(["rnn"], [16], [2], 1, steps=40, ranges=dict(
        space.RANGES, lr={"log_uniform": [10, 10]}, clip={"choice": [None]}))
    ledger.create(folder, {"command": "test", "settings": {"cells": ["gru", "rnn"],
                                                           "sizes": [8, 16], "by": "hidden",
                                                           "max_delays": [2], "draws": 2,
                                                           "steps": 300}, "specs": specs})
    # the interrupted sweep is another driver on the module's Ray, reached by its address (Ray
    # 2.60 asks for the token that its local start left in ~/.ray)
    child = subprocess.Popen([sys.executable, "-m", "trainer", "sweep", "--resume", str(folder),
                              "--address", ray.get_runtime_context().gcs_address],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, RAY_AUTH_MODE="token"))
    rows = folder / "rows.jsonl"
    deadline = time.monotonic() + 120
    while not (rows.exists() and rows.read_text().count("\n")) and child.poll() is None:
        assert time.monotonic() < deadline, "no trial finished in 120 s"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = child.communicate(timeout=120)
    first = [json.loads(line) for line in rows.read_text().splitlines()]
    assert child.returncode == 130, err
    assert 1 <= len(first) < 3
    assert f"echo-train sweep --resume {folder} runs the other {3 - len(first)}" in err

    assert main(["sweep", "--resume", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert f"3 trials (" in printed and f"{len(first)} done, {3 - len(first)} to run" in printed
    lines = rows.read_text().splitlines()
    after = [json.loads(line) for line in lines]
    assert after[:len(first)] == first  # the finished rows as they were
    assert sorted(r["id"] for r in after) == sorted(s["id"] for s in specs)  # none twice
    assert {r["session"] for r in after[len(first):]} == {2}
    diverged = next(r for r in after if r["cell"] == "rnn")
    assert diverged["diverged"].startswith("training diverged") and diverged["held"] == -1
