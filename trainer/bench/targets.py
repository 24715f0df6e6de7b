"""The figures `echo-train bench` derives from its measurements, shared by the run and the report.

Pure functions of the measured figures: the thresholds, the time to each, the speedups (as a
lower bound where the baseline never got there) and the targets' verdicts. Nothing here
measures, trains or prints.
"""

from __future__ import annotations

from ..report import pct

THRESHOLDS = (0.99, 0.999, 0.9999)
# `echo-train variable --alphabet text` end to end, every delay 0-16 at 99.99% on the
# homework's check and on long streams, within: on a GPU, and on the README's 2 CPU cores
TEXT_GOAL_S = {"cuda": 60.0, "cpu": 240.0}


def key(x: float) -> str:
    return f"{x:g}"


def time_to(history, threshold: float) -> float | None:
    """Training seconds (checks excluded) at the first check that reached `threshold`."""
    for seconds, eval_seconds, _, heldout in history:
        if heldout >= threshold:
            return seconds - eval_seconds
    return None


def speedup(ours: float | None, theirs: float | None, cap_s: float):
    """(ratio, is_lower_bound): theirs/ours; cap/ours as a bound when they never got there."""
    if ours is None:
        return None, False
    if theirs is None:
        return cap_s / ours, True
    return theirs / ours, False


def end_to_end_speedup(result: dict, kind: str, bar: float) -> dict:
    """The baseline's training-only seconds to `bar` over our whole command's seconds."""
    ours = result["end_to_end"][kind]["seconds"]
    base = result["training"][kind]["baseline"]
    value, lower = speedup(ours, base["time_to"][key(bar)], base["cap_s"])
    return {"value": value, "lower_bound": lower}


def ratio_text(r: dict) -> str:
    if r["value"] is None:
        return "n/a"
    return f"{'> ' if r['lower_bound'] else ''}{r['value']:.1f}x"


def target_row(name: str, value, met: bool | None, shown: str) -> dict:
    return {"target": name, "value": value, "met": None if met is None else bool(met),
            "shown": shown}


