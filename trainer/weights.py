"""The weights file: safetensors tensors plus string metadata; strict loading, atomic saving."""

from __future__ import annotations

import json
import os
import stat
import struct
from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from .alphabet import EXACT, FOLD, Alphabet, alphabet_problem, default_case
from .model import GRUMemory, VariableDelayGRUMemory
from .outpath import output_target, replace_atomically

FORMAT = "echo-gru"
VERSION = "1"
KINDS = {"fixed": "delay", "variable": "max_delay"}  # kind -> metadata key of its delay
REQUIRED = ("format", "version", "kind", "alphabet", "hidden_size")
MAX_HIDDEN = 4096
MAX_DELAY = 1000
MAX_HEADER = 100 * 1024 * 1024  # safetensors' own cap on the JSON header


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
    # serialised here, written by replace_atomically: safetensors' own save_file leaves its
    # temporary files behind when killed mid-write
    replace_atomically(target, save(tensors, metadata=info))
    return target


def read_metadata(path) -> dict[str, str]:
    """The file's metadata after validating its header; raises WeightsError."""
    return _metadata(Path(path), _read_header(Path(path)))


def _metadata(path: Path, header: dict) -> dict[str, str]:
    meta = header.get("__metadata__")
    if not isinstance(meta, dict):
        raise WeightsError(f"{path}: has no echo-gru metadata")
    return meta


def load_model(path):
    """The model in `path`, in eval mode on the CPU; raises WeightsError for any bad file."""
    path = Path(path)
    header = _read_header(path)
    meta = _metadata(path, header)
    model = _model_from_metadata(path, meta)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: v for k, v in header.items() if k != "__metadata__"}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        raise WeightsError(f"{path}: tensor {missing[0]!r} is missing")
    if extra:
        raise WeightsError(f"{path}: tensor {extra[0]!r} is not part of a {meta['kind']} model")
    for name, shape in expected.items():
        info = found[name]
        if not isinstance(info, dict) or info.get("dtype") != "F32":
            raise WeightsError(f"{path}: tensor {name!r} has dtype {info.get('dtype')}, "
                               "expected F32")
        if tuple(info.get("shape", ())) != shape:
            raise WeightsError(f"{path}: tensor {name!r} has shape {tuple(info['shape'])}, "
                               f"expected {shape} for the metadata's sizes")
    try:
        tensors = load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: is not a valid safetensors file ({_first_line(e)})") from None
    for name, t in tensors.items():
        if not torch.isfinite(t).all():
            raise WeightsError(f"{path}: tensor {name!r} holds NaN or infinite values")
    model.load_state_dict(tensors)
    model.metadata = meta
    return model.eval()


def _model_from_metadata(path: Path, meta: dict):
    for key in REQUIRED:
        if key not in meta:
            raise WeightsError(f"{path}: metadata key {key!r} is missing")
    if meta["format"] != FORMAT:
        raise WeightsError(f"{path}: metadata 'format' is {meta['format']!r}, expected {FORMAT!r}")
    if meta["version"] != VERSION:
        raise WeightsError(f"{path}: format version {meta['version']!r} is not supported "
                           f"(this echo-gru reads version {VERSION})")
    kind = meta["kind"]
    if kind not in KINDS:
        raise WeightsError(f"{path}: metadata 'kind' is {kind!r}, expected fixed or variable")
    # files from before the text alphabet have no 'case': their lower-case symbols fold
    case = meta.get("case", default_case(meta["alphabet"]))
    if case not in (FOLD, EXACT):
        raise WeightsError(f"{path}: metadata 'case' is {case!r}, expected {FOLD!r} or {EXACT!r}")
    problem = alphabet_problem(meta["alphabet"], case)
    if problem:
        raise WeightsError(f"{path}: metadata 'alphabet' {meta['alphabet']!r} {problem}")
    hidden = _int_meta(path, meta, "hidden_size", 1, MAX_HIDDEN)
    delay = _int_meta(path, meta, KINDS[kind], 0, MAX_DELAY)
    alphabet = Alphabet(meta["alphabet"], case)
    if kind == "fixed":
        return GRUMemory(hidden, len(alphabet), delay=delay, alphabet=alphabet)
    return VariableDelayGRUMemory(hidden, delay, len(alphabet), alphabet=alphabet)


def _int_meta(path, meta, key, lo, hi) -> int:
    if key not in meta:
        raise WeightsError(f"{path}: metadata key {key!r} is missing")
    value = meta[key]
    if not (isinstance(value, str) and value.isdigit() and lo <= int(value) <= hi):
        raise WeightsError(f"{path}: metadata {key!r} is {value!r}, expected a whole number "
                           f"from {lo} to {hi}")
    return int(value)


def _read_header(path: Path) -> dict:
    """Parse the safetensors header ourselves, so no bad file reaches a library as is."""
    try:
        mode = path.stat().st_mode  # stat, not exists(): a name too long raises, not False
    except (FileNotFoundError, NotADirectoryError):
        raise WeightsError(f"{path}: no such file") from None
    except OSError as e:
        raise WeightsError(f"{path}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(mode):
        raise WeightsError(f"{path}: is a directory, not a weights file")
    if not stat.S_ISREG(mode):  # a named pipe would block open() for ever; a device has no size
        raise WeightsError(f"{path}: is not a regular file")
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise WeightsError(f"{path}: is not a safetensors file (only {size} bytes)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER or 8 + n > size:
                raise WeightsError(f"{path}: is not a safetensors file (its header length {n} "
                                   f"runs past the file's {size} bytes)")
            raw = f.read(n)
    except OSError as e:
        raise WeightsError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WeightsError(f"{path}: is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{path}: is not a safetensors file (its header is not a JSON object)")
    end = max((_data_end(path, v) for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + n + end != size:
        raise WeightsError(f"{path}: is truncated or padded: its tensors need {8 + n + end} "
                           f"bytes but the file has {size}")
    return header


def _data_end(path, info) -> int:
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) and o >= 0 for o in offsets)):
        raise WeightsError(f"{path}: is not a safetensors file (a tensor entry is malformed)")
    return offsets[1]


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]
