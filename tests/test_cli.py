import re

import pytest
import torch

from factories import untrained
from trainer import load_model, save_model
from trainer import cli


def _train(tmp_path, *extra):
    out = tmp_path / "tiny.safetensors"
    argv = ["fixed", "--hidden", "16", "--delay", "2", "--max-steps", "20", "--batch", "32", "--chunk", "8",
            "--device", "cpu", "--seed", "3", "--out", str(out), *extra]
    return cli.main(argv), out


def test_tiny_training_run_writes_a_file_that_loads(tmp_path, capsys):
    code, out = _train(tmp_path)
    assert code == 0
    model = load_model(out)
    assert model.kind == "fixed" and model.delay == 2 and model.hidden_size == 16
    meta = model.metadata
    assert meta["seed"] == "3" and meta["device"] == "cpu" and meta["train_steps"] == "20"
    assert int(meta["train_samples"]) == 20 * 32 * 8 and meta["chunk"] == "8"
    assert 0 <= float(meta["heldout_accuracy"]) <= 1
    assert meta["command"].startswith("echo-train fixed --hidden 16")
    printed = capsys.readouterr()
    assert printed.out.splitlines()[-2:] == [f"wrote {out}", f"try it: echo-tui --weights {out}"]
    assert "homework's check: ≥ 100,000 characters per delay; long streams: 8 unbroken streams " \
           "of 10,000 steps; trained " in printed.out
    assert re.fullmatch(r"echo-train: warning: stopped by --max-steps 20 at step 20: held-out "
                        r"\d+\.\d{3}% at the worst delay has not reached --target 99\.99%; the "
                        r"file is written anyway \(train longer with --max-seconds\)\n",
                        printed.err)


