"""The app's own benchmark: `python -m echo_tui.bench [--json] [--quick] [--long [--steps N]]`.

Runs echo-tui headless in this process and measures, from the moment the process started:
when the first frame is drawn and when the model is ready; then keystrokes per second through
the app (each key is delivered as a terminal delivers it and waited for before the next); a
100,000-character paste until the last symbol is fed; and the model's one-step call on one CPU
thread. With --json the last line of stdout is one JSON object (echo-train bench reads it).

Torch is imported only by the app's loader, as in a real launch.

With --long it measures a long session instead (no app): 1,000,000 steps through one EchoSession
with its default kept window and undo ring, fed as pastes, with keystrokes (one symbol per feed,
each timed) around the thousandth and around the millionth step: their median and 99th
percentile latency, the peak resident memory the session added, and the bytes its buffers hold.
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


def long_session(steps: int = 1_000_000, keys: int = 1_000, keep: int | None = None) -> dict:
    """Keystroke latency around step `steps` beside that around step 1,000, and the memory the
    long session added.

    The two are measured interleaved, key for key (one to the long session, one to a young
    session of the same settings), so a busy machine slows both alike and their ratio holds.
    """
    import resource

    import numpy as np
    import torch

    from trainer import load_model, shipped_weights

    from .session import KEEP_STEPS, UNDO_STEPS, EchoSession

    torch.set_num_threads(1)
    model = load_model(shipped_weights("variable_delay"))
    keep = KEEP_STEPS if keep is None else keep

    def new_session() -> EchoSession:
        return EchoSession(model, keep_steps=keep, undo_steps=min(UNDO_STEPS, keep))

    warm = new_session()  # so that no measured step is the first of its kind
    for ch in _letters(3_000, seed=6):
        warm.feed(ch)
    warm.feed(_letters(20_000, seed=7))
    del warm
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session = new_session()
    paste = _letters(100_000, seed=5)
    target = steps - keys  # the measured keys are the middle half of 2 * keys
    t0, pasted = time.perf_counter(), 0
    while session.steps < target:
        pasted += session.feed(paste[:target - session.steps])
    paste_s = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    young = new_session()
    young.feed(_letters(max(0, 1_000 - keys), seed=4))
    typed = _letters(2 * keys, seed=3)
    times = np.empty((2, len(typed)))
    for i, ch in enumerate(typed):
        for j, s in enumerate((young, session)):
            t0 = time.perf_counter()
            s.feed(ch)
            times[j, i] = time.perf_counter() - t0
    early, late = times[:, keys // 2:keys // 2 + keys] * 1e6  # centred on 1,000 and on `steps`
    buffers = session._ids.nbytes + session._out.nbytes + session._undo.numel() * 4
    e_med, l_med = float(np.median(early)), float(np.median(late))
    return {"steps": session.steps, "kept": session.kept, "undo_depth": session.undo_depth,
            "keep_steps": session.keep_steps, "undo_steps": session.undo_steps,
            "key_at_1k_median_us": e_med, "key_at_1k_p99_us": float(np.percentile(early, 99)),
            "key_at_end_median_us": l_med, "key_at_end_p99_us": float(np.percentile(late, 99)),
            "end_over_1k": l_med / e_med,
            "paste_us_per_step": paste_s / pasted * 1e6,
            "session_buffers_mb": buffers / 2**20,
            "peak_rss_added_mb": (rss_after - rss_before) / 1024}  # ru_maxrss is in KiB


def _letters(n: int, seed: int) -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m echo_tui.bench", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="fewer keys and steps")
    parser.add_argument("--long", action="store_true",
                        help="a long EchoSession instead: latency at step 1,000 and at --steps")
    parser.add_argument("--steps", type=int, default=1_000_000, metavar="N",
                        help="with --long: how many steps (default 1,000,000)")
    parser.add_argument("--keep", type=int, default=None, metavar="N",
                        help="with --long: the session's kept window (default its KEEP_STEPS)")
    args = parser.parse_args(argv)
    keys, steps = (300, 2_000) if args.quick else (2_000, 10_000)
    if args.long:
        if args.steps < 3_000:
            parser.error("--steps must be at least 3000")
        result = long_session(args.steps, keep=args.keep)
    else:
        result = asyncio.run(run(keys, 100_000, steps))
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:26} {v:12,}" if isinstance(v, int) else f"{k:26} {v:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
