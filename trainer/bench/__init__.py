"""`echo-train bench`: time-to-accuracy beside the homework's recipes, end to end, and the app.

Everything runs on one machine, and the targets are ratios of figures measured side by side:

1. Training. Each recipe trains from a fixed seed and is checked on held-out data by the same
   evaluator (trainer.evaluate.seed_accuracies: the homework's metric, worst delay) every so
   many steps, with trainer.train's check sizes (a check at the last threshold is confirmed on
   more characters, as trainer.train does). Training seconds leave the checks out. Time to X is
   the training seconds at the first check that reached X. Torch keeps its default threads.
2. End to end. `echo-train fixed` and `echo-train variable` as a user runs them, from the
   command's start to the file written, against the baselines' training-only seconds.
3. Session, app, views and training in the app: `python -m echo_tui.bench --json` in a
   subprocess (trainer never imports echo_tui), which measures its ratios in one process.

Modules: .run runs the measurements (`run_bench`, what `echo-train bench` calls); .report prints
the tables; .targets holds the figures both derive from the measurements (thresholds, times to
them, speedups, the targets' verdicts); .baselines is the homework's and the published recipes,
as faithful, small code. Each imports only modules after it in that list.
"""

from .run import run_bench

__all__ = ["run_bench"]
