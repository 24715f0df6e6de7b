"""The app's own benchmark: `python -m echo_tui.bench [--json] [--quick]`.

Runs echo-tui headless in this process and measures, from the moment the process started:
when the first frame is drawn and when the model is ready; then keystrokes per second through
the app (each key is delivered as a terminal delivers it and waited for before the next); a
100,000-character paste until the last symbol is fed; and the model's one-step call on one CPU
thread. With --json the last line of stdout is one JSON object (echo-train bench reads it).

Torch is imported only by the app's loader, as in a real launch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

_IMPORTED = time.perf_counter()


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


async def run(keys: int, paste: int, steps: int) -> dict:
    start = process_start()
    from textual import events

    from .app import create_app

    app = create_app()
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        await app.wait_idle()
        first_frame, ready = app.first_frame_at - start, app.model_ready_at - start
        await pilot.pause()

        session = app.session
        text = _letters(keys, seed=1)
        t0 = time.perf_counter()
        for i, ch in enumerate(text, 1):
            app.post_message(events.Key(ch, ch))
            while session.steps < i:
                await asyncio.sleep(0)
        keys_per_s = keys / (time.perf_counter() - t0)

        app.action_reset()
        text = _letters(paste, seed=2)
        t0 = time.perf_counter()
        app.post_message(events.Paste(text))
        while session.steps < paste or app.busy:
            await asyncio.sleep(0.001)
        paste_s = time.perf_counter() - t0
        median, p99 = step_latency(session.model, steps)
    return {"launch_to_first_frame_s": first_frame, "launch_to_model_ready_s": ready,
            "keystrokes_per_s": keys_per_s, "paste_100k_s": paste_s * 100_000 / paste,
            "step_median_us": median, "step_p99_us": p99}


def step_latency(model, n: int) -> tuple[float, float]:
    """Median and 99th percentile of the one-step call, in microseconds, on one thread."""
    import torch

    torch.set_num_threads(1)
    ids = [torch.tensor([i]) for i in range(1, len(model.alphabet) + 1)]
    h = model.initial_state(1)
    for i in range(200):  # warm up
        _, h = model.step(ids[i % len(ids)], h)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        _, h = model.step(ids[i % len(ids)], h)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[n // 2] * 1e6, times[min(n - 1, int(n * 0.99))] * 1e6


def _letters(n: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m echo_tui.bench", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer keys and steps")
    args = parser.parse_args(argv)
    keys, steps = (300, 2_000) if args.quick else (2_000, 10_000)
    result = asyncio.run(run(keys, 100_000, steps))
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:26} {v:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
