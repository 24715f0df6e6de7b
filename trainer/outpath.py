"""Where a weights file may be written: never over something that is not a regular file.

Saving is an atomic rename over the target, and a rename replaces whatever the name is: a named
pipe, a device (`/dev/null` for root), a socket. So every writer asks `output_target` first.

A symbolic link is written through: its final target is replaced (atomically, beside it) and the
link stays a link, as `cp` or an editor would do. The target must itself be a regular file or a
new name in an existing folder.

Temporary files are named `.NAME.<pid>.XXXXXXXX.tmp` beside the target: one that a killed writer
(SIGKILL, a power cut) left behind is recognised by its dead pid and removed by
`remove_stale_temps`. When the target cannot be written after all (it became a pipe, the disk is
full or read-only), `write_fallback` puts the bytes under a new name instead.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
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


def output_target(path: str | os.PathLike, what: str = "a weights file") -> Path:
    """The regular file that writing `path` (`what`: "a JSON file") replaces or creates (a
    symbolic link's target).

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
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise OutputError(f"{target}{via}: is {kind}; refusing to replace it with {what}")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{target}{via}: the folder {folder} does not exist")
    _probe(folder, target, via)
    if mode is not None and not os.access(target, os.W_OK):
        raise OutputError(f"{target}{via}: the file is read-only")
    return target


def _probe(folder: Path, target: Path, via: str) -> None:
    try:
        fd, probe = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=folder)
    except OSError as e:
        why = reason(e, {errno.ENOENT: "the folder does not accept new files"})
        raise OutputError(f"{target}{via}: cannot create a file in {folder} ({why})") from None
    os.close(fd)
    os.unlink(probe)


def reason(e: OSError, special: dict[int, str] | None = None) -> str:
    """An OSError in a few plain words, without the file name it may carry."""
    words = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
             errno.EROFS: "a read-only file system", errno.ENOSPC: "no space left on the device",
             getattr(errno, "EDQUOT", -1): "the disk quota is used up", **(special or {})}
    return words.get(e.errno) or e.strerror or str(e) or type(e).__name__


def write_output(path: str | os.PathLike, data: bytes, what: str) -> Path:
    """`data` written to `path` (`what` it is, for a refusal) atomically, through a link, never
    over something that is not a regular file (OutputError); the file written."""
    target = output_target(path, what)
    replace_atomically(target, data)
    return target


def replace_atomically(target: Path, data: bytes) -> None:
    """Write `data` beside `target`, then rename it over `target` (checked regular again
    right before: a pipe may have appeared meanwhile). An interrupted write leaves the old file
    whole and no temporary file behind; a killed one leaves a temporary file that the next
    save (or `remove_stale_temps`) removes."""
    remove_stale_temps(target)  # before, not after: an interrupt then means nothing written
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        try:
            _write_synced(fd, data)
        finally:
            os.close(fd)
        os.chmod(tmp, _mode_for(target))
        output_target(target)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_fallback(target: Path, data: bytes) -> Path:
    """Write `data` under a new name, for when `target` itself cannot be written: first beside
    it, `<stem>.unsaved-<YYYYmmdd-HHMMSS>.safetensors`, else under that name in the temporary
    folder (`tempfile.gettempdir()`). Never replaces anything (O_EXCL: `-2`, `-3`... is added
    to a name that is taken); a failed or interrupted write removes its partial file. Returns
    the file written; raises OSError naming each folder tried and why when no place works."""
    stem = target.stem if target.suffix == ".safetensors" else target.name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folders = [target.parent]
    temp = _temp_folder()
    if temp is not None and not _same_folder(temp, target.parent):
        folders.append(temp)
    failures = []
    for folder in folders:
        try:
            return _write_new(folder, stem, stamp, data, private=folder != target.parent)
        except OSError as e:
            failures.append((folder, e))
    raise OSError(failures[-1][1].errno,
                  "; ".join(f"{folder}: {reason(e)}" for folder, e in failures))


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove the temporary files that a killed save of `target` left beside it: those named
    as ours for that target whose writer's pid is no live process. Nothing else is touched: not
    another name, not a live writer's file, not what is not a regular file. Returns the files
    removed; errors (an unreadable folder, a file that cannot be removed) are ignored."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return []
    ours = re.compile(re.escape(f".{_temp_stem(target.name)}.")
                      + r"([0-9]{1,10})\.[a-z0-9_]+\.tmp")  # pid, then mkstemp's letters
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        match = ours.fullmatch(entry.name)
        try:
            if not match or not entry.is_file(follow_symlinks=False) or _alive(int(match[1])):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return sorted(removed)


_NAME_MAX = 255  # bytes in a file name on the usual file systems
_TEMP_ROOM = len(".") + len(".") + 10 + len(".") + 8 + len(".tmp")  # pid, mkstemp's 8 letters


def _temp_stem(name: str) -> str:
    """`name`, shortened when the temporary name built from it would be too long to create."""
    while len(os.fsencode(name)) > _NAME_MAX - _TEMP_ROOM:
        name = name[:-1]
    return name


def _temp_prefix(target: Path) -> str:
    return f".{_temp_stem(target.name)}.{os.getpid()}."


def _alive(pid: int) -> bool:
    """Whether `pid` may be a live process (not ours to judge when unsure: alive)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # PermissionError: someone else's live process
        return True
    return True


def _write_synced(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _temp_folder() -> Path | None:
    try:
        return Path(tempfile.gettempdir())
    except OSError:  # no usable temporary folder at all
        return None


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _write_new(folder: Path, stem: str, stamp: str, data: bytes, private: bool) -> Path:
    """`data` in a new file `stem`.unsaved-`stamp`.safetensors in `folder` (never an existing
    one: -2, -3... after the stamp when the name is taken; the stem shortened when too long).
    The temporary folder gets a file only its owner reads (0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while stem and len(os.fsencode(f"{stem}.unsaved-{stamp}-999.safetensors")) > _NAME_MAX:
        stem = stem[:-1]
    for n in range(1, 1000):
        path = folder / f"{stem}.unsaved-{stamp}{'' if n == 1 else f'-{n}'}.safetensors"
        try:
            fd = os.open(path, flags, 0o600 if private else 0o666)
        except FileExistsError:
            continue
        try:
            try:
                _write_synced(fd, data)
            finally:
                os.close(fd)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    raise FileExistsError(errno.EEXIST, "a thousand names are taken")


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or the umask's default (mkstemp's 0600 is too tight)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