def targets(result: dict) -> list[dict]:
    """Every target of the open issues, as ratios where the machine would otherwise decide."""
    rows = []
    for kind, other, goal in (("fixed", "homework", 3.0), ("variable", "published", 5.0)):
        r = result["training"][kind]["speedup"][key(THRESHOLDS[-1])]
        rows.append(target_row(f"{kind}: training {goal:g}x faster to 99.99% than {other}",
                               r["value"], r["value"] is not None and r["value"] >= goal,
                               ratio_text(r)))
    for kind, other, bar, goal in (("fixed", "homework", 0.9999, 4.0),
                                   ("variable", "published", 0.999, 8.0)):
        r = end_to_end_speedup(result, kind, bar)
        rows.append(target_row(f"echo-train {kind} end to end {goal:g}x faster than {other}'s "
                               f"training to {100 * bar:g}%", r["value"],
                               r["value"] is not None and r["value"] >= goal, ratio_text(r)))
    if "text" in result["end_to_end"]:
        rows.append(text_target(result["end_to_end"]["text"], result["machine"]["device"]))
    for kind in ("fixed", "variable"):
        acc = result["training"][kind]["ours"]["stream_accuracy"]
        rows.append(target_row(f"{kind}: >= 99.99% on 10,000-step streams", acc, acc >= 0.9999,
                               pct(acc)))
    a = result["app"]
    if not a.get("available"):
        return rows
    v, t = a["session"]["variable_delay"], a["session"]["text_delay"]
    for label, value, goal in (
            ("key through EchoSession.feed / GRUCell call, median", v["key_over_cell_median"],
             0.5),
            ("key through EchoSession.feed / GRUCell call, p99", v["key_over_cell_p99"], 0.5)):
        rows.append(target_row(f"variable letters: {label} <= {goal:g}", value, value <= goal,
                               f"{value:.2f}x"))
    rows.append(target_row("text model: key / GRUCell call, median (reported)",
                           t["key_over_cell_median"], None, f"{t['key_over_cell_median']:.2f}x"))
    for name, call in (("letters_lstm", "LSTMCell"), ("letters_rnn", "RNNCell")):
        value = a["session"][name]["key_over_cell_median"]
        rows.append(target_row(f"{name}: key through feed / {call} call, median <= 1", value,
                               value <= 1.0, f"{value:.2f}x"))
    value = v["paste_over_torch_gru"]
    rows.append(target_row("paste through feed >= 2.5x torch.nn.GRU's symbols/s", value,
                           value >= 2.5, f"{value:.2f}x"))
    rows.append(target_row("keystrokes through the app >= 500/s", a["keystrokes_per_s"],
                           a["keystrokes_per_s"] >= 500, f"{a['keystrokes_per_s']:,.0f}/s"))
    rows.append(target_row("100,000-character paste through the app <= 2 s", a["paste_100k_s"],
                           a["paste_100k_s"] <= 2.0, f"{a['paste_100k_s']:.2f} s"))
    c = a["compare"]
    rows.append(target_row("compare mode (GRU + RNN): keystrokes through the app >= 400/s",
                           c["with_rnn"]["keystrokes_per_s"],
                           c["with_rnn"]["keystrokes_per_s"] >= 400,
                           f"{c['with_rnn']['keystrokes_per_s']:,.0f}/s "
                           f"({c['keys_ratio']:.2f} of one model's)"))
    rows.append(target_row("compare mode: 100,000-character paste through the app <= 3 s",
                           c["with_rnn"]["paste_100k_s"], c["with_rnn"]["paste_100k_s"] <= 3.0,
                           f"{c['with_rnn']['paste_100k_s']:.2f} s "
                           f"({c['paste_ratio']:.2f}x one model's time)"))
    rows.append(target_row("first frame before torch is imported",
                           not a["torch_imported_at_first_frame"],
                           not a["torch_imported_at_first_frame"],
                           "yes" if not a["torch_imported_at_first_frame"] else "no"))
    worst = max(a[f"{v}_end_ms"] for v in ("tapes", "alldelays", "memoryview"))
    rows.append(target_row(f"each view redraws in <= 5 ms at step {a['view_steps']:,}", worst,
                           worst <= 5.0, f"{worst:.2f} ms"))
    look = a["lookback_end_ms"]
    rows.append(target_row("look-back of a 128-step window on the text model <= 50 ms", look,
                           look <= 50.0, f"{look:.1f} ms"))
    frame = max(a["inspect_end_ms"], a["gates_end_ms"])
    rows.append(target_row(f"inspect and gates views <= 5 ms a frame at step "
                           f"{a['view_steps']:,}", frame, frame <= 5.0, f"{frame:.2f} ms"))
    v = a["views_open"]
    share = min(v["keys_inspect_over_none"], v["keys_gates_over_none"])
    rows.append(target_row("keys/s with the inspect view or the gates open >= 90% of none",
                           share, share >= 0.9, f"{100 * share:.0f}%"))
    seconds = a["train_seconds"] if a["train_reached"] else None
    rows.append(target_row("fixed letters trained in the app to 99.99% in <= 20 s", seconds,
                           seconds is not None and seconds <= 20.0,
                           "not reached" if seconds is None else f"{seconds:.1f} s"))
    p99 = a["key_to_echo_p99_ms"]
    rows.append(target_row("key to its echo on screen during training, p99 <= 50 ms", p99,
                           p99 is not None and p99 <= 50.0,
                           "n/a" if p99 is None else f"{p99:.1f} ms"))
    return rows


def text_target(e: dict, device: str) -> dict:
    """The text model's end-to-end target: its time, once both final checks show 99.99%."""
    goal = TEXT_GOAL_S["cuda" if device == "cuda" else "cpu"]
    name = f"{e['command']} end to end, 99.99% at every delay, <= {goal:g} s"
    if e["seconds"] is None:
        return target_row(name, None, False, f"failed: {e['error']}")
    worst = min(e["heldout_accuracy"], e["stream_accuracy"])
    shown = f"{e['seconds']:.1f} s" + ("" if worst >= 0.9999 else f", but {pct(worst)}")
    return target_row(name, e["seconds"], worst >= 0.9999 and e["seconds"] <= goal, shown)
