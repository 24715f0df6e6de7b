"""When --out cannot be written after training (it became a pipe, its folder read-only, the disk
is full), the trained model is kept in a fallback file named in one sentence, exit status 1; a
killed save's temporary files are removed at the next run, and nothing else is."""

import errno
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile

import pytest
import torch

from factories import untrained
from trainer import cli, cli_train, load_model, save_model
from trainer import outpath
from trainer.outpath import remove_stale_temps, write_fallback

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pipes, pids and modes of POSIX")

TINY = ["fixed", "--hidden", "8", "--delay", "2", "--max-steps", "2", "--batch", "1",
        "--chunk", "1", "--device", "cpu", "--seed", "3"]
UNSAVED = r"w\.unsaved-\d{8}-\d{6}\.safetensors"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "out"
    path.mkdir()
    yield path
    path.chmod(0o755)  # a test may have made it read-only


@pytest.fixture
def systmp(tmp_path, monkeypatch):
    """The temporary folder (tempfile.gettempdir()), the fallback's second choice."""
    path = tmp_path / "systmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def _after_training(monkeypatch, then):
    """Run `then()` right after training, past the checks made before it; returns the list the
    trained model is put in."""
    from trainer import train as train_module

    real_train = train_module.train
    trained = []

    def train(cfg, **kwargs):
        model, progress = real_train(cfg, **kwargs)
        trained.append(model)
        then()
        return model, progress

    monkeypatch.setattr("trainer.train.train", train)
    return trained


def _disk_full(monkeypatch, *folders):
    """os.write fails with ENOSPC for files in `folders`, as on a full disk."""
    real_write = os.write

    def write(fd, data):
        st = os.fstat(fd)
        for folder in folders:
            for entry in os.scandir(folder):
                if entry.inode() == st.st_ino and entry.stat().st_dev == st.st_dev:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(outpath.os, "write", write)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _names(path):
    return sorted(p.name for p in path.iterdir())


def _one_error(err: str) -> str:
    assert err.count("echo-train: error:") == 1 and "Traceback" not in err
    return err.splitlines()[-1]


def test_a_pipe_at_out_after_training_keeps_the_model_beside_it(folder, systmp, monkeypatch,
                                                                capsys):
    out = folder / "w.safetensors"
    save_model(untrained("fixed"), out)

    def pipe():
        out.unlink()
        os.mkfifo(out)

    trained = _after_training(monkeypatch, pipe)
    assert cli.main([*TINY, "--out", str(out)]) == 1
    (saved,) = folder.glob("w.unsaved-*")
    assert re.fullmatch(UNSAVED, saved.name)
    assert _one_error(capsys.readouterr().err) == (
        f"echo-train: error: --out {out}: is a named pipe; refusing to replace it with a weights "
        f"file; the trained model was saved to {saved} instead")
    assert stat.S_ISFIFO(os.lstat(out).st_mode)
    model = load_model(saved)
    assert _same_weights(model, trained[0]) and model.metadata["train_steps"] == "2"
    assert _names(folder) == sorted(["w.safetensors", saved.name])  # no temporary left
    assert _names(systmp) == []


@pytest.mark.skipif(getattr(os, "geteuid", lambda: -1)() == 0,
                    reason="root writes into a read-only folder all the same")
def test_a_folder_made_read_only_during_training_sends_the_model_to_the_temp_folder(
        folder, systmp, monkeypatch, capsys):
    out = folder / "w.safetensors"
    save_model(untrained("fixed"), out)
    before = out.read_bytes()
    trained = _after_training(monkeypatch, lambda: folder.chmod(0o555))
    assert cli.main([*TINY, "--out", str(out)]) == 1
    (saved,) = systmp.iterdir()
    assert re.fullmatch(UNSAVED, saved.name)
    assert _one_error(capsys.readouterr().err) == (
        f"echo-train: error: --out {out}: cannot create a file in {folder} (permission denied); "
        f"the trained model was saved to {saved} instead")
    assert _same_weights(load_model(saved), trained[0])
    assert saved.stat().st_mode & 0o777 == 0o600  # the shared temporary folder: private
    assert out.read_bytes() == before and _names(folder) == ["w.safetensors"]


