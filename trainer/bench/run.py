"""Running `echo-train bench`: the measurements, side by side on one machine.

The three parts (see the package's docstring): training each recipe beside its baseline, the
`echo-train` commands end to end, and the app's own benchmark in a subprocess. The figures
derived from them are in .targets, the tables in .report.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .. import recipes
from ..evaluate import FINAL_TEST_SEED, stream_accuracies
from ..outpath import OutputError, output_target, write_output
from ..report import console, pct
from ..threads import cpu_name
from ..train import HELDOUT_SEED_OFFSET, TrainConfig, confirm_size, train
from . import baselines
from .report import machine_line, print_tables
from .targets import THRESHOLDS, key, speedup, targets, time_to

# -- settings ----------------------------------------------------------------------------------
SEED = 0
# The baselines' held-out checks, every so many steps: about 1 s of training on 2 CPU cores,
# like trainer.train's default eval_every for ours; the published design's about every 2 s, as
# each of its checks costs a GRU(256) pass per delay.
CHECK_EVERY = {"fixed": 150, "variable": 80}
TRAIN_DEFAULTS = TrainConfig()  # held-out check sizes: the baselines get what ours gets
# The published design never reaches 99.9% in 300 s on 2 CPU cores: a cap of 600 s is what it
# takes to tell whether echo-train variable, end to end, is 5x faster than it to 99.9%.
BASELINE_CAP_S = {"fixed": 180.0, "variable": 600.0}


@dataclass(frozen=True)
class Sizes:
    baseline_cap_s: dict  # training seconds a baseline may spend before "not reached"
    ours_max_seconds: float | None  # None: the recipe's max_seconds
    end_to_end_steps: int | None  # --max-steps of the end-to-end commands (None: none)
    heldout_chars: int  # per delay, per check
    confirm_chars: int  # per delay, when a check reaches the last threshold
    stream_steps: int  # the accuracy-at-the-end streams
    stream_count: int
    app_timeout_s: float


FULL = Sizes(baseline_cap_s=BASELINE_CAP_S, ours_max_seconds=None, end_to_end_steps=None,
             heldout_chars=TRAIN_DEFAULTS.heldout_chars,
             confirm_chars=confirm_size(THRESHOLDS[-1]), stream_steps=10_000, stream_count=8,
             app_timeout_s=900.0)
QUICK = Sizes(baseline_cap_s={"fixed": 0.5, "variable": 0.5}, ours_max_seconds=0.5,
              end_to_end_steps=10, heldout_chars=2_000, confirm_chars=10_000,
              stream_steps=1_000, stream_count=2, app_timeout_s=120.0)


# the end-to-end commands: `echo-train` and these arguments (text: the app's own model)
COMMANDS = {"fixed": ["fixed"], "variable": ["variable"],
            "text": ["variable", "--alphabet", "text"]}


def run_bench(quick: bool = False, json_path: Path | None = None, device: str = "cpu",
              baseline_seconds: float | None = None, plot_path: Path | None = None,
              text: bool = False) -> int:
    sizes = QUICK if quick else FULL
    if baseline_seconds is not None:
        sizes = replace(sizes, baseline_cap_s=dict.fromkeys(BASELINE_CAP_S, baseline_seconds))
    for option, path, what in (("--json", json_path, "a JSON file"),
                               ("--plot", plot_path, "a PNG image")):
        try:  # refused now rather than after minutes of benchmarking
            if path is not None:
                output_target(path, what)
        except OutputError as e:
            print(f"echo-train: error: {option} {e}", file=sys.stderr)
            return 2
    torch.manual_seed(SEED)
    result = {"quick": quick, "machine": machine(device), "settings": settings(sizes)}
    console.print(machine_line(result["machine"]), highlight=False, soft_wrap=True)
    if quick:
        console.print("a --quick run only exercises the code, on reduced sizes: its figures "
                      "measure nothing and it gives no verdicts", highlight=False, soft_wrap=True)
    try:
        result["training"] = {kind: bench_training(kind, sizes, device)
                              for kind in ("fixed", "variable")}
        result["end_to_end"] = {kind: end_to_end(kind, sizes, device)
                                for kind in ("fixed", "variable") + (("text",) if text else ())}
        result["app"] = bench_app(quick, sizes.app_timeout_s)
    except KeyboardInterrupt:
        print("echo-train: bench interrupted; nothing written", file=sys.stderr)
        return 130
    result["targets"] = [] if quick else targets(result)
    print_tables(result)
    if json_path is not None:
        write_output(json_path, (json.dumps(result, indent=2) + "\n").encode(), "a JSON file")
        console.print(f"wrote {json_path}", highlight=False, soft_wrap=True)
    if plot_path is not None:
        from ..plots import curves_png

        write_output(plot_path, curves_png(result["training"]), "a PNG image")
        console.print(f"wrote {plot_path}", highlight=False, soft_wrap=True)
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
        # held-out accuracy against training seconds (check time left out), check by check
        "curve": [[s - e, h] for s, e, _, h in history],
        "stream_accuracy": min(stream.values()),
        "stream_accuracy_per_delay": {str(d): a for d, a in stream.items()},
    }


# -- 2. end to end ------------------------------------------------------------------------------

def end_to_end(kind: str, sizes: Sizes, device: str) -> dict:
    """`echo-train COMMANDS[kind]` as a user runs it: wall seconds from its start to the file
    written."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{kind}.safetensors"
        cmd = end_to_end_command(kind, sizes, device, out)
        said = " ".join(["echo-train", *COMMANDS[kind]])
        with console.status(f"end to end: {said}"):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
        if r.returncode != 0 or not out.exists():
            return {"command": said, "seconds": None,
                    "error": last_line(r.stderr) or f"exit status {r.returncode}"}
        from ..weights import read_metadata

        meta = read_metadata(out)
    console.print(f"end to end: {said} wrote its file after {wall:.1f} s", highlight=False)
    return {"command": said, "seconds": wall, "error": None,
            "train_seconds": float(meta["train_seconds"]),
            "reached": "target reached" in r.stdout,
            "heldout_accuracy": float(meta["heldout_accuracy"]),
            "stream_accuracy": float(meta["stream_accuracy"])}


