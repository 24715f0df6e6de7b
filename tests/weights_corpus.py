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


def _good(d: Path, cell: str = "gru") -> Path:
    torch.manual_seed(0)
    path = d / ("good.safetensors" if cell == "gru" else f"good_{cell}.safetensors")
    save_model(GRUMemory(8, delay=2, cell=cell), path)
    return path


def _edit(d, name, tensors=None, meta=None, cell="gru") -> Path:
    from safetensors import safe_open

    src = _good(d, cell)
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


def _renamed(old: str, new: str):
    """Every tensor `old.*` renamed `new.*`."""
    def edit(t):
        for name in [n for n in t if n.startswith(old + ".")]:
            t[new + name[len(old):]] = t.pop(name)
    return edit


def _wide_edit(d, name, tensors) -> Path:
    """A seeded hidden-64 model's file (the shipped fixed model's sizes) with its tensors
    edited: what a user can make of any file."""
    from safetensors import safe_open

    torch.manual_seed(0)
    src = d / "wide.safetensors"
    save_model(GRUMemory(64, delay=4), src)
    with safe_open(src, "pt") as f:
        t = {k: f.get_tensor(k) for k in f.keys()}
        m = dict(f.metadata())
    tensors(t)
    path = d / name
    save_file(t, path, metadata=m)
    return path


def _every_18th(name: str, value: float = 3e38):
    """Every 18th number of tensor `name` set to `value`: finite, and far too large."""
    def edit(t):
        t[name].view(-1)[::18] = value
    return edit


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
    ("every 18th head weight 3e38", lambda d: _wide_edit(d, "huge_heads.safetensors",
                                                          _every_18th("heads.weight")),
     "tensor 'heads.weight' is too large to compute with: row 0's weights add up to 1.2e+39, "
     "past float32's largest number (3.4e+38)"),
    ("every 18th input weight 3e38", lambda d: _wide_edit(d, "huge_inputs.safetensors",
                                                           _every_18th("gru.weight_ih_l0")),
     "tensor 'gru.weight_ih_l0' is too large to compute with: row 5's weights times an input "
     "add up to 2.2e+39, past float32's largest number (3.4e+38)"),
    ("no metadata", lambda d: _plain(d), "has no echo-gru metadata"),
    ("metadata key missing", lambda d: _edit(d, "nokind.safetensors", meta=_popitem("hidden_size")),
     "metadata key 'hidden_size' is missing"),
    ("unknown kind", lambda d: _edit(d, "kind.safetensors", meta=_setitem("kind", "lstm")),
     "metadata 'kind' is 'lstm', expected fixed or variable"),
    ("unknown cell", lambda d: _edit(d, "cell.safetensors", meta=_setitem("cell", "xyz")),
     "metadata 'cell' is 'xyz', expected gru, lstm or rnn"),
    ("a GRU file relabelled lstm",
     lambda d: _edit(d, "gru_as_lstm.safetensors", meta=_setitem("cell", "lstm")),
     "tensor 'lstm.bias_hh_l0' is missing"),
    ("an LSTM file relabelled gru",
     lambda d: _edit(d, "lstm_as_gru.safetensors", meta=_setitem("cell", "gru"), cell="lstm"),
     "tensor 'gru.bias_hh_l0' is missing"),
    ("an LSTM file without its cell",
     lambda d: _edit(d, "lstm_no_cell.safetensors", meta=_popitem("cell"), cell="lstm"),
     "tensor 'gru.bias_hh_l0' is missing"),
    ("GRU tensors named for an RNN",
     lambda d: _edit(d, "gru_as_rnn.safetensors", meta=_setitem("cell", "rnn"),
                     tensors=_renamed("gru", "rnn")),
     "tensor 'rnn.weight_ih_l0' has shape (24, 8), expected (8, 8) for the metadata's sizes"),
    ("unknown version", lambda d: _edit(d, "ver.safetensors", meta=_setitem("version", "2")),
     "format version '2' is not supported (this echo-gru reads version 1)"),
    ("shapes contradict metadata", lambda d: _edit(d, "contra.safetensors", meta=_setitem("hidden_size", "9")),
     "tensor 'embed.weight' has shape (27, 8), expected (27, 9) for the metadata's sizes"),
    ("delay not a number", lambda d: _edit(d, "delay.safetensors", meta=_setitem("delay", "two")),
     "metadata 'delay' is 'two', expected a whole number from 0 to 64"),
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


