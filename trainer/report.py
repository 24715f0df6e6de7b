"""What `echo-train` prints: a live progress bar and per-delay accuracy tables (Rich)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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

    def update(self, p):
        rate = p.samples / p.seconds if p.seconds else 0.0
        stats = (f"{rate / 1000:,.0f}k sym/s  loss {p.loss:.4f}  "
                 f"held-out {100 * p.heldout:.3f}%")
        if p.heldout_stream:
            stats += f"  stream {100 * p.heldout_stream:.3f}%"
        self.progress.update(self.task, completed=min(p.seconds, self.cfg.max_seconds),
                             stats=stats)
        if not console.is_terminal and p.seconds - self.last_log >= self.LOG_EVERY:
            self.last_log = p.seconds
            console.print(f"{p.seconds:6.1f} s  step {p.step}  {stats}", highlight=False)


def print_eval_table(title, seed_acc, stream_acc, footer="", chars=100_000,
                     stream_steps=10_000):
    console.print(f"[bold]{title}[/]")
    table = Table(caption=footer or None)
    table.add_column("delay", justify="right")
    table.add_column(f"seed check ({chars:,} chars)", justify="right")
    table.add_column(f"{stream_steps:,}-step streams", justify="right")
    for d in seed_acc:
        table.add_row(str(d), pct(seed_acc[d]), pct(stream_acc[d]))
    console.print(table)


def pct(x: float) -> str:
    return f"{100 * x:.3f}%"