def end_to_end_command(kind: str, sizes: Sizes, device: str, out: Path) -> list[str]:
    """`echo-train COMMANDS[kind]` as a user types it (`python -m trainer`, writing `out`)."""
    cmd = [sys.executable, "-m", "trainer", *COMMANDS[kind], "--device", device, "--seed",
           str(SEED), "--out", str(out)]
    if sizes.end_to_end_steps is not None:
        cmd += ["--max-steps", str(sizes.end_to_end_steps)]
    return cmd


# -- 3. the app ------------------------------------------------------------------------------

def bench_app(quick: bool, timeout_s: float) -> dict:
    """echo_tui's own benchmark, in a subprocess; unavailable (with why) when it fails."""
    try:
        with console.status("the app and the session: echo_tui.bench"):
            r = subprocess.run(app_command(quick), capture_output=True, text=True,
                               timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"available": False, "error": f"timed out after {timeout_s:g} s"}
    except OSError as e:
        return {"available": False, "error": f"could not start: {e}"}
    if r.returncode != 0:
        why = last_line(r.stderr) or last_line(r.stdout) or f"exit status {r.returncode}"
        return {"available": False, "error": why}
    try:
        figures = json.loads(last_line(r.stdout))
    except ValueError:
        return {"available": False, "error": f"no JSON figures: {last_line(r.stdout)!r}"}
    if not isinstance(figures, dict):
        return {"available": False, "error": f"no JSON figures: {last_line(r.stdout)!r}"}
    return {"available": True, "error": None, **figures}


def app_command(quick: bool) -> list[str]:
    """`python -m echo_tui.bench --json [--quick]`: its last line of output is the figures."""
    return [sys.executable, "-m", "echo_tui.bench", "--json"] + (["--quick"] if quick else [])


def last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


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
