"""What `echo-train bench` prints: one table per part, then the targets (not after --quick)."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from ..report import console, pct
from .targets import THRESHOLDS, end_to_end_speedup, key, ratio_text


def print_tables(result: dict) -> None:
    for kind, r in result["training"].items():
        console.print(training_table(kind, r, result["settings"]["stream_steps"]))
    console.print(end_to_end_table(result))
    a = result["app"]
    if not a.get("available"):
        console.print(f"The app's benchmark is unavailable: {escape(a['error'])}",
                      highlight=False, soft_wrap=True)
    else:
        for table in (session_table(a), app_table(a), views_table(a), in_app_table(a)):
            console.print(table)
    if result["targets"]:
        console.print(targets_table(result["targets"]))


def machine_line(m: dict) -> str:
    return (f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, "
            f"device {m['device']} ({m['device_name']}), {m['train_threads']} training threads")


def training_table(kind: str, r: dict, stream_steps: int) -> Table:
    notes = [f"{s['name']}: {s['recipe']}; trained {s['train_seconds']:.1f} s, checked every "
             f"{s['check_spacing_s'] or 0:.1f} s" for s in (r["ours"], r["baseline"])]
    notes.append("speedup: their seconds / ours; '>' where they never got there, counted at "
                 "their cap")
    t = Table(title=f"Training, {kind} delay: seconds to held-out accuracy (homework's check, "
                    f"worst delay), checks excluded",
              caption=escape("\n".join(notes)), box=box.SIMPLE_HEAD)
    t.add_column("recipe")
    for x in THRESHOLDS:
        t.add_column(f"{100 * x:g}%", justify="right", min_width=11)
    t.add_column(f"{stream_steps:,}-step streams", justify="right")
    for who in ("ours", "baseline"):
        s = r[who]
        t.add_row(s["name"], *(seconds_text(s["time_to"][key(x)], s["cap_s"]) for x in THRESHOLDS),
                  pct(s["stream_accuracy"]))
    t.add_row("[bold]speedup[/]", *(ratio_text(r["speedup"][key(x)]) for x in THRESHOLDS))
    return t


def end_to_end_table(result: dict) -> Table:
    t = Table(title="End to end: the command's start to the file written, against the "
                    "baseline's training-only seconds", box=box.SIMPLE_HEAD)
    for name in ("command", "wall", "baseline to", "baseline", "speedup"):
        t.add_column(name, justify="left" if name == "command" else "right")
    for kind, bar in (("fixed", 0.9999), ("variable", 0.999)):
        e = result["end_to_end"][kind]
        base = result["training"][kind]["baseline"]
        wall = f"{e['seconds']:.1f} s" if e["seconds"] is not None else escape(e["error"])
        t.add_row(e["command"], wall, f"{100 * bar:g}%",
                  f"{base['name']}: " + seconds_text(base["time_to"][key(bar)], base["cap_s"]),
                  ratio_text(end_to_end_speedup(result, kind, bar)))
    e = result["end_to_end"].get("text")
    if e is not None:  # no baseline: its target is a time (the targets' table)
        wall = f"{e['seconds']:.1f} s" if e["seconds"] is not None else escape(e["error"])
        t.add_row(e["command"], wall, "99.99%", "", "")
    return t


def session_table(a: dict) -> Table:
    t = Table(title="Session against PyTorch, in one process", box=box.SIMPLE_HEAD)
    for name in ("model", "key\nvia feed", "torch\ncell call", "ratio", "paste via\nfeed, /s",
                 "torch.nn\nlayer, /s", "ratio"):
        t.add_column(name, justify="left" if name == "model" else "right",
                     no_wrap=name == "model")
    threads = {}
    for s in a["session"].values():
        threads[s["model"]] = s.get("torch_gru_threads", 1)
        t.add_row(f"{s['model']}\n({s.get('cell', 'gru')} {s['hidden']}, {s['heads']} heads)",
                  f"{s['key_median_us']:.1f} /\n{s['key_p99_us']:.1f} µs",
                  f"{s['cell_median_us']:.1f} /\n{s['cell_p99_us']:.1f} µs",
                  f"{s['key_over_cell_median']:.2f} /\n{s['key_over_cell_p99']:.2f}",
                  f"{s['paste_per_s']:,.0f}", f"{s['torch_gru_paste_per_s']:,.0f}",
                  f"{s['paste_over_torch_gru']:.2f}x")
    faster = (_threads(next(iter(threads.values()))) if len(set(threads.values())) == 1 else
              "; ".join(f"{model}: {_threads(n)}" for model, n in threads.items()))
    t.caption = ("model (cell and hidden size, heads); key: median / 99th percentile, one "
                 "thread each, against a bare GRUCell, LSTMCell or RNNCell of the same size; "
                 "paste: 100,000 symbols, the session on two threads, the model's own "
                 "torch.nn.GRU (LSTM, RNN) timed on one and on every core, the faster shown "
                 f"(here {faster})")
    return t


def _threads(n: int) -> str:
    return "1 thread" if n == 1 else f"{n} threads"


def app_table(a: dict) -> Table:
    t = Table(title="The app (headless, in the benchmark's process)", box=box.SIMPLE_HEAD)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("launch to first frame", f"{a['launch_to_first_frame_s']:.2f} s"
              + (" (torch not yet imported)" if not a["torch_imported_at_first_frame"] else ""))
    t.add_row("launch to model ready", f"{a['launch_to_model_ready_s']:.2f} s")
    t.add_row("keystrokes through the app", f"{a['keystrokes_per_s']:,.0f}/s "
              f"({a['app_keys_over_session']:.2f} of the session's own)")
    t.add_row("paste of 100,000 characters", f"{a['paste_100k_s']:.2f} s "
              f"({a['app_paste_over_session']:.2f} of the session's own speed)")
    c = a.get("compare")
    if c:
        t.add_row("letters GRU alone: keystrokes / paste of 100,000",
                  f"{c['alone']['keystrokes_per_s']:,.0f}/s / {c['alone']['paste_100k_s']:.2f} s")
        t.add_row("letters GRU, the RNN compared: keystrokes / paste",
                  f"{c['with_rnn']['keystrokes_per_s']:,.0f}/s / "
                  f"{c['with_rnn']['paste_100k_s']:.2f} s ({c['keys_ratio']:.2f} / "
                  f"{c['paste_ratio']:.2f}x of alone)")
    return t


def views_table(a: dict) -> Table:
    t = Table(title=f"Redrawing each view (ms), at step 1,000 and at step {a['view_steps']:,}",
              box=box.SIMPLE_HEAD)
    for name in ("view", "step 1,000", f"step {a['view_steps']:,}"):
        t.add_column(name, justify="left" if name == "view" else "right")
    for label, k in (("tapes", "tapes"), ("every delay", "alldelays"),
                     ("memory over time", "memoryview"), ("inspect (f5)", "inspect"),
                     ("gates (f6)", "gates"), ("look-back, 128 keys", "lookback")):
        if f"{k}_1k_ms" in a:
            t.add_row(label, f"{a[f'{k}_1k_ms']:.2f}", f"{a[f'{k}_end_ms']:.2f}")
    v = a.get("views_open")
    if v:
        t.caption = (f"keys/s through the app: {v['keys_per_s_none']:,.0f} with no view open, "
                     f"{v['keys_per_s_inspect']:,.0f} with the inspect view, "
                     f"{v['keys_per_s_gates']:,.0f} with the gates")
    return t


def in_app_table(a: dict) -> Table:
    t = Table(title=f"Training in the app: {a['train_kind']} to "
                    f"{100 * a['train_target']:g}%, keys every 20 ms meanwhile",
              box=box.SIMPLE_HEAD)
    t.add_column("figure")
    t.add_column("value", justify="right")
    seconds = a["train_seconds"]
    t.add_row("training seconds (the run's own clock)",
              "n/a" if seconds is None else f"{seconds:.1f} s"
              + ("" if a["train_reached"] else " (target not reached)"))
    t.add_row("wall seconds, start to takeover", f"{a['train_wall_s']:.1f} s")
    for label, k in (("key to its echo on screen, median", "key_to_echo_median_ms"),
                     ("key to its echo on screen, 99th percentile", "key_to_echo_p99_ms")):
        t.add_row(label, "n/a" if a[k] is None else f"{a[k]:.1f} ms")
    t.add_row("keys sent / seen on screen", f"{a['keys_during_training']} / {a['keys_seen']}")
    return t


def targets_table(rows: list[dict]) -> Table:
    t = Table(title="Targets", box=box.SIMPLE_HEAD)
    t.add_column("target")
    t.add_column("value", justify="right")
    t.add_column("", justify="center")
    for row in rows:
        verdict = ("" if row["met"] is None else "[green]met[/]" if row["met"]
                   else "[red]missed[/]")
        t.add_row(row["target"], row["shown"], verdict)
    return t


def seconds_text(s: float | None, cap_s: float) -> str:
    return f"{s:.1f} s" if s is not None else f"not reached\n(cap {cap_s:g} s)"
