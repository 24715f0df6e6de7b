"""`echo-train --out`: an existing file that is not echo-gru weights is refused unless --force,
a replaced weights file is named with its figures, text from paths and files is printed inert;
per-command recipe help; counts of one in the singular."""

import os
import re
import stat

import pytest

from factories import untrained
from trainer import cli, load_model, save_model
from trainer.text import count, inert

TINY = ["--hidden", "8", "--delay", "2", "--max-steps", "1", "--batch", "1", "--chunk", "1",
        "--device", "cpu", "--seed", "3"]


def _no_training(monkeypatch):
    def train(cfg, **_):
        raise AssertionError("training started")

    monkeypatch.setattr("trainer.train.train", train)


def test_out_onto_a_text_file_is_refused_before_training(tmp_path, monkeypatch, capsys):
    _no_training(monkeypatch)
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes")
    assert cli.main(["fixed", *TINY, "--out", str(notes)]) == 2
    assert capsys.readouterr() == ("", f"echo-train: error: --out {notes}: is not an echo-gru "
                                       "weights file; refusing to replace it (--force replaces "
                                       "it anyway)\n")
    assert notes.read_bytes() == b"my notes"


def test_a_link_to_a_text_file_is_refused_naming_its_target(tmp_path, monkeypatch, capsys):
    _no_training(monkeypatch)
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes")
    link = tmp_path / "model.safetensors"
    link.symlink_to(notes)
    assert cli.main(["variable", "--out", str(link), "--device", "cpu"]) == 2
    assert capsys.readouterr().err == (
        f"echo-train: error: --out {notes} (the target of the link {link}): is not an echo-gru "
        "weights file; refusing to replace it (--force replaces it anyway)\n")
    assert notes.read_bytes() == b"my notes" and link.is_symlink()


@pytest.mark.parametrize("content", [b"", b"\x00" * 100])
def test_empty_or_binary_files_are_refused_too(tmp_path, monkeypatch, capsys, content):
    _no_training(monkeypatch)
    out = tmp_path / "x.safetensors"
    out.write_bytes(content)
    assert cli.main(["fixed", "--out", str(out), "--device", "cpu"]) == 2
    assert "is not an echo-gru weights file" in capsys.readouterr().err
    assert out.read_bytes() == content


