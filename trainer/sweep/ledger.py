"""A sweep's folder: what makes it resumable.

    DIR/plan.json      the settings, the draws' ranges and every trial's spec, written once
    DIR/rows.jsonl     one finished trial per line, appended (and synced) as each finishes
    DIR/sessions.jsonl one line per start or resume of the sweep
    DIR/tune/          Ray Tune's own records

An interrupted sweep (Ctrl-C, a lost worker, the machine gone) keeps every row written; a
resume runs the specs that have no row. A line cut short by a kill is not a row.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

VERSION = 1


class LedgerError(ValueError):
    """A sweep folder that cannot be started or resumed, in one sentence."""


def create(folder: Path, plan: dict) -> None:
    """Start a sweep in `folder` (made if missing; refused if it holds a sweep or anything)."""
    if folder.exists() and not folder.is_dir():
        raise LedgerError(f"{folder}: is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        hint = " (--resume continues it)" if (folder / "plan.json").exists() else ""
        raise LedgerError(f"{folder}: is not empty{hint}; give a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / "plan.json", dict(plan, version=VERSION))


def read_plan(folder: Path) -> dict:
    """The plan of the sweep in `folder`; LedgerError when there is none."""
    path = folder / "plan.json"
    try:
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        raise LedgerError(f"{folder}: holds no sweep (no plan.json)") from None
    except (OSError, ValueError) as e:
        raise LedgerError(f"{path}: cannot be read as a sweep's plan ({e})") from None
    if not isinstance(plan, dict) or plan.get("version") != VERSION or "specs" not in plan:
        raise LedgerError(f"{path}: is not a plan of this version of echo-train sweep")
    return plan


def read_rows(folder: Path) -> list[dict]:
    """Every finished trial's row, first written first; the last of several rows of one trial
    counts (a sweep never writes two, but a hand-merged file might)."""
    path = folder / "rows.jsonl"
    if not path.exists():
        return []
    rows = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if isinstance(row, dict) and "id" in row:
            rows[row["id"]] = row
    return list(rows.values())


def append_row(folder: Path, row: dict) -> None:
    """Add a finished trial's row, on disk before this returns."""
    with open(folder / "rows.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def start_session(folder: Path, command: str) -> int:
    """Record a start or resume of the sweep; its number (1 for the first)."""
    path = folder / "sessions.jsonl"
    n = len(path.read_text().splitlines()) + 1 if path.exists() else 1
    with open(path, "a") as f:
        f.write(json.dumps({"session": n, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "command": command}) + "\n")
    return n


def left(plan: dict, rows: list[dict]) -> list[dict]:
    """The specs with no row yet, in the plan's order."""
    done = {r["id"] for r in rows}
    return [s for s in plan["specs"] if s["id"] not in done]


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
