"""`echo-train bench`: time-to-accuracy beside the homework's recipes, keystroke latency, the app.

Everything runs in one process on one machine, so the figures compare like with like:

1. Training. Each recipe trains from a fixed seed and is checked on held-out data by the same
   evaluator (trainer.evaluate.seed_accuracies: the seed metric, worst delay) every so many
   steps, with trainer.train's check sizes (a check at the last threshold is confirmed on more
   characters, as trainer.train does). Training seconds leave the checks out. Time to X is the
   training seconds at the first check that reached X. Torch keeps its default thread count.
2. Streaming. The shipped variable-delay model on the CPU, one thread (as the app runs it): the
   one-step call's latency, and a pasted stream fed in one batched call versus key by key.
3. App. `python -m echo_tui.bench --json` in a subprocess (trainer never imports echo_tui).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich import box
from rich.markup import escape
from rich.table import Table

from . import baselines, recipes
from .evaluate import FINAL_TEST_SEED, stream_accuracies
from .report import console, pct
from .train import HELDOUT_SEED_OFFSET, TrainConfig, train

# -- settings ----------------------------------------------------------------------------------
SEED = 0
THRESHOLDS = (0.99, 0.999, 0.9999)
TARGET_SPEEDUP = {"fixed": 3.0, "variable": 5.0}  # ours vs. the baseline, to 99.99%
TARGET_STREAM = 0.9999
TARGET_STEP_MEDIAN_US = 100.0
TARGET_STEP_P99_US = 1000.0
TARGET_PASTE_PER_S = 100_000.0
# The baselines' held-out checks, every so many steps: about 1 s of training on 2 CPU cores,
# like trainer.train's default eval_every for ours; the published design's about every 2 s, as
# each of its checks costs a GRU(256) pass per delay.
CHECK_EVERY = {"fixed": 150, "variable": 80}
TRAIN_DEFAULTS = TrainConfig()  # held-out check sizes: the baselines get what ours gets
APP_KEYS = {  # echo_tui.bench's JSON key: (label, how shown)
    "launch_to_first_frame_s": ("launch to first frame", "{:.2f} s"),
    "launch_to_model_ready_s": ("launch to model ready", "{:.2f} s"),
    "keystrokes_per_s": ("keystrokes through the app", "{:,.0f} /s"),
    "paste_100k_s": ("paste of 100,000 symbols", "{:.2f} s"),
    "step_median_us": ("one-step call, median", "{:.1f} us"),
    "step_p99_us": ("one-step call, 99th percentile", "{:.1f} us"),
}


@dataclass(frozen=True)
class Sizes:
    baseline_cap_s: dict  # training seconds a baseline may spend before "not reached"
    ours_max_seconds: float | None  # None: the CLI default's max_seconds
    heldout_chars: int  # per delay, per check
    confirm_chars: int  # per delay, when a check reaches the last threshold
    stream_steps: int  # the accuracy-at-the-end streams
    stream_count: int
    key_steps: int  # one-step calls timed one by one
    paste_symbols: int  # the pasted stream
    paste_chunk: int
    app_timeout_s: float


FULL = Sizes(baseline_cap_s={"fixed": 180.0, "variable": 300.0}, ours_max_seconds=None,
             heldout_chars=TRAIN_DEFAULTS.heldout_chars,
             confirm_chars=TRAIN_DEFAULTS.confirm_chars, stream_steps=10_000, stream_count=8,
             key_steps=100_000, paste_symbols=100_000, paste_chunk=10_000, app_timeout_s=300.0)
QUICK = Sizes(baseline_cap_s={"fixed": 1.0, "variable": 1.0}, ours_max_seconds=1.0,
              heldout_chars=2_000, confirm_chars=10_000, stream_steps=1_000, stream_count=2,
              key_steps=2_000, paste_symbols=20_000, paste_chunk=10_000, app_timeout_s=20.0)


def run_bench(quick: bool = False, json_path: Path | None = None, device: str = "cpu") -> int:
    sizes = QUICK if quick else FULL
    if json_path is not None and not Path(json_path).resolve().parent.is_dir():
        # refuse now rather than after minutes of benchmarking
        print(f"echo-train: error: --json {json_path}: its directory does not exist",
              file=sys.stderr)
        return 2
    torch.manual_seed(SEED)
    result = {"quick": quick, "machine": machine(device), "settings": settings(sizes)}
    console.print(machine_line(result["machine"]))
    try:
        result["training"] = {kind: bench_training(kind, sizes, device)
                              for kind in ("fixed", "variable")}
        result["streaming"] = bench_streaming(sizes)
        result["app"] = bench_app(quick, sizes.app_timeout_s)
    except KeyboardInterrupt:
        print("echo-train: bench interrupted; nothing written", file=sys.stderr)
        return 130
    result["targets"] = targets(result, sizes)
    print_tables(result, sizes)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {json_path}")
    return 0


def settings(sizes: Sizes) -> dict:
    return {"seed": SEED, "thresholds": list(THRESHOLDS),
            "baseline_check_every_steps": CHECK_EVERY,
            **{k: v for k, v in vars(sizes).items() if k != "app_timeout_s"}}


# -- 1. training, side by side -----------------------------------------------------------------

def bench_training(kind: str, sizes: Sizes, device: str) -> dict:
    ours = train_ours(kind, sizes, device)
    say_trained(kind, ours)
    theirs = train_theirs(kind, sizes, device)
    say_trained(kind, theirs)
    cap = sizes.baseline_cap_s[kind]
    ratios = {}
    for x in THRESHOLDS:
        value, lower_bound = speedup(ours["time_to"][key(x)], theirs["time_to"][key(x)], cap)
        ratios[key(x)] = {"value": value, "lower_bound": lower_bound}
    return {"ours": ours, "baseline": theirs, "speedup": ratios}


def train_ours(kind: str, sizes: Sizes, device: str) -> dict:
    # the shipped recipe, as `echo-train fixed|variable` runs it
    cfg = recipes.config(kind, seed=SEED, device=device, target=THRESHOLDS[-1],
                         heldout_chars=sizes.heldout_chars, confirm_chars=sizes.confirm_chars,
                         max_seconds=sizes.ours_max_seconds)
    with console.status(f"training {kind}: echo-gru") as status:
        model, p = train(cfg, on_progress=lambda p: status.update(
            f"training {kind}: echo-gru, {p.seconds - p.eval_seconds:.1f} s, "
            f"held-out {pct(p.heldout)}"))
    stream = stream_accuracies(model, sizes.stream_steps, sizes.stream_count, FINAL_TEST_SEED)
    recipe = (f"embedding, GRU({cfg.hidden}), a head per delay; {cfg.batch} streams x "
              f"{cfg.chunk} steps, state carried; Adam {cfg.lr:g}")
    return summary("echo-gru", recipe, cfg.max_seconds, cfg.eval_every, p.history, p.step,
                   stream)


def train_theirs(kind: str, sizes: Sizes, device: str) -> dict:
    cap = sizes.baseline_cap_s[kind]
    name, recipe = baselines.RECIPES[kind]
    with console.status(f"training {kind}: {name}") as status:
        model, run = baselines.train_baseline(
            kind, cap_s=cap, check_every=CHECK_EVERY[kind], heldout_chars=sizes.heldout_chars,
            confirm_chars=sizes.confirm_chars, heldout_seed=SEED + HELDOUT_SEED_OFFSET,
            target=THRESHOLDS[-1], seed=SEED, device=device, on_check=lambda r: status.update(
                f"training {kind}: {name}, {r.seconds:.1f} s, held-out {pct(r.heldout)}"))
    stream = baselines.accuracies(stream_accuracies, model, sizes.stream_steps,
                                  sizes.stream_count, FINAL_TEST_SEED)
    return summary(name, recipe, cap, CHECK_EVERY[kind], run.history, run.step, stream)


def say_trained(kind: str, run: dict) -> None:
    """One line per finished run, so a long benchmark shows where it is (also when piped)."""
    reached = [f"{100 * x:g}% at {t:.1f} s" for x in THRESHOLDS
               if (t := run["time_to"][key(x)]) is not None]
    console.print(f"{kind} {run['name']}: trained {run['train_seconds']:.1f} s; "
                  f"{', '.join(reached) or 'no threshold reached'}; "
                  f"streams {pct(run['stream_accuracy'])}")


def summary(name: str, recipe: str, cap_s: float, check_every: int, history, steps: int,
            stream) -> dict:
    """The figures of one training run; `history` rows are (seconds, eval_seconds, samples,
    held-out accuracy) at each check, seconds being wall time with checks included."""
    seconds, eval_seconds, samples, heldout = history[-1] if history else (0.0, 0.0, 0, 0.0)
    trained = seconds - eval_seconds
    return {
        "name": name,
        "recipe": recipe,
        "cap_s": cap_s,
        "check_every_steps": check_every,
        "checks": len(history),
        "check_spacing_s": trained / len(history) if history else None,
        "train_seconds": trained,
        "eval_seconds": eval_seconds,
        "steps": steps,
        "samples": samples,
        "final_heldout": heldout,
        "time_to": {key(x): time_to(history, x) for x in THRESHOLDS},
        "stream_accuracy": min(stream.values()),
        "stream_accuracy_per_delay": {str(d): a for d, a in stream.items()},
    }


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


def key(x: float) -> str:
    return f"{x:g}"


# -- 2. streaming ------------------------------------------------------------------------------

def streaming_model():
    """The shipped variable model, or an untrained one of its size (latency does not care)."""
    from .model import VariableDelayGRUMemory
    from .weights import WeightsError, load_model, shipped_weights

    path = shipped_weights("variable_delay")
    why = "not there yet"
    if path.exists():
        try:
            return load_model(path), str(path)
        except WeightsError as e:
            why = str(e)
    d = recipes.RECIPES["variable"]
    torch.manual_seed(SEED)
    model = VariableDelayGRUMemory(d.hidden, d.delay).eval()
    return model, (f"untrained VariableDelayGRUMemory({d.hidden}, {d.delay}): "
                   f"shipped weights {why}")


@torch.inference_mode()
def bench_streaming(sizes: Sizes) -> dict:
    model, source = streaming_model()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        g = torch.Generator().manual_seed(SEED)
        ids = torch.randint(1, len(model.alphabet) + 1, (sizes.paste_symbols,), generator=g)
        with console.status("streaming: one-step calls and a paste"):
            pasted, paste_s = feed_batched(model, ids, sizes.paste_chunk)
            keyed, key_s, latencies_ns = feed_keys(model, ids[:sizes.key_steps])
    finally:
        torch.set_num_threads(threads)
    lat_us = torch.tensor(latencies_ns, dtype=torch.float64) / 1000
    return {
        "model": source,
        "threads": 1,
        "steps": len(latencies_ns),
        "step_median_us": lat_us.median().item(),
        "step_p99_us": lat_us.quantile(0.99).item(),
        "paste_symbols": len(ids),
        "paste_batched_per_s": len(ids) / paste_s,
        "paste_keys_symbols": len(keyed),
        "paste_keys_per_s": len(keyed) / key_s,
        "outputs_match": bool(torch.equal(pasted[:len(keyed)], keyed)),
    }


def feed_batched(model, ids, chunk: int):
    """The whole stream through `memory` a chunk at a time: (argmax per step and head, s)."""
    start = time.perf_counter()
    h, preds = None, []
    for part in ids.split(chunk):
        out, h = model.memory(part[None], h)
        preds.append(model.all_heads(out[0]).argmax(-1))
    return torch.cat(preds), time.perf_counter() - start


def feed_keys(model, ids, warmup: int = 200):
    """The stream key by key through `step`: (argmax per step and head, s, ns per call)."""
    keys = [k.view(1) for k in ids]
    h = None
    for k in keys[:warmup]:  # first calls pay for allocations the app pays once
        _, h = model.step(k, h)
    h, preds, lat = None, [], []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for k in keys:
        t0 = clock()
        logits, h = model.step(k, h)
        lat.append(clock() - t0)
        preds.append(logits.argmax(-1))
    return torch.cat(preds), time.perf_counter() - start, lat


# -- 3. the app --------------------------------------------------------------------------------

def bench_app(quick: bool, timeout_s: float) -> dict:
    """echo_tui's own benchmark, in a subprocess; unavailable (with why) when it fails."""
    cmd = [sys.executable, "-m", "echo_tui.bench", "--json"] + (["--quick"] if quick else [])
    missing = dict.fromkeys(APP_KEYS)
    try:
        with console.status("app: echo_tui.bench"):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"available": False, "error": f"timed out after {timeout_s:g} s", **missing}
    except OSError as e:
        return {"available": False, "error": f"could not start: {e}", **missing}
    if r.returncode != 0:
        why = last_line(r.stderr) or last_line(r.stdout) or f"exit status {r.returncode}"
        return {"available": False, "error": why, **missing}
    try:
        figures = json.loads(last_line(r.stdout))
        return {"available": True, "error": None,
                **{k: float(figures[k]) if figures.get(k) is not None else None
                   for k in APP_KEYS}}
    except (ValueError, TypeError, AttributeError):
        return {"available": False, "error": f"no JSON figures: {last_line(r.stdout)!r}",
                **missing}