def test_a_full_disk_sends_the_model_to_the_temp_folder(folder, systmp, monkeypatch, capsys):
    out = folder / "w.safetensors"
    save_model(untrained("fixed"), out)
    before = out.read_bytes()
    trained = _after_training(monkeypatch, lambda: _disk_full(monkeypatch, folder))
    assert cli.main([*TINY, "--out", str(out)]) == 1
    (saved,) = systmp.iterdir()
    assert _one_error(capsys.readouterr().err) == (
        f"echo-train: error: --out {out}: cannot be written (no space left on the device); the "
        f"trained model was saved to {saved} instead")
    assert _same_weights(load_model(saved), trained[0])
    # the old file whole; neither the temporary file nor the partial fallback beside it left
    assert out.read_bytes() == before and _names(folder) == ["w.safetensors"]


def test_when_the_fallback_fails_too_one_sentence_says_the_model_is_lost(folder, systmp,
                                                                         monkeypatch, capsys):
    out = folder / "w.safetensors"
    _after_training(monkeypatch, lambda: _disk_full(monkeypatch, folder, systmp))
    assert cli.main([*TINY, "--out", str(out)]) == 1
    assert _one_error(capsys.readouterr().err) == (
        f"echo-train: error: --out {out}: cannot be written (no space left on the device); the "
        f"trained model could not be saved elsewhere either ({folder}: no space left on the "
        f"device; {systmp}: no space left on the device) and is lost")
    assert _names(folder) == [] and _names(systmp) == []


def test_a_link_whose_target_fails_names_both(folder, systmp, monkeypatch, capsys):
    target = folder / "w.safetensors"
    link = folder / "latest.safetensors"
    link.symlink_to(target.name)
    _after_training(monkeypatch, lambda: _disk_full(monkeypatch, folder))
    assert cli.main([*TINY, "--out", str(link)]) == 1
    (saved,) = systmp.iterdir()
    assert _one_error(capsys.readouterr().err) == (
        f"echo-train: error: --out {target} (the target of the link {link}): cannot be written "
        f"(no space left on the device); the trained model was saved to {saved} instead")


def test_write_fallback_never_replaces_a_file(tmp_path, systmp, monkeypatch):
    monkeypatch.setattr(outpath.time, "strftime", lambda fmt: "20250102-030405")
    taken = tmp_path / "w.unsaved-20250102-030405.safetensors"
    taken.write_bytes(b"mine")
    saved = write_fallback(tmp_path / "w.safetensors", b"model")
    assert saved == tmp_path / "w.unsaved-20250102-030405-2.safetensors"
    assert saved.read_bytes() == b"model" and taken.read_bytes() == b"mine"
    assert write_fallback(tmp_path / "notes.txt", b"m").name == (
        "notes.txt.unsaved-20250102-030405.safetensors")


