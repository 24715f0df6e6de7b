"""`echo-train sweep`: many trials, each a random draw of the training settings, through Ray
Tune (the `[sweep]` extra); trainability and capacity tables from them (trainer/sweep/)."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .cli_base import CliError, Formatter, refuse_outputs
from .config import BOUNDS, CELLS, MAX_DELAY, WHOLE
from .text import inert

INSTALL = "pip install '.[sweep]' in the echo-gru checkout"
GRID = ("cells", "hidden", "params", "max_delay", "draws", "steps", "seed")


def add_parser(sub) -> None:
    s = sub.add_parser(
        "sweep", formatter_class=Formatter,
        help="trainability and capacity of gru, lstm and rnn: random draws of the settings, "
             "on Ray (the [sweep] extra)",
        description="Train every cell at every size and max delay with --draws random draws of "
                    "the training settings (trainer/sweep/space.py: RANGES), each under a fixed "
                    "step budget, on a local Ray (a trial per core) or a cluster (--address). "
                    "Prints, per cell and size, the share of draws that held every delay 0..D "
                    "at 99% (trainability, with a 95% Wilson interval) and the largest delay "
                    "any draw held (capacity). The sweep's folder keeps every finished trial: "
                    "--resume DIR continues an interrupted one.")
    s.add_argument("--cells", default=None, help="the cells, comma-separated (default: "
                                                  + ",".join(CELLS) + ")")
    size = s.add_mutually_exclusive_group()
    size.add_argument("--hidden", default=None,
                      help="hidden sizes, comma-separated (default: 32,64,128)")
    size.add_argument("--params", default=None,
                      help="recurrent parameter counts, comma-separated: each cell gets the "
                           "hidden size whose recurrent layer comes nearest")
    s.add_argument("--max-delay", default=None,
                   help="max delays D, comma-separated, each 1 to 64 (default: 8,16,32)")
    s.add_argument("--draws", type=int, default=None,
                   help="random draws of the settings per grid point (default: 6)")
    s.add_argument("--steps", type=int, default=None,
                   help="each trial's budget in training steps (default: 2000)")
    s.add_argument("--seed", type=int, default=None,
                   help="seeds the draws; draw k trains from seed + k (default: 0)")
    s.add_argument("--dir", type=Path, default=None,
                   help="the new sweep's folder (default: sweeps/sweep-DATE-TIME)")
    s.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the sweep in DIR: its settings come from DIR/plan.json, and "
                        "only the trials with no row yet run")
    s.add_argument("--address", default=None,
                   help="run on an existing Ray cluster: auto, or HOST:PORT (default: a local "
                        "Ray on this machine)")
    s.add_argument("--cpus", type=int, default=None,
                   help="CPUs the local Ray may use, a trial on each (default: all)")
    s.add_argument("--dashboard", action="store_true", help="start Ray's dashboard (local)")
    s.add_argument("--recipe", default=None,
                   help="instead: train this shipped recipe once per seed (--seeds), end to "
                        "end as `echo-train` runs it, and report its steps and seconds")
    s.add_argument("--seeds", default="0-4", help="with --recipe: seeds, as 0-4 or 0,3,7")
    s.add_argument("--bench", action="store_true",
                   help="instead: Ray's own costs (start, memory, per trial) and the speed of "
                        "8 trials on 2 workers against one after another in one process "
                        "(--steps: each trial's, default 3000)")
    s.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    s.add_argument("--plot", type=Path, default=None,
                   help="also draw trainability (heat maps) and capacity as a PNG (needs "
                        "matplotlib: pip install '.[plot]' in the echo-gru checkout)")
    s.add_argument("--markdown", type=Path, default=None,
                   help="also write the trainability and capacity tables as Markdown")
    s.set_defaults(run=run)


def require_ray() -> None:
    """CliError, in one line, when the [sweep] extra is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise CliError(f"sweep runs its trials on Ray Tune, which is not installed: {INSTALL}")
    try:
        import ray.tune  # noqa: F401  (ray without its tune dependencies is no use here)
    except ImportError as e:
        raise CliError(f"sweep needs Ray Tune, which does not import ({e}): {INSTALL}") from None


def listed(text: str, option: str, parse) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise CliError(f"{option} {text!r}: give at least one value")
    return [parse(t, option) for t in items]


def _cell(text: str, option: str) -> str:
    if text not in CELLS:
        raise CliError(f"{option}: {text!r} is not a cell; use {', '.join(CELLS)}")
    return text


