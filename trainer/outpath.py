"""Where a weights file may be written: never over something that is not a regular file.

Saving is an atomic rename over the target, and a rename replaces whatever the name is: a named
pipe, a device (`/dev/null` for root), a socket. So every writer asks `output_target` first.

A symbolic link is written through: its final target is replaced (atomically, beside it) and the
link stays a link, as `cp` or an editor would do. The target must itself be a regular file or a
new name in an existing folder.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

_KINDS = (  # (test, what the refusal calls it)
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class OutputError(ValueError):
    """An output path that cannot be written; the message is one sentence naming it."""


def output_target(path: str | os.PathLike) -> Path:
    """The regular file that writing `path` replaces or creates (a symbolic link's target).

    Raises OutputError when that is not a regular file, or its folder is missing or refuses
    new files. Nothing is created: the folder is probed with a temporary file, then removed.
    """
    path = Path(path)
    try:
        target = path.resolve() if path.is_symlink() else path
    except (OSError, RuntimeError):  # a loop of links: RuntimeError before Python 3.13
        raise OutputError(f"{path}: is a symbolic link that cannot be followed") from None
    via = f" (the target of the link {path})" if target != path else ""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise OutputError(f"{target}{via}: cannot be checked ({e.strerror or e})") from None
    if mode is not None and not stat.S_ISREG(mode):
        what = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise OutputError(f"{target}{via}: is {what}; refusing to replace it with a weights file")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{target}{via}: the folder {folder} does not exist")
    _probe(folder, target, via)
    if mode is not None and not os.access(target, os.W_OK):
        raise OutputError(f"{target}{via}: the file is read-only")
    return target


def _probe(folder: Path, target: Path, via: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        why = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "a read-only file system",
               errno.ENOENT: "the folder does not accept new files"}.get(e.errno, e.strerror)
        raise OutputError(f"{target}{via}: cannot create a file in {folder} ({why})") from None
    os.close(fd)
    os.unlink(probe)


def replace_atomically(target: Path, data: bytes) -> None:
    """Write `data` beside `target`, then rename it over `target` (checked regular again
    right before: a pipe may have appeared meanwhile). An interrupted write leaves the old file
    whole and no temporary file behind."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        output_target(target)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or the umask's default (mkstemp's 0600 is too tight)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
