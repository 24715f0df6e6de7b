"""A weights file's safetensors structure, checked before anything else is read: the file is a
regular file, its JSON header is within MAX_HEADER bytes and MAX_BRACKETS lists and objects,
every tensor entry is an F32 tensor whose data offsets pack the tensors one after another, the
file's size is exactly what they need, and its metadata maps text to text. Every fault is one
WeightsError sentence naming the file (`refusal`).
"""

from __future__ import annotations

import json
import os
import stat
import struct
from pathlib import Path

from .config import MAX_HEADER
from .text import clip as clip_text, inert

# MAX_HEADER (trainer.config): the longest JSON header read. An echo-gru header is its metadata
# and seven tensor entries (1.6 KB in the shipped files). Its largest parts: the alphabet, at
# most MAX_SYMBOLS symbols of at most 12 bytes each when JSON escapes them (3 KiB; twice, as
# 'config' repeats it), a command line whose paths are each at most PATH_MAX (4 KiB), a dozen
# short figures and seven entries of about 100 bytes. 64 KiB holds all of that with room to
# spare; 1 MiB is 16 times that. Parsing 1 MiB, with MAX_BRACKETS below, costs at most about
# 10 MB and 50 ms (measured: 1 MiB of metadata keys), where safetensors' own cap (100 MiB) cost
# 2.9 GB and half a minute.

# MAX_BRACKETS: the most '[' and '{' a header may hold, counted before parsing it. An echo-gru
# header has three per tensor and two more (about two dozen); inside its strings, at most four
# in the alphabet (it has no duplicates) and whatever the command line's paths hold (each at most
# PATH_MAX, 4,096). Each bracket parsed is a Python list or dict that the garbage collector scans:
# 350,000 of them (1 MiB of `[[],[],...]`) cost a quarter of a second beside torch's objects;
# 65,536 cost a few milliseconds and 5 MB.
MAX_BRACKETS = 65536
MAX_MESSAGE = 300  # characters in a refusal, path included: see refusal
_CLIP = 40  # characters of a value taken from the file that a refusal quotes
F32_BYTES = 4


class WeightsError(ValueError):
    """A weights file that cannot be used; the message is one sentence naming the file."""


def read_header(path: Path) -> dict:
    """Parse the safetensors header ourselves, so no bad file reaches a library as is."""
    with open_file(path) as f:
        return parse(path, f)[0]


def text_metadata(path: Path, header: dict) -> dict[str, str]:
    """The header's metadata, once it is shown to map text to text (not the echo-gru fields in
    it: trainer.weights checks those)."""
    if "__metadata__" not in header:
        raise refusal(path, "has no echo-gru metadata")
    meta = header["__metadata__"]
    if not isinstance(meta, dict):
        raise refusal(path, f"is not a safetensors file (its __metadata__ is {plain(meta)}, "
                            "not a JSON object)")
    for key, value in meta.items():  # safetensors metadata maps text to text
        if not isinstance(value, str):
            raise refusal(path, f"metadata {quoted(key)} is {plain(value)}, not a string")
    return meta


def open_file(path: Path):
    """`path` opened for reading (unbuffered), once it is known to be a regular file."""
    try:
        mode = path.stat().st_mode  # stat, not exists(): a name too long raises, not False
    except (FileNotFoundError, NotADirectoryError):
        raise refusal(path, "no such file", whole_path=True) from None
    except OSError as e:
        raise refusal(path, f"cannot be read ({os_reason(e)})", whole_path=True) from None
    except ValueError:  # a NUL in the name
        raise refusal(path, "cannot be read (its name holds a NUL character)",
                      whole_path=True) from None
    if stat.S_ISDIR(mode):
        raise refusal(path, "is a directory, not a weights file", whole_path=True)
    if not stat.S_ISREG(mode):  # a named pipe would block open() for ever; a device has no size
        raise refusal(path, "is not a regular file", whole_path=True)
    try:
        # non-blocking: a pipe put in the file's place after the stat is opened, not waited on
        return open(path, "rb", buffering=0, opener=_open_nonblocking)
    except OSError as e:
        raise refusal(path, f"cannot be read ({os_reason(e)})", whole_path=True) from None


def _open_nonblocking(name, flags):
    return os.open(name, flags | getattr(os, "O_NONBLOCK", 0))


def parse(path: Path, f) -> tuple[dict, int, int]:
    """(header, where the tensor data starts, the file's size): the header parsed and checked
    against the safetensors format and the file's size, having read the header's bytes only."""
    try:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise refusal(path, "is not a regular file", whole_path=True)
        size = info.st_size
        head = _read_exact(f, 8)
        if len(head) < 8:
            if size < 8:
                raise refusal(path, f"is not a safetensors file (only {size} bytes)")
            raise changed(path, size)
        (n,) = struct.unpack("<Q", head)
        if 8 + n > size:
            raise refusal(path, f"is not a safetensors file (its header length {n} runs past "
                                f"the file's {size} bytes)")
        if n > MAX_HEADER:
            raise refusal(path, f"is not an echo-gru weights file (its header of {n:,} bytes "
                                f"is over the {MAX_HEADER:,} an echo-gru header can need)")
        raw = _read_exact(f, n)
    except OSError as e:
        raise refusal(path, f"cannot be read ({os_reason(e)})", whole_path=True) from None
    if len(raw) < n:
        raise changed(path, size)
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_BRACKETS:
        raise refusal(path, f"is not an echo-gru weights file (its header holds {brackets:,} "
                            f"brackets, over the {MAX_BRACKETS:,} an echo-gru header can need)")
    header = _parse_json(path, raw)
    end = tensor_data_end(path, header)
    if 8 + n + end != size:
        raise refusal(path, f"is truncated or padded: its tensors need {shown(8 + n + end)} "
                            f"bytes but the file has {size}")
    return header, 8 + n, size