def _bounded(lo: int, hi: int, what: str):
    def parse(text: str, option: str) -> int:
        if not (WHOLE.fullmatch(text) and lo <= int(text) <= hi):
            raise CliError(f"{option}: {text!r} is not {what} from {lo} to {hi}")
        return int(text)
    return parse


def seeds(text: str) -> list[int]:
    """'0-4' or '0,3,7' as seeds; CliError otherwise."""
    first, dash, last = text.partition("-")
    if dash and WHOLE.fullmatch(first.strip()) and WHOLE.fullmatch(last.strip()):
        lo, hi = int(first), int(last)
        if lo <= hi:
            return list(range(lo, hi + 1))
    elif not dash:
        return listed(text, "--seeds", _bounded(0, 10**9, "a seed"))
    raise CliError(f"--seeds {text!r}: give a range as 0-4 or seeds as 0,3,7")


def grid_settings(args) -> dict:
    """The grid, checked before Ray starts."""
    by = "params" if args.params is not None else "hidden"
    sizes = (listed(args.params, "--params", _bounded(4, 10**8, "a parameter count"))
             if by == "params" else
             listed(args.hidden or "32,64,128", "--hidden", _bounded(*BOUNDS["hidden"],
                                                                    "a hidden size")))
    settings = dict(
        cells=list(dict.fromkeys(listed(args.cells or ",".join(CELLS), "--cells", _cell))),
        by=by, sizes=sorted(set(sizes)),
        max_delays=sorted(set(listed(args.max_delay or "8,16,32", "--max-delay",
                                     _bounded(1, MAX_DELAY, "a max delay")))),
        draws=6 if args.draws is None else args.draws,
        steps=2000 if args.steps is None else args.steps,
        seed=0 if args.seed is None else args.seed)
    if settings["draws"] < 1:
        raise CliError(f"--draws {settings['draws']} must be at least 1")
    if settings["steps"] < 1:
        raise CliError(f"--steps {settings['steps']} must be at least 1")
    if by == "params":
        from .sweep.space import hidden_for

        lo, hi = BOUNDS["hidden"]
        for cell in settings["cells"]:
            for p in settings["sizes"]:
                if not lo <= hidden_for(cell, p) <= hi:
                    raise CliError(f"--params {p}: a {cell} that size is outside hidden "
                                   f"{lo} to {hi}")
    return settings


def check_outputs(args) -> None:
    """Refuse the output files now rather than after the trials."""
    refuse_outputs((("--json", args.json, "a JSON file"), ("--plot", args.plot, "a PNG image"),
                    ("--markdown", args.markdown, "a Markdown file")), args.plot)


def write_outputs(args, data: dict, png: bytes | None, md: str | None = None) -> int:
    from .outpath import OutputError, write_output

    try:
        if args.json is not None:
            text = json.dumps(data, indent=1) + "\n"
            print(inert(f"wrote {write_output(args.json, text.encode(), 'a JSON file')}"))
        if md is not None and args.markdown is not None:
            print(inert(f"wrote {write_output(args.markdown, md.encode(), 'a Markdown file')}"))
        if png is not None:
            print(inert(f"wrote {write_output(args.plot, png, 'a PNG image')}"))
    except (OutputError, OSError) as e:
        print(inert(f"echo-train: error: could not write the results: {e}"), file=sys.stderr)
        return 1
    return 0


def _folder(args, plan_settings: dict | None):
    """(folder, plan): the resumed sweep's, or a new one's."""
    from .sweep import ledger, space

    if args.resume is not None:
        given = [f"--{n.replace('_', '-')}" for n in GRID if getattr(args, n) is not None]
        if given or args.dir is not None:
            raise CliError(f"--resume takes the sweep's settings from {args.resume}/plan.json; "
                           f"leave out {', '.join(given + ['--dir'] * (args.dir is not None))}")
        try:
            return args.resume, ledger.read_plan(args.resume)
        except ledger.LedgerError as e:
            raise CliError(f"--resume {e}") from None
    folder = args.dir or Path("sweeps") / time.strftime("sweep-%Y%m%d-%H%M%S")
    s = plan_settings
    specs = space.plan(s["cells"], s["sizes"], s["max_delays"], s["draws"], s["steps"],
                       s["seed"], by=s["by"])
    plan = {"command": command_of(args), "settings": s, "ranges": space.RANGES,
            "base": asdict(space.BASE), "threshold": space.THRESHOLD,
            "check_chars": space.CHECK_CHARS, "specs": specs}
    try:
        ledger.create(folder, plan)
    except ledger.LedgerError as e:
        raise CliError(f"--dir {e}") from None
    return folder, ledger.read_plan(folder)