# -- crafted files: each refused cheaply, in one sentence of at most 300 characters -----------

def _rejson(d, name, edit) -> Path:
    """The good file with its header's JSON edited: values no safetensors writer would write."""
    data = _good(d).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    edit(header)
    body = json.dumps(header).encode()
    body += b" " * (-len(body) % 8)
    return _raw(d, name, struct.pack("<Q", len(body)) + body + data[8 + n:])


def _meta_set(key, value):
    return lambda h: h["__metadata__"].__setitem__(key, value)


def _entry_set(name, key, value):
    return lambda h: h[name].__setitem__(key, value)


CJK = "".join(chr(0x4E00 + i) for i in range(5000))  # printable, no case: distinct symbols


def claiming(d, name, hidden=4096, max_delay=64, symbols=CJK[:256]) -> Path:
    """A header-only file whose metadata claims a model (the largest, by default) and holds none
    of its tensors."""
    meta = {"format": "echo-gru", "version": "1", "kind": "variable", "alphabet": symbols,
            "case": "exact", "hidden_size": str(hidden), "max_delay": str(max_delay)}
    return _header(d, name, json.dumps({"__metadata__": meta}).encode())


LISTS = 349_524  # `[[],[],...]` of exactly 1 MiB, the largest header echo-gru reads
DUPLICATED = "aa" + CJK[:254]  # 256 symbols, one of them twice

