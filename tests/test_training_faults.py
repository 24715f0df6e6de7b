"""Signals during `echo-train` leave an existing --out file byte-identical and no litter."""

import os
import signal
import subprocess
import sys

import pytest

from factories import untrained
from trainer import save_model


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_cleanly_and_keeps_out(tmp_path, sig):
    out = tmp_path / "keep.safetensors"
    save_model(untrained("fixed"), out)
    before = out.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer", "fixed", "--hidden", "16", "--device", "cpu",
         "--max-seconds", "120", "--target", "1.0", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # a shell's background job ignores SIGINT and its children inherit that (Python turns
        # SIGINT into KeyboardInterrupt only where it is not ignored), as nohup does SIGHUP
        # (which echo-train then leaves ignored): as from a terminal
        preexec_fn=_as_from_a_terminal)
    try:
        started = proc.stdout.readline()
        assert started.startswith("echo-train: training a fixed model (hidden 16")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + sig
    assert err.strip().splitlines()[-1] == (f"echo-train: interrupted; nothing written "
                                            f"({out} left as it was)")
    assert "Traceback" not in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.safetensors"]


def _as_from_a_terminal():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
