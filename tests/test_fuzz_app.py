"""Hostile keys and pastes through the headless app: it stays alive, answers, loses nothing, and
its echo stays the model's batch output for its stream.

Keys are delivered as a terminal's parser delivers them (`events.Key(name, character)`), in
seeded random bursts, and checked after every burst against a model of what each key means (the
`Oracle`): a symbol of the model's alphabet is one step (upper case folds for the letters
models), ← → (and [ ] where the model does not read them) move the delay, backspace undoes one
step and the keys skipped after it, ctrl+r resets, every other key that types a character
(Enter and Tab too) is kept as typed but is no step, and the rest do nothing to the stream. The keys that open another screen are driven on
purpose, one at a time, and checked there: F1 (help: keys that are no text do nothing, typing
closes it and is fed), ctrl+p (the command palette: typed into, never confirmed, since its
"Quit" would end the run) and F3 (switch model: what was typed carries over, as typed). ctrl+q
and f10 (quit) are never sent; ctrl+t and f8 (the training form) have their own tests.
"""

from __future__ import annotations

import random
import string
import unicodedata

from helpers import batch_echo, ready, settle, until
from private import ANSI_SEQUENCES_KEYS, character_to_key
from textual import events
from textual.command import CommandPalette

from echo_tui import create_app
from echo_tui.app.screens.echo import KEY_ACTIONS, typed_character
from echo_tui.core.session import MAX_GAP
from echo_tui.app.widgets import HelpScreen
from trainer import shipped_weights

NON_LATIN = "éüßçñøåæœžščřłığ" "жщфыъэюяЖЩ" "αβγδΩλπ" "中文字漢語日本語한국어" "ععربيةעברית" "हिन्दी" "ﬁﬂİẞ"
FOLDING = "\u212a"  # KELVIN SIGN: lower() is the ASCII 'k', so it is a step, like any 'K'
EMOJI = "😀🦀🎉👍🏽❤🔥🙃🧪🐍🚀"
PUNCT = string.punctuation + "¡¿«»—–…€£¥§°±×÷"
NAMED = ["space", "enter", "tab", "shift+tab", "escape", "up", "down", "home", "end", "pageup",
         "pagedown", "insert", "delete", "f2", "f4", "f5", "f6", "f7", "f9", "f11",
         "f12", "f13", "f19", "f24", "ctrl+left", "ctrl+right", "shift+up", "alt+a", "ctrl+shift+b",
         "ctrl+f1", "ctrl+home", "shift+delete"]
DELAY_KEYS = ("left", "left_square_bracket", "right", "right_square_bracket")
NAMED_CHARS = {"space": " ", "enter": "\r", "tab": "\t", "escape": "\x1b"}
# control characters as the parser reads them (ctrl+q quits: never sent; ctrl+p is driven apart,
# and ctrl+t, which opens the training form and gives it the keys, in the training panel's tests)
CONTROL = [(ANSI_SEQUENCES_KEYS[chr(c)][0].value, chr(c)) for c in range(32)
           if chr(c) in ANSI_SEQUENCES_KEYS
           and ANSI_SEQUENCES_KEYS[chr(c)][0].value not in ("ctrl+q", "ctrl+p", "ctrl+t")]


def char_key(ch: str) -> events.Key:
    """A printable character's key event, named as Textual's input parser names it."""
    return events.Key(character_to_key(ch), ch)


def named_key(name: str) -> events.Key:
    return events.Key(name, NAMED_CHARS.get(name))


def random_keys(rng: random.Random, n: int) -> list[events.Key]:
    """`n` keys of every class, with floods of backspace (past the start) mixed in."""
    out: list[events.Key] = []
    while len(out) < n:
        r = rng.random()
        if r < 0.40:
            out.append(char_key(rng.choice(string.ascii_letters)))
        elif r < 0.47:
            out.append(char_key(rng.choice(string.digits)))
        elif r < 0.55:
            out.append(char_key(rng.choice(PUNCT)))
        elif r < 0.62:
            out.append(char_key(rng.choice(NON_LATIN + FOLDING)))
        elif r < 0.66:
            out.append(char_key(rng.choice(EMOJI)))
        elif r < 0.72:
            out.append(events.Key(*rng.choice(CONTROL)))
        elif r < 0.80:
            out.append(named_key(rng.choice(NAMED)))
        elif r < 0.87:
            out.append(named_key(rng.choice(["left", "right"])))
        elif r < 0.95:
            out.append(events.Key("backspace", rng.choice([None, "\x7f", "\x08"])))
        elif r < 0.996:
            out.append(char_key(rng.choice(string.ascii_lowercase)))
        elif r < 0.999:  # a flood of backspace, often past the start
            out.extend(events.Key("backspace", None) for _ in range(rng.randint(50, 400)))
        else:
            out.append(events.Key("ctrl+r", "\x12"))
    return out


