"""Property: for random strings and delays, the echo through the app equals the model's batch
output, whether the string is typed key by key or pasted."""

from __future__ import annotations

import random
import string

from helpers import batch_echo, keys, ready, shown, tape_lines
from textual import events

from echo_tui import create_app
from trainer import shipped_weights

# mostly letters, some upper case, some keys outside the alphabet
KEYS = string.ascii_lowercase * 3 + "ABCXYZ" + "19 .,!?-"


def random_case(rng: random.Random) -> tuple[str, int]:
    return "".join(rng.choice(KEYS) for _ in range(rng.randint(1, 30))), rng.randint(0, 8)


def delay_keys(d: int) -> list[str]:
    return ["left"] * 8 + ["right"] * d


def check(app, model, text: str, d: int) -> None:
    fed = "".join(ch.lower() for ch in text if ch.lower() in model.alphabet.symbols)
    s = app.session
    assert (s.stream, s.delay) == (fed, d), text
    assert s.echo == batch_echo(model, fed, d), (text, d)
    typed, echo = tape_lines(app)[-2:]  # the newest row on screen
    assert echo == shown(s.echo[len(s.echo) - len(typed):]) if typed else echo == ""


async def test_typed_and_pasted_echo_equals_batch_for_random_strings(variable_model,
                                                                     fixed_model):
    rng = random.Random(20261128)
    app = create_app(weights=shipped_weights("variable_delay"))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        for _ in range(10):
            text, d = random_case(rng)
            await keys(pilot, "ctrl+r", *delay_keys(d), *text)
            check(app, variable_model, text, d)

            await keys(pilot, "ctrl+r", *delay_keys(rng.randint(0, 8)))
            app.post_message(events.Paste(text))
            await keys(pilot, *delay_keys(d))  # pasted at one delay, shown at another
            check(app, variable_model, text, d)

        await pilot.press("f3")  # the fixed-delay model: delay 4 only
        await ready(pilot)
        for _ in range(4):
            text, _d = random_case(rng)
            await keys(pilot, "ctrl+r", *text)
            check(app, fixed_model, text, 4)
            await keys(pilot, "ctrl+r")
            app.post_message(events.Paste(text))
            await ready(pilot)
            check(app, fixed_model, text, 4)
