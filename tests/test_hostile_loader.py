"""Crafted weights files cost little to refuse and are refused in one short, inert sentence.

The corpus (weights_corpus.CORPUS, HOSTILE among it) holds the files; here: every message is one
line of at most 300 characters with no control characters, the costly cases are refused fast and
in bounded memory, a file that changes while it is read is a sentence, and a loaded model is an
ordinary one.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from weights_corpus import CORPUS, LISTS, _good, _header, claiming, expected_fault

from trainer import Alphabet, VariableDelayGRUMemory, WeightsError, load_model, shipped_weights
from trainer import header as header_mod
from trainer import weights as weights_mod
from trainer.weights import MAX_HEADER, MAX_MESSAGE, read_metadata

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def refusal(path) -> str:
    with pytest.raises(WeightsError) as e:
        load_model(path)
    return str(e.value)


def assert_one_inert_line(message: str) -> None:
    assert len(message) <= MAX_MESSAGE, (len(message), message[:400])
    assert all(ch.isprintable() for ch in message), repr(message)  # no newline, no ESC, no BEL


@pytest.mark.parametrize("name, build, fault", CORPUS, ids=[c[0] for c in CORPUS])
def test_every_refusal_is_one_short_inert_line(tmp_path, name, build, fault):
    # (what a refusal costs is measured below, in memory: a timed assertion would flake)
    path = build(tmp_path)
    message = refusal(path)
    assert message == f"{path}: {expected_fault(path, fault)}"
    assert_one_inert_line(message)
    try:  # the header-only reader refuses in the same words, or returns text to text
        meta = read_metadata(path)
    except WeightsError as e:
        assert_one_inert_line(str(e))
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())


def test_read_metadata_refuses_what_is_not_text_and_leaves_the_fields_to_load_model(tmp_path):
    meta = read_metadata(claiming(tmp_path, "claim.safetensors"))  # a sound header
    assert meta["hidden_size"] == "4096" and meta["max_delay"] == "64"
    big = claiming(tmp_path, "wide.safetensors", hidden=10**6)
    assert read_metadata(big)["hidden_size"] == "1000000"  # echo-train --out describes it
    assert refusal(big) == (f"{big}: metadata 'hidden_size' is '1000000', expected a whole "
                            "number from 1 to 4096")
    null = _header(tmp_path, "null.safetensors", b'{"__metadata__": {"alphabet": null}}')
    with pytest.raises(WeightsError) as e:
        read_metadata(null)
    assert str(e.value) == f"{null}: metadata 'alphabet' is null, not a string"


def _shifting_open(change):
    """An open() whose file is changed by `change(path)` once its size has been taken: when
    the tensors' bytes are read."""
    def fake_open(path, *args, **kwargs):
        f = builtins.open(path, *args, **kwargs)

        class Changing:
            def __getattr__(self, name):
                return getattr(f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

            def readinto(self, buffer):
                change(path)
                return f.readinto(buffer)
        return Changing()
    return fake_open


@pytest.mark.parametrize("how", ["shrank below", "grew past"])
def test_a_file_changing_while_it_is_read_is_a_sentence(tmp_path, monkeypatch, how):
    path = _good(tmp_path)
    size = path.stat().st_size

    def change(p):
        if how == "shrank below":
            os.truncate(p, size - 100)
        else:
            with builtins.open(p, "ab") as f:
                f.write(b"\x00" * 100)

    monkeypatch.setattr(header_mod, "open", _shifting_open(change), raising=False)
    assert refusal(path) == (f"{path}: changed while it was read (it {how} the {size:,} bytes "
                             "it had when it was opened)")


def test_the_tensors_are_read_into_memory_not_mapped(tmp_path, monkeypatch):
    # safetensors maps the file, and a file cut short under a mapping is a SIGBUS: not used
    import safetensors.torch

    def refused(*args, **kwargs):
        raise AssertionError("safetensors read the file")

    for name in ("load_file", "safe_open", "load"):
        monkeypatch.setattr(safetensors.torch, name, refused, raising=False)
    assert load_model(_good(tmp_path)).test_run("abcdef") == "dxddww"


def test_a_file_name_with_escapes_and_newlines_cannot_reach_the_terminal(tmp_path):
    evil = "evil\x1b]0;owned\x07\x1b[31m\nname\u2028"
    shown = f"{tmp_path}/evil\\x1b]0;owned\\x07\\x1b[31m\\nname\\u2028"
    empty = tmp_path / f"{evil}.safetensors"
    empty.write_bytes(b"")
    assert refusal(empty) == f"{shown}.safetensors: is not a safetensors file (only 0 bytes)"
    claim = claiming(tmp_path, f"{evil}.claim")
    assert refusal(claim) == f"{shown}.claim: tensor 'embed.weight' is missing"
    assert refusal(tmp_path / f"{evil}.gone") == f"{shown}.gone: no such file"


def test_a_huge_path_is_clipped_in_the_middle(tmp_path):
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    deep.mkdir(parents=True)
    path = deep / "f.safetensors"
    path.write_bytes(b"")
    message = refusal(path)
    fault = ": is not a safetensors file (only 0 bytes)"
    assert len(message) == MAX_MESSAGE and message.endswith("e/f.safetensors" + fault)
    assert message.startswith(str(tmp_path)) and message.count("…") == 1
    # about the path itself, the whole path asked for is shown (echo-tui's own tests want it)
    assert refusal(deep / "gone") == f"{deep}/gone: no such file"


def test_an_unexpected_error_is_still_one_sentence(tmp_path, monkeypatch):
    path = _good(tmp_path)

    def broken(*args):
        raise RuntimeError("boom\n\x1b[31mtraceback")

    monkeypatch.setattr(header_mod, "tensor_data_end", broken)
    sentence = f"{path}: cannot be read as an echo-gru weights file (RuntimeError)"
    assert refusal(path) == sentence
    with pytest.raises(WeightsError) as e:
        read_metadata(path)
    assert str(e.value) == sentence


def test_a_loaded_model_is_an_ordinary_trainable_cpu_model(tmp_path):
    path = _good(tmp_path)
    model = load_model(path)
    params = dict(model.named_parameters())
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad and p.device.type == "cpu"
               for p in params.values())
    assert [w is params[f"gru.{n}"] for w, n in
            zip(model.gru._flat_weights, model.gru._flat_weights_names)] == [True] * 4
    model.train()
    ids = torch.randint(1, 27, (2, 12))
    model.all_heads(model.memory(ids)[0]).square().mean().backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad  # the parameters are the model's own, and writable
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("chunk", [weights_mod._CHUNK, 1000])  # 1000: many reads a tensor
def test_the_shipped_weights_load_to_the_very_same_values(monkeypatch, chunk):
    monkeypatch.setattr(weights_mod, "_CHUNK", chunk)
    for name in ("fixed_delay", "variable_delay", "text_delay"):
        path = shipped_weights(name)
        model = load_model(path)
        reference = load_file(path)
        state = model.state_dict()
        assert state.keys() == reference.keys()
        assert all(torch.equal(state[k], reference[k]) for k in reference)


