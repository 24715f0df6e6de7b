"""The app's benchmark, training in the app: a recipe trained from the panel (the real child
process) until its target, with keys sent every 20 ms meanwhile, and the time from each key to
the first redraw of the tapes that shows it."""

from __future__ import annotations

import asyncio
import time

from .long import random_letters as _letters
from .stats import median, percentile, shipped


async def training_figures(sizes: dict, lesson: bool = False) -> dict:
    """The fixed letters recipe trained from the panel, keys every 20 ms meanwhile; with
    `lesson`, the lesson recipe (the panel's first offer for text) on the text model, to its
    own target."""
    from dataclasses import replace

    from textual import events

    from ..app.app import create_app
    from ..training.run import TrainingRun
    from ..app.widgets import Tapes, TrainPanel

    trained = []  # the config the panel's run trained

    def start_run(cfg):
        target = cfg.target if lesson else sizes["train_target"]
        cfg = replace(cfg, target=target, max_steps=sizes["train_steps"])
        trained.append(cfg)
        run = TrainingRun(cfg)
        run.start()
        return run

    drawn: list[tuple[float, int]] = []  # (when, steps shown) at each redraw of the tapes
    app = create_app(weights=None if lesson else shipped("variable_delay"), start_run=start_run)
    async with app.run_test(headless=True, size=(100, 40)) as pilot:
        await app.wait_idle()
        tapes = app.main.query_one(Tapes)
        plain = tapes.render

        def render():
            drawn.append((time.perf_counter(), app.session.steps))
            return plain()

        tapes.render = render
        await app.main.action_toggle_train()
        panel = app.main.query_one(TrainPanel)
        if lesson:  # a variable model on text: the form fills in the lesson recipe
            from textual.widgets import Select

            from trainer.recipes import RECIPES, offered_first

            panel.query_one("#train-kind", Select).value = "variable"
            panel.query_one("#train-alphabet", Select).value = "text"
            await pilot.pause()
            offer = RECIPES[offered_first("variable", "text")]
            assert (panel.config().delay, panel.config().target) == (offer.delay, offer.target)
        started = time.perf_counter()
        panel.start()
        sent: list[tuple[float, int]] = []
        text = _letters(100_000, seed=5, symbols=app.session.alphabet.symbols)
        while panel.running and len(sent) < len(text):
            steps = app.session.steps
            sent.append((time.perf_counter(), steps + 1))
            app.post_message(events.Key(text[len(sent) - 1], text[len(sent) - 1]))
            await asyncio.sleep(0.02)
        seconds = panel.checkpoint.seconds if panel.checkpoint else None
        wall = time.perf_counter() - started
        reached = bool(panel.checkpoint and panel.checkpoint.reached)
        said = str(panel.query_one("#train-progress").render())
        await pilot.pause()
    latencies = []
    for when, steps in sent:
        shown = next((t for t, n in drawn if t >= when and n >= steps), None)
        if shown is not None:
            latencies.append((shown - when) * 1000)
    if not trained:
        raise RuntimeError(f"the panel started no run: {said}")
    cfg = trained[0]
    kind = (f"lesson: {cfg.alphabet}, delays 0-{cfg.delay}" if lesson
            else f"{cfg.kind} {cfg.alphabet}")
    return {"train_kind": kind, "train_target": cfg.target,
            "train_reached": reached, "train_seconds": seconds, "train_wall_s": wall,
            "keys_during_training": len(sent), "keys_seen": len(latencies),
            "key_to_echo_median_ms": median(latencies) if latencies else None,
            "key_to_echo_p99_ms": percentile(latencies, 0.99) if latencies else None}
