"""Pilot tests: every key and command of echo-tui, checked in the session and on the screen."""

from __future__ import annotations

import asyncio
import re
import threading

import numpy as np
import pytest
import torch
from helpers import (batch_echo, fake_clock, keys, ready, screen_text, settle, shown, tape_lines,
                      until)
from textual import events
from textual.widgets import Input

from echo_tui import EchoSession, create_app
from echo_tui.cli import main
from echo_tui.core.feeding import PASTE_SLICE
from echo_tui.app.screens import echo as echo_screen
from echo_tui.app.screens.echo import MIN_HEIGHT, MIN_WIDTH
from echo_tui.app.widgets import AllDelays, DelaySlider, HelpScreen, MemoryView, PathPrompt, Tapes
from echo_tui.app.widgets.memory import LEVELS, levels
from trainer import (Alphabet, VariableDelayGRUMemory, WeightsError, load_model, save_model,
                     shipped_weights)
from trainer.evaluate import random_text

FIXED = shipped_weights("fixed_delay")
VARIABLE = shipped_weights("variable_delay")


def status(app) -> str:
    return str(app.main.query_one("#status").render())


def notice(app) -> str:
    return app.main.notice.text


# -- typing and the tapes ----------------------------------------------------------------------

async def test_the_text_model_opens_and_echoes_spaces_capitals_and_punctuation(text_model):
    app = create_app(delay=3)
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hello, World!")
        s = app.session
        assert s.alphabet.name == "text" and s.stream == "Hello, World!" and s.delay == 3
        assert s.echo == batch_echo(text_model, "Hello, World!", 3)
        assert tape_lines(app) == ["Hello,␣World!", shown(s.echo, s.alphabet)]
        assert status(app).startswith("variable · gru · ASCII · hidden 192 · delay 3 · 13 steps · "
                                      "acc ")
        assert re.search(r" · conf \d+% · [\d.]+ (µs|ms)/step$", status(app))


async def test_the_blank_and_the_space_are_never_confused(tmp_path):
    # an untrained text model answers with spaces and blanks alike: both must show as themselves
    torch.manual_seed(3)
    text = Alphabet.named("text")
    model = VariableDelayGRUMemory(16, 4, len(text), alphabet=text).eval()
    with torch.no_grad():  # make the blank and the space each some head's favourite answer
        model.heads.bias.view(5, 96)[0, 0] = 50.0
        model.heads.bias.view(5, 96)[1, 1] = 50.0
    path = tmp_path / "spaces.safetensors"
    save_model(model, path)
    app = create_app(weights=path, delay=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"a b")
        assert app.session.echo == "···" and tape_lines(app)[:2] == ["a␣b", "···"]
        await keys(pilot, "right")
        assert app.session.echo == "   " and tape_lines(app)[:2] == ["a␣b", "␣␣␣"]


async def test_slider_keys_move_the_delay_and_rerender_at_once(variable_model):
    app = create_app(weights=VARIABLE, delay=3)
    async with app.run_test(size=(100, 24)) as pilot:
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


async def test_brackets_are_typed_when_the_model_reads_them():
    app = create_app(delay=2)  # the text model reads [ and ]
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, "[", "]", "right")
        assert app.session.stream == "[]" and app.session.delay == 3


@pytest.mark.parametrize("size, max_delay", [((60, 18), 16), ((60, 18), 33), ((80, 24), 8)])
async def test_clicking_the_slider_sets_every_delay(tmp_path, size, max_delay):
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_model(VariableDelayGRUMemory(8, max_delay), path)
    app = create_app(weights=path, delay=0)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        slider = app.main.query_one(DelaySlider)
        text = screen_text(app)
        if max_delay == 16:  # every delay labelled, even at the narrowest width
            assert "0─1─2─3─4─5─6─7─8─9─10─11─12─13─14─15─16" in text.replace(" 0 ", "0")
        for d in range(max_delay + 1):
            lo, hi = next((lo, hi) for lo, hi, v in slider._spans if v == d)
            await pilot.click(DelaySlider, offset=(hi - 1, 0))
            assert app.session.delay == d, d


