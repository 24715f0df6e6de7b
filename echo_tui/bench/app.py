"""The app's own benchmark: `python -m echo_tui.bench [--json] [--quick] [--lesson | --long
[--steps N]]`.

Absolute times differ between machines, so the targets are ratios measured side by side in this
one process:

- Session: one keystroke through `EchoSession.feed`, against a bare `torch.nn.GRUCell` call of
  the same hidden size (an LSTMCell, an RNNCell for those cells), measured interleaved key for
  key (median and 99th percentile; one thread each, as the app runs); and a 100,000-symbol
  paste through `feed` (which overlaps its recurrence with its heads on a second thread),
  against the model's own `torch.nn.GRU` (LSTM, RNN) run over the same sequence in one call, on
  one thread and on every core (the faster counts). For the shipped variable-delay letters
  model, the text model and the LSTM and RNN comparison models.
- App (headless, in this process, from the moment the process started): the first frame (and
  whether torch was imported by then), the model ready, keystrokes per second through the app
  (each waited for before the next), and a 100,000-character paste until its last symbol is
  fed; each also as a ratio to the session's own figure.
- Compare mode: keys/s and the paste on the letters GRU alone and with the RNN compared.
- Views: the time to draw the tapes, every-delay rows, memory heat map, inspect view and gates
  at step 1,000 and at step 1,000,000 (their ratio shows the cost does not grow with the
  stream), the look-back of a 128-key window, and keys/s with the inspect view or gates open.
- Training in the app: the fixed letters recipe trained from the panel (the real child process)
  until its target, with keys sent every 20 ms meanwhile, and the time from each key to the
  first redraw of the tapes that shows it.

With --json the last line of stdout is one JSON object (echo-train bench reads it). --lesson
measures only the lesson recipe (text, delays 0-8, to 99.9%) trained in the panel. With --long
it measures a long session instead (no app): 1,000,000 steps through one EchoSession, with
keystrokes around the thousandth and the millionth step, and the memory the session added.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

from trainer.threads import cores

from .long import random_letters as _letters
from .panel import training_figures
from .stats import median, percentile, shipped

_IMPORTED = time.perf_counter()
FULL = dict(keys=2_000, session_keys=20_000, paste=100_000, view_steps=1_000_000,
            train_target=0.9999, train_steps=None)
QUICK = dict(keys=200, session_keys=1_000, paste=10_000, view_steps=20_000,
             train_target=0.9999, train_steps=60)


def process_start() -> float:
    """This process's start on the perf_counter clock (Linux: from /proc; else: this import)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        age = uptime - start_ticks / os.sysconf("SC_CLK_TCK")
        if 0 <= age < 60:
            return time.perf_counter() - age
    except (OSError, ValueError, IndexError):
        pass
    return _IMPORTED


# -- the session against PyTorch ----------------------------------------------------------------

def _cells() -> dict:
    import torch

    return {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell, "rnn": torch.nn.RNNCell}


def session_figures(name: str, keys: int, paste: int) -> dict:
    """A key through EchoSession.feed against a GRUCell call, interleaved; a paste through feed
    against the model's torch.nn.GRU over the same sequence."""
    import torch

    from trainer import load_model, shipped_weights

    from ..core.session import EchoSession

    torch.set_num_threads(1)
    model = load_model(shipped_weights(name))
    hidden = model.hidden_size
    # the bare PyTorch cell of the model's own kind and size: GRUCell, LSTMCell or RNNCell
    cell = _cells()[model.cell](hidden, hidden).eval()
    x, h = torch.zeros(1, hidden), torch.zeros(1, hidden)
    if model.cell == "lstm":
        h = (h, torch.zeros(1, hidden))
    text = _letters(keys + 500, seed=1, symbols=model.alphabet.symbols)
    session = EchoSession(model)
    clock = time.perf_counter_ns
    key_ns, cell_ns = [], []
    with torch.no_grad():
        for k, ch in enumerate(text):
            t0 = clock()
            session.feed(ch)
            t1 = clock()
            cell(x, h)
            t2 = clock()
            if k >= 500:  # the first calls pay for allocations the app pays once
                key_ns.append(t1 - t0)
                cell_ns.append(t2 - t1)
    pasted = _letters(paste, seed=2, symbols=model.alphabet.symbols)
    fresh = EchoSession(model)
    t0 = time.perf_counter()
    fresh.feed(pasted)
    feed_s = time.perf_counter() - t0
    ids = torch.tensor([model.alphabet.encode(pasted)])
    # the session's paste uses a second thread where there is one, so PyTorch gets as many
    # (and is timed with one too: the faster counts)
    torch_s, torch_threads = min((_gru_seconds(model, ids, n), n) for n in sorted({1, cores()}))
    us = [t / 1000 for t in key_ns], [t / 1000 for t in cell_ns]
    return {
        "model": name, "cell": model.cell, "hidden": hidden, "heads": len(model.head_delays),
        "key_median_us": median(us[0]), "key_p99_us": percentile(us[0], 0.99),
        "cell_median_us": median(us[1]), "cell_p99_us": percentile(us[1], 0.99),
        "key_over_cell_median": median(us[0]) / median(us[1]),
        "key_over_cell_p99": percentile(us[0], 0.99) / percentile(us[1], 0.99),
        "paste_per_s": paste / feed_s, "torch_gru_paste_per_s": paste / torch_s,
        "torch_gru_threads": torch_threads, "paste_over_torch_gru": torch_s / feed_s,
    }