HOSTILE = [
    ("header nested 200,000 deep", lambda d: _header(d, "deep.safetensors",
                                                     b"[" * 200_000 + b"]" * 200_000),
     "is not an echo-gru weights file (its header holds 200,000 brackets, over the 65,536 an "
     "echo-gru header can need)"),
    ("header nested 60,000 deep", lambda d: _header(d, "deep60k.safetensors",
                                                    b"[" * 60_000 + b"]" * 60_000),
     "is not a safetensors file (its header nests too deeply)"),
    ("header of 1 MiB of empty lists", lambda d: _header(d, "lists.safetensors",
                                                         b"[" + b"[]," * LISTS + b"[]]"),
     f"is not an echo-gru weights file (its header holds {LISTS + 2:,} brackets, over the "
     "65,536 an echo-gru header can need)"),
    ("header of 1 MiB of zeros", lambda d: _header(d, "zeros.safetensors",
                                                   b"[" + b"0," * (2**19 - 2) + b"0]"),
     "is not a safetensors file (its header is not a JSON object)"),
    ("header over 1 MiB", lambda d: _header(d, "big.safetensors", b" " * (2**20 + 1)),
     "is not an echo-gru weights file (its header of 1,048,577 bytes is over the 1,048,576 an "
     "echo-gru header can need)"),
    ("a number too long", lambda d: _header(d, "digits.safetensors", b'{"a": {"shape": [1'
                                            + b"0" * 5000 + b"]}}"),
     "is not a safetensors file (its header holds a number too long to read)"),
    ("metadata not an object", lambda d: _rejson(d, "metalist.safetensors",
                                                 lambda h: h.__setitem__("__metadata__", [])),
     "is not a safetensors file (its __metadata__ is [], not a JSON object)"),
    ("kind a list", lambda d: _rejson(d, "kindlist.safetensors", _meta_set("kind", ["fixed"])),
     'metadata \'kind\' is ["fixed"], not a string'),
    ("alphabet null", lambda d: _rejson(d, "nullabc.safetensors", _meta_set("alphabet", None)),
     "metadata 'alphabet' is null, not a string"),
    ("delay a superscript two", lambda d: _edit(d, "sup.safetensors", meta=_setitem("delay", "²")),
     "metadata 'delay' is '²', expected a whole number from 0 to 64"),
    ("delay an Arabic-Indic two", lambda d: _edit(d, "arabic.safetensors",
                                                  meta=_setitem("delay", "٢")),
     "metadata 'delay' is '٢', expected a whole number from 0 to 64"),
    ("delay past the limit", lambda d: _edit(d, "delay65.safetensors",
                                             meta=_setitem("delay", "65")),
     "metadata 'delay' is '65', expected a whole number from 0 to 64"),
    ("max delay past the limit", lambda d: claiming(d, "maxdelay.safetensors", max_delay=1000),
     "metadata 'max_delay' is '1000', expected a whole number from 0 to 64"),
    ("hidden size past the limit", lambda d: claiming(d, "hidden.safetensors", hidden=4097),
     "metadata 'hidden_size' is '4097', expected a whole number from 1 to 4096"),
    ("escape sequence in the metadata", lambda d: _edit(d, "esc.safetensors",
                                                        meta=_setitem("kind", "\x1b[31mred\n")),
     "metadata 'kind' is '\\x1b[31mred\\n', expected fixed or variable"),
    ("shape a number", lambda d: _rejson(d, "shape27.safetensors",
                                         _entry_set("heads.bias", "shape", 27)),
     "tensor 'heads.bias' has shape 27, expected a list of non-negative whole numbers"),
    ("shape negative", lambda d: _rejson(d, "negative.safetensors",
                                         _entry_set("heads.bias", "shape", [-27])),
     "tensor 'heads.bias' has shape [-27], expected a list of non-negative whole numbers"),
    ("shape of floats", lambda d: _rejson(d, "float.safetensors",
                                          _entry_set("heads.bias", "shape", [27.0])),
     "tensor 'heads.bias' has shape [27.0], expected a list of non-negative whole numbers"),
    ("shape of text", lambda d: _rejson(d, "text.safetensors",
                                        _entry_set("heads.bias", "shape", ["27"])),
     'tensor \'heads.bias\' has shape ["27"], expected a list of non-negative whole numbers'),
    ("offsets inconsistent with the shape",
     lambda d: _rejson(d, "offsets.safetensors", _entry_set("heads.bias", "shape", [26])),
     "is not a safetensors file (tensor 'heads.bias' has data_offsets [2592, 2700], which do not "
     "hold an F32 tensor of shape (26,))"),
    ("offsets overlapping",
     lambda d: _rejson(d, "overlap.safetensors",
                       _entry_set("heads.bias", "data_offsets", [2596, 2704])),
     "is not a safetensors file (tensor 'heads.bias' starts at data byte 2596, where the tensors "
     "before it end at 2592: they overlap or leave a gap)"),
    ("offsets not a pair", lambda d: _rejson(d, "pair.safetensors",
                                             _entry_set("heads.bias", "data_offsets", [2592])),
     "is not a safetensors file (tensor 'heads.bias' has data_offsets [2592], expected [begin, "
     "end] with 0 <= begin <= end)"),
    ("no dtype", lambda d: _rejson(d, "nodtype.safetensors",
                                   lambda h: h["heads.bias"].pop("dtype")),
     "tensor 'heads.bias' has no dtype, expected F32"),
    ("tensor entry a list", lambda d: _rejson(d, "entry.safetensors",
                                              lambda h: h.__setitem__("heads.bias", [1, 2])),
     "is not a safetensors file (tensor 'heads.bias' is [1, 2], not a JSON object)"),
    ("header only, claiming the largest model", lambda d: claiming(d, "claim.safetensors"),
     "tensor 'embed.weight' is missing"),
    ("alphabet of 5,000 symbols", lambda d: claiming(d, "abc5000.safetensors", 1, 1, CJK),
     "metadata 'alphabet' has 5,000 symbols; echo-gru reads at most 256"),
    ("alphabet of 1 MB", lambda d: claiming(d, "abc1mb.safetensors", 1, 1, "a" * 1_000_000),
     "metadata 'alphabet' has 1,000,000 symbols; echo-gru reads at most 256"),
    ("alphabet of 256 with a duplicate",
     lambda d: claiming(d, "dup256.safetensors", 1, 1, DUPLICATED),
     f"metadata 'alphabet' '{DUPLICATED[:39]}…' has duplicate symbols"),
]
CORPUS += HOSTILE


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


