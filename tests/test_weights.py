import json
import struct

import pytest
import torch
from safetensors.torch import save_file

from factories import untrained
from trainer import WeightsError, load_model, save_model
from trainer import outpath as outpath_mod
from trainer import header as header_mod


@pytest.fixture
def saved(tmp_path):
    model = untrained("variable", seed=1)
    path = tmp_path / "m.safetensors"
    save_model(model, path, seed=1, note="hi")
    return model, path


def _rewrite(path, tensors=None, meta=None):
    """Re-save `path` with edited tensors or metadata, bypassing save_model's checks."""
    header = header_mod.read_header(path)
    from safetensors.torch import load_file
    t = load_file(path)
    if tensors:
        tensors(t)
    m = dict(header["__metadata__"])
    if meta:
        meta(m)
    save_file(t, path, metadata=m)


def test_round_trip_gives_identical_outputs(saved):
    model, path = saved
    loaded = load_model(path)
    assert not loaded.training and loaded.embed.weight.device.type == "cpu"
    assert type(loaded) is type(model) and loaded.max_delay == model.max_delay
    ids = torch.randint(1, 27, (2, 40))
    with torch.no_grad():
        a = model.all_heads(model.memory(ids)[0])
        b = loaded.all_heads(loaded.memory(ids)[0])
    assert torch.equal(a, b)
    assert loaded.metadata["seed"] == "1" and loaded.metadata["note"] == "hi"
    assert loaded.metadata["kind"] == "variable" and loaded.metadata["max_delay"] == "5"


def test_fixed_round_trip(tmp_path):
    model = untrained("fixed")
    save_model(model, tmp_path / "f.safetensors")
    loaded = load_model(tmp_path / "f.safetensors")
    assert loaded.delay == 3 and loaded.test_run("abcdefg") == model.test_run("abcdefg")


def test_save_is_atomic_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(untrained("fixed"), path)
    before = path.read_bytes()

    def broken(fd):  # the bytes are written, the sync is interrupted
        raise KeyboardInterrupt

    monkeypatch.setattr(outpath_mod.os, "fsync", broken)
    with pytest.raises(KeyboardInterrupt):
        save_model(untrained("fixed", seed=2), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_saved_file_is_readable_by_others(tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(untrained("fixed"), path)
    assert path.stat().st_mode & 0o044 == 0o044  # not mkstemp's 0600


def _msg(path):
    with pytest.raises(WeightsError) as e:
        load_model(path)
    return str(e.value)


def test_missing_file(tmp_path):
    assert _msg(tmp_path / "nope.safetensors") == f"{tmp_path}/nope.safetensors: no such file"


def test_directory(tmp_path):
    assert _msg(tmp_path) == f"{tmp_path}: is a directory, not a weights file"


def test_random_bytes(tmp_path):
    p = tmp_path / "r.safetensors"
    p.write_bytes(bytes(range(256)) * 4)
    assert _msg(p).startswith(f"{p}: is not a safetensors file (its header length ")


def test_header_not_json(tmp_path):
    p = tmp_path / "h.safetensors"
    p.write_bytes(struct.pack("<Q", 5) + b"hello")
    assert _msg(p) == f"{p}: is not a safetensors file (its header is not JSON)"


def test_missing_tensor(saved):
    _, path = saved
    _rewrite(path, tensors=lambda t: t.pop("heads.bias"))
    assert _msg(path) == f"{path}: tensor 'heads.bias' is missing"


def test_extra_tensor(saved):
    _, path = saved
    _rewrite(path, tensors=lambda t: t.__setitem__("spy", torch.zeros(2)))
    assert _msg(path) == f"{path}: tensor 'spy' is not part of a variable model"


def test_wrong_shape(saved):
    _, path = saved
    _rewrite(path, tensors=lambda t: t.__setitem__("heads.bias", torch.zeros(5)))
    assert _msg(path) == (f"{path}: tensor 'heads.bias' has shape (5,), expected (162,) "
                          "for the metadata's sizes")


def test_metadata_contradicting_shapes(saved):
    _, path = saved
    _rewrite(path, meta=lambda m: m.__setitem__("hidden_size", "32"))
    assert _msg(path) == (f"{path}: tensor 'embed.weight' has shape (27, 16), expected (27, 32) "
                          "for the metadata's sizes")


@pytest.mark.parametrize("edit, problem", [
    (lambda m: m.pop("kind"), "metadata key 'kind' is missing"),
    (lambda m: m.__setitem__("kind", "magic"), "metadata 'kind' is 'magic', expected fixed or variable"),
    (lambda m: m.__setitem__("version", "9"),
     "format version '9' is not supported (this echo-gru reads version 1)"),
    (lambda m: m.__setitem__("format", "other"), "metadata 'format' is 'other', expected 'echo-gru'"),
    (lambda m: m.__setitem__("max_delay", "-1"),
     "metadata 'max_delay' is '-1', expected a whole number from 0 to 64"),
    (lambda m: m.__setitem__("alphabet", "abca" + "x" * 22),
     "metadata 'alphabet' 'abcaxxxxxxxxxxxxxxxxxxxxxx' has duplicate symbols"),
])
def test_bad_metadata(saved, edit, problem):
    _, path = saved
    _rewrite(path, meta=edit)
    assert _msg(path) == f"{path}: {problem}"


def test_no_metadata(tmp_path):
    p = tmp_path / "plain.safetensors"
    save_file({"a": torch.zeros(2)}, p)
    assert _msg(p) == f"{p}: has no echo-gru metadata"


def test_truncated_file(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    assert _msg(path) == (f"{path}: is truncated or padded: its tensors need {len(data)} bytes "
                          f"but the file has {len(data) - 10}")


def test_header_is_checked_before_any_tensor_is_read(saved):
    _, path = saved
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["embed.weight"]["dtype"] = "I64"
    body = json.dumps(header).encode()
    body += b" " * ((8 - len(body) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body + raw[8 + n:])
    assert _msg(path) == f"{path}: tensor 'embed.weight' has dtype I64, expected F32"


def test_a_custom_alphabet_saves_loads_and_refuses_tampering(tmp_path):
    from trainer import Alphabet, VariableDelayGRUMemory

    alphabet = Alphabet("ACGT-", "exact")
    torch.manual_seed(2)
    model = VariableDelayGRUMemory(12, 3, len(alphabet), alphabet=alphabet)
    path = tmp_path / "dna.safetensors"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.alphabet == alphabet and loaded.alphabet.case == "exact"
    assert loaded.test_run("GATTACA", 2) == model.test_run("GATTACA", 2)
    assert loaded.alphabet.id_of("a") is None  # exact: no folding
    for key, value, fault in (
            ("alphabet", "ACGTT", "metadata 'alphabet' 'ACGTT' has duplicate symbols"),
            ("alphabet", "ACGT", "tensor 'embed.weight' has shape (6, 12), expected (5, 12) "
                                 "for the metadata's sizes"),
            ("case", "fold", "metadata 'alphabet' 'ACGT-' has upper-case symbols, which its case "
                             "rule 'fold' reads as lower case")):
        bad = tmp_path / f"bad_{key}_{value}.safetensors"
        bad.write_bytes(path.read_bytes())
        _rewrite(bad, meta=lambda m: m.__setitem__(key, value))
        with pytest.raises(WeightsError) as e:
            load_model(bad)
        assert str(e.value) == f"{bad}: {fault}"