def _gru_seconds(model, ids, threads: int) -> float:
    """The model's own torch.nn.GRU (LSTM, RNN) over `ids` in one call, on `threads` threads (then back to
    the thread count it found)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            model.recurrent(model.embed(ids[:, :1000]))  # warm up
            t0 = time.perf_counter()
            model.recurrent(model.embed(ids))
            return time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)


# -- the app --------------------------------------------------------------------------------

async def app_figures(sizes: dict, weights=None, compare: str | None = None,
                      views: tuple[str, ...] = ()) -> dict:
    """The app's figures on `weights` (default: the text model); with `compare` (a shipped
    cell) that cell's letters model compared, as `echo-tui --compare CELL` opens; with the keys
    `views` pressed first (f5: the inspect view)."""
    start = process_start()
    from textual import events

    from ..app.app import create_app

    app = create_app(weights, compare=compare)
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        await app.wait_idle()
        torch_at_first_frame = app.torch_at_first_frame
        first_frame, ready = app.first_frame_at - start, app.model_ready_at - start
        for key in views:
            await pilot.press(key)
        await pilot.pause()

        s = app.session
        text = _letters(sizes["keys"], seed=1, symbols=s.alphabet.symbols)
        t0 = time.perf_counter()
        for i, ch in enumerate(text, 1):
            app.post_message(events.Key(ch, ch))
            while s.steps < i:
                await asyncio.sleep(0)
        keys_per_s = sizes["keys"] / (time.perf_counter() - t0)

        app.main.action_reset()
        text = _letters(sizes["paste"], seed=2, symbols=s.alphabet.symbols)
        t0 = time.perf_counter()
        app.post_message(events.Paste(text))
        while s.steps < sizes["paste"] or app.busy:
            await asyncio.sleep(0.001)
        paste_s = time.perf_counter() - t0
        if compare is not None:  # both models were fed every key
            assert app.main.compared is not None and app.main.compared.steps == s.steps
    return {"launch_to_first_frame_s": first_frame,
            "torch_imported_at_first_frame": torch_at_first_frame,
            "launch_to_model_ready_s": ready, "keystrokes_per_s": keys_per_s,
            "paste_100k_s": paste_s * 100_000 / sizes["paste"]}


def app_over_session(app: dict, text_model: dict) -> dict:
    """The app's figures as shares of the session's own (the app opens on the text model): 1.0
    would be an app that costs nothing on top of the GRU steps."""
    return {"app_keys_over_session": app["keystrokes_per_s"] * text_model["key_median_us"] / 1e6,
            "app_paste_over_session": 100_000 / text_model["paste_per_s"] / app["paste_100k_s"]}


async def view_figures(steps: int) -> dict:
    """Milliseconds to draw each view at step 1,000 and at step `steps` (medians of 20)."""
    from ..app.app import create_app
    from ..core.session import EchoSession
    from ..app.widgets import AllDelays, MemoryView, Tapes

    app = create_app()
    out = {}
    async with app.run_test(headless=True, size=(100, 40)) as pilot:
        await app.wait_idle()
        model = app.session.model
        for label, n in (("1k", 1_000), ("end", steps)):
            session = EchoSession(model)
            paste = _letters(min(n, 100_000), seed=3, symbols=model.alphabet.symbols)
            while session.steps < n:
                session.feed(paste[:n - session.steps])
            app.main.use_session(session)
            for widget, draw in ((app.main.query_one(Tapes), lambda w: w.render()),
                                 (app.main.query_one(AllDelays), lambda w: w.render()),
                                 (app.main.query_one(MemoryView),
                                  lambda w: w.render_lines_for())):
                if not widget.display:  # every delay at once takes the tapes' place (f4)
                    app.main.action_toggle_delays()
                app.main.redraw()
                await pilot.pause()
                assert widget.display and widget.content_size.width > 0
                times = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    draw(widget)
                    times.append((time.perf_counter() - t0) * 1000)
                out[f"{type(widget).__name__.lower()}_{label}_ms"] = median(times)
            if not app.main.query_one(Tapes).display:
                app.main.action_toggle_delays()
            out.update(await _look_views(app, pilot, label))
    out["view_steps"] = steps
    return out


async def _look_views(app, pilot, label: str) -> dict:
    """Milliseconds per frame of the inspect view (f5, its look-back already computed) and of
    the memory view drawing the update gate (f6), and the look-back itself."""
    screen = app.main
    screen.action_toggle_inspect()
    screen.memory.cycle_showing()
    await pilot.pause()
    out = {}
    for name, work in (("lookback", screen.inspect.compute),
                       ("inspect", screen.inspect.render),
                       ("gates", screen.memory.render_lines_for)):
        times = []
        for _ in range(10 if name == "lookback" else 20):
            t0 = time.perf_counter()
            work()
            times.append((time.perf_counter() - t0) * 1000)
        out[f"{name}_{label}_ms"] = median(times)
    screen.action_toggle_inspect()
    while screen.memory.showing != "state":
        screen.memory.cycle_showing()
    return out


async def views_open_figures(sizes: dict) -> dict:
    """Keystrokes per second through the app with no view open, the inspect view (f5) open,
    and the gates (f6) drawn, one after the other in this process."""
    out = {}
    for label, keys in (("none", ()), ("inspect", ("f5",)), ("gates", ("f6",))):
        out[f"keys_per_s_{label}"] = (await app_figures(sizes, views=keys))["keystrokes_per_s"]
    for label in ("inspect", "gates"):
        out[f"keys_{label}_over_none"] = out[f"keys_per_s_{label}"] / out["keys_per_s_none"]
    return out


async def run(sizes: dict) -> dict:
    # the app first: its first frame must be measured before anything here imports torch
    result = await app_figures(sizes)
    result["session"] = {name: session_figures(name, sizes["session_keys"], sizes["paste"])
                         for name in ("variable_delay", "text_delay", "letters_lstm",
                                      "letters_rnn")}
    result.update(app_over_session(result, result["session"]["text_delay"]))
    result.update(await view_figures(sizes["view_steps"]))
    result.update(await training_figures(sizes))
    result["compare"] = await compare_figures(sizes)
    result["views_open"] = await views_open_figures(sizes)
    return result


async def compare_figures(sizes: dict) -> dict:
    """Keys/s and the paste through the app on the shipped letters GRU, alone and with the
    plain RNN compared (`echo-tui --compare rnn`): the ratio is what compare mode costs."""
    from ..core.models import COMPARISON

    alone = await app_figures(sizes, weights=shipped(COMPARISON["gru"]))
    both = await app_figures(sizes, compare="rnn")
    keep = ("keystrokes_per_s", "paste_100k_s")
    return {"alone": {k: alone[k] for k in keep}, "with_rnn": {k: both[k] for k in keep},
            "keys_ratio": both["keystrokes_per_s"] / alone["keystrokes_per_s"],
            "paste_ratio": both["paste_100k_s"] / alone["paste_100k_s"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m echo_tui.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true",
                        help="only exercise the code, on reduced sizes: figures mean little")
    parser.add_argument("--lesson", action="store_true",
                        help="only the lesson recipe (text, delays 0-8, to 99.9%%) trained in the "
                             "app's panel, keys every 20 ms meanwhile")
    parser.add_argument("--long", action="store_true",
                        help="a long EchoSession instead: latency at step 1,000 and at --steps")
    parser.add_argument("--steps", type=int, default=1_000_000, metavar="N",
                        help="with --long: how many steps (default 1,000,000)")
    parser.add_argument("--keep", type=int, default=None, metavar="N",
                        help="with --long: the session's kept window (default its KEEP_STEPS)")
    args = parser.parse_args(argv)
    if args.lesson:
        sizes = QUICK if args.quick else FULL
        result = asyncio.run(training_figures(sizes, lesson=True))
    elif args.long:
        if args.steps < 3_000:
            parser.error("--steps must be at least 3000")
        from .long import long_session

        result = long_session(args.steps, keep=args.keep)
    else:
        result = asyncio.run(run(QUICK if args.quick else FULL))
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
