"""What `echo-train sweep` prints and writes: the tables, and the JSON of the whole sweep."""

from __future__ import annotations

import platform
import time

from rich.table import Table

from ..report import console
from .tables import COLLINS, capacity, said_held, trainability, typical, widest_gap


def _size(entry: dict, by: str) -> str:
    if by == "params":
        return f"{entry['size']:,} params (hidden {entry['hidden']})"
    return f"hidden {entry['size']}"


def print_tables(rows: list[dict], by: str) -> None:
    """Trainability per cell and size (a column per max delay), then capacity."""
    train = trainability(rows)
    delays = sorted({e["max_delay"] for e in train})
    console.print("trainability: draws holding every delay 0..D at ≥ 99% within the budget "
                  "(95% Wilson interval); median largest delay held", highlight=False,
                  soft_wrap=True)
    t = Table()
    t.add_column("cell")
    t.add_column("size")
    for d in delays:
        t.add_column(f"D = {d}", justify="right")
    by_key = {(e["cell"], e["size"], e["max_delay"]): e for e in train}
    for cell, size in dict.fromkeys((e["cell"], e["size"]) for e in train):
        cells = []
        for d in delays:
            e = by_key.get((cell, size, d))
            cells.append("" if e is None else
                         f"{e['trained']}/{e['draws']} ({100 * e['low']:.0f}–"
                         f"{100 * e['high']:.0f}%) {said_held(e['median_held'])}")
        first = next(e for e in train if (e["cell"], e["size"]) == (cell, size))
        t.add_row(cell, _size(first, by), *cells)
    console.print(t)
    console.print(f"capacity: the largest delay any draw held (symbols kept = D + 1, "
                  f"{COLLINS['numbers_per_unit']:g} number per unit and "
                  f"~{COLLINS['bits_per_parameter']:g} bits per parameter in Collins et al. "
                  "2017)", highlight=False, soft_wrap=True)
    c = Table()
    for name in ("cell", "size", "recurrent params", "held", "symbols / unit", "bits / unit",
                 "bits / param"):
        c.add_column(name, justify="left" if name in ("cell", "size") else "right")
    for e in capacity(rows):
        c.add_row(e["cell"], _size(e, by), f"{e['recurrent_parameters']:,}",
                  said_held(e["held"]), f"{e['symbols_per_unit']:.2f}",
                  f"{e['bits_per_unit']:.2f}", f"{e['bits_per_parameter']:.3f}")
    console.print(c)
    gap = comparison(rows)
    if gap is not None:
        shares = ", ".join(f"{cell} {100 * v:.0f}%" for cell, v in gap["share"].items())
        console.print(f"the cells differ most at size {gap['size']:,}, max delay "
                      f"{gap['max_delay']} (trained: {shares}); typical draws: "
                      + ", ".join(gap["typical"].values()), highlight=False, soft_wrap=True)


def comparison(rows: list[dict]) -> dict | None:
    """Where the cells differ most, and each cell's typical trial there: what the shipped
    comparison models are trained like (`echo-train variable --trial SWEEP.json:ID`)."""
    gap = widest_gap(rows)
    if gap is not None:
        gap["typical"] = {cell: typical(rows, cell, gap["size"], gap["max_delay"])["id"]
                          for cell in gap["share"]}
    return gap


def as_json(plan: dict, rows: list[dict], command: str) -> dict:
    """The whole sweep: the command that planned it (and `command`, the one writing this), its
    settings and the draws' ranges, one row per trial (in the plan's order), and the tables."""
    order = {s["id"]: i for i, s in enumerate(plan["specs"])}
    rows = sorted(rows, key=lambda r: order.get(r["id"], len(order)))
    return {"command": plan.get("command", command), "written_by": command,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": {"python": platform.python_version(), "processor": platform.machine()},
            **{k: plan[k] for k in ("settings", "ranges", "base", "threshold", "check_chars")
               if k in plan},
            "collins_2017": COLLINS,
            "trials": len(plan["specs"]), "done": len(rows),
            "trainability": trainability(rows), "capacity": capacity(rows),
            "comparison": comparison(rows), "rows": rows}


def markdown(rows: list[dict], by: str) -> str:
    """The trainability and capacity tables as Markdown (docs/sweep.md's, refreshed by
    `echo-train sweep --resume DIR --markdown PATH`)."""
    train = trainability(rows)
    delays = sorted({e["max_delay"] for e in train})
    by_key = {(e["cell"], e["size"], e["max_delay"]): e for e in train}
    out = ["| cell | size | " + " | ".join(f"D = {d}" for d in delays) + " |",
           "| --- | --- |" + " --- |" * len(delays)]
    for cell, size in dict.fromkeys((e["cell"], e["size"]) for e in train):
        first = next(e for e in train if (e["cell"], e["size"]) == (cell, size))
        cells = []
        for d in delays:
            e = by_key.get((cell, size, d))
            cells.append("" if e is None else
                         f"**{e['trained']}/{e['draws']}** ({100 * e['low']:.0f}–"
                         f"{100 * e['high']:.0f}%), median {said_held(e['median_held'])}"
                         + (f", {e['diverged']} diverged" if e["diverged"] else ""))
        out.append(f"| {cell} | {_size(first, by)} | " + " | ".join(cells) + " |")
    out += ["", "| cell | size | recurrent parameters | largest delay held | symbols / unit | "
            "bits / unit | bits / parameter |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for e in capacity(rows):
        out.append(f"| {e['cell']} | {_size(e, by)} | {e['recurrent_parameters']:,} | "
                   f"{said_held(e['held'])} | {e['symbols_per_unit']:.2f} | "
                   f"{e['bits_per_unit']:.2f} | {e['bits_per_parameter']:.4f} |")
    return "\n".join(out) + "\n"