def test_same_seed_same_weights(tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir(), b.mkdir()
    _, fa = _train(a)
    _, fb = _train(b)
    ma, mb = load_model(fa), load_model(fb)
    for (k, va), vb in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(va, vb), k


def _refused(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        raise SystemExit(cli.main(argv))
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[-1] == message.rstrip("\n") and "Traceback" not in err
    assert "training a" not in out  # refused before any training started


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_refused_without_cuda(capsys, tmp_path):
    _refused(capsys, ["fixed", "--device", "cuda", "--out", str(tmp_path / "x")],
             "echo-train: error: --device cuda: CUDA is not available on this machine\n")


def test_bad_alphabet_refused(capsys):
    _refused(capsys, ["fixed", "--alphabet", "greek"],
             "echo-train fixed: error: argument --alphabet: invalid choice: 'greek' "
             "(choose from 'letters', 'alnum', 'text')")


@pytest.mark.parametrize("argv, message", [
    (["fixed", "--delay", "-1"], "--delay -1 is out of range: use 0 to 64"),
    (["variable", "--max-delay", "65"], "--max-delay 65 is out of range: use 0 to 64"),
    (["fixed", "--lr", "nan"], "--lr nan is out of range: use more than 0, up to 10"),
    (["fixed", "--hidden", "0"], "--hidden 0 is out of range: use 1 to 4096"),
])
def test_out_of_range_refused(capsys, tmp_path, argv, message):
    _refused(capsys, argv + ["--out", str(tmp_path / "x")], f"echo-train: error: {message}\n")


def test_unwritable_out_refused(capsys, tmp_path):
    _refused(capsys, ["fixed", "--out", str(tmp_path / "no" / "x.safetensors")],
             f"echo-train: error: --out {tmp_path}/no/x.safetensors: the folder {tmp_path}/no "
             "does not exist\n")


def test_interrupted_training_leaves_out_whole(tmp_path, monkeypatch, capsys):
    out = tmp_path / "keep.safetensors"
    save_model(untrained("fixed"), out)
    before = out.read_bytes()

    def interrupted(cfg, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr("trainer.train.train", interrupted)
    assert cli.main(["fixed", "--out", str(out), "--device", "cpu"]) == 130
    assert out.read_bytes() == before
    assert capsys.readouterr().err == (f"echo-train: interrupted; nothing written "
                                       f"({out} left as it was)\n")


def test_diverging_run_writes_nothing(tmp_path, capsys):
    code, out = _train(tmp_path, "--lr", "10")  # the largest step allowed
    assert code == 1 and not out.exists()
    err = capsys.readouterr().err
    assert err.startswith("echo-train: error: training diverged at step 20: the loss is ")
    assert "far worse than guessing (try a smaller --lr than 10)" in err
    assert err.endswith("; nothing written\n")


def test_eval_prints_a_row_per_delay(tmp_path, capsys):
    path = tmp_path / "v.safetensors"
    save_model(untrained("variable"), path)
    assert cli.main(["eval", str(path), "--chars", "500", "--stream-steps", "200"]) == 0
    out = capsys.readouterr().out
    assert "variable, hidden 16, alphabet letters" in out
    rows = [line.strip("│ ").split("│") for line in out.splitlines() if "wrong)" in line]
    assert [r[0].strip() for r in rows] == ["0", "1", "2", "3", "4", "5", "worst"]
    assert ("homework's check: ≥ 500 characters per delay; long streams: 8 unbroken streams of "
            "200 steps; trained ? s on ?; evaluated in ") in out


def test_eval_refuses_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not weights")
    assert cli.main(["eval", str(bad)]) == 1
    n = int.from_bytes(b"not weig", "little")
    assert capsys.readouterr().err == (f"echo-train: evaluating {bad} (1 of 1)…\n"
                                       f"echo-train: error: {bad}: is not a safetensors file "
                                       f"(its header length {n} runs past the file's 11 bytes)\n")


def test_a_recipe_brings_its_own_alphabet_and_sizes(monkeypatch, tmp_path):
    seen = {}

    def fake_train(cfg, **_):
        seen["cfg"] = cfg
        raise KeyboardInterrupt

    monkeypatch.setattr("trainer.train.train", fake_train)
    cli.main(["variable", "--recipe", "text", "--hidden", "32", "--device", "cpu",
              "--out", str(tmp_path / "t.safetensors")])
    cfg = seen["cfg"]
    assert (cfg.alphabet, cfg.delay, cfg.hidden, cfg.curriculum) == ("text", 16, 32, 4)
    cli.main(["variable", "--max-delay", "24", "--device", "cpu",
              "--out", str(tmp_path / "t.safetensors")])
    assert (seen["cfg"].alphabet, seen["cfg"].delay, seen["cfg"].hidden) == ("letters", 24, 256)


@pytest.mark.parametrize("kind, delay_flag, delay", [("variable", "--max-delay", 32),
                                                     ("fixed", "--delay", 40)])
def test_long_delays_finish_training_and_every_check(tmp_path, capsys, kind, delay_flag, delay):
    # delays past the homework's strings once hung the first held-out check for ever
    out = tmp_path / "long.safetensors"
    code = cli.main([kind, delay_flag, str(delay), "--hidden", "16", "--max-steps", "6",
                     "--batch", "8", "--chunk", "8", "--device", "cpu", "--out", str(out)])
    assert code == 0
    model = load_model(out)
    assert model.head_delays[-1] == delay and model.metadata["train_steps"] == "6"
    rows = [line for line in capsys.readouterr().out.splitlines() if "wrong)" in line]
    assert len(rows) == (delay + 2 if kind == "variable" else 1)  # every delay (and the worst)


def test_eval_prints_what_a_file_holds_inert(tmp_path, capsys):
    """A file's name and metadata reach the terminal as plain text: no escape sequence runs,
    no Rich markup applies (and '[/]' in a path is no markup error)."""
    hostile = "\x1b]0;owned\x07\x1b[2J[bold red]loud[/]"
    (tmp_path / "a[").mkdir()
    path = tmp_path / "a[" / "]m\x1b]0;owned\x07[bold red].safetensors"  # "[/]" across the folder
    save_model(untrained("fixed"), path, train_seconds=hostile, device=hostile)
    assert cli.main(["eval", str(path), "--chars", "200", "--stream-steps", "50",
                     "--streams", "1"]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    assert "\x1b" not in out and "\x07" not in out
    assert f"{tmp_path}/a[/]m\\x1b]0;owned\\x07[bold red].safetensors: fixed" in out
    escaped = "\\x1b]0;owned\\x07\\x1b[2J[bold red]loud[/]"
    assert f"trained {escaped} s on {escaped}" in out