def test_a_nan_deep_in_a_tensor_is_found_however_it_is_read(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = VariableDelayGRUMemory(32, 4)
    with torch.no_grad():
        model.gru.weight_hh_l0[-1, -1] = float("nan")  # the last element of a 12 KiB tensor
    path = tmp_path / "nan.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path,
              metadata={"format": "echo-gru", "version": "1", "kind": "variable",
                        "alphabet": model.alphabet.symbols, "hidden_size": "32",
                        "max_delay": "4"})
    monkeypatch.setattr(weights_mod, "_CHUNK", 1000)
    assert refusal(path) == f"{path}: tensor 'gru.weight_hh_l0' holds NaN or infinite values"


def test_the_limits_are_trainer_limits():
    from trainer import config

    assert (weights_mod.MAX_SYMBOLS, weights_mod.MAX_HIDDEN, weights_mod.MAX_DELAY) == (
        config.MAX_SYMBOLS, config.MAX_HIDDEN, config.MAX_DELAY) == (256, 4096, 64)
    assert weights_mod._CHUNK % 4 == 0 and MAX_HEADER == 2**20


# -- peak memory: measured in fresh processes -------------------------------------------------

_PEAK = """
import re, sys
import trainer
from trainer import WeightsError, load_model

def kib(key):
    return int(re.search(key + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))

# ru_maxrss would do, but Linux keeps the parent's (pytest's) peak across fork and exec, and
# that hides all of this; VmHWM is this process's own peak, and clear_refs 5 restarts it from
# the memory in use, before each file
for path in sys.argv[1:]:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        base = kib("VmRSS")
    except OSError:
        base = kib("VmHWM")
    try:
        model = load_model(path)
    except WeightsError as e:
        model, outcome = None, "refused " + str(e)
    peak = kib("VmHWM")
    print((peak - base) * 1024, outcome if model is None else
          "loaded " + model.test_run("Hi there", 3))
    del model
"""