def _parse_json(path: Path, raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))  # UTF-8 only, as safetensors says
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise refusal(path, "is not a safetensors file (its header is not JSON)") from None
    except RecursionError:  # `[[[[...`: json gives up at Python's recursion limit
        raise refusal(path, "is not a safetensors file (its header nests too deeply)") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise refusal(path, "is not a safetensors file (its header holds a number too long "
                            "to read)") from None
    if not isinstance(header, dict):
        raise refusal(path, "is not a safetensors file (its header is not a JSON object)")
    return header


def tensor_data_end(path: Path, header: dict) -> int:
    """Where the tensors' data ends, once every tensor entry is checked: an F32 dtype, a shape
    of non-negative whole numbers, and data offsets that hold exactly that many bytes and that
    pack the tensors one after another from 0, as safetensors requires."""
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            raise refusal(path, f"is not a safetensors file (tensor {quoted(name)} is "
                                f"{plain(info)}, not a JSON object)")
        if "dtype" not in info:
            raise refusal(path, f"tensor {quoted(name)} has no dtype, expected F32")
        if info["dtype"] != "F32":
            raise refusal(path, f"tensor {quoted(name)} has dtype {plain(info['dtype'])}, "
                                "expected F32")
        shape = info.get("shape")
        if not (type(shape) is list and all(type(d) is int and d >= 0 for d in shape)):
            raise refusal(path, f"tensor {quoted(name)} has shape {plain(shape)}, expected "
                                "a list of non-negative whole numbers")
        offsets = info.get("data_offsets")
        if not (type(offsets) is list and len(offsets) == 2
                and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
            raise refusal(path, f"is not a safetensors file (tensor {quoted(name)} has "
                                f"data_offsets {plain(offsets)}, expected [begin, end] with "
                                "0 <= begin <= end)")
        if F32_BYTES * _count(shape, offsets[1] - offsets[0]) != offsets[1] - offsets[0]:
            raise refusal(path, f"is not a safetensors file (tensor {quoted(name)} has "
                                f"data_offsets {plain(offsets)}, which do not hold an F32 "
                                f"tensor of shape {shown(tuple(shape))})")
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans, key=lambda s: s[:2]):
        if begin != end:
            raise refusal(path, f"is not a safetensors file (tensor {quoted(name)} starts at "
                                f"data byte {shown(begin)}, where the tensors before it end at "
                                f"{end}: they overlap or leave a gap)")
        end = stop
    return end


def _count(shape: list, nbytes: int) -> int:
    """The number of elements in `shape`, or any number past nbytes once it is clearly more."""
    if 0 in shape:
        return 0
    count = 1
    for d in shape:
        count *= d
        if count > nbytes:  # no need to multiply out [10**4000] * 300
            return nbytes + 1
    return count


def _read_exact(f, n: int) -> bytes:
    """Up to n bytes: fewer only at the end of the file."""
    parts, left = [], n
    while left:
        part = f.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def changed(path: Path, size: int, grew: bool = False) -> WeightsError:
    how = "grew past" if grew else "shrank below"
    return refusal(path, f"changed while it was read (it {how} the {size:,} bytes it had when "
                         "it was opened)")


def unreadable(path: Path, e: Exception) -> WeightsError:
    return refusal(path, f"cannot be read as an echo-gru weights file ({type(e).__name__})")


def refusal(path, fault: str, whole_path: bool = False) -> WeightsError:
    """'<path>: <fault>' as one line of at most MAX_MESSAGE characters with no control characters.

    Values from the file reach `fault` through quoted, plain or clip. The path is clipped in
    the middle to fit, except in the sentences about the path itself (no such file, cannot be
    read, a directory, not a regular file), which show what was asked for whole.
    """
    fault = clip_text(inert(fault), MAX_MESSAGE // 2 + 90)
    shown = inert(path)
    room = MAX_MESSAGE - len(": ") - len(fault)
    if not whole_path and len(shown) > room:
        head = (room - 1) // 2
        shown = shown[:head] + "…" + shown[len(shown) - (room - 1 - head):]
    return WeightsError(f"{shown}: {fault}")


def shown(value) -> str:
    """A value from the file as a refusal shows it: str(value), inert, at most _CLIP characters."""
    return clip_text(inert(value), _CLIP)


def quoted(text: str) -> str:
    """repr(text), inert, clipped to about _CLIP characters: 'abc…'."""
    shown = inert(repr(text[:2 * _CLIP]))
    return shown if len(shown) <= _CLIP + 2 else shown[:_CLIP] + "…" + shown[0]


def plain(value) -> str:
    """A value from the header as it would be written in JSON, clipped: null, ["fixed"], 27."""
    if isinstance(value, str):
        return shown(value)
    try:
        return shown(json.dumps(value, ensure_ascii=False))
    except (ValueError, RecursionError):
        return f"a JSON {type(value).__name__}"


def os_reason(e: OSError) -> str:
    return shown(e.strerror or e)