def test_an_interrupted_fallback_leaves_no_partial_file(tmp_path, systmp, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(outpath.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_fallback(tmp_path / "out" / "w.safetensors", b"model")
    assert _names(systmp) == [] and not (tmp_path / "out").exists()


def test_a_fallback_in_the_temp_folder_itself_is_tried_once(systmp, monkeypatch):
    _disk_full(monkeypatch, systmp)
    with pytest.raises(OSError) as e:
        write_fallback(systmp / "w.safetensors", b"model")
    assert e.value.errno == errno.ENOSPC
    assert e.value.strerror == f"{systmp}: no space left on the device"


def test_an_ignored_hangup_stays_ignored_and_a_hangup_is_an_interrupt():
    saved = {s: signal.getsignal(s) for s in (signal.SIGHUP, signal.SIGTERM)}
    try:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup echo-train ...
        cli_train.terminate_as_interrupt()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        cli_train.terminate_as_interrupt()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with pytest.raises(cli_train.Interrupted) as e:
                signal.getsignal(sig)(sig, None)
            assert e.value.signum == sig
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_the_temporary_file_carries_the_writers_pid(tmp_path, monkeypatch):
    seen = []
    real_fsync = os.fsync

    def fsync(fd):
        seen.extend(_names(tmp_path))
        real_fsync(fd)

    monkeypatch.setattr(outpath.os, "fsync", fsync)
    save_model(untrained("fixed"), tmp_path / "w.safetensors")
    (temp,) = seen
    assert re.fullmatch(rf"\.w\.safetensors\.{os.getpid()}\.[a-z0-9_]{{8}}\.tmp", temp)


def test_only_temps_of_ours_whose_writer_is_dead_are_removed(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f".w.safetensors.{dead}.abcd.tmp"
    kept = [f".w.safetensors.{os.getpid()}.abcd.tmp",  # a live writer's
            ".w.safetensors.notes", ".w.safetensors.abcd1234.tmp", f".w.safetensors.{dead}.tmp",
            f".w.safetensors.{dead}.ab.cd.tmp", f"w.safetensors.{dead}.abcd.tmp",
            f".x.safetensors.{dead}.abcd.tmp",  # another file's
            f".w.safetensors.{dead}.link.tmp"]  # a link, not a regular file
    for name in [stale.name, *kept[:-1]]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / kept[-1]).symlink_to(stale.name)
    (tmp_path / f".w.safetensors.{dead}.dir.tmp").mkdir()
    assert remove_stale_temps(tmp_path / "w.safetensors") == [stale]
    assert _names(tmp_path) == sorted([*kept, f".w.safetensors.{dead}.dir.tmp"])


def test_a_save_killed_mid_write_is_cleaned_up_by_the_next_save(tmp_path):
    out = tmp_path / "w.safetensors"
    save_model(untrained("fixed"), out)
    before = out.read_bytes()
    killed = subprocess.Popen(
        [sys.executable, "-c",
         "import os, signal, sys; from pathlib import Path; from trainer import outpath; "
         "outpath.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL); "
         "outpath.replace_atomically(Path(sys.argv[1]), b'x' * 1000)", str(out)],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert killed.wait(timeout=60) == -signal.SIGKILL
    (temp,) = (n for n in _names(tmp_path) if n != "w.safetensors")
    assert temp.startswith(f".w.safetensors.{killed.pid}.")  # left behind, as SIGKILL does
    assert out.read_bytes() == before  # the old file whole
    save_model(untrained("fixed", seed=1), out)
    assert _names(tmp_path) == ["w.safetensors"]


def test_a_long_name_still_saves_and_its_stale_temps_are_found(tmp_path):
    out = tmp_path / ("m" * 240 + ".safetensors")  # 252 bytes: a temporary name must be shorter
    save_model(untrained("fixed"), out)
    assert load_model(out).kind == "fixed"
    stale = tmp_path / f".{outpath._temp_stem(out.name)}.{_dead_pid()}.abcdefgh.tmp"
    stale.write_bytes(b"x")
    assert remove_stale_temps(out) == [stale]
    saved = write_fallback(out, b"model")
    assert saved.parent == tmp_path and re.fullmatch(r"m+\.unsaved-\d{8}-\d{6}\.safetensors",
                                                     saved.name)


def test_a_run_removes_a_killed_saves_temp_and_says_so(tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    save_model(untrained("fixed"), out)
    stale = tmp_path / f".w.safetensors.{_dead_pid()}.abcd.tmp"
    live = tmp_path / f".w.safetensors.{os.getpid()}.abcd.tmp"
    notes = tmp_path / ".w.safetensors.notes"
    for path in (stale, live, notes):
        path.write_bytes(b"x")
    assert cli.main([*TINY, "--out", str(out)]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        f"echo-train: removed a stale temporary file {stale} left by an interrupted save")
    assert _names(tmp_path) == sorted([out.name, live.name, notes.name])


def test_a_refused_run_removes_nothing(tmp_path, capsys):
    out = tmp_path / "notes.txt"
    out.write_bytes(b"my notes")
    stale = tmp_path / f".notes.txt.{_dead_pid()}.abcd.tmp"
    stale.write_bytes(b"x")
    assert cli.main([*TINY, "--out", str(out)]) == 2
    assert "removed" not in capsys.readouterr().err and stale.exists()
