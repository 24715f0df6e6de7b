"""The weights file: safetensors tensors plus string metadata; strict loading, atomic saving."""

from __future__ import annotations

import json
import os
import re
import stat
import struct
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import save

from .alphabet import EXACT, FOLD, Alphabet, alphabet_problem, default_case
from .limits import MAX_DELAY, MAX_HEADER, MAX_HIDDEN, MAX_SYMBOLS
from .model import GRUMemory, VariableDelayGRUMemory
from .outpath import output_target, replace_atomically
from .text import inert

FORMAT = "echo-gru"
VERSION = "1"
KINDS = {"fixed": "delay", "variable": "max_delay"}  # kind -> metadata key of its delay
REQUIRED = ("format", "version", "kind", "alphabet", "hidden_size")
# The loader's limits: those of trainer.limits (imported above and still importable from here),
# and the ones below.
#
# MAX_HEADER (trainer.limits): the longest JSON header read. An echo-gru header is its metadata and seven tensor
# entries (1.6 KB in the shipped files). Its largest parts: the alphabet, at most MAX_SYMBOLS
# symbols of at most 12 bytes each when JSON escapes them (3 KiB; twice, as 'config' repeats
# it), a command line whose paths are each at most PATH_MAX (4 KiB), a dozen short figures and
# seven entries of about 100 bytes. 64 KiB holds all of that with room to spare; 1 MiB is 16
# times that. Parsing 1 MiB, with MAX_BRACKETS below, costs at most about 10 MB and 50 ms
# (measured: 1 MiB of metadata keys), where safetensors' own cap (100 MiB) cost 2.9 GB and half
# a minute.
# MAX_BRACKETS: the most '[' and '{' a header may hold, counted before parsing it. An echo-gru
# header has three per tensor and two more (about two dozen); inside its strings, at most four
# in the alphabet (it has no duplicates) and whatever the command line's paths hold (each at most
# PATH_MAX, 4,096). Each bracket parsed is a Python list or dict that the garbage collector scans:
# 350,000 of them (1 MiB of `[[],[],...]`) cost a quarter of a second beside torch's objects;
# 65,536 cost a few milliseconds and 5 MB.
MAX_BRACKETS = 65536
MAX_MESSAGE = 300  # characters in a refusal, path included: see _refusal
_CLIP = 40  # characters of a value taken from the file that a refusal quotes
_F32_BYTES = 4
_CHUNK = 4 * 1024 * 1024  # bytes read at a time into a model's parameters
_WHOLE = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() takes '²' and '٢'


class WeightsError(ValueError):
    """A weights file that cannot be used; the message is one sentence naming the file."""


def shipped_weights_dir() -> Path:
    """Where the shipped weights are: inside the installed package, or the repository's weights/."""
    here = Path(__file__).resolve().parent
    installed = here / "shipped_weights"
    return installed if installed.is_dir() else here.parent / "weights"


def shipped_weights(name: str) -> Path:
    return shipped_weights_dir() / f"{name}.safetensors"


def save_model(model, path, **meta) -> Path:
    """Write `model` to `path` atomically: an interrupted write leaves any old file whole.

    Refuses (OutputError) a path that is not a regular file: see trainer.outpath. Returns the
    file written (a symbolic link's target, when `path` is a link).
    """
    target = output_target(path)
    # serialised here, written by replace_atomically: safetensors' own save_file leaves its
    # temporary files behind when killed mid-write
    replace_atomically(target, model_bytes(model, **meta))
    return target