def command_of(args) -> str:
    return " ".join(["echo-train", *map(shlex.quote, args.argv)])


def run(args) -> int:
    if args.recipe is not None:
        return run_recipes(args)
    if args.bench:
        return run_bench(args)
    settings = None if args.resume is not None else grid_settings(args)
    if args.cpus is not None and (args.cpus < 1 or args.address is not None):
        raise CliError("--cpus is for the local Ray, at least 1; a cluster (--address) runs "
                       "as many trials as it has CPUs")
    check_outputs(args)
    require_ray()
    folder, plan = _folder(args, settings)
    return run_sweep(args, folder, plan)


def run_sweep(args, folder: Path, plan: dict) -> int:
    from .cli_train import terminate_as_interrupt
    from .sweep import engine, ledger
    from .sweep.report import as_json, markdown, print_tables

    rows = ledger.read_rows(folder)
    todo = ledger.left(plan, rows)
    session = ledger.start_session(folder, command_of(args))
    s = plan["settings"]
    print(inert(f"echo-train: sweep in {folder}: {len(plan['specs'])} trials "
                f"({len(s['cells'])} cells × {len(s['sizes'])} sizes × "
                f"{len(s['max_delays'])} max delays × {s['draws']} draws, {s['steps']:,} "
                f"steps each), {len(rows)} done, {len(todo)} to run; Ctrl-C stops, --resume "
                f"{folder} continues"), flush=True)
    progress = engine.Progress(folder, plan, rows, session, lambda line: print(inert(line),
                                                                                flush=True))
    if todo:
        terminate_as_interrupt()
        engine.run_on_ray(folder, plan, todo, progress, address=args.address, cpus=args.cpus,
                          dashboard=args.dashboard)
    rows = ledger.read_rows(folder)
    left = ledger.left(plan, rows)
    if rows:
        print_tables(rows, s["by"])
    status = write_outputs(args, as_json(plan, rows, command_of(args)), _png(args, plan, rows),
                           markdown(rows, s["by"])) if rows else 0
    if left:
        print(inert(f"echo-train: sweep stopped with {len(rows)} of {len(plan['specs'])} "
                    f"trials done; echo-train sweep --resume {shlex.quote(str(folder))} runs "
                    f"the other {len(left)}"), file=sys.stderr)
        return 1 if progress.errors else 130
    return status


def _png(args, plan: dict, rows: list[dict]) -> bytes | None:
    if args.plot is None:
        return None
    from .sweep.figures import sweep_png

    return sweep_png(rows, plan["settings"])


def run_bench(args) -> int:
    """--bench: trainer.sweep.bench's figures, printed (and --json)."""
    from .sweep.bench import STEPS, bench, said

    check_outputs(args)
    require_ray()
    r = bench(args.steps or STEPS)
    for line in said(r):
        print(line, flush=True)
    return write_outputs(args, r, None)


def run_recipes(args) -> int:
    """--recipe NAME --seeds ...: the recipe once per seed, end to end, one run at a time on
    every CPU the local Ray has (--cpus), and its steps and seconds, median and worst."""
    from .recipes import RECIPES
    from .sweep import engine, ledger
    from .sweep.recipes import said, summary
    from .threads import cpu_name

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
    where = f"{cpus} CPUs" + (f" ({cpu_name()})" if args.address is None else "")
    print(inert(f"echo-train: recipe {args.recipe}, seeds {args.seeds}, one at a time on "
                f"{where}, in {folder}"), flush=True)
    progress = engine.Progress(folder, plan, [], session,
                               lambda line: print(inert(line), flush=True))
    progress.line = lambda row: (
        f"{row['id']}: {row['steps']:,} steps, {row['seconds']:.1f} s end to end"
        if not row["failed"] else f"{row['id']}: failed: {row['failed']}")
    engine.run_on_ray(folder, plan, specs, progress, address=args.address,
                      cpus=cpus if args.address is None else None, runner="recipe",
                      cpus_per_trial=cpus)
    rows = ledger.read_rows(folder)
    s = summary(rows)
    print(inert(said(args.recipe, s)))
    data = {"command": command_of(args), "recipe": args.recipe, "seeds": chosen,
            "cpus_per_run": cpus, "summary": s, "rows": rows}
    return write_outputs(args, data, None) or (0 if len(rows) == len(specs) else 130)
