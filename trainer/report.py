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
        self.trained = None  # the delays in training at the last check
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

    def stats(self, p) -> str:
        """A check's figures for the bar and the plain line: symbols a second, loss, and the
        held-out figure named for the delays it covers (held_words)."""
        rate = p.samples / p.seconds if p.seconds else 0.0
        added = self.trained is not None and p.trained_delay > self.trained
        self.trained = p.trained_delay
        stats = (f"{rate / 1000:,.0f}k sym/s  loss {p.loss:.4f}  "
                 + held_words(self.cfg, p.trained_delay, p.by_delay, added))
        if p.heldout_stream:
            stats += f"  stream {100 * p.heldout_stream:.3f}%"
        return stats

    def update(self, p):
        stats = self.stats(p)
        # a run that reaches its target stops early: the bar says so rather than stopping short
        done = self.cfg.max_seconds if p.reached else min(p.seconds, self.cfg.max_seconds)
        self.progress.update(self.task, completed=done, stats=stats)
        if not console.is_terminal and p.seconds - self.last_log >= self.LOG_EVERY:
            self.last_log = p.seconds
            console.print(f"{p.seconds:6.1f} s  step {p.step}  {stats}", highlight=False)


def held_words(cfg, trained_delay: int, by_delay, just_added: bool = False) -> str:
    """A check's held-out figure, named for the delays it covers (the panel's progress line and
    echo-train's say the same): 'held-out 99.12% (delay 4)', '... (worst of delays 0–8)'; in a
    curriculum, the worst of the delays in training, the newest apart, so that widening does
    not read as a collapse: 'held-out 99.02% (worst of delays 0–4) · 5–6 just added'.
    `by_delay`: the check's accuracy per delay (index = delay); `just_added`: the newest
    joined at this check."""
    def worst(lo: int, hi: int) -> str:  # of delays lo..hi-1 (a short list: of what it has)
        return pct2(min(by_delay[lo:hi], default=min(by_delay, default=math.nan)))

    if cfg.kind == "fixed":
        return f"held-out {worst(0, 1)} (delay {cfg.delay})"
    start = cfg.delay if cfg.curriculum is None else min(cfg.curriculum, cfg.delay)
    newest = max(start + 1, trained_delay - cfg.curriculum_step + 1)
    settled = min(by_delay[newest:trained_delay + 1], default=0.0) >= cfg.curriculum_at
    if trained_delay >= cfg.delay and (start >= cfg.delay or settled):
        return f"held-out {worst(0, cfg.delay + 1)} (worst of delays 0–{cfg.delay})"
    if trained_delay <= start:
        return (f"held-out {worst(0, trained_delay + 1)} (worst of delays 0–{trained_delay}, "
                "in training)")
    older = f"held-out {worst(0, newest)} (worst of delays 0–{newest - 1})"
    named = f"{newest}–{trained_delay}" if newest < trained_delay else f"{newest}"
    if just_added:
        return f"{older} · {'delays' if newest < trained_delay else 'delay'} {named} just added"
    rest = (f" · {trained_delay + 1}–{cfg.delay} to come" if trained_delay < cfg.delay - 1
            else f" · {cfg.delay} to come" if trained_delay < cfg.delay else "")
    return f"{older} · newest {named}: {worst(newest, trained_delay + 1)}{rest}"


def pct2(x: float) -> str:
    return f"{100 * x:.2f}%"


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