class Oracle:
    """What the stream, what was typed and the delay must be after keys, pastes and switches.

    Every character fed is kept as typed (at most MAX_GAP skipped ones between two steps); a
    step is a character the model reads; backspace takes back one step and the skipped keys
    typed after it (with no step left, the skipped keys); a model switch re-feeds what was
    typed to the new model.
    """

    def __init__(self, session):
        self.steps: list[tuple[str, str, str]] = []  # (skipped before it, as typed, symbol)
        self.pending = ""  # skipped since the last step
        self.delay = self.chosen = session.delay  # the delay chosen: kept through switches
        self.undo_steps = session.undo_steps
        self.depth = 0  # steps that can still be undone
        self.use(session.model)

    def use(self, model) -> None:
        self.symbols = model.alphabet.symbols
        self.fold = model.alphabet.case == "fold"
        self.delays = list(model.head_delays)
        self.fixed = model.kind == "fixed"

    @property
    def text(self) -> str:
        return "".join(sym for _, _, sym in self.steps)

    @property
    def typed(self) -> str:
        return "".join(gap + ch for gap, ch, _ in self.steps) + self.pending

    def symbol(self, ch: str) -> str | None:
        if ch in self.symbols:
            return ch
        return ch.lower() if self.fold and ch.lower() in self.symbols else None

    def symbols_of(self, text: str) -> str:
        """The steps a paste makes: its characters in the alphabet (upper case folded)."""
        return "".join(filter(None, map(self.symbol, text)))

    def feed(self, text: str) -> None:
        for ch in text:
            sym = self.symbol(ch)
            if sym is None:
                self.pending = (self.pending + ch)[-MAX_GAP:]
            else:
                self.steps.append((self.pending, ch, sym))
                self.pending = ""
                self.depth = min(self.undo_steps, self.depth + 1)

    def key(self, key: events.Key) -> None:
        ch = typed_character(key)
        if ch is not None and self.symbol(ch):
            self.feed(ch)
        elif key.key in DELAY_KEYS:
            if not self.fixed:
                step = 1 if key.key.startswith("right") else -1
                k = max(0, min(len(self.delays) - 1, self.delays.index(self.delay) + step))
                self.delay = self.chosen = self.delays[k]
        elif key.key == "backspace":
            if self.steps and self.depth:  # the step goes, and the keys skipped after it
                self.pending, _, _ = self.steps.pop()
                self.depth -= 1
            elif not self.steps:
                self.pending = ""
        elif key.key == "ctrl+r":
            self.steps, self.pending, self.depth = [], "", 0
        elif key.key not in KEY_ACTIONS and ch is not None:  # no step, but kept as typed
            self.feed(ch)

    def switch(self, model) -> None:
        """F3: the new model gets what was typed; the delay chosen where the new model has it,
        else its longest below that, else its default."""
        typed = self.typed
        self.use(model)
        self.steps, self.pending = [], ""
        self.feed(typed)
        below = [d for d in self.delays if d <= self.chosen]
        self.delay = (self.chosen if self.chosen in self.delays else below[-1] if below
                      else self.delays[len(self.delays) // 2])
        self.depth = min(self.undo_steps, len(self.steps))


def check(app, oracle: Oracle, echo: bool = True) -> None:
    """The app is alive and its session is exactly what the keys so far must give; with `echo`,
    its echo is the model's batch output for the stream."""
    s = app.session
    assert app.is_running
    assert s.delay == oracle.delay
    assert s.stream == oracle.text, "a key was lost, doubled or misread"
    assert s.typed == oracle.typed, "what was typed is not kept as typed"
    assert s.steps == len(oracle.text) and s.undo_depth == oracle.depth
    assert set(s.stream) <= set(s.alphabet.symbols)
    assert len(s.echo) == len(s.stream)
    if echo:
        assert s.echo == batch_echo(s.model, s.stream, s.delay)


async def answers(pilot, oracle: Oracle) -> None:
    """A key still makes a step, and a backspace still takes it back."""
    app = pilot.app
    before = app.session.steps
    for key in (char_key("Q"), events.Key("backspace", None)):
        app.post_message(key)
        oracle.key(key)
        await settle(pilot)
        assert app.session.steps == before + (key.key == "Q")
    assert app.session.stream == oracle.text


async def burst(pilot, keys: list[events.Key], oracle: Oracle) -> None:
    for key in keys:
        pilot.app.post_message(key)
        oracle.key(key)
    await settle(pilot)




async def test_thousands_of_random_keys(variable_model):
    rng = random.Random(2024)
    app = create_app(delay=3)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(pilot)
        oracle = Oracle(app.session)
        sent, longest = 0, 0
        for _ in range(24):
            keys = random_keys(rng, rng.randint(40, 200))
            await burst(pilot, keys, oracle)
            check(app, oracle)
            sent += len(keys)
            longest = max(longest, len(oracle.text))
        assert sent > 2500 and longest > 100  # thousands of keys, and a stream built up
        await answers(pilot, oracle)
        check(app, oracle)


def hostile_paste(rng: random.Random, n: int) -> str:
    """About `n` characters of mixed hostile content."""
    pieces = [
        lambda: "".join(rng.choices(string.ascii_letters, k=rng.randint(1, 1000))),
        lambda: "\x00" * rng.randint(1, 500),
        lambda: "".join(rng.choices(["\x1b[31m", "\x1b]0;title\x07", "\x1b[2J\x1b[H", "\x1b[?1049h",
                                     "\x1bc", "\x1b[200~", "\x1b[201~", "\x9b31m", "\x1bP+q\x1b\\",
                                     "\x1b]52;c;aGVsbG8=\x07", "\x1b[6n"], k=rng.randint(1, 50))),
        lambda: "".join(rng.choices("\t\n\r\x0b\x0c\r\n", k=rng.randint(1, 300))),
        lambda: "".join(rng.choices(NON_LATIN + FOLDING, k=rng.randint(1, 2000))),
        lambda: "".join(rng.choices(EMOJI + "\u200d\U0001f1fa\U0001f1f8\U0001f3fb",
                                    k=rng.randint(1, 500))),
        lambda: "".join(rng.choice("aeiouAEIOU") + rng.choice("\u0301\u0308\u0323\u20dd\u0336")
                        for _ in range(rng.randint(1, 300))),
        lambda: "".join(rng.choices("\ufeff\u200b\u200d\u202e\u2066\u2028\u2029\ufffd\ufffe\uffff"
                                    "\ue000\U0010ffff\U000e0001\x85\x7f\x80\x9f\ufdd0",
                                    k=rng.randint(1, 300))),
        lambda: "".join(rng.choices(string.printable, k=rng.randint(1, 2000))),
    ]
    out, size = [], 0
    while size < n:
        piece = rng.choice(pieces)()
        out.append(piece)
        size += len(piece)
    return "".join(out)


def test_the_hostile_paste_holds_every_class():
    text = hostile_paste(random.Random(7), 200_000)
    assert len(text) >= 200_000
    for needle in ("\x00", "\x1b[31m", "\x1b]0;title\x07", "\t", "\n", "中", "ж", "😀", "\u0301",
                   "\U0010ffff", FOLDING):
        assert needle in text, repr(needle)
    assert not any(unicodedata.category(c) == "Cs" for c in text)  # no lone surrogates


async def test_hostile_pastes_with_keys_behind_them(variable_model):
    rng = random.Random(99)
    app = create_app(delay=5)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(pilot)
        oracle = Oracle(app.session)
        big = hostile_paste(rng, 200_000)
        for text in (big, "\x00" * 10_000, "\x1b[31mred\x1b[0m\x1b]0;owned\x07\x1b[2J", "",
                     "\t\n" * 5000, "\x1b[201~" + "x" * 3000 + "\x1b[200~"):
            app.post_message(events.Paste(text))
            oracle.feed(text)
            if len(oracle.symbols_of(text)) > 4 * 2048:
                # keys arrive while the paste is still being fed: they wait behind it, in order
                await until(lambda: app.session.steps > 0 and app.busy)
                await burst(pilot, random_keys(rng, 60), oracle)
            await settle(pilot)
            check(app, oracle, echo=False)
        assert len(oracle.text) > 20_000
        await answers(pilot, oracle)
        check(app, oracle)  # the echo of the whole stream, once: it is the slow part


def printable(key: events.Key) -> bool:
    return key.character is not None and len(key.character) == 1 and key.character.isprintable()


async def test_help_palette_and_model_switch_under_fuzz(text_model, variable_model, fixed_model):
    rng = random.Random(5)
    app = create_app(delay=6)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(pilot)
        oracle = Oracle(app.session)
        models = {"text": text_model, "letters": variable_model, "fixed": fixed_model}
        for round_ in range(3):
            await burst(pilot, random_keys(rng, 150), oracle)
            check(app, oracle)

            # F1: help ignores keys that are no text; typing (or a paste) closes it and is fed
            app.post_message(events.Key("f1", None))
            await until(lambda: isinstance(app.screen, HelpScreen))
            for key in random_keys(rng, 150):
                if key.key not in ("escape", "f1") and not printable(key):
                    app.post_message(key)
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen) and app.is_running
            check(app, oracle)  # nothing reached the tapes
            if round_ == 1:
                app.post_message(events.Paste("hello\x1b[31m"))
                oracle.feed("hello\x1b[31m")
            else:
                key = char_key(rng.choice(string.ascii_letters + PUNCT + "中😀"))
                app.post_message(key)
                oracle.key(key)
            await until(lambda: app.screen is app.main)
            await settle(pilot)
            check(app, oracle)
            await answers(pilot, oracle)

            # ctrl+p: the command palette takes keys but never runs a command here
            app.post_message(events.Key("ctrl+p", "\x10"))
            await until(lambda: isinstance(app.screen, CommandPalette))
            for ch in rng.choices(string.ascii_letters + " 中😀", k=40):
                app.post_message(char_key(ch))
            app.post_message(events.Key("backspace", None))
            # a long hostile paste into its search box (which takes the first line, so no enter)
            app.post_message(events.Paste(hostile_paste(rng, 100_000).replace("\n", "\x00")))
            await pilot.pause()
            while app.screen is not app.main:
                app.post_message(events.Key("escape", "\x1b"))
                await pilot.pause()
            await settle(pilot)
            check(app, oracle)

            # F3: the next model takes over what was typed; keys typed meanwhile are kept
            app.post_message(events.Key("f3", None))
            keys = [k for k in random_keys(rng, 40) if k.key not in (*DELAY_KEYS, "backspace")]
            # (no delay keys or backspace: whether they reach the old model or the new one is a
            # race, and the two read them differently)
            await burst(pilot, keys, oracle)
            s = app.session
            name = "fixed" if s.kind == "fixed" else s.alphabet.name
            assert name == ("letters", "fixed", "text")[round_]
            oracle.switch(models[name])
            check(app, oracle)
        await answers(pilot, oracle)
        check(app, oracle)


async def test_notifications_show_hostile_text_as_plain_text():
    # toasts are drawn here (run_test hides them by default): a message with markup in it, say a
    # path with "[/b]" in it, once ended the app with a MarkupError
    from trainer import WeightsError

    app = create_app(weights=shipped_weights("variable_delay"))
    plain = app.load_session
    bad = "/home/u/[/b]/[@click=app.quit]w[/]/fixed_delay.safetensors"

    def fail_on_switch(path, delay, strict=True):
        if not strict:
            raise WeightsError(f"{bad}: is truncated")
        return plain(path, delay, strict)

    app.load_session = fail_on_switch
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await ready(pilot)
        for event in (char_key("a"), char_key("["), events.Paste("\udcff[/]\x00[@] 1"),
                      char_key("中"), events.Key("f3", None)):
            app.post_message(event)
        await settle(pilot)
        await pilot.pause(0.2)
        assert app.is_running and app.session.kind == "variable" and app.session.stream == "a"
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any(f"{bad}: is truncated" in t for t in toasts), toasts
        oracle = Oracle(app.session)
        oracle.feed("a")
        await answers(pilot, oracle)
    assert app.return_code in (None, 0)
