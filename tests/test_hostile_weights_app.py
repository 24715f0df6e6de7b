"""Every bad weights file through `echo-tui --weights`: one sentence naming the file and the fault,
a non-zero exit, no traceback, no payload run, and no app started."""

from __future__ import annotations

import os
import subprocess
import threading
import sys
from pathlib import Path

import pytest
import torch
from weights_corpus import CORPUS, PAYLOAD_MARK, expected_fault

import echo_tui.app.app
from echo_tui import create_app
from echo_tui.cli import main
from trainer import GRUMemory, WeightsError, load_model, save_model, shipped_weights

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def no_app(monkeypatch):
    """A file the checks let through would start the real app and wait for a terminal: fail."""
    def refused(*args, **kwargs):
        raise AssertionError("the app would have started")

    monkeypatch.setattr(echo_tui.app.app, "create_app", refused)


def loader_message(path: Path) -> str:
    with pytest.raises(WeightsError) as e:
        load_model(path)
    return str(e.value)


@pytest.mark.parametrize("name, build, fault", CORPUS, ids=[c[0] for c in CORPUS])
def test_cli_refuses_every_bad_file(tmp_path, capsys, name, build, fault):
    path = build(tmp_path)
    assert main(["--weights", str(path)]) == 1
    out, err = capsys.readouterr()
    sentence = f"{path}: {expected_fault(path, fault)}"
    assert err == sentence + "\n" and out == ""
    assert sentence == loader_message(path)  # the very words load_model uses
    assert not (tmp_path / PAYLOAD_MARK).exists(), "a pickle payload ran"


@pytest.mark.parametrize("delay", [None, 0, 99])
def test_a_bad_file_is_refused_before_the_delay_is_looked_at(tmp_path, capsys, delay):
    path = tmp_path / "nowhere.safetensors"
    extra = [] if delay is None else ["--delay", str(delay)]
    assert main(["--weights", str(path), *extra]) == 1
    assert capsys.readouterr().err == f"{path}: no such file\n"


@pytest.mark.parametrize("argv, message", [
    (["--delay", "17"], "--delay 17: delay 17 is outside 0..16"),
    (["--delay", "-1"], "--delay -1: delay -1 is outside 0..16"),
    (["--delay", "100000000000000000000"],
     "--delay 100000000000000000000: delay 100000000000000000000 is outside 0..16"),
    (["--weights", str(shipped_weights("variable_delay")), "--delay", "9"],
     "--delay 9: delay 9 is outside 0..8"),
    (["--weights", str(shipped_weights("fixed_delay")), "--delay", "0"],
     "--delay 0: this fixed-delay model echoes at delay 4 only, not 0"),
])
def test_cli_refuses_a_delay_the_model_does_not_have(capsys, argv, message):
    assert main(argv) == 2
    assert capsys.readouterr().err == message + "\n"


def test_cli_refuses_a_delay_outside_a_small_files_range(tmp_path, capsys):
    torch.manual_seed(0)
    path = tmp_path / "d2.safetensors"
    save_model(GRUMemory(8, delay=2), path)
    assert main(["--weights", str(path), "--delay", "3"]) == 2
    assert capsys.readouterr().err == (
        "--delay 3: this fixed-delay model echoes at delay 2 only, not 3\n")


@pytest.mark.parametrize("value", ["two", "1.5", "", "0x3", "nan"])
def test_cli_refuses_a_delay_that_is_no_number(capsys, value):
    with pytest.raises(SystemExit) as e:
        main(["--delay", value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert last == f"echo-tui: error: argument --delay: invalid int value: {value!r}"
    assert "Traceback" not in err


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "echo_tui", *argv], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["pickle with a payload", "header length past the end"])
def test_the_real_command_refuses_without_a_traceback(tmp_path, name):
    _, build, fault = next(c for c in CORPUS if c[0] == name)
    path = build(tmp_path)
    done = _run("--weights", str(path), cwd=tmp_path)  # stdin and stdout are no terminal
    assert done.returncode == 1
    assert done.stderr == f"{path}: {expected_fault(path, fault)}\n"
    assert done.stdout == ""
    assert not (tmp_path / PAYLOAD_MARK).exists(), "a pickle payload ran"


@pytest.mark.parametrize("name", ["pickle with a payload", "a directory", "NaN values"])
async def test_the_app_itself_exits_with_the_loaders_sentence(tmp_path, name):
    # create_app loads in a thread after the first frame: the same sentence, exit code 1
    _, build, fault = next(c for c in CORPUS if c[0] == name)
    path = build(tmp_path)
    app = create_app(weights=path)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.is_running:
            await pilot.pause(0.05)
    assert app.return_code == 1
    assert app.error == f"{path}: {expected_fault(path, fault)}" == loader_message(path)
    assert not (tmp_path / PAYLOAD_MARK).exists(), "a pickle payload ran"


def test_a_good_file_gets_past_the_checks(tmp_path):
    # the control for the tests above: with a sound file, main would go on to start the app
    torch.manual_seed(0)
    path = tmp_path / "good.safetensors"
    save_model(GRUMemory(8, delay=2), path)
    with pytest.raises(AssertionError, match="the app would have started"):
        main(["--weights", str(path), "--delay", "2"])


def test_a_hostile_file_name_cannot_reach_the_terminal(tmp_path, capsys):
    # a newline would split the sentence; an escape sequence would recolour or retitle the
    # terminal: both are written as escapes
    path = tmp_path / "evil\x1b]0;owned\x07\x1b[31m\nname\u2028.safetensors"
    path.write_bytes(b"\x00" * 4)
    assert main(["--weights", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\x07" not in err
    assert err == (f"{tmp_path}/evil\\x1b]0;owned\\x07\\x1b[31m\\nname\\u2028.safetensors: "
                   "is not a safetensors file (only 4 bytes)\n")



def _main_in_thread(argv, timeout_s: float, unblock=None):
    """main(argv) in a thread: (exit code, or None when it was still running after timeout_s)."""
    result = []
    worker = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        if unblock:
            unblock()  # so that no thread stays blocked behind the test
        worker.join(10)
        return None
    return result[0]


def test_a_named_pipe_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)

    def unblock():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    code = _main_in_thread(["--weights", str(fifo)], 3, unblock)
    err = capsys.readouterr().err
    assert code == 1, "echo-tui waited on a named pipe"
    assert err.startswith(f"{fifo}: ") and err.count("\n") == 1


@pytest.mark.parametrize("name", ["a" * 300, "b/" * 3000 + "c"], ids=["name", "path"])
def test_a_name_too_long_is_one_sentence_not_a_traceback(tmp_path, capsys, name):
    path = f"{tmp_path}/{name}"
    try:
        code = main(["--weights", path])
    except OSError as e:
        pytest.fail(f"a traceback: {e!r}")
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: ") and err.count("\n") == 1 and "Traceback" not in err
