"""What a new user hit, each held: the palette's Keys entry is the app's own help, the compare
entries say why they cannot act, the pin-units prompt asks for numbers, choosing varying units
keeps the pinned ones, the status line names the cell, every delay's border says what ← →
do, the first start says it compiles, help keeps the recent notices whole, the curriculum's
widening reads as such, and the commands' refusals and help are one line or say how."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from helpers import keys, ready, screen_text, settle, until

import echo_tui.app.app
from echo_tui import create_app
from echo_tui.cli import parse_args
from echo_tui.app.palette import WHY_NO_COMPARISON
from echo_tui.app.widgets import HelpScreen, PathPrompt
from trainer import cli, shipped_weights
from trainer.recipes import config
from trainer.report import TrainingBar, held_words

VARIABLE = shipped_weights("variable_delay")


def commands(app) -> dict:
    return {c.title: c for c in app.get_system_commands(app.main)}


async def test_the_palettes_keys_entry_is_the_apps_own_help_and_escape_closes_it():
    app = create_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        entry = commands(app)["Keys"]
        assert "Every key of echo-tui" in entry.help
        entry.callback()
        await until(lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        keys_said = dict(dict(app.screen.sections)["Training (ctrl+t)"])
        assert "Tab, shift+Tab" in keys_said  # ours: not Textual's "tab Focus Next"
        assert "echo-tui help" in screen_text(app)
        await keys(pilot, "escape")
        await until(lambda: not isinstance(app.screen, HelpScreen))


async def test_the_compare_entries_say_why_they_cannot_act_on_the_text_model():
    app = create_app()  # the text model: the shipped comparison models read letters
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        found = commands(app)
        assert "Compare with the shipped RNN" not in found
        hint = found["Compare with the shipped RNN, LSTM or GRU"]
        hint.callback()
        await pilot.pause()
        assert app.main.notice.text == WHY_NO_COMPARISON
        assert app.main.compared is None


async def test_pin_units_asks_for_numbers_and_varying_units_keep_the_pinned_first():
    app = create_app(weights=VARIABLE)  # 128 units, 16 shown
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await keys(pilot, *"thequickbrownfox")
        app.main.ask_pinned_units()
        await until(lambda: isinstance(app.screen, PathPrompt) and app.screen.query("#path"))
        prompt = app.screen.query_one("#path")
        assert prompt.placeholder == "3 17 42"
        prompt.value = "5 9"
        await keys(pilot, "enter")
        await settle(pilot)
        memory = app.main.memory
        assert {5, 9} <= set(memory.units_shown(app.session).tolist())
        app.main.choose_varying_units()
        assert app.main.notice.text == (
            "the memory view shows the units that vary most over the keys on screen, after the "
            "pinned 5, 9; kept while you type")
        assert {5, 9} <= set(memory.units_shown(app.session).tolist())
        assert memory.chosen_by.startswith("units 5, 9 pinned, then those that varied most")


async def test_the_status_line_names_the_cell():
    app = create_app(weights=shipped_weights("letters_rnn"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert app.main.query_one("#status").text.startswith("variable · rnn · a–z · hidden 56")


async def test_every_delays_border_says_which_rows_show_not_that_arrows_scroll():
    app = create_app()  # delays 0-16: not all fit at 24 rows
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, "f4")
        note = app.main.delays.border_subtitle
        assert note.startswith("delays ") and note.endswith(" of 0–16") and "scroll" not in note


async def test_the_first_start_says_it_compiles(monkeypatch):
    monkeypatch.setattr(echo_tui.app.app, "compiled_before", lambda: False)
    app = create_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert list(app.main.notice.recent)[:1] == [echo_tui.app.app.FIRST_START]  # said first
        assert app.main.notice.text == ""  # and gone once the model is in


async def test_help_lists_the_recent_notices_whole_and_inert():
    app = create_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        long = ("cannot compare: /home/me/lessons/[bold]odd[/bold]/letters_rnn.safetensors "
                "reads a–z, the model in use ASCII; the echoes would not line up")
        app.main.say(long)
        app.main.say("reset: the stream and the GRU's memory are empty")
        await keys(pilot, "f1")
        await until(lambda: isinstance(app.screen, HelpScreen))
        sections = dict(app.screen.sections)
        recent = [said for _, said in sections["Recent notices (newest first)"]]
        assert recent[:2] == ["reset: the stream and the GRU's memory are empty", long]


def test_a_widened_curriculum_names_its_newest_delays():
    cfg = config("text")  # delays 0-16, from 0-4, two more at each widening
    before = [0.9902] * 5 + [0.01] * 12
    assert held_words(cfg, 4, before) == "held-out 99.02% (worst of delays 0–4, in training)"
    assert held_words(cfg, 6, before, just_added=True) == (
        "held-out 99.02% (worst of delays 0–4) · delays 5–6 just added")
    later = [0.995] * 5 + [0.45, 0.6] + [0.01] * 10
    assert held_words(cfg, 6, later) == (
        "held-out 99.50% (worst of delays 0–4) · newest 5–6: 45.00% · 7–16 to come")
    assert held_words(cfg, 16, [0.9999] * 17) == "held-out 99.99% (worst of delays 0–16)"


def test_echo_trains_progress_names_the_delays_in_training():
    bar = TrainingBar(config("text"))
    said = [bar.stats(SimpleNamespace(samples=1000, seconds=float(step), loss=1.0,
                                      trained_delay=trained, by_delay=acc, heldout_stream=0.0))
            for step, trained, acc in ((50, 4, [0.9902] * 5 + [0.01] * 12),
                                       (100, 6, [0.9902] * 5 + [0.01] * 12),
                                       (150, 6, [0.9951] * 5 + [0.45] * 2 + [0.01] * 10))]
    assert said[0].endswith("held-out 99.02% (worst of delays 0–4, in training)")
    assert said[1].endswith("held-out 99.02% (worst of delays 0–4) · delays 5–6 just added")
    assert said[2].endswith("held-out 99.51% (worst of delays 0–4) · newest 5–6: 45.00% · "
                            "7–16 to come")
    assert not any("1.00%" in s for s in said)  # never the worst of every delay, at chance


@pytest.mark.parametrize("argv, said", [
    (["variable", "--alphabet", "greek"],
     "echo-train variable: error: argument --alphabet: invalid choice: 'greek' (choose from "
     "'letters', 'alnum', 'text')"),
    (["fixed", "--dealy", "3"], "echo-train fixed: error: unrecognized option --dealy: did you "
                                "mean --delay?"),
    (["fixd"], "echo-train: error: argument COMMAND: invalid choice: 'fixd' (choose from "
               "'fixed', 'variable', 'compare', 'sweep', 'trace', 'eval', 'bench'): did you mean fixed?"),
])
def test_a_mistyped_command_is_one_line_with_the_near_miss(capsys, argv, said):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert err == said + "\n" and out == ""


def test_eval_says_which_file_it_is_on(capsys):
    files = [str(shipped_weights("fixed_delay")), str(shipped_weights("letters_rnn"))]
    assert cli.main(["eval", *files, "--chars", "200", "--stream-steps", "50",
                     "--streams", "1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"echo-train: evaluating {files[0]} (1 of 2)…",
                   f"echo-train: evaluating {files[1]} (2 of 2)…"]


def test_echo_tui_help_names_serve_and_serve_says_how_to_install(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert "echo-tui serve" in capsys.readouterr().out
    said = subprocess.run([sys.executable, "-m", "echo_tui", "serve", "--help"],
                          capture_output=True, text=True, check=True).stdout
    assert "pip install '.[serve]'" in said and "echo-gru[serve]" not in said
