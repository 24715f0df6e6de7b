"""A corpus of bad weights files: (name, builder(dir) -> path, expected fault) triples.

Shared by the loader tests and the app's --weights tests. Each builder writes one file (or
makes one path) in `dir`; the expected fault is the part of the message after "<path>: ".
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import torch
from safetensors.torch import save_file

from trainer import GRUMemory, save_model

PAYLOAD_MARK = "payload-ran"  # a file the pickle payloads would create if anything unpickled them


class _Payload:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling this creates the marker file


def _good(d: Path) -> Path:
    torch.manual_seed(0)
    path = d / "good.safetensors"
    save_model(GRUMemory(8, delay=2), path)
    return path


def _edit(d, name, tensors=None, meta=None) -> Path:
    from safetensors import safe_open

    src = _good(d)
    with safe_open(src, "pt") as f:
        t = {k: f.get_tensor(k) for k in f.keys()}
        m = dict(f.metadata())
    tensors and tensors(t)
    meta and meta(m)
    path = d / name
    save_file(t, path, metadata=m)
    return path


def _raw(d, name, data: bytes) -> Path:
    path = d / name
    path.write_bytes(data)
    return path


def _truncated(at):
    def build(d):
        data = _good(d).read_bytes()
        return _raw(d, f"cut{at}.safetensors", data[:at if at >= 0 else len(data) + at])
    return build


def _header(d, name, header_bytes: bytes, claimed=None) -> Path:
    n = len(header_bytes) if claimed is None else claimed
    return _raw(d, name, struct.pack("<Q", n) + header_bytes)


def _setitem(key, value):
    return lambda m: m.__setitem__(key, value)


def _popitem(key):
    return lambda m: m.pop(key)


CORPUS = [
    ("empty", lambda d: _raw(d, "empty.safetensors", b""),
     "is not a safetensors file (only 0 bytes)"),
    ("random bytes", lambda d: _raw(d, "random.safetensors", bytes((i * 37 + 11) % 256 for i in range(4096))),
     None),
    ("truncated in the length", _truncated(5), "is not a safetensors file (only 5 bytes)"),
    ("truncated in the header", _truncated(40), None),  # the length runs past: message has sizes
    ("truncated in the tensors", _truncated(-100), None),
    ("header length past the end", lambda d: _header(d, "long.safetensors", b"{}", claimed=10**9),
     "is not a safetensors file (its header length 1000000000 runs past the file's 10 bytes)"),
    ("header not JSON", lambda d: _header(d, "nojson.safetensors", b"\xff\xfe not json"),
     "is not a safetensors file (its header is not JSON)"),
    ("header a JSON list", lambda d: _header(d, "list.safetensors", b"[1, 2]"),
     "is not a safetensors file (its header is not a JSON object)"),
    ("pickle with a payload", lambda d: _raw(d, "evil.pkl", pickle.dumps(_Payload(d / PAYLOAD_MARK))),
     None),
    ("torch.save with a payload", lambda d: _torch_save(d), None),
    ("tensor missing", lambda d: _edit(d, "missing.safetensors", tensors=lambda t: t.pop("gru.bias_hh_l0")),
     "tensor 'gru.bias_hh_l0' is missing"),
    ("extra tensor", lambda d: _edit(d, "extra.safetensors", tensors=lambda t: t.__setitem__("x", torch.zeros(1))),
     "tensor 'x' is not part of a fixed model"),
    ("wrong shape", lambda d: _edit(d, "shape.safetensors", tensors=lambda t: t.__setitem__("heads.bias", torch.zeros(3))),
     "tensor 'heads.bias' has shape (3,), expected (27,) for the metadata's sizes"),
    ("integer dtype", lambda d: _edit(d, "int.safetensors",
                                      tensors=lambda t: t.__setitem__("heads.bias", torch.zeros(27, dtype=torch.int32))),
     "tensor 'heads.bias' has dtype I32, expected F32"),
    ("NaN values", lambda d: _edit(d, "nan.safetensors",
                                   tensors=lambda t: t["heads.bias"].__setitem__(0, float("nan"))),
     "tensor 'heads.bias' holds NaN or infinite values"),
    ("infinite values", lambda d: _edit(d, "inf.safetensors",
                                        tensors=lambda t: t["embed.weight"].__setitem__((1, 1), float("inf"))),
     "tensor 'embed.weight' holds NaN or infinite values"),
    ("no metadata", lambda d: _plain(d), "has no echo-gru metadata"),
    ("metadata key missing", lambda d: _edit(d, "nokind.safetensors", meta=_popitem("hidden_size")),
     "metadata key 'hidden_size' is missing"),
    ("unknown kind", lambda d: _edit(d, "kind.safetensors", meta=_setitem("kind", "lstm")),
     "metadata 'kind' is 'lstm', expected fixed or variable"),
    ("unknown version", lambda d: _edit(d, "ver.safetensors", meta=_setitem("version", "2")),
     "format version '2' is not supported (this echo-gru reads version 1)"),
    ("shapes contradict metadata", lambda d: _edit(d, "contra.safetensors", meta=_setitem("hidden_size", "9")),
     "tensor 'embed.weight' has shape (27, 8), expected (27, 9) for the metadata's sizes"),
    ("delay not a number", lambda d: _edit(d, "delay.safetensors", meta=_setitem("delay", "two")),
     "metadata 'delay' is 'two', expected a whole number from 0 to 1000"),
    ("alphabet with duplicates", lambda d: _edit(d, "dup.safetensors", meta=_setitem("alphabet", "aacdefghijklmnopqrstuvwxyz")),
     "metadata 'alphabet' 'aacdefghijklmnopqrstuvwxyz' has duplicate symbols"),
    ("alphabet with the blank", lambda d: _edit(d, "blank.safetensors", meta=_setitem("alphabet", "·bcdefghijklmnopqrstuvwxyz")),
     "metadata 'alphabet' '·bcdefghijklmnopqrstuvwxyz' contains the blank '·'"),
    ("alphabet of the wrong size", lambda d: _edit(d, "size.safetensors", meta=_setitem("alphabet", "abc")),
     "tensor 'embed.weight' has shape (27, 8), expected (4, 8) for the metadata's sizes"),
    ("unknown case rule", lambda d: _edit(d, "case.safetensors", meta=_setitem("case", "upper")),
     "metadata 'case' is 'upper', expected 'fold' or 'exact'"),
    ("upper case that folds", lambda d: _edit(d, "fold.safetensors", meta=_setitem("alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
     "metadata 'alphabet' 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' has upper-case symbols, which its case rule 'fold' reads as lower case"),
    ("a directory", lambda d: d, "is a directory, not a weights file"),
    ("a missing path", lambda d: d / "nowhere.safetensors", "no such file"),
    ("a named pipe", lambda d: _fifo(d), "is not a regular file"),
]


def _fifo(d: Path) -> Path:
    path = d / "pipe.safetensors"
    os.mkfifo(path)
    return path


def _torch_save(d: Path) -> Path:
    path = d / "evil.pt"
    torch.save({"w": torch.zeros(2), "p": _Payload(d / PAYLOAD_MARK)}, path)
    return path


def _plain(d: Path) -> Path:
    path = d / "plain.safetensors"
    save_file({"embed.weight": torch.zeros(27, 8)}, path)
    return path


def expected_fault(path: Path, fault: str | None) -> str:
    """The fault for builders whose message depends on the bytes they wrote."""
    if fault is not None:
        return fault
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data):
        return (f"is not a safetensors file (its header length {n} runs past the file's "
                f"{len(data)} bytes)")
    header = json.loads(data[8:8 + n])
    need = 8 + n + max(v["data_offsets"][1] for k, v in header.items() if k != "__metadata__")
    return f"is truncated or padded: its tensors need {need} bytes but the file has {len(data)}"


