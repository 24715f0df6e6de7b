"""`python -m echo_tui.bench --long`: one long EchoSession, no app (echo_tui.bench runs it)."""

from __future__ import annotations

import time



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

    from ..core.session import KEEP_STEPS, UNDO_STEPS, EchoSession

    torch.set_num_threads(1)
    model = load_model(shipped_weights("variable_delay"))
    keep = KEEP_STEPS if keep is None else keep

    def new_session() -> EchoSession:
        return EchoSession(model, keep_steps=keep, undo_steps=min(UNDO_STEPS, keep))

    warm = new_session()  # so that no measured step is the first of its kind
    for ch in random_letters(3_000, seed=6):
        warm.feed(ch)
    warm.feed(random_letters(20_000, seed=7))
    del warm
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session = new_session()
    paste = random_letters(100_000, seed=5)
    target = steps - keys  # the measured keys are the middle half of 2 * keys
    t0, pasted = time.perf_counter(), 0
    while session.steps < target:
        pasted += session.feed(paste[:target - session.steps]).steps
    paste_s = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    young = new_session()
    young.feed(random_letters(max(0, 1_000 - keys), seed=4))
    typed = random_letters(2 * keys, seed=3)
    times = np.empty((2, len(typed)))
    for i, ch in enumerate(typed):
        for j, s in enumerate((young, session)):
            t0 = time.perf_counter()
            s.feed(ch)
            times[j, i] = time.perf_counter() - t0
    early, late = times[:, keys // 2:keys // 2 + keys] * 1e6  # centred on 1,000 and on `steps`
    buffers = sum(a.nbytes for a in (session._rows.ids, session._rows.out, session._rows.conf, session._typed.at,
                                     session._typed.codes, session._rows.undo))
    e_med, l_med = float(np.median(early)), float(np.median(late))
    return {"steps": session.steps, "kept": session.kept, "undo_depth": session.undo_depth,
            "keep_steps": session.keep_steps, "undo_steps": session.undo_steps,
            "key_at_1k_median_us": e_med, "key_at_1k_p99_us": float(np.percentile(early, 99)),
            "key_at_end_median_us": l_med, "key_at_end_p99_us": float(np.percentile(late, 99)),
            "end_over_1k": l_med / e_med,
            "paste_us_per_step": paste_s / pasted * 1e6,
            "session_buffers_mb": buffers / 2**20,
            "peak_rss_added_mb": (rss_after - rss_before) / 1024}  # ru_maxrss is in KiB


def random_letters(n: int, seed: int, symbols: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    import random

    rng = random.Random(seed)
    return "".join(rng.choice(symbols) for _ in range(n))