async def test_fixed_model_shows_its_delay_and_the_slider_cannot_move(fixed_model):
    app = create_app(weights=FIXED)
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"abacaba", "left", "]")
        assert app.session.kind == "fixed" and app.session.delay == 4
        assert app.session.echo == batch_echo(fixed_model, "abacaba", 4)
        assert "fixed-delay model: its delay cannot move" in screen_text(app)
        assert notice(app) == "the fixed-delay model echoes at delay 4 only"
        assert status(app).startswith("fixed · gru · a–z · hidden 64 · delay 4 · 7 steps")


async def test_skipped_keys_are_marked_where_they_were_and_named_once(variable_model):
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hello, World! The quick brown fox.")
        s = app.session
        assert s.stream == "helloworldthequickbrownfox"
        assert s.typed == "Hello, World! The quick brown fox."
        marks, typed, echo = tape_lines(app, marks=True)[:3]
        assert typed == "helloworldthequickbrownfox" and echo == shown(s.echo)
        # a mark over the key after the skipped ones: the key itself, or how many
        assert marks == "     ②    ②  ␣    ␣    ␣  ." and len(marks) == len(typed) + 1
        assert notice(app) == "'.' skipped: not in the model's alphabet (a–z)"
        await keys(pilot, "x")
        assert notice(app) == ""  # the notice went with the next key
        assert not app._notifications  # no toast over the status line


async def test_backspace_undoes_one_step_and_refuses_past_the_window(variable_model):
    app = create_app(weights=VARIABLE, delay=1)
    plain = app.load_session

    def small_undo_window(choice, delay, strict=True):
        session = plain(choice, delay, strict)
        return EchoSession(session.model, delay, undo_steps=3)

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
    app = create_app(weights=VARIABLE, delay=1)
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
        assert (s.stream, s.steps, s.delay, s.typed) == ("", 0, 9, "")
        assert not s.hidden.any()
        assert tape_lines(app) == ["", ""]
        assert "0 steps · acc – · conf –" in status(app)


async def test_ctrl_c_says_how_to_quit():
    app = create_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+c")
        assert app.is_running and notice(app) == "ctrl+c does not quit: press ctrl+q to quit"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


# -- pastes ------------------------------------------------------------------------------------

async def test_paste_feeds_every_character_like_typing(variable_model):
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste("Hello, World!\nabc"))
        await ready(pilot)
        assert app.session.stream == "helloworldabc"
        assert app.session.echo == batch_echo(variable_model, "helloworldabc", 2)
        assert notice(app) == "fed 13 steps; skipped 4 characters outside the model's alphabet (a–z)"


async def test_counts_of_one_are_singular():
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste("a!"))
        await ready(pilot)
        assert notice(app) == "fed 1 step; skipped 1 character outside the model's alphabet (a–z)"


async def test_a_long_paste_is_summed_up_whole_not_by_its_last_slice():
    text = "The quick brown fox, 42 times. " * 700  # 21,700 characters, many slices
    letters = sum(ch.isalpha() for ch in text)
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.post_message(events.Paste(text))
        await settle(pilot)
        assert app.session.steps == letters
        assert notice(app) == (f"fed {letters:,} steps; skipped {len(text) - letters:,} characters "
                               "outside the model's alphabet (a–z)")


async def test_long_paste_keeps_the_screen_responsive_and_the_newest_key_in_view(
        variable_model, monkeypatch):
    # a frame's worth of feeding is one slice here, however fast the machine: 41 frames
    monkeypatch.setattr(echo_screen, "FRAME_S", 0.0)
    text = random_text(40 * PASTE_SLICE + 123, seed=11)
    app = create_app(weights=VARIABLE, delay=2)
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
        typed = "".join(rows[::2])
        assert typed == (text + "x")[-len(typed):] and len(typed) > 70
        assert "".join(rows[1::2]) == shown(app.session.echo[-len(typed):])