def test_force_replaces_a_text_file_and_a_one_step_run_counts_in_the_singular(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes")
    assert cli.main(["fixed", *TINY, "--out", str(notes), "--force"]) == 0
    model = load_model(notes)
    assert model.kind == "fixed" and model.metadata["train_steps"] == "1"
    printed = capsys.readouterr()
    assert printed.out.splitlines()[-2:] == [
        f"replaced {notes} (was: not an echo-gru weights file)",
        f"try it: echo-tui --weights {notes}"]
    assert re.search(r"; trained \d+\.\d s, 1 symbol, 1 step; evaluated in \d+\.\d s\n",
                     printed.out)
    assert re.fullmatch(r"echo-train: warning: stopped by --max-steps 1 at step 1: held-out .*\n",
                        printed.err)
    assert not re.search(r"\b1 (steps|symbols|characters|streams|unbroken streams)\b",
                         printed.out + printed.err)


def test_replacing_weights_names_the_file_it_replaced_as_read_before_training(
        tmp_path, monkeypatch, capsys):
    out = tmp_path / "model.safetensors"
    save_model(untrained("variable"), out, heldout_accuracy="0.999990")
    from trainer import train as train_module
    real_train = train_module.train

    def train(cfg, **kwargs):  # the file changes while training: the old one is named
        save_model(untrained("fixed", hidden=32), out)
        return real_train(cfg, **kwargs)

    monkeypatch.setattr("trainer.train.train", train)
    assert cli.main(["fixed", *TINY, "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == (
        f"replaced {out} (was: variable, letters a–z, delays 0–5, hidden 16, held-out 99.9990%)")
    assert load_model(out).hidden_size == 8


def test_a_replaced_file_without_held_out_says_so(tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    save_model(untrained("fixed"), out)
    assert cli.main(["fixed", *TINY, "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == (
        f"replaced {out} (was: fixed, letters a–z, delay 3, hidden 16, held-out not recorded)")


def test_escapes_in_a_path_and_in_metadata_are_printed_inert(tmp_path, capsys):
    out = tmp_path / "w\x1b[2J[red]x.safetensors"
    save_model(untrained("fixed"), out, alphabet="ab\x1b]0;hi\x07", hidden_size="[bold]16",
               heldout_accuracy="nan")
    assert cli.main(["fixed", *TINY, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    shown = f"{tmp_path}/w\\x1b[2J[red]x.safetensors"
    assert printed.out.splitlines()[-2:] == [
        f"replaced {shown} (was: fixed, alphabet ab\\x1b]0;hi\\x07, delay 3, hidden [bold]16, "
        "held-out not recorded)",
        f"try it: echo-tui --weights '{shown}'"]
    assert "\x1b" not in printed.out + printed.err


def test_eval_prints_paths_and_metadata_inert_and_without_markup(tmp_path, capsys):
    path = tmp_path / "[bold]m\x1b[31m.safetensors"
    save_model(untrained("fixed"), path, device="cpu\x1b[5m [red]", train_seconds="1\n2")
    assert cli.main(["eval", str(path), "--chars", "1", "--stream-steps", "10",
                     "--streams", "1"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert f"{tmp_path}/[bold]m\\x1b[31m.safetensors: fixed, hidden 16, alphabet letters" in out
    assert ("homework's check: ≥ 1 character per delay; long streams: 1 unbroken stream of 10 "
            "steps; trained 1\\n2 s on cpu\\x1b[5m [red]; evaluated in ") in out


def test_eval_refusal_is_inert(tmp_path, capsys):
    bad = tmp_path / "bad\x1b[2J.safetensors"
    bad.write_bytes(b"")
    assert cli.main(["eval", str(bad)]) == 1
    assert capsys.readouterr().err == (
        f"echo-train: evaluating {tmp_path}/bad\\x1b[2J.safetensors (1 of 1)…\n"
        f"echo-train: error: {tmp_path}/bad\\x1b[2J.safetensors: is not a safetensors file (only "
        "0 bytes)\n")


def _help(capsys, kind):
    with pytest.raises(SystemExit):
        cli.main([kind, "--help"])
    return capsys.readouterr().out


def test_each_command_lists_only_its_own_recipes(capsys):
    fixed = _help(capsys, "fixed")
    assert "  fixed     fixed delay 4, letters (the homework's first model)" in fixed
    assert "delays 0-16" not in fixed and "delays 0-32" not in fixed
    assert not re.search(r"^  (text|long|variable) ", fixed, re.M)
    assert "--force" in fixed
    variable = _help(capsys, "variable")
    for line in ("  variable  delays 0-8, letters (the homework's second model)",
                 "  text      delays 0-16, printable ASCII (the app's default model)",
                 "  long      delays 0-32, letters"):
        assert line in variable
    assert "fixed delay 4, letters" not in variable


def test_count_and_inert():
    assert [count(n, "step") for n in (0, 1, 2, 2048)] == ["0 steps", "1 step", "2 steps",
                                                           "2,048 steps"]
    assert inert("a\x1b[31mb\nc\tdé") == "a\\x1b[31mb\\nc\\tdé"


def test_force_never_replaces_what_is_not_a_regular_file(tmp_path, monkeypatch, capsys):
    _no_training(monkeypatch)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    assert cli.main(["fixed", "--out", str(pipe), "--force", "--device", "cpu"]) == 2
    assert capsys.readouterr().err == (f"echo-train: error: --out {pipe}: is a named pipe; "
                                       "refusing to replace it with a weights file\n")
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