def _valid_big_model(tmp_path) -> Path:
    """A sound file of 32 MB: hidden 1024, delays 0-16, the text alphabet (zeros: quick)."""
    alphabet = Alphabet.named("text")
    with torch.device("meta"):
        shapes = VariableDelayGRUMemory(1024, 16, len(alphabet), alphabet=alphabet).state_dict()
    meta = {"format": "echo-gru", "version": "1", "kind": "variable", "alphabet": alphabet.symbols,
            "case": alphabet.case, "hidden_size": "1024", "max_delay": "16"}
    path = tmp_path / "big.safetensors"
    save_file({k: torch.zeros(v.shape) for k, v in shapes.items()}, path, metadata=meta)
    return path


def _metadata_of_1_mib(tmp_path) -> Path:
    """The costliest header that is parsed in full: 1 MiB of metadata keys."""
    keys = ", ".join(f'"k{i:07d}": ""' for i in range(MAX_HEADER // 16 - 2))
    body = ('{"__metadata__": {' + keys + "}}").encode()
    assert MAX_HEADER - 64 < len(body) <= MAX_HEADER
    return _header(tmp_path, "keys.safetensors", body)


def test_peak_memory_stays_within_twice_the_file_plus_64_mb(tmp_path):
    files = {
        "header only, claiming the largest model": claiming(tmp_path, "claim.safetensors"),
        "1 MiB of empty lists": _header(tmp_path, "lists.safetensors",
                                        b"[" + b"[]," * LISTS + b"[]]"),
        "1 MiB of metadata": _metadata_of_1_mib(tmp_path),
        "a sound 32 MB model": _valid_big_model(tmp_path),
    }
    paths = [str(ROOT), os.environ.get("PYTHONPATH")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, paths)))
    # the refusals in one process, smallest first; the sound model in another, alongside
    groups = [list(files)[:3], list(files)[3:]]
    runs = [(names, subprocess.Popen([sys.executable, "-c", _PEAK, *(str(files[n]) for n in names)],
                                     env=env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE))
            for names in groups]
    report = {}
    for names, run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        for name, line in zip(names, out.splitlines(), strict=True):
            delta, outcome = line.split(" ", 1)
            size = files[name].stat().st_size
            report[name] = (int(delta), size, outcome)
            assert int(delta) <= 2 * size + 64 * MB, (name, int(delta) / MB, size / MB)
    assert report["a sound 32 MB model"][2] == "loaded " + "·" * 8  # zeros: blanks only
    assert report["header only, claiming the largest model"][2].endswith(
        "tensor 'embed.weight' is missing")
    assert "brackets" in report["1 MiB of empty lists"][2]
    assert report["1 MiB of metadata"][2].endswith("metadata key 'format' is missing")
    print({k: f"{v[0] / MB:.1f} MB for a {v[1] / MB:.1f} MB file" for k, v in report.items()})
