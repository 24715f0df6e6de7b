"""Helpers for the tests: a fake clock, the model's batch echo, the screen as plain text,
waiting for the app, keys as a terminal sends them."""

from __future__ import annotations

import asyncio
import io
import itertools

import torch
from rich.console import Console
from textual import events

from private import character_to_key, screen_strips, screen_update


def fake_clock(step_s: float = 42e-6):
    """A clock that advances `step_s` per call: latencies on screen become fixed numbers."""
    ticks = itertools.count()
    return lambda: next(ticks) * step_s


def batch_echo(model, text: str, delay: int) -> str:
    """The model's batch output for `text` at `delay`: the reference the app must match."""
    if not text:
        return ""
    ids = torch.tensor([model.alphabet.encode(text)])
    with torch.no_grad():
        pred = model.all_heads(model.memory(ids)[0])[0].argmax(-1)
    return model.alphabet.decode(pred[:, model.head_delays.index(delay)].tolist())


def screen_text(app) -> str:
    """What the terminal shows now, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(screen_update(app))
    return console.export_text()


def screen_lines(app) -> list[str]:
    """What the terminal shows now, a line per row: screen_text's, without drawing it through
    a console (a tenth of the cost, for tests that read many screens)."""
    return [strip.text for strip in screen_strips(app)]


def tape_lines(app, marks: bool = False) -> list[str]:
    """The tapes' rows as drawn, without box and gutter: [typed, echo, typed, echo, ...]; with
    `marks`, each pair is preceded by its line of skip marks: [marks, typed, echo, ...]."""
    rows, lines = [], screen_text(app).splitlines()
    top = next(i for i, line in enumerate(lines) if "typed, and its echo" in line)
    for k in range(top + 1, len(lines)):
        if lines[k].startswith("╰"):
            break
        body = lines[k][1:-1][1:]  # inside the box and its padding
        for label in ("typed ", " echo "):
            if body.startswith(label):
                if marks and label == "typed ":
                    rows.append(lines[k - 1][1:-1][1:][6:].rstrip())
                rows.append(body[len(label):].rstrip())
    return rows


def shown(text: str, alphabet=None) -> str:
    """An echo (or typed text) as the tapes draw it: blanks as ·, spaces as ␣."""
    if alphabet is not None and " " in alphabet.symbols:
        return text.replace(" ", "␣")
    return text.replace(" ", "·")


async def ready(pilot) -> None:
    """Wait for the model and for everything queued to be fed, then for the screen."""
    await pilot.app.wait_idle()
    await pilot.pause()


async def settle(pilot) -> None:
    """Until every key and paste posted so far has reached the screen and been fed.

    (`ready` can return before a just-posted paste has been routed to the screen: the app
    forwards it to the screen, which only then queues it to be fed.)
    """
    app = pilot.app
    while True:
        await pilot.pause()
        await app.wait_idle()
        if not (app.message_queue_size or app.screen.message_queue_size or app.busy):
            await pilot.pause()
            return


async def until(predicate, timeout: float = 60.0) -> None:
    """Until `predicate()` holds; fails (not hangs) after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.005)


async def keys(pilot, *names: str) -> None:
    """Keys as a fast terminal sends them, in one burst (pilot.press idles ~40 ms per key)."""
    for name in names:
        if len(name) == 1:
            key = name if name.isalnum() else "space" if name == " " else character_to_key(name)
            pilot.app.post_message(events.Key(key, name))
        else:
            pilot.app.post_message(events.Key(name, None))
    await ready(pilot)
