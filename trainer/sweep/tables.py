"""Trainability and capacity, computed from a sweep's rows (pure functions: no Ray, no torch).

Trainability (Collins et al. 2017's sense, on this task): of the draws at one grid point (cell,
size, max delay D), the share whose trial held every delay 0..D at 99% or better within the
step budget, with a two-sided 95% Wilson score interval (it stays inside [0, 1] and is sound at
0 of 6, where the normal approximation gives 0 ± 0). Diverged and failed trials count as not
trained.

Capacity: the largest delay D any draw held, over every max delay tried, for a cell and size:
the network then keeps the last D + 1 symbols (delay 0 included), log2(27) bits each. Per
hidden unit it stands beside Collins et al.'s finding that, well tuned, every common cell keeps
about one real number of its input history per unit; per recurrent parameter beside their
~5 bits per parameter (a different measure: bits of a learned random map, not of memory).
"""

from __future__ import annotations

import math
import statistics

BITS_PER_SYMBOL = math.log2(27)  # a letter or the blank
COLLINS = {"numbers_per_unit": 1.0, "bits_per_parameter": 5.0}


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Two-sided Wilson score interval of k successes in n trials (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _key(row: dict) -> tuple:
    return row["cell"], row["size"]


def trainability(rows: list[dict]) -> list[dict]:
    """One entry per (cell, size, max delay): draws, trained, diverged, failed, the share
    trained and its 95% interval, and the median largest delay held."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((*_key(r), r["max_delay"]), []).append(r)
    out = []
    for (cell, size, max_delay), rs in groups.items():
        k = sum(r["held"] >= max_delay for r in rs)
        lo, hi = wilson(k, len(rs))
        out.append({"cell": cell, "size": size, "hidden": rs[0]["hidden"],
                    "recurrent_parameters": rs[0]["recurrent_parameters"],
                    "max_delay": max_delay, "draws": len(rs), "trained": k,
                    "diverged": sum(bool(r["diverged"]) for r in rs),
                    "failed": sum(bool(r["failed"]) for r in rs),
                    "share": k / len(rs), "low": lo, "high": hi,
                    "median_held": statistics.median(r["held"] for r in rs)})
    return sorted(out, key=lambda e: (e["cell"], e["size"], e["max_delay"]))


def capacity(rows: list[dict]) -> list[dict]:
    """One entry per (cell, size): the largest delay held by any draw (-1: none), the symbols
    and bits that is, per hidden unit and per recurrent parameter, and the draw that held it."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(_key(r), []).append(r)
    out = []
    for (cell, size), rs in groups.items():
        best = max(rs, key=lambda r: (r["held"], -r["steps"]))
        symbols = best["held"] + 1
        hidden, params = rs[0]["hidden"], rs[0]["recurrent_parameters"]
        out.append({"cell": cell, "size": size, "hidden": hidden,
                    "recurrent_parameters": params, "held": best["held"], "symbols": symbols,
                    "symbols_per_unit": symbols / hidden,
                    "bits_per_unit": symbols * BITS_PER_SYMBOL / hidden,
                    "bits_per_parameter": symbols * BITS_PER_SYMBOL / params,
                    "best": best["id"]})
    return sorted(out, key=lambda e: (e["cell"], e["size"]))


def said_held(d: float) -> str:
    """A largest delay held, as the tables write it: '0–7', 'none', or a median's '0–6.5'."""
    if d < 0:
        return "none"
    return f"0–{d:g}"


def so_far(rows: list[dict], cells) -> str:
    """'gru 0–16/0–7 · rnn 0–3/none': each cell's best and median largest delay held."""
    parts = []
    for cell in cells:
        held = [r["held"] for r in rows if r["cell"] == cell]
        if held:
            parts.append(f"{cell} {said_held(max(held))}/{said_held(statistics.median(held))}")
    return " · ".join(parts)


def widest_gap(rows: list[dict]) -> dict | None:
    """The grid point (size, max delay) where the cells' trainability differs most (then: their
    median largest delay held; ties go to the longer delay, then the larger size), with each
    cell's share there."""
    points: dict[tuple, dict] = {}
    for e in trainability(rows):
        points.setdefault((e["size"], e["max_delay"]), {})[e["cell"]] = e
    best = None
    for (size, max_delay), cells in points.items():
        if len(cells) < 2:
            continue
        shares = [e["share"] for e in cells.values()]
        helds = [e["median_held"] for e in cells.values()]
        rank = (max(shares) - min(shares), max(helds) - min(helds), max_delay, size)
        if best is None or rank > best[0]:
            best = (rank, size, max_delay, cells)
    if best is None:
        return None
    _, size, max_delay, cells = best
    return {"size": size, "max_delay": max_delay,
            "share": {c: e["share"] for c, e in cells.items()},
            "median_held": {c: e["median_held"] for c, e in cells.items()}}


def typical(rows: list[dict], cell: str, size: int, max_delay: int) -> dict:
    """The typical draw of a cell at a grid point: its trials ranked by the largest delay held,
    then by their worst accuracy within 0..D, and the lower median taken (the 3rd of 6), so
    the one shipped is neither the luckiest nor the unluckiest."""
    group = [r for r in rows if (r["cell"], r["size"], r["max_delay"]) == (cell, size, max_delay)]
    ranked = sorted(group, key=lambda r: (r["held"], min(r["accuracy"] or [0.0]), r["draw"]))
    return ranked[(len(ranked) - 1) // 2]