def model_bytes(model, **meta) -> bytes:
    """The weights file of `model` as bytes: its tensors, the echo-gru metadata and `meta`."""
    info = {
        "format": FORMAT, "version": VERSION, "kind": model.kind,
        "alphabet": model.alphabet.symbols, "case": model.alphabet.case,
        "hidden_size": str(model.hidden_size),
        KINDS[model.kind]: str(model.head_delays[-1]),
        "torch_version": torch.__version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    info.update({k: str(v) for k, v in meta.items()})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    return save(tensors, metadata=info)


def read_metadata(path) -> dict[str, str]:
    """The file's metadata after validating its header: the safetensors structure, every tensor
    entry and the file's size, and that the metadata is text (not the echo-gru fields in it:
    load_model checks those). Raises WeightsError; reads the header only."""
    path = Path(path)
    try:
        return _metadata(path, _read_header(path))
    except WeightsError:
        raise
    except Exception as e:  # the last safety net: a sentence, never a traceback
        raise _unreadable(path, e) from None


def _metadata(path: Path, header: dict) -> dict[str, str]:
    if "__metadata__" not in header:
        raise _refusal(path, "has no echo-gru metadata")
    meta = header["__metadata__"]
    if not isinstance(meta, dict):
        raise _refusal(path, f"is not a safetensors file (its __metadata__ is {_plain(meta)}, "
                             "not a JSON object)")
    for key, value in meta.items():  # safetensors metadata maps text to text
        if not isinstance(value, str):
            raise _refusal(path, f"metadata {_quoted(key)} is {_plain(value)}, not a string")
    return meta


def load_model(path):
    """The model in `path`, in eval mode on the CPU; raises WeightsError for any bad file.

    Checks in order of cost, and builds nothing before the file has shown it holds the tensors
    its metadata calls for: the header (at most MAX_HEADER bytes, MAX_BRACKETS lists and
    objects), its tensor entries and the file's size; the metadata's fields, within
    trainer.limits; the tensors' names and shapes, worked out from the metadata without building
    anything. Only then is the model built (so it is no larger than the file) and the tensors
    read into it through one buffer of at most _CHUNK bytes (no mmap). Peak memory: the model,
    plus that buffer.
    """
    path = Path(path)
    try:
        return _load(path)
    except WeightsError:
        raise
    except Exception as e:  # the last safety net: a sentence, never a traceback
        raise _unreadable(path, e) from None


def _load(path: Path):
    with _open(path) as f:
        header, start, size = _header(path, f)
        meta = _metadata(path, header)
        sizes = _sizes(path, meta)
        found = {k: v for k, v in header.items() if k != "__metadata__"}
        _check_shapes(path, meta, found, _expected_shapes(*sizes))
        # the shapes match the metadata, whose sizes are within trainer.limits, and the header
        # matches the file's size: the model built now is no larger than the file
        model = _build(*sizes)
        _check_shapes(path, meta, found, {k: tuple(v.shape) for k, v in
                                          model.state_dict().items()})  # the model's own word
        _read_tensors(path, f, model, found, size)
    model.metadata = meta
    return model.eval()


def _check_shapes(path: Path, meta: dict, found: dict, expected: dict) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        raise _refusal(path, f"tensor {missing[0]!r} is missing")
    if extra:
        raise _refusal(path, f"tensor {_quoted(extra[0])} is not part of a {meta['kind']} model")
    for name, shape in expected.items():
        if tuple(found[name]["shape"]) != shape:
            raise _refusal(path, f"tensor {name!r} has shape {_clip(tuple(found[name]['shape']))}"
                                 f", expected {shape} for the metadata's sizes")


def _expected_shapes(kind: str, hidden: int, delay: int, alphabet: Alphabet) -> dict:
    """The shapes of the model's state_dict, worked out from trainer/model.py without building
    it: an embedding row per symbol and the blank, a GRU layer, a head per delay."""
    k, h = len(alphabet) + 1, hidden
    heads = (1 if kind == "fixed" else delay + 1) * k
    return {"embed.weight": (k, h), "gru.weight_ih_l0": (3 * h, h),
            "gru.weight_hh_l0": (3 * h, h), "gru.bias_ih_l0": (3 * h,),
            "gru.bias_hh_l0": (3 * h,), "heads.weight": (heads, h), "heads.bias": (heads,)}


def _read_tensors(path: Path, f, model, found: dict, size: int) -> None:
    """The tensors' bytes, read in file order into the model's parameters through one buffer of
    at most _CHUNK bytes: the model is all the memory a load takes. No mmap: a file cut short
    under us is a sentence, not a SIGBUS."""
    state = model.state_dict()
    buffer = bytearray(min(_CHUNK, max(v["data_offsets"][1] - v["data_offsets"][0]
                                       for v in found.values())))
    with torch.no_grad():
        for name in sorted(found, key=lambda n: found[n]["data_offsets"]):
            begin, end = found[name]["data_offsets"]  # contiguous from 0, as _header checked
            flat = state[name].view(-1)
            for at in range(0, end - begin, len(buffer)):
                n = min(len(buffer), end - begin - at)  # a multiple of 4, as _CHUNK is
                _read_into(path, f, buffer, n, size)
                part = torch.frombuffer(buffer, dtype=torch.float32, count=n // _F32_BYTES)
                if not torch.isfinite(part).all():
                    raise _refusal(path, f"tensor {name!r} holds NaN or infinite values")
                flat[at // _F32_BYTES:(at + n) // _F32_BYTES].copy_(part)
                del part  # it holds the buffer
    try:
        grew = f.read(1)
    except OSError as e:
        raise _refusal(path, f"cannot be read ({_os_reason(e)})", whole_path=True) from None
    if grew:
        raise _changed(path, size, grew=True)


def _read_into(path: Path, f, buffer: bytearray, length: int, size: int) -> None:
    """The file's next `length` bytes into `buffer`: fewer means it shrank since its size was
    taken."""
    got = 0
    try:
        with memoryview(buffer) as view:
            while got < length:
                n = f.readinto(view[got:length])
                if not n:
                    raise _changed(path, size)
                got += n
    except OSError as e:
        raise _refusal(path, f"cannot be read ({_os_reason(e)})", whole_path=True) from None


def _build(kind: str, hidden: int, delay: int, alphabet: Alphabet):
    if kind == "fixed":
        return GRUMemory(hidden, len(alphabet), delay=delay, alphabet=alphabet)
    return VariableDelayGRUMemory(hidden, delay, len(alphabet), alphabet=alphabet)


def _sizes(path: Path, meta: dict) -> tuple[str, int, int, Alphabet]:
    """(kind, hidden size, delay or max delay, alphabet) from checked metadata fields."""
    for key in REQUIRED:
        if key not in meta:
            raise _refusal(path, f"metadata key {key!r} is missing")
    if meta["format"] != FORMAT:
        raise _refusal(path, f"metadata 'format' is {_quoted(meta['format'])}, "
                             f"expected {FORMAT!r}")
    if meta["version"] != VERSION:
        raise _refusal(path, f"format version {_quoted(meta['version'])} is not supported "
                             f"(this echo-gru reads version {VERSION})")
    kind = meta["kind"]
    if kind not in KINDS:
        raise _refusal(path, f"metadata 'kind' is {_quoted(kind)}, expected fixed or variable")
    symbols = meta["alphabet"]
    if len(symbols) > MAX_SYMBOLS:
        raise _refusal(path, f"metadata 'alphabet' has {len(symbols):,} symbols; echo-gru reads "
                             f"at most {MAX_SYMBOLS}")
    # files from before the text alphabet have no 'case': their lower-case symbols fold
    case = meta["case"] if "case" in meta else default_case(symbols)
    if case not in (FOLD, EXACT):
        raise _refusal(path, f"metadata 'case' is {_quoted(case)}, expected {FOLD!r} or "
                             f"{EXACT!r}")
    problem = alphabet_problem(symbols, case)
    if problem:
        raise _refusal(path, f"metadata 'alphabet' {_quoted(symbols)} {problem}")
    hidden = _int_meta(path, meta, "hidden_size", 1, MAX_HIDDEN)
    delay = _int_meta(path, meta, KINDS[kind], 0, MAX_DELAY)
    return kind, hidden, delay, Alphabet(symbols, case)


def _int_meta(path, meta, key, lo, hi) -> int:
    if key not in meta:
        raise _refusal(path, f"metadata key {key!r} is missing")
    value = meta[key]
    if not (isinstance(value, str) and _WHOLE.fullmatch(value) and lo <= int(value) <= hi):
        raise _refusal(path, f"metadata {key!r} is {_quoted(value)}, expected a whole number "
                             f"from {lo} to {hi}")
    return int(value)


def _read_header(path: Path) -> dict:
    """Parse the safetensors header ourselves, so no bad file reaches a library as is."""
    with _open(path) as f:
        return _header(path, f)[0]


def _open(path: Path):
    """`path` opened for reading (unbuffered), once it is known to be a regular file."""
    try:
        mode = path.stat().st_mode  # stat, not exists(): a name too long raises, not False
    except (FileNotFoundError, NotADirectoryError):
        raise _refusal(path, "no such file", whole_path=True) from None
    except OSError as e:
        raise _refusal(path, f"cannot be read ({_os_reason(e)})", whole_path=True) from None
    except ValueError:  # a NUL in the name
        raise _refusal(path, "cannot be read (its name holds a NUL character)",
                       whole_path=True) from None
    if stat.S_ISDIR(mode):
        raise _refusal(path, "is a directory, not a weights file", whole_path=True)
    if not stat.S_ISREG(mode):  # a named pipe would block open() for ever; a device has no size
        raise _refusal(path, "is not a regular file", whole_path=True)
    try:
        # non-blocking: a pipe put in the file's place after the stat is opened, not waited on
        return open(path, "rb", buffering=0, opener=_open_nonblocking)
    except OSError as e:
        raise _refusal(path, f"cannot be read ({_os_reason(e)})", whole_path=True) from None


def _open_nonblocking(name, flags):
    return os.open(name, flags | getattr(os, "O_NONBLOCK", 0))


def _header(path: Path, f) -> tuple[dict, int, int]:
    """(header, where the tensor data starts, the file's size): the header parsed and checked
    against the safetensors format and the file's size, having read the header's bytes only."""
    try:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _refusal(path, "is not a regular file", whole_path=True)
        size = info.st_size
        head = _read_exact(f, 8)
        if len(head) < 8:
            if size < 8:
                raise _refusal(path, f"is not a safetensors file (only {size} bytes)")
            raise _changed(path, size)
        (n,) = struct.unpack("<Q", head)
        if 8 + n > size:
            raise _refusal(path, f"is not a safetensors file (its header length {n} runs past "
                                 f"the file's {size} bytes)")
        if n > MAX_HEADER:
            raise _refusal(path, f"is not an echo-gru weights file (its header of {n:,} bytes "
                                 f"is over the {MAX_HEADER:,} an echo-gru header can need)")
        raw = _read_exact(f, n)
    except OSError as e:
        raise _refusal(path, f"cannot be read ({_os_reason(e)})", whole_path=True) from None
    if len(raw) < n:
        raise _changed(path, size)
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_BRACKETS:
        raise _refusal(path, f"is not an echo-gru weights file (its header holds {brackets:,} "
                             f"brackets, over the {MAX_BRACKETS:,} an echo-gru header can need)")
    header = _parse_header(path, raw)
    end = _tensor_data_end(path, header)
    if 8 + n + end != size:
        raise _refusal(path, f"is truncated or padded: its tensors need {_clip(8 + n + end)} "
                             f"bytes but the file has {size}")
    return header, 8 + n, size


def _parse_header(path: Path, raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))  # UTF-8 only, as safetensors says
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _refusal(path, "is not a safetensors file (its header is not JSON)") from None
    except RecursionError:  # `[[[[...`: json gives up at Python's recursion limit
        raise _refusal(path, "is not a safetensors file (its header nests too deeply)") from None
    except ValueError:  # an integer of more than sys.get_int_max_str_digits() digits
        raise _refusal(path, "is not a safetensors file (its header holds a number too long "
                             "to read)") from None
    if not isinstance(header, dict):
        raise _refusal(path, "is not a safetensors file (its header is not a JSON object)")
    return header


def _tensor_data_end(path: Path, header: dict) -> int:
    """Where the tensors' data ends, once every tensor entry is checked: an F32 dtype, a shape
    of non-negative whole numbers, and data offsets that hold exactly that many bytes and that
    pack the tensors one after another from 0, as safetensors requires."""
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict):
            raise _refusal(path, f"is not a safetensors file (tensor {_quoted(name)} is "
                                 f"{_plain(info)}, not a JSON object)")
        if "dtype" not in info:
            raise _refusal(path, f"tensor {_quoted(name)} has no dtype, expected F32")
        if info["dtype"] != "F32":
            raise _refusal(path, f"tensor {_quoted(name)} has dtype {_plain(info['dtype'])}, "
                                 "expected F32")
        shape = info.get("shape")
        if not (type(shape) is list and all(type(d) is int and d >= 0 for d in shape)):
            raise _refusal(path, f"tensor {_quoted(name)} has shape {_plain(shape)}, expected "
                                 "a list of non-negative whole numbers")
        offsets = info.get("data_offsets")
        if not (type(offsets) is list and len(offsets) == 2
                and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
            raise _refusal(path, f"is not a safetensors file (tensor {_quoted(name)} has "
                                 f"data_offsets {_plain(offsets)}, expected [begin, end] with "
                                 "0 <= begin <= end)")
        if _F32_BYTES * _count(shape, offsets[1] - offsets[0]) != offsets[1] - offsets[0]:
            raise _refusal(path, f"is not a safetensors file (tensor {_quoted(name)} has "
                                 f"data_offsets {_plain(offsets)}, which do not hold an F32 "
                                 f"tensor of shape {_clip(tuple(shape))})")
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans, key=lambda s: s[:2]):
        if begin != end:
            raise _refusal(path, f"is not a safetensors file (tensor {_quoted(name)} starts at "
                                 f"data byte {_clip(begin)}, where the tensors before it end at "
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


def _changed(path: Path, size: int, grew: bool = False) -> WeightsError:
    how = "grew past" if grew else "shrank below"
    return _refusal(path, f"changed while it was read (it {how} the {size:,} bytes it had when "
                          "it was opened)")


def _unreadable(path: Path, e: Exception) -> WeightsError:
    return _refusal(path, f"cannot be read as an echo-gru weights file ({type(e).__name__})")


def _refusal(path, fault: str, whole_path: bool = False) -> WeightsError:
    """'<path>: <fault>' as one line of at most MAX_MESSAGE characters with no control characters.

    Values from the file reach `fault` through _quoted, _plain or _clip. The path is clipped in
    the middle to fit, except in the sentences about the path itself (no such file, cannot be
    read, a directory, not a regular file), which show what was asked for whole.
    """
    fault = inert(fault)
    if len(fault) > MAX_MESSAGE // 2 + 90:
        fault = fault[:MAX_MESSAGE // 2 + 89] + "…"
    shown = inert(path)
    room = MAX_MESSAGE - len(": ") - len(fault)
    if not whole_path and len(shown) > room:
        head = (room - 1) // 2
        shown = shown[:head] + "…" + shown[len(shown) - (room - 1 - head):]
    return WeightsError(f"{shown}: {fault}")


def _clip(value) -> str:
    """str(value), inert, at most _CLIP characters."""
    text = inert(value)
    return text if len(text) <= _CLIP else text[:_CLIP - 1] + "…"


def _quoted(text: str) -> str:
    """repr(text), inert, clipped to about _CLIP characters: 'abc…'."""
    quoted = inert(repr(text[:2 * _CLIP]))
    return quoted if len(quoted) <= _CLIP + 2 else quoted[:_CLIP] + "…" + quoted[0]


def _plain(value) -> str:
    """A value from the header as it would be written in JSON, clipped: null, ["fixed"], 27."""
    if isinstance(value, str):
        return _clip(value)
    try:
        return _clip(json.dumps(value, ensure_ascii=False))
    except (ValueError, RecursionError):
        return f"a JSON {type(value).__name__}"


def _os_reason(e: OSError) -> str:
    return _clip(e.strerror or e)