def last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


# -- targets and the report --------------------------------------------------------------------

def targets(result: dict, sizes: Sizes) -> list[dict]:
    rows = []
    for kind, other in (("fixed", "homework"), ("variable", "published")):
        r = result["training"][kind]["speedup"][key(THRESHOLDS[-1])]
        goal = TARGET_SPEEDUP[kind]
        rows.append(target_row(f"{kind}: {goal:g}x faster to {100 * THRESHOLDS[-1]:g}% than "
                               f"{other}", r["value"], r["value"] is not None
                               and r["value"] >= goal, ratio_text(r)))
    for kind in ("fixed", "variable"):
        acc = result["training"][kind]["ours"]["stream_accuracy"]
        rows.append(target_row(f"{kind}: ours >= {100 * TARGET_STREAM:g}% on "
                               f"{sizes.stream_steps:,}-step streams", acc,
                               acc >= TARGET_STREAM, pct(acc)))
    s = result["streaming"]
    for name, value, goal, unit in (
            ("step median", s["step_median_us"], TARGET_STEP_MEDIAN_US, "us"),
            ("step p99", s["step_p99_us"], TARGET_STEP_P99_US, "us")):
        rows.append(target_row(f"{name} <= {goal:g} {unit}", value, value <= goal,
                               f"{value:.1f} {unit}"))
    paste = s["paste_batched_per_s"]
    rows.append(target_row(f"batched paste >= {TARGET_PASTE_PER_S:,.0f} symbols/s", paste,
                           paste >= TARGET_PASTE_PER_S, f"{paste:,.0f} /s"))
    return rows


