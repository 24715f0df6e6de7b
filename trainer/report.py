"""What `echo-train` prints: a live progress bar and per-delay accuracy tables (Rich)."""

from __future__ import annotations

import math
import sys

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .text import count, inert

console = Console()


class TrainingBar:
    """Progress against --max-seconds, with samples/s, loss and held-out accuracy.

    Without a terminal (a log file, CI) a live bar shows nothing until the end, so a plain
    line is printed every LOG_EVERY seconds instead.
    """

    LOG_EVERY = 10.0

    def __init__(self, cfg):
        self.cfg = cfg
        self.last_log = 0.0
        self.progress = Progress(
            TextColumn(f"[bold]{cfg.kind}[/] on {cfg.device}"), BarColumn(),
            TimeElapsedColumn(), TextColumn("{task.fields[stats]}"),
            console=console, transient=False)

    def __enter__(self):
        self.progress.__enter__()
        self.task = self.progress.add_task("train", total=self.cfg.max_seconds, stats="starting")
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def tick(self, control) -> None:
        """Between checks: the elapsed time, and before the first check the steps so far (a
        large model's first check can be minutes away)."""
        p = control.progress
        if p is None or p.history:
            self.progress.update(self.task, completed=min(self.elapsed(), self.cfg.max_seconds))
            return
        stats = f"step {p.step:,}; the first check is at step {self.cfg.eval_every:,}"
        self.progress.update(self.task, completed=min(self.elapsed(), self.cfg.max_seconds),
                             stats=stats)

    def elapsed(self) -> float:
        return self.progress.tasks[0].elapsed or 0.0

    def update(self, p):
        rate = p.samples / p.seconds if p.seconds else 0.0
        stats = (f"{rate / 1000:,.0f}k sym/s  loss {p.loss:.4f}  "
                 f"held-out {100 * p.heldout:.3f}%")
        if p.trained_delay < self.cfg.delay and self.cfg.kind == "variable":
            stats += f"  delays 0-{p.trained_delay}"
        if p.heldout_stream:
            stats += f"  stream {100 * p.heldout_stream:.3f}%"
        # a run that reaches its target stops early: the bar says so rather than stopping short
        done = self.cfg.max_seconds if p.reached else min(p.seconds, self.cfg.max_seconds)
        self.progress.update(self.task, completed=done, stats=stats)
        if not console.is_terminal and p.seconds - self.last_log >= self.LOG_EVERY:
            self.last_log = p.seconds
            console.print(f"{p.seconds:6.1f} s  step {p.step}  {stats}", highlight=False)


def print_reached(cfg, p, cut: bool = False) -> None:
    """One line on why training stopped: the target reached early, or a limit (`cut`: it came
    in the middle of a step, and the model is the last finished step's)."""
    if p.reached:
        print(f"echo-train: target reached at step {p.step:,} after {p.seconds:.1f} s: held-out "
              f"{pct(p.heldout)} at the worst delay, {100 * cfg.target:g}% within 95% "
              "confidence, so training stopped early", flush=True)
        return
    limit = (f"--max-steps {cfg.max_steps}" if cfg.max_steps is not None
             and p.step >= cfg.max_steps else f"--max-seconds {cfg.max_seconds:g}")
    held = (f"held-out {pct(p.heldout)} at the worst delay has not reached --target "
            f"{100 * cfg.target:g}%" if p.history else "no held-out check had run yet")
    during = f" (step {p.step + 1:,} was under way and is left out)" if cut else ""
    print(f"echo-train: warning: stopped by {limit} at step {p.step:,}{during}: {held}; "
          "the file is written anyway (train longer with --max-seconds)", file=sys.stderr,
          flush=True)


def print_eval_table(title, seed_counts, stream_counts, footer="", chars=100_000,
                     stream_steps=10_000, streams=8):
    """Per delay: {delay: (correct, compared)} of the homework's check (at least `chars`
    characters per delay) and of `streams` unbroken streams of `stream_steps`."""
    console.print(Text(inert(title), style="bold"), highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("delay", justify="right")
    table.add_column("homework's check", justify="right")
    table.add_column("long streams", justify="right")
    for d in seed_counts:
        table.add_row(str(d), counted(*seed_counts[d]), counted(*stream_counts[d]))
    if len(seed_counts) > 1:
        worst = min(seed_counts.values(), key=lambda ct: ct[0] / ct[1])
        worst_stream = min(stream_counts.values(), key=lambda ct: ct[0] / ct[1])
        table.add_row("worst", counted(*worst), counted(*worst_stream), style="bold")
    console.print(table)
    console.print(f"homework's check: ≥ {count(chars, 'character')} per delay; long streams: "
                  f"{count(streams, 'unbroken stream')} of {count(stream_steps, 'step')}"
                  + (f"; {inert(footer)}" if footer else ""),
                  markup=False, highlight=False, soft_wrap=True)


def counted(correct: int, total: int) -> str:
    """'99.998% (2 wrong)': the accuracy with its errors, which say more at 99.99%."""
    return f"{100 * correct / total if total else 0.0:.4f}% ({total - correct:,} wrong)"


def pct(x: float) -> str:
    return f"{100 * x:.3f}%"


def print_compare(runs, max_delay: int) -> None:
    """`echo-train compare`'s tables: the largest delay each cell holds at each hidden size,
    then every run's accuracy per delay (a column per run, a row per delay)."""
    from .compare import THRESHOLD

    cells = list(dict.fromkeys(r.cell for r in runs))
    sizes = sorted({r.hidden for r in runs})
    by = {(r.cell, r.hidden): r for r in runs}
    console.print(f"delays held at ≥ {100 * THRESHOLD:g}%, of 0–{max_delay} (every delay "
                  "from 0 to the one named):", highlight=False, soft_wrap=True)
    held = Table()
    held.add_column("cell")
    for h in sizes:
        held.add_column(f"hidden {h}", justify="right")
    for cell in cells:
        held.add_row(cell, *(_held(by.get((cell, h))) for h in sizes))
    console.print(held)
    console.print("accuracy per delay, % (homework's check; 99.9 is 99.9 or more, not 100):",
                  highlight=False, soft_wrap=True)
    # four characters a figure, so twelve runs fit in 80 columns (a log, CI)
    table = Table(box=box.SIMPLE, padding=(0, 1), pad_edge=False, collapse_padding=True)
    table.add_column("d", justify="right", min_width=2)
    for r in runs:
        table.add_column(f"{r.cell}\n{r.hidden}", justify="right", min_width=4, no_wrap=True)
    for d in range(max_delay + 1):
        table.add_row(str(d), *(_pct4(r.accuracy[d]) if r.accuracy else "–" for r in runs))
    console.print(table)


def _pct4(x: float) -> str:
    """An accuracy in four characters: '100' only when every answer was right."""
    return "100" if x >= 1.0 else f"{min(99.9, math.floor(1000 * x) / 10):.1f}"


def _held(run) -> str:
    if run is None:
        return ""
    if run.diverged:
        return "diverged"
    return "none" if run.held() < 0 else f"0–{run.held()}"
