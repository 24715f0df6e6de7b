"""The frames the training child writes to the app, and the child's watch on the app.

A frame is a JSON header (its kind and figures) and a payload (a check's weights, as
safetensors bytes), each preceded by its length. Nothing is pickled.

The child is not trusted to be well: a frame's lengths are bounded before anything is
allocated, and its header must be a JSON object of a known kind with typed figures
(`checked_header`). The child, in turn, ends when the app does (`die_with_parent`).

No Textual and no torch here: `training` runs the child and reads its frames with these.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
import threading

from trainer.text import clip

_LENGTH = struct.Struct("<Q")

HEADER_MAX = 64 * 1024  # bytes of a frame's JSON header (a check's is under 2 KB)
PAYLOAD_FALLBACK = 256 * 1024 * 1024  # the payload bound where the config's model cannot be sized
MESSAGE_MAX = 300  # characters of any sentence from the child shown on the panel
PARENT_GONE_EXIT = 3  # the child's exit status when the app is gone
PARENT_ENV = "ECHO_GRU_TRAINING_PARENT"  # the app's pid, where the child may set PDEATHSIG
KINDS = ("check", "done", "error")


class FrameError(ValueError):
    """A frame from the child that is not as `write_frame` writes them; the text says why."""


def write_frame(out, kind: str, header: dict, payload: bytes = b"") -> None:
    head = json.dumps({"kind": kind, **header}).encode()
    out.write(_LENGTH.pack(len(head)) + head + _LENGTH.pack(len(payload)) + payload)
    out.flush()


def read_frame(stream, payload_max: int = PAYLOAD_FALLBACK) -> tuple[dict, bytes] | None:
    """(header, payload) of the next frame, or None at the end of the stream; EOFError when the
    stream ends inside a frame, FrameError when the frame is not one `write_frame` writes. A
    length over its bound (HEADER_MAX, `payload_max`) is refused before anything is read."""
    head = _read_part(stream, HEADER_MAX, "header", first=True)
    if head is None:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError("header is not UTF-8 text") from None
    try:
        header = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("header is not JSON") from None
    if not isinstance(header, dict):
        raise FrameError("header is not a JSON object")
    return header, _read_part(stream, payload_max, "payload")


def _read_part(stream, most: int, what: str, first: bool = False) -> bytes | None:
    raw = stream.read(_LENGTH.size)
    if first and not raw:
        return None
    if len(raw) != _LENGTH.size:
        raise EOFError
    (n,) = _LENGTH.unpack(raw)
    if n > most:
        raise FrameError(f"a {what} of {n:,} bytes, over the {most:,} allowed")
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


FIGURES = {"step": int, "seconds": float, "samples": int, "loss": float, "heldout": float,
           "trained_delay": int, "reached": bool}
OPTIONAL = {"final": bool, "by_delay": list}
_TYPE_WORDS = {int: "a whole number, 0 or more", float: "a finite number, 0 or more",
               bool: "true or false", list: "a list of accuracies from 0 to 1"}


def _number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value) and value >= 0
    except OverflowError:  # an int too large for a float
        return False


def _typed(value, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind is float:
        return _number(value)
    return isinstance(value, list) and all(_number(v) and v <= 1 for v in value)


def checked_header(header: dict, cfg: dict | None = None) -> tuple[str, dict]:
    """A header as the child writes them: (kind, its fields), the fields typed as FIGURES and
    OPTIONAL say (an error's: its message, clipped; a "done" before any check: none);
    FrameError when it is not one (of the run of `cfg`, where given)."""
    if "kind" not in header:
        raise FrameError("header has no kind")
    kind = header["kind"]
    if kind not in KINDS:
        raise FrameError(clip(f"unknown kind {kind!r}", 80))
    figures = {k: v for k, v in header.items() if k != "kind"}
    if kind == "error":
        if not isinstance(figures.get("message"), str):
            raise FrameError("an error without a message text")
        return kind, {"message": clip(figures["message"], MESSAGE_MAX)}
    if kind == "done" and not figures:
        return kind, {}  # ended before its first check
    for name in FIGURES:
        if name not in figures:
            raise FrameError(f"a {kind} without {name}")
    for name, value in figures.items():
        expected = FIGURES.get(name, OPTIONAL.get(name))
        if expected is None:
            raise FrameError(clip(f"a {kind} with an unknown field {name!r}", 80))
        if not _typed(value, expected):
            raise FrameError(f"{name} is not {_TYPE_WORDS[expected]}")
    if figures["heldout"] > 1:
        raise FrameError("heldout is over 1")
    if cfg is not None:
        if figures["trained_delay"] > cfg["delay"]:
            raise FrameError("trained_delay is past the run's delay")
        if len(figures.get("by_delay", ())) > cfg["delay"] + 1:
            raise FrameError("by_delay has more delays than the model")
    figures = {k: float(v) if FIGURES.get(k) is float else v for k, v in figures.items()}
    if "by_delay" in figures:
        figures["by_delay"] = [float(v) for v in figures["by_delay"]]
    return kind, figures


def die_with_parent() -> None:
    """In the child, first: end this process at once when the app is gone, however it went.

    The app holds the only write end of the child's stdin, so its death, even by SIGKILL,
    closes that pipe: a daemon thread reads stdin until EOF, then calls os._exit. Where the app
    started the child from its main thread, it names itself in the environment and, on Linux,
    the kernel is also asked to SIGKILL the child when that thread ends (PR_SET_PDEATHSIG),
    which also ends a child that is stopped, or wedged where the watch cannot run."""
    parent = os.environ.pop(PARENT_ENV, None)
    if parent and sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if str(os.getppid()) != parent:  # the app was gone before the kernel was asked
            os._exit(PARENT_GONE_EXIT)
    try:
        import stat

        if not stat.S_ISFIFO(os.fstat(0).st_mode):
            return  # not started by the app (a terminal, /dev/null): nothing to watch
    except OSError:
        return

    def watch() -> None:
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        os._exit(PARENT_GONE_EXIT)

    threading.Thread(target=watch, daemon=True, name="echo-gru parent watch").start()