def target_row(name: str, value, met: bool, shown: str) -> dict:
    return {"target": name, "value": value, "met": bool(met), "shown": shown}


def print_tables(result: dict, sizes: Sizes) -> None:
    for kind, r in result["training"].items():
        console.print(training_table(kind, r, sizes))
    console.print(streaming_table(result["streaming"]))
    console.print(app_table(result["app"]))
    t = Table(title="Targets" + (" (a --quick run: reduced sizes, no verdict)"
                                 if result["quick"] else ""))
    t.add_column("target")
    t.add_column("value", justify="right")
    t.add_column("", justify="center")
    for row in result["targets"]:
        t.add_row(row["target"], row["shown"], "[green]met[/]" if row["met"] else "[red]missed[/]")
    console.print(t)
    console.print(machine_line(result["machine"]))


def training_table(kind: str, r: dict, sizes: Sizes) -> Table:
    notes = [f"{s['name']}: {s['recipe']}; trained {s['train_seconds']:.1f} s, checked every "
             f"{s['check_spacing_s'] or 0:.1f} s" for s in (r["ours"], r["baseline"])]
    notes.append("speedup: their seconds / ours; '>' where they never got there, counted at "
                 "their cap")
    t = Table(title=f"Training, {kind} delay: seconds to held-out accuracy (seed metric, "
                    f"worst delay), checks excluded",
              caption=escape("\n".join(notes)), box=box.SIMPLE_HEAD)
    t.add_column("recipe")
    for x in THRESHOLDS:
        t.add_column(f"{100 * x:g}%", justify="right", min_width=11)
    t.add_column(f"{sizes.stream_steps:,}-step streams", justify="right")
    for who in ("ours", "baseline"):
        s = r[who]
        t.add_row(s["name"], *(seconds_text(s["time_to"][key(x)], s["cap_s"]) for x in THRESHOLDS),
                  pct(s["stream_accuracy"]))
    t.add_row("[bold]speedup[/]", *(ratio_text(r["speedup"][key(x)]) for x in THRESHOLDS))
    return t