async def test_keys_typed_while_loading_are_fed_in_order_once_ready(text_model):
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
        assert status(app) == "loading the shipped text model…"
        gate.set()
        await ready(pilot)
        assert app.session.stream == "ab1d"
        assert app.session.echo == batch_echo(text_model, "ab1d", 2)
        assert app.model_ready_at > app.first_frame_at


# -- scrollback --------------------------------------------------------------------------------

async def test_the_tapes_scroll_back_through_a_long_stream():
    text = random_text(40 * 70, seed=12)  # 40 rows at 80 columns (70 steps a row)
    app = create_app(weights=VARIABLE, delay=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.main.feed_text(text)
        await settle(pilot)
        tapes = app.main.query_one(Tapes)
        row_w, rows, newest, oldest = tapes.layout_rows()
        assert row_w == 70 and newest == 40
        assert tape_lines(app)[-2] == ""  # the newest row: empty, the cursor at its start
        await keys(pilot, "up")
        assert tape_lines(app)[-2] == text[-70:] and "1 rows back" in screen_text(app)
        await keys(pilot, "pageup")
        assert tape_lines(app)[-2] == text[-(rows + 1) * 70:-rows * 70]
        await keys(pilot, "home")
        assert tape_lines(app)[0] == text[:70]
        await keys(pilot, "end")
        assert tape_lines(app)[-2] == "" and "rows back" not in screen_text(app)
        await pilot.hover(Tapes)
        for _ in range(3):
            tapes.post_message(events.MouseScrollUp(tapes, 5, 5, 0, 0, 0, False, False, False))
        await settle(pilot)
        assert tapes.scroll_back == 3
        await keys(pilot, "q")  # typing comes back to the newest
        assert tapes.scroll_back == 0 and tape_lines(app)[-2] == "q"


# -- help, palette, models ---------------------------------------------------------------------

async def test_f1_help_lists_keys_views_and_the_status_line_and_typing_goes_back():
    app = create_app()
    async with app.run_test(size=(120, 170)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("←", "→", "[", "]", "⌫", "^r", "f1", "f2", "f3", "f4", "^q", "^p", "paste",
                    "printable ASCII", "click the slider", "pgup", "home", "end",
                    "acc", "share of echoes", "conf", "mean probability", "µs/step",
                    "␣", "a space", "·", "a blank", "blue tint", "red, underlined",
                    "marks above", "② two", "Every delay at once (f4)", "Memory over time (f2)",
                    "upper/lower", "Training (ctrl+t)", "by delay", "log scale"):
            assert key in text, key
        await keys(pilot, "H", "i")  # typing closes help and goes to the tapes, none lost
        assert not isinstance(app.screen, HelpScreen) and app.session.stream == "Hi"
        await pilot.press("f1", "escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1", "f1")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_every_command():
    app = create_app(weights=VARIABLE, delay=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.main)}
        for title in ("Reset", "Switch model", "Open weights…", "Toggle memory view",
                      "Every delay at once", *(f"Set delay {d}" for d in range(9))):
            assert title in commands, title
        assert commands["Set delay 1"].help == "Echo each key 1 step later"
        assert commands["Set delay 2"].help == "Echo each key 2 steps later"
        await keys(pilot, *"abc")
        await pilot.press("ctrl+p", *"set delay 7")  # through the palette itself, once
        await pilot.pause(0.3)
        await pilot.press("enter")
        assert app.session.delay == 7 and app.session.stream == "abc"
        commands["Toggle memory view"].callback()
        assert not app.main.show_memory and not app.main.memory.display
        commands["Every delay at once"].callback()
        assert app.main.query_one(AllDelays).display
        commands["Reset"].callback()
        assert app.session.steps == 0


async def test_f3_cycles_the_shipped_models_and_gives_back_what_was_typed(
        text_model, variable_model, fixed_model):
    app = create_app(delay=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hi, Bob!")
        await keys(pilot, "f3")
        await settle(pilot)
        s = app.session
        assert (s.kind, s.alphabet.name, s.delay, s.stream) == ("variable", "letters", 3, "hibob")
        assert s.echo == batch_echo(variable_model, "hibob", 3)
        assert notice(app) == ("now the shipped variable-delay letters model: re-fed 5 steps; "
                               "skipped 3 characters outside its alphabet (a–z)")
        await keys(pilot, "f3")
        await settle(pilot)
        assert (app.session.kind, app.session.delay) == ("fixed", 4)
        assert app.session.echo == batch_echo(fixed_model, "hibob", 4)
        assert notice(app).startswith("now the shipped fixed-delay letters model (at delay 4: it "
                                      "has delay 4; your 3 comes back with a model that has it)"
                                      ": re-fed 5 steps")
        await keys(pilot, "f3")
        await settle(pilot)
        s = app.session
        assert s.alphabet.name == "text" and s.delay == 3  # the delay the user chose, back
        assert s.stream == "Hi, Bob!"  # as typed: capitals and punctuation come back
        assert s.echo == batch_echo(text_model, "Hi, Bob!", 3)
        assert "text_delay.safetensors" in screen_text(app)


async def test_f3_keeps_the_delay_chosen_and_returns_to_it(text_model):
    app = create_app()  # the text model, delays 0-16
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.main.set_delay(16)  # as the slider, the arrows or the palette set it
        await keys(pilot, *"hello")
        await keys(pilot, "f3")
        await settle(pilot)
        assert (app.session.alphabet.name, app.session.delay) == ("letters", 8)  # its longest
        assert notice(app).startswith("now the shipped variable-delay letters model (at delay 8: "
                                      "it has delays 0–8; your 16 comes back with a model that "
                                      "has it)")
        await keys(pilot, "left")  # a choice made here is the new one
        for _ in range(2):  # letters fixed (at 4), then the text model: 7, as chosen
            await keys(pilot, "f3")
            await settle(pilot)
        assert (app.session.alphabet.name, app.session.delay) == ("text", 7)
        assert app.session.echo == batch_echo(text_model, "hello", 7)


async def test_f3_includes_the_model_given_with_weights(tmp_path, untrained_weights):
    app = create_app(weights=untrained_weights)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        seen = [app.current]
        for _ in range(4):
            await keys(pilot, "f3")
            await settle(pilot)
            seen.append(app.current)
        assert [c.path or c.name for c in seen] == [
            untrained_weights, "text_delay", "variable_delay", "fixed_delay", untrained_weights]


async def test_open_weights_prompts_for_a_path_and_refuses_bad_files(tmp_path, untrained_weights):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    app = create_app(delay=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc")
        for path, ok in ((bad, False), (untrained_weights, True)):
            app.action_open_weights()
            await until(lambda: isinstance(app.screen, PathPrompt))
            await pilot.pause()
            app.screen.query_one(Input).value = str(path)
            await pilot.press("enter")
            await settle(pilot)
            assert app.screen is app.main and app.session.stream == "abc"
            if ok:
                assert app.current.path == untrained_weights
                assert app.session.model.hidden_size == 48
                assert app.session.delay == 5  # kept: the opened model has it
            else:
                note = list(app._notifications)[-1]
                assert note.title == "Cannot switch model"
                assert note.message == f"{bad}: is not a safetensors file (only 4 bytes)"
                assert app.current.name == "text_delay"
        # the opened file joins the end of the cycle, as the README says: f3 goes on from it to
        # the first model
        assert [c.path or c.name for c in app.models.choices] == [
            "text_delay", "variable_delay", "fixed_delay", untrained_weights]
        await keys(pilot, "f3")
        await settle(pilot)
        assert app.current.name == "text_delay" and app.session.stream == "abc"


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
        assert app.session.alphabet.name == "text" and app.session.stream == "abc"
        note = list(app._notifications)[-1]
        assert note.title == "Cannot switch model" and note.message.endswith(": is truncated")


# -- the views of issue 9: every delay, memory over time, confidence ----------------------------

async def test_every_delay_at_once_shows_each_heads_echo_of_the_newest_keys(variable_model):
    app = create_app(weights=VARIABLE, delay=3)
    async with app.run_test(size=(80, 40)) as pilot:
        await ready(pilot)
        text = random_text(100, seed=3)
        app.main.feed_text(text)
        await keys(pilot, "f4")
        view = app.main.query_one(AllDelays)
        assert view.display and not app.main.query_one(Tapes).display
        lines = [line[1:-1][1:] for line in screen_text(app).splitlines()
                 if line.startswith("│")]
        gutter = view.gutter_width(app.session)
        width = view.content_size.width - gutter
        s = app.session
        assert lines[0].rstrip() == "typed".rjust(gutter - 1) + " " + text[-width:]
        for d in range(9):
            row = lines[1 + d]
            assert row[:gutter] == ("▶ " if d == 3 else "  ") + f"{d:>{gutter - 4}}  "
            assert row[gutter:].rstrip() == shown(s.window(s.steps - width, s.steps, delay=d)[1])
        await keys(pilot, "right")
        assert screen_text(app).count("▶") == 1 and f"▶ {4:>{gutter - 4}}" in screen_text(app)


async def test_every_delay_rows_scroll_to_keep_the_current_one(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "m.safetensors"
    save_model(VariableDelayGRUMemory(8, 32), path)
    app = create_app(weights=path, delay=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abc", "f4")
        view = app.main.query_one(AllDelays)
        for _ in range(32):
            await keys(pilot, "right")
            assert app.session.delay in view.rows_shown(app.session)
            assert f"▶ {app.session.delay:>2}" in screen_text(app)
        assert len(view.rows_shown(app.session)) < 33


async def test_the_memory_view_shows_each_keys_state_and_undo_keeps_it_exact(variable_model):
    app = create_app(weights=VARIABLE)
    async with app.run_test(size=(80, 30)) as pilot:
        await ready(pilot)
        memory = app.main.query_one(MemoryView)
        text = random_text(30, seed=8)
        await keys(pilot, *text)
        keys_line, units, grid = memory.picture()
        with torch.no_grad():
            states = variable_model.memory(torch.tensor([variable_model.alphabet.encode(text)]))[0]
        assert keys_line == text and grid.shape == (len(units), 30)
        assert np.array_equal(grid, levels(states[0].numpy()[:, units].T))
        before = grid
        await keys(pilot, "x", "backspace")
        assert np.array_equal(memory.picture()[2], before)  # undo: the same picture again
        await keys(pilot, "ctrl+r")
        assert memory.picture()[0] == "" and (memory.picture()[2] == LEVELS // 2).all()


async def test_the_status_line_gives_the_mean_confidence_at_the_current_delay():
    app = create_app(weights=VARIABLE, delay=2, clock=fake_clock(42e-6))
    async with app.run_test(size=(100, 24)) as pilot:
        await ready(pilot)
        await keys(pilot, *"abcdef")
        s = app.session
        assert status(app).endswith(f"· conf {100 * s.mean_confidence:.0f}% · 42 µs/step")


# -- sizes and bad starts ------------------------------------------------------------------------

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


async def test_the_smallest_terminal_shows_every_line_and_the_key_hints():
    app = create_app()
    async with app.run_test(size=(MIN_WIDTH, MIN_HEIGHT)) as pilot:
        await ready(pilot)
        await keys(pilot, *"Hi")
        lines = screen_text(app).splitlines()
        assert len(lines) == MIN_HEIGHT
        assert "f1 help" in lines[-1] and "^q quit" in lines[-1]
        assert lines[-2].strip().startswith("var") and "acc" in lines[-2]
        assert "typed Hi" in screen_text(app)


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
    app = create_app(delay=17)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
    assert app.return_code == 2 and app.error == "delay 17 is outside 0..16"


def test_cli_bad_weights_prints_one_sentence_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 4)
    assert main(["--weights", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err == f"{bad}: is not a safetensors file (only 4 bytes)\n"


def test_cli_delay_out_of_range_is_one_line_and_exit_2(capsys):
    assert main(["--delay", "17"]) == 2
    assert capsys.readouterr().err == "--delay 17: delay 17 is outside 0..16\n"
    assert main(["--weights", str(FIXED), "--delay", "3"]) == 2
    assert capsys.readouterr().err == (
        "--delay 3: this fixed-delay model echoes at delay 4 only, not 3\n")


