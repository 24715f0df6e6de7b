"""`echo-train sweep --recipe NAME --seeds 0-4`: a shipped recipe, once per seed, run end to end
as a user runs it (`echo-train fixed|variable --recipe NAME`, in a child process, timed from its
start to the file written), one run at a time with every CPU Ray gives it. Its steps do not
depend on the machine's load; its seconds do, so the summary gives both, median and worst.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def command_for(name: str, seed: int) -> list[str]:
    """The `echo-train` arguments that train recipe `name` from `seed` (to its own target)."""
    from ..recipes import RECIPES

    r = RECIPES[name]
    return [r.kind, "--recipe", name, "--target", f"{r.target:g}", "--seed", str(seed),
            "--device", "cpu"]


def run_recipe(spec: dict) -> dict:
    """One seed of a recipe, end to end: its row (steps, seconds, the final figures)."""
    import torch

    threads = torch.get_num_threads()  # what Ray gave this trial: the child takes as many
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    row = {k: spec[k] for k in ("id", "recipe", "seed")}
    row["command"] = "echo-train " + " ".join(command_for(spec["recipe"], spec["seed"]))
    with tempfile.TemporaryDirectory(prefix="echo-gru-recipe-") as tmp:
        out = Path(tmp) / "model.safetensors"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "trainer",
                               *command_for(spec["recipe"], spec["seed"]), "--out", str(out)],
                              env=env, capture_output=True, text=True)
        row["seconds"] = round(time.perf_counter() - start, 2)
        row.update(threads=threads, load=round(os.getloadavg()[0], 2),
                   reached="echo-train: target reached" in done.stdout, status=done.returncode)
        if done.returncode != 0 or not out.exists():
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            row.update(failed=(lines[-1] if lines else f"exit status {done.returncode}")[:300],
                       steps=None, train_seconds=None)
            return row
        from ..weights import read_metadata

        meta = read_metadata(out)
    row.update(failed="", steps=int(meta["train_steps"]),
               train_seconds=float(meta["train_seconds"]),
               heldout_accuracy=float(meta["heldout_accuracy"]),
               stream_accuracy=float(meta["stream_accuracy"]))
    return row


def summary(rows: list[dict]) -> dict:
    """Median and worst (most) of steps, end-to-end and training seconds over the runs that
    wrote a file; how many reached the target and how many failed."""
    ok = [r for r in rows if not r.get("failed")]
    out = {"runs": len(rows), "reached": sum(bool(r.get("reached")) for r in rows),
           "failed": len(rows) - len(ok)}
    for key in ("steps", "seconds", "train_seconds"):
        values = [r[key] for r in ok]
        out[key] = ({"median": statistics.median(values), "worst": max(values)} if values
                    else None)
    return out


def said(name: str, s: dict) -> str:
    if s["steps"] is None:
        return f"{name}: every run failed"
    return (f"{name}: {s['reached']} of {s['runs']} reached the target; steps median "
            f"{s['steps']['median']:,.0f}, worst {s['steps']['worst']:,}; end to end median "
            f"{s['seconds']['median']:.1f} s, worst {s['seconds']['worst']:.1f} s (training "
            f"{s['train_seconds']['median']:.1f} s, worst {s['train_seconds']['worst']:.1f} s)"
            + (f"; {s['failed']} failed" if s["failed"] else ""))


def run_command(args) -> int:
    """The --recipe mode of `echo-train sweep`."""
    from ..cli_base import CliError
    from ..cli_sweep import check_outputs, command_of, require_ray, seeds, write_outputs
    from ..recipes import RECIPES
    from ..text import inert
    from . import engine, ledger

    if args.recipe not in RECIPES:
        raise CliError(f"--recipe {args.recipe!r} is not a recipe; use {', '.join(RECIPES)}")
    if args.resume is not None:
        raise CliError("--resume is for grid sweeps; a recipe's seeds are rerun whole")
    chosen = seeds(args.seeds)
    cpus = args.cpus or os.cpu_count() or 1
    check_outputs(args)
    require_ray()
    folder = args.dir or Path("sweeps") / time.strftime(f"recipe-{args.recipe}-%Y%m%d-%H%M%S")
    specs = [{"id": f"{args.recipe}-seed{s}", "recipe": args.recipe, "seed": s}
             for s in chosen]
    plan = {"command": command_of(args), "settings": {"recipe": args.recipe, "seeds": chosen,
                                                      "cpus_per_run": cpus}, "specs": specs}
    try:
        ledger.create(folder, plan)
    except ledger.LedgerError as e:
        raise CliError(f"--dir {e}") from None
    plan = ledger.read_plan(folder)
    session = ledger.start_session(folder, command_of(args))
    print(inert(f"echo-train: recipe {args.recipe}, seeds {args.seeds}, one at a time on "
                f"{cpus} CPUs, in {folder}"), flush=True)
    progress = engine.Progress(folder, plan, [], session,
                               lambda line: print(inert(line), flush=True))
    progress.line = lambda row: inert(
        f"{row['id']}: {row['steps']:,} steps, {row['seconds']:.1f} s end to end"
        if not row["failed"] else f"{row['id']}: failed: {row['failed']}")
    owns = engine.start_ray(args.address, cpus if args.address is None else None)
    try:
        engine.run_trials(folder, plan, specs, progress, runner="recipe", cpus_per_trial=cpus)
    except KeyboardInterrupt:
        pass
    finally:
        if owns:
            import ray
            ray.shutdown()
    rows = ledger.read_rows(folder)
    s = summary(rows)
    print(inert(said(args.recipe, s)))
    return write_outputs(args, {"command": command_of(args), "recipe": args.recipe,
                                "seeds": chosen, "cpus_per_run": cpus, "summary": s,
                                "rows": rows}, None) or (0 if len(rows) == len(specs) else 130)
