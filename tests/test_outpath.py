"""Writing weights never replaces what is not a regular file (a pipe, a device, a socket, a
directory), and a symbolic link is written through, staying a link."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from factories import untrained
from trainer import OutputError, load_model, save_model
from trainer import cli


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path):
    path = tmp_path / "sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    yield path
    s.close()


@pytest.fixture
def char_device(tmp_path):
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    except (PermissionError, OSError) as e:
        pytest.skip(f"cannot make a device node here: {e}")
    return path


def _train_argv(out):
    return ["fixed", "--hidden", "8", "--max-steps", "3", "--device", "cpu", "--out", str(out)]


@pytest.mark.parametrize("make, what", [("fifo", "a named pipe"), ("unix_socket", "a socket"),
                                        ("char_device", "a character device")])
def test_cli_refuses_a_non_regular_out_before_training(request, capsys, make, what):
    path = request.getfixturevalue(make)
    mode = os.lstat(path).st_mode
    assert cli.main(_train_argv(path)) == 2
    out, err = capsys.readouterr()
    assert err == (f"echo-train: error: --out {path}: is {what}; refusing to replace it with "
                   "a weights file\n")
    assert "training" not in out  # refused before any training
    assert os.lstat(path).st_mode == mode  # still what it was


def test_cli_refuses_a_directory(tmp_path, capsys):
    assert cli.main(_train_argv(tmp_path)) == 2
    assert capsys.readouterr().err == (f"echo-train: error: --out {tmp_path}: is a directory; "
                                       "refusing to replace it with a weights file\n")


@pytest.mark.parametrize("make", ["fifo", "unix_socket", "char_device"])
def test_save_model_itself_refuses(request, make):
    path = request.getfixturevalue(make)
    mode = os.lstat(path).st_mode
    with pytest.raises(OutputError, match="refusing to replace it with a weights file$"):
        save_model(untrained("fixed"), path)
    assert os.lstat(path).st_mode == mode
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left


def test_a_link_to_a_regular_file_is_written_through(tmp_path, capsys):
    target = tmp_path / "run3.safetensors"
    save_model(untrained("variable"), target)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target.name)
    assert cli.main(_train_argv(link)) == 0
    assert link.is_symlink() and os.readlink(link) == target.name
    assert load_model(target).kind == "fixed"  # the target was replaced
    assert f"replaced {target} (the target of the link {link})" in capsys.readouterr().out


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "latest.safetensors"
    link.symlink_to("new.safetensors")
    assert save_model(untrained("fixed"), link) == tmp_path / "new.safetensors"
    assert link.is_symlink() and load_model(link).kind == "fixed"


def test_a_link_to_a_pipe_is_refused_naming_both(fifo, capsys):
    link = fifo.parent / "out.safetensors"
    link.symlink_to(fifo)
    assert cli.main(_train_argv(link)) == 2
    assert capsys.readouterr().err == (
        f"echo-train: error: --out {fifo} (the target of the link {link}): is a named pipe; "
        "refusing to replace it with a weights file\n")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()


def test_a_link_loop_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OutputError, match=r": is a symbolic link that cannot be followed$"):
        save_model(untrained("fixed"), a)


def test_a_folder_that_takes_no_files_is_named_plainly(capsys):
    if not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    assert cli.main(_train_argv("/proc/echo.safetensors")) == 2
    assert capsys.readouterr().err == (
        "echo-train: error: --out /proc/echo.safetensors: cannot create a file in /proc "
        "(the folder does not accept new files)\n")