def seconds_text(s: float | None, cap_s: float) -> str:
    return f"{s:.1f} s" if s is not None else f"not reached\n(cap {cap_s:g} s)"


def ratio_text(r: dict) -> str:
    if r["value"] is None:
        return "n/a"
    return f"{'> ' if r['lower_bound'] else ''}{r['value']:.1f}x"


def streaming_table(s: dict) -> Table:
    t = Table(title="Streaming (CPU, 1 thread)", caption=escape(s["model"]))
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row(f"one-step call, median of {s['steps']:,}", f"{s['step_median_us']:.1f} us")
    t.add_row("one-step call, 99th percentile", f"{s['step_p99_us']:.1f} us")
    t.add_row(f"paste of {s['paste_symbols']:,} in one batch",
              f"{s['paste_batched_per_s']:,.0f} symbols/s")
    t.add_row(f"paste of {s['paste_keys_symbols']:,} key by key",
              f"{s['paste_keys_per_s']:,.0f} symbols/s")
    t.add_row("same outputs both ways", "yes" if s["outputs_match"] else "[red]NO[/]")
    return t


def app_table(a: dict) -> Table:
    t = Table(title="App (headless, echo_tui.bench)")
    t.add_column("figure")
    t.add_column("value", justify="right")
    if not a["available"]:
        t.add_row("unavailable", escape(a["error"]))
        return t
    for k, (label, shown) in APP_KEYS.items():
        t.add_row(label, "n/a" if a[k] is None else shown.format(a[k]))
    return t


# -- the machine -------------------------------------------------------------------------------

def machine(device: str) -> dict:
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "cuda" else cpu_name(),
        "train_threads": torch.get_num_threads(),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_line(m: dict) -> str:
    return (f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, "
            f"device {m['device']} ({m['device_name']}), {m['train_threads']} training threads")
