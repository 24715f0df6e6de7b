"""Pilot tests: every key and command of echo-tui, checked in the session and on the screen."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from conftest import batch_echo, fake_clock, keys, ready, screen_text, shown, tape_lines
from textual import events

from echo_tui import EchoSession, create_app
from echo_tui.app import MIN_HEIGHT, MIN_WIDTH, PASTE_SLICE
from echo_tui.cli import main
from echo_tui.widgets import DelaySlider, HelpScreen, MemoryView
from echo_tui.widgets.memory import LEVELS, PALETTE
from trainer import WeightsError, load_model, shipped_weights
from trainer.evaluate import random_text

FIXED = shipped_weights("fixed_delay")


def status(app) -> str:
    return str(app.main.query_one("#status").render())


def notice(app) -> str:
    return str(app.main.query_one("#notice").render())


async def test_typing_feeds_each_key_and_draws_both_tapes(variable_model):
    app = create_app(delay=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abaCaba")  # upper case folds
        s = app.session
        assert s.stream == "abacaba" and s.steps == 7 and s.delay == 3
        assert s.echo == batch_echo(variable_model, "abacaba", 3)
        assert tape_lines(app) == ["abacaba", shown(s.echo)]
        assert f"delay 3 · 7 steps · acc {100 * s.accuracy:.1f}%" in status(app)
        assert status(app).startswith("variable · a–z · hidden 128 · delay 3")
        assert re.search(r" · [\d.]+ (µs|ms)/step$", status(app))


async def test_slider_keys_move_the_delay_and_rerender_at_once(variable_model):
    app = create_app(delay=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abacabad")
        for names, want in ((["right"], 4), (["]", "]"], 6), (["left"], 5), (["["], 4),
                            (["right"] * 9, 8), (["left"] * 12, 0)):
            await keys(pilot, *names)
            assert app.session.delay == want
            assert app.session.echo == batch_echo(variable_model, "abacabad", want)
            assert tape_lines(app) == ["abacabad", shown(app.session.echo)]
            assert f"delay {want} ·" in status(app)
        assert app.session.stream == "abacabad"  # nothing typed was lost


async def test_clicking_the_slider_sets_the_delay():
    app = create_app(delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        slider = app.main.query_one(DelaySlider)
        for d in (6, 0, 8):
            x = next(lo for lo, hi, v in slider._spans if v == d) + 1
            await pilot.click(DelaySlider, offset=(x, 0))
            assert app.session.delay == d


async def test_fixed_model_shows_its_delay_and_the_slider_cannot_move(fixed_model):
    app = create_app(weights=FIXED)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abacaba", "left", "]")
        assert app.session.kind == "fixed" and app.session.delay == 4
        assert app.session.echo == batch_echo(fixed_model, "abacaba", 4)
        text = screen_text(app)
        assert "fixed-delay model: its delay cannot move" in text
        assert notice(app) == "the fixed-delay model echoes at delay 4 only"
        assert status(app).startswith("fixed · a–z · hidden 64 · delay 4 · 7 steps")


async def test_out_of_alphabet_key_is_shown_as_skipped_and_noticed_once():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("a", "1")
        assert app.session.steps == 1 and app.session.stream == "a"
        assert notice(app) == "skipped '1': not in the model's alphabet, so no step"
        await pilot.press("space", "?", "b")
        assert app.session.stream == "ab" and notice(app) == ""
        notes = list(app._notifications)
        assert len(notes) == 1  # once, not on every key
        assert "letters (a–z)" in notes[0].message and notes[0].title == "'1' skipped"


async def test_backspace_undoes_one_step_and_refuses_past_the_window(variable_model):
    app = create_app(delay=1)
    plain = app.load_session

    def small_undo_window(path, delay, strict=True):
        session, path = plain(path, delay, strict)
        return EchoSession(session.model, delay, undo_steps=3), path

    app.load_session = small_undo_window
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abcde")
        before = app.session.hidden.clone()
        await pilot.press("f", "backspace")
        assert app.session.stream == "abcde"
        assert (app.session.hidden == before).all()
        assert tape_lines(app) == ["abcde", shown(batch_echo(variable_model, "abcde", 1))]
        await pilot.press("backspace", "backspace")
        assert app.session.stream == "abc"
        await pilot.press("backspace")  # the 4th undo in a row: past the 3-step window
        assert app.session.stream == "abc"
        assert notice(app) == "cannot undo further: only the last 3 steps can be undone"


async def test_a_burst_of_keys_is_handled_in_arrival_order(variable_model):
    # keys as a terminal delivers a fast burst: bindings must not overtake typed keys
    app = create_app(delay=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key, ch in [("x", "x"), ("ctrl+r", None), ("a", "a"), ("b", "b"),
                        ("backspace", None), ("c", "c"), ("right", None), ("d", "d")]:
            app.post_message(events.Key(key, ch))
        await ready(pilot)
        assert app.session.stream == "acd" and app.session.delay == 2
        assert app.session.echo == batch_echo(variable_model, "acd", 2)


async def test_ctrl_r_resets():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"hello", "right")
        await pilot.press("ctrl+r")
        s = app.session
        assert (s.stream, s.steps, s.delay) == ("", 0, 5)
        assert not s.hidden.any()
        assert tape_lines(app) == ["", ""]
        assert "0 steps · acc –" in status(app)


async def test_paste_feeds_every_character_like_typing(variable_model):
    app = create_app(delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste("Hello, World!\nabc"))
        await ready(pilot)
        assert app.session.stream == "helloworldabc"
        assert app.session.echo == batch_echo(variable_model, "helloworldabc", 2)
        assert notice(app) == "fed 13 steps; skipped 4 characters outside the model's alphabet"


async def test_long_paste_keeps_the_screen_responsive_and_the_newest_key_in_view(variable_model):
    text = random_text(15 * PASTE_SLICE + 123, seed=11)
    app = create_app(delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste(text))
        while app.session.steps == 0:
            await asyncio.sleep(0.001)
        assert app.busy and app.session.steps < len(text)  # fed in slices, not at once
        # keys act while the paste goes through: the slider moves at once, a typed key waits
        app.post_message(events.Key("right", None))
        app.post_message(events.Key("x", "x"))
        while app.session.delay != 3:
            await asyncio.sleep(0.001)
        assert app.session.steps < len(text)
        assert "characters to go" in notice(app)
        await ready(pilot)
        assert app.session.stream == text + "x"
        assert app.session.echo == batch_echo(variable_model, text + "x", 3)
        rows = tape_lines(app)
        assert len(rows) == 8  # four row pairs fit, the last holds the newest key
        typed = "".join(rows[::2])
        assert typed == (text + "x")[-len(typed):] and len(typed) > 3 * 70
        assert "".join(rows[1::2]) == shown(app.session.echo[-len(typed):])


async def test_keys_typed_while_loading_are_fed_in_order_once_ready(variable_model):
    app = create_app(delay=2)
    gate = threading.Event()
    plain = app.load_session

    def slow_load(*args, **kwargs):
        gate.wait(10)
        return plain(*args, **kwargs)

    app.load_session = slow_load
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"abc", "backspace", "1", "d")
        assert app.session is None and app.first_frame_at is not None
        assert "loading the model" in screen_text(app)
        assert status(app) == "loading the shipped variable-delay model…"
        gate.set()
        await ready(pilot)
        assert app.session.stream == "abd"
        assert app.session.echo == batch_echo(variable_model, "abd", 2)
        assert app.model_ready_at > app.first_frame_at


async def test_f1_opens_help_listing_every_key_and_closes():
    app = create_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("←", "→", "[", "]", "⌫", "^r", "f1", "f2", "f3", "^q", "^p", "paste",
                    "letters (a–z)", "click the slider"):
            assert key in text, key
        await pilot.press("a")  # keys do not reach the tapes while help is open
        assert app.session.steps == 0
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1", "f1")
        assert not isinstance(app.screen, HelpScreen)


async def test_ctrl_q_quits():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_command_palette_offers_reset_delay_switch_and_memory():
    app = create_app(delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        commands = {c.title: c.callback for c in app.get_system_commands(app.main)}
        for title in ("Reset", "Switch model", "Toggle memory view",
                      *(f"Set delay {d}" for d in range(9))):
            assert title in commands
        await keys(pilot, *"abc")
        await pilot.press("ctrl+p", *"set delay 7")  # through the palette itself, once
        await pilot.pause(0.3)
        await pilot.press("enter")
        assert app.session.delay == 7 and app.session.stream == "abc"
        commands["Toggle memory view"]()
        assert not app.show_memory
        commands["Reset"]()
        assert app.session.steps == 0
        await keys(pilot, *"abc")
        commands["Switch model"]()
        await ready(pilot)
        assert app.session.kind == "fixed" and app.session.stream == "abc"


async def test_f3_switches_between_shipped_models_keeping_the_stream(variable_model, fixed_model):
    app = create_app(delay=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abacaba", "f3")
        await ready(pilot)
        assert app.session.kind == "fixed" and app.session.delay == 4
        assert app.session.stream == "abacaba"
        assert app.session.echo == batch_echo(fixed_model, "abacaba", 4)
        assert "fixed_delay.safetensors" in screen_text(app)
        await pilot.press("f3")
        await ready(pilot)
        assert app.session.kind == "variable" and app.session.delay == 4
        assert app.session.echo == batch_echo(variable_model, "abacaba", 4)


async def test_f2_toggles_the_memory_view_which_changes_with_every_key():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        memory = app.main.query_one(MemoryView)
        assert tuple(memory.content_size) == (76, 2)  # 128 cells: two rows at 80 columns
        pictures = [memory.levels()]
        for key in "abc":
            await pilot.press(key)
            pictures.append(memory.levels())
            assert (pictures[-1] != pictures[-2]).any()  # the memory changed with the key
        assert (pictures[0] == LEVELS // 2).all()  # the initial state: all zeros, grey
        first_row = memory.render_line(0)
        assert first_row.cell_length == 76
        assert {seg.style.bgcolor for seg in first_row} == {
            PALETTE[k].bgcolor for k in set(pictures[-1][:76].tolist())}
        assert memory.display
        await pilot.press("f2")
        assert not memory.display and "memory:" not in screen_text(app)
        await pilot.press("f2")
        assert memory.display and "memory:" in screen_text(app)
        await pilot.resize_terminal(50, 12)  # too small: nothing but the notice
        assert not memory.display


async def test_too_small_terminal_says_so_and_recovers():
    app = create_app()
    async with app.run_test(size=(50, 12)) as pilot:
        await ready(pilot)
        text = screen_text(app)
        assert "The terminal is too small: 50×12." in text
        assert f"needs at least {MIN_WIDTH}×{MIN_HEIGHT}" in text
        await pilot.resize_terminal(MIN_WIDTH, MIN_HEIGHT)
        await pilot.press(*"abc")
        await pilot.pause()
        text = screen_text(app)
        assert "too small" not in text and tape_lines(app)[0] == "abc"


async def test_status_shows_a_fixed_clock_latency():
    app = create_app(clock=fake_clock(42e-6))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("a")
        assert status(app).endswith("· 42 µs/step")


async def test_create_app_with_bad_weights_exits_with_the_sentence(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a weights file")
    with pytest.raises(WeightsError) as info:
        load_model(bad)
    app = create_app(weights=bad)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
    assert app.return_code == 1 and app.error == str(info.value)


async def test_create_app_with_a_delay_out_of_range_exits_2():
    app = create_app(delay=9)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
    assert app.return_code == 2 and app.error == "delay 9 is outside 0..8"


async def test_a_failed_switch_keeps_the_current_model():
    app = create_app()
    plain = app.load_session

    def fail_on_switch(path, delay, strict=True):
        if not strict:
            raise WeightsError(f"{path}: is truncated")
        return plain(path, delay, strict)

    app.load_session = fail_on_switch
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc", "f3")
        await ready(pilot)
        assert app.session.kind == "variable" and app.session.stream == "abc"
        note = list(app._notifications)[-1]
        assert note.title == "Cannot switch model" and note.message.endswith(": is truncated")


def test_cli_bad_weights_prints_one_sentence_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    assert main(["--weights", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err == f"{bad}: is not a safetensors file (only 4 bytes)\n"


def test_cli_delay_out_of_range_is_one_line_and_exit_2(capsys):
    assert main(["--delay", "9"]) == 2
    assert capsys.readouterr().err == "--delay 9: delay 9 is outside 0..8\n"
    assert main(["--weights", str(FIXED), "--delay", "3"]) == 2
    assert capsys.readouterr().err == (
        "--delay 3: this fixed-delay model echoes at delay 4 only, not 3\n")
