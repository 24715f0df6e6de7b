"""The weights file: safetensors tensors plus string metadata; strict loading, atomic saving.

The file's structure (its header, tensor entries and size) is checked by trainer.header; this
module checks the echo-gru metadata and tensors against it, builds the model and reads them in.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import torch
from safetensors.torch import save

from .alphabet import EXACT, FOLD, Alphabet, alphabet_problem, default_case
from .config import (BOUNDS, CELL_GATES, CELLS, CELLS_SAID, MAX_DELAY, MAX_HEADER, MAX_HIDDEN,
                     MAX_SYMBOLS, WHOLE)
from .header import (F32_BYTES, MAX_BRACKETS, MAX_MESSAGE, WeightsError, changed, shown,
                     open_file, os_reason, parse, quoted, read_header, refusal, text_metadata,
                     unreadable)
from .model import build
from .outpath import output_target, replace_atomically

FORMAT = "echo-gru"
VERSION = "1"
KINDS = {"fixed": "delay", "variable": "max_delay"}  # kind -> metadata key of its delay
REQUIRED = ("format", "version", "kind", "alphabet", "hidden_size")
# 'cell' (gru, lstm or rnn) is written in every file; a file without it is a GRU (older files)
# The loader's limits: MAX_SYMBOLS, MAX_HIDDEN, MAX_DELAY and MAX_HEADER (trainer.config),
# MAX_BRACKETS and MAX_MESSAGE (trainer.header, which says why); all importable from here.
__all__ = ["FORMAT", "VERSION", "KINDS", "REQUIRED", "MAX_SYMBOLS", "MAX_HIDDEN", "MAX_DELAY",
           "MAX_HEADER", "MAX_BRACKETS", "MAX_MESSAGE", "WeightsError", "shipped_weights_dir",
           "shipped_weights", "save_model", "model_bytes", "read_metadata", "load_model"]
_CHUNK = 4 * 1024 * 1024  # bytes read at a time into a model's parameters


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
    info["cell"] = model.cell  # the model's own word: the loader builds from it
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    return save(tensors, metadata=info)


def read_metadata(path) -> dict[str, str]:
    """The file's metadata after validating its header: the safetensors structure, every tensor
    entry and the file's size, and that the metadata is text (not the echo-gru fields in it:
    load_model checks those). Raises WeightsError; reads the header only."""
    path = Path(path)
    try:
        return text_metadata(path, read_header(path))
    except WeightsError:
        raise
    except Exception as e:  # the last safety net: a sentence, never a traceback
        raise unreadable(path, e) from None


def load_model(path):
    """The model in `path`, in eval mode on the CPU; raises WeightsError for any bad file.

    Checks in order of cost, and builds nothing before the file has shown it holds the tensors
    its metadata calls for: the header (at most MAX_HEADER bytes, MAX_BRACKETS lists and
    objects), its tensor entries and the file's size; the metadata's fields, within the
    limits of trainer.config; the tensors' names and shapes, worked out from the metadata
    without building anything. Only then is the model built (so it is no larger than the file) and the tensors
    read into it through one buffer of at most _CHUNK bytes (no mmap). Peak memory: the model,
    plus that buffer.
    """
    path = Path(path)
    try:
        return _load(path)
    except WeightsError:
        raise
    except Exception as e:  # the last safety net: a sentence, never a traceback
        raise unreadable(path, e) from None


def _load(path: Path):
    with open_file(path) as f:
        header, _, size = parse(path, f)
        meta = text_metadata(path, header)
        sizes = _sizes(path, meta)
        found = {k: v for k, v in header.items() if k != "__metadata__"}
        _check_shapes(path, meta, found, expected_shapes(*sizes))
        # the shapes match the metadata, whose sizes are within trainer.config's limits, and
        # the header matches the file's size: the model built now is no larger than the file
        model = build(*sizes)
        _check_shapes(path, meta, found, {k: tuple(v.shape) for k, v in
                                          model.state_dict().items()})  # the model's own word
        _read_tensors(path, f, model, found, size)
    _check_finite_answers(path, model)
    model.metadata = meta
    return model.eval()


F32_MAX = float(torch.finfo(torch.float32).max)


def _check_finite_answers(path: Path, model) -> None:
    """Refuse weights that are finite but make infinite or NaN numbers (every 18th weight of a
    head at 3e38 loaded, scored 4% with no NaN in sight, and crashed the app's look inside).

    Every state lies in [-1, 1], so a sum of weights times a state is at most the sum of the
    weights' magnitudes: when that stays below float32's largest number for every head's row
    (its answers), every input's row of the cell's input product (an embedding row times the
    input weights) and every row of its recurrent weights, nothing the model computes can
    overflow. A probe stream of every symbol, forwards then backwards, must then give finite
    states and answers too."""
    cell = model.recurrent
    embed = model.embed.weight.detach().abs()
    bounds = {
        "heads.weight": lambda a, b: (model.heads.weight[a:b].detach().abs().sum(
            1, dtype=torch.float64) + model.heads.bias[a:b].detach().abs(), "row {}'s weights"),
        f"{model.cell}.weight_ih_l0": lambda a, b: (
            (embed.double() @ cell.weight_ih_l0[a:b].detach().abs().double().T).max(0).values
            + cell.bias_ih_l0[a:b].detach().abs(), "row {}'s weights times an input"),
        f"{model.cell}.weight_hh_l0": lambda a, b: (cell.weight_hh_l0[a:b].detach().abs().sum(
            1, dtype=torch.float64) + cell.bias_hh_l0[a:b].detach().abs(), "row {}'s weights"),
    }
    for name, bound in bounds.items():
        rows = model.state_dict()[name].shape[0]
        for at in range(0, rows, 1024):  # in slices: a float64 copy of all is large
            sums, what = bound(at, min(rows, at + 1024))
            worst = int(sums.argmax())
            if not sums[worst] < F32_MAX:
                raise refusal(path, f"tensor {name!r} is too large to compute with: "
                                    f"{what.format(f'{at + worst:,}')} add up to "
                                    f"{float(sums[worst]):.3g}, past float32's largest number "
                                    f"({F32_MAX:.3g})")
    n = len(model.alphabet)
    ids = torch.cat([torch.arange(1, n + 1), torch.arange(n, 0, -1)])[None]
    with torch.no_grad():
        out, _ = model.memory(ids)
        finite = torch.isfinite(out).all() and torch.isfinite(model.all_heads(out)).all()
    if not finite:
        raise refusal(path, "its weights overflow: a probe stream of every symbol gives NaN or "
                            "infinite states or answers")


def _check_shapes(path: Path, meta: dict, found: dict, expected: dict) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        raise refusal(path, f"tensor {missing[0]!r} is missing")
    if extra:
        raise refusal(path, f"tensor {quoted(extra[0])} is not part of a {meta['kind']} model")
    for name, shape in expected.items():
        if tuple(found[name]["shape"]) != shape:
            raise refusal(path, f"tensor {name!r} has shape {shown(tuple(found[name]['shape']))}"
                                f", expected {shape} for the metadata's sizes")


def expected_shapes(kind: str, hidden: int, delay: int, alphabet: Alphabet,
                    cell: str = "gru") -> dict:
    """The shapes of the model's state_dict, worked out from trainer/model.py without building
    it: an embedding row per symbol and the blank, a recurrent layer named for its cell with H
    rows per gate (a GRU 3, an LSTM 4, an RNN 1), a head per delay."""
    k, h, g = len(alphabet) + 1, hidden, CELL_GATES[cell] * hidden
    heads = (1 if kind == "fixed" else delay + 1) * k
    return {"embed.weight": (k, h), f"{cell}.weight_ih_l0": (g, h),
            f"{cell}.weight_hh_l0": (g, h), f"{cell}.bias_ih_l0": (g,),
            f"{cell}.bias_hh_l0": (g,), "heads.weight": (heads, h), "heads.bias": (heads,)}


def _read_tensors(path: Path, f, model, found: dict, size: int) -> None:
    """The tensors' bytes, read in file order into the model's parameters through one buffer of
    at most _CHUNK bytes: the model is all the memory a load takes. No mmap: a file cut short
    under us is a sentence, not a SIGBUS."""
    state = model.state_dict()
    buffer = bytearray(min(_CHUNK, max(v["data_offsets"][1] - v["data_offsets"][0]
                                       for v in found.values())))
    with torch.no_grad():
        for name in sorted(found, key=lambda n: found[n]["data_offsets"]):
            begin, end = found[name]["data_offsets"]  # contiguous from 0, as header.parse checked
            flat = state[name].view(-1)
            for at in range(0, end - begin, len(buffer)):
                n = min(len(buffer), end - begin - at)  # a multiple of 4, as _CHUNK is
                _read_into(path, f, buffer, n, size)
                part = torch.frombuffer(buffer, dtype=torch.float32, count=n // F32_BYTES)
                if not torch.isfinite(part).all():
                    raise refusal(path, f"tensor {name!r} holds NaN or infinite values")
                flat[at // F32_BYTES:(at + n) // F32_BYTES].copy_(part)
                del part  # it holds the buffer
    try:
        grew = f.read(1)
    except OSError as e:
        raise refusal(path, f"cannot be read ({os_reason(e)})", whole_path=True) from None
    if grew:
        raise changed(path, size, grew=True)


def _read_into(path: Path, f, buffer: bytearray, length: int, size: int) -> None:
    """The file's next `length` bytes into `buffer`: fewer means it shrank since its size was
    taken."""
    got = 0
    try:
        with memoryview(buffer) as view:
            while got < length:
                n = f.readinto(view[got:length])
                if not n:
                    raise changed(path, size)
                got += n
    except OSError as e:
        raise refusal(path, f"cannot be read ({os_reason(e)})", whole_path=True) from None


def _sizes(path: Path, meta: dict) -> tuple[str, int, int, Alphabet]:
    """(kind, hidden size, delay or max delay, alphabet, cell) from checked metadata fields."""
    for key in REQUIRED:
        if key not in meta:
            raise refusal(path, f"metadata key {key!r} is missing")
    if meta["format"] != FORMAT:
        raise refusal(path, f"metadata 'format' is {quoted(meta['format'])}, "
                            f"expected {FORMAT!r}")
    if meta["version"] != VERSION:
        raise refusal(path, f"format version {quoted(meta['version'])} is not supported "
                            f"(this echo-gru reads version {VERSION})")
    kind = meta["kind"]
    if kind not in KINDS:
        raise refusal(path, f"metadata 'kind' is {quoted(kind)}, expected fixed or variable")
    cell = meta.get("cell", "gru")
    if cell not in CELLS:
        raise refusal(path, f"metadata 'cell' is {quoted(cell)}, expected {CELLS_SAID}")
    symbols = meta["alphabet"]
    if len(symbols) > MAX_SYMBOLS:
        raise refusal(path, f"metadata 'alphabet' has {len(symbols):,} symbols; echo-gru reads "
                            f"at most {MAX_SYMBOLS}")
    # files from before the text alphabet have no 'case': their lower-case symbols fold
    case = meta["case"] if "case" in meta else default_case(symbols)
    if case not in (FOLD, EXACT):
        raise refusal(path, f"metadata 'case' is {quoted(case)}, expected {FOLD!r} or "
                            f"{EXACT!r}")
    problem = alphabet_problem(symbols, case)
    if problem:
        raise refusal(path, f"metadata 'alphabet' {quoted(symbols)} {problem}")
    hidden = _int_meta(path, meta, "hidden_size", *BOUNDS["hidden"])
    delay = _int_meta(path, meta, KINDS[kind], *BOUNDS["delay"])
    return kind, hidden, delay, Alphabet(symbols, case), cell


def _int_meta(path, meta, key, lo, hi) -> int:
    if key not in meta:
        raise refusal(path, f"metadata key {key!r} is missing")
    value = meta[key]
    if not (isinstance(value, str) and WHOLE.fullmatch(value) and lo <= int(value) <= hi):
        raise refusal(path, f"metadata {key!r} is {quoted(value)}, expected a whole number "
                            f"from {lo} to {hi}")
    return int(value)

