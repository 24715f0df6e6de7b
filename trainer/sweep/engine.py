"""The trials through Ray Tune: a local Ray on this machine by default (a trial per core), or
an existing cluster by address, with no other change. Each finished trial's row goes to the
sweep's ledger as Tune reports it, with a progress line: trials done, running and left, and
each cell's best and median largest delay held so far.

Ray is imported here only, and only when a sweep runs.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Callable

from . import ledger
from .tables import so_far

RUNNERS = {"grid": "trainer.sweep.trial:run_spec", "recipe": "trainer.sweep.recipes:run_recipe"}


def _trainable(config: dict) -> None:
    """One trial in a Ray worker: torch's threads follow the CPUs Ray gave it, then the
    runner's row is reported (as JSON text: Tune's loggers never see its lists)."""
    import importlib

    import ray
    from ray import tune

    from ..threads import use_threads

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    use_threads(max(1, int(cpus)))  # the trainer's thread policy, on the CPUs Ray gave it
    module, name = RUNNERS[config["runner"]].split(":")
    row = getattr(importlib.import_module(module), name)(config["spec"])
    tune.report({"row": json.dumps(row)})


def start_ray(address: str | None, cpus: int | None, dashboard: bool = False) -> bool:
    """Connect to Ray: the cluster at `address`, else a new local instance with `cpus` CPUs
    (default: all). False when Ray was already running in this process (the caller's)."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # the ledger is the log
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # with its loggers off, Tune warns at the end that it found no metrics files: the ledger
    # holds them
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    if address is not None:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    else:
        ray.init(address="local", num_cpus=cpus, include_dashboard=dashboard,
                 logging_level=logging.ERROR, log_to_driver=False)
    return True


class Progress:
    """Tune's callback: each finished trial's row to the ledger, and a progress line."""

    def __init__(self, folder: Path, plan: dict, rows: list[dict], session: int,
                 say: Callable[[str], None]):
        self.folder, self.session, self.say = folder, session, say
        self.total = len(plan["specs"])
        self.cells = list(dict.fromkeys(s["cell"] for s in plan["specs"] if "cell" in s))
        self.rows = list(rows)
        self.running: set[str] = set()
        self.errors: list[str] = []
        self.times: dict[str, list[float]] = {}  # trial: [started, finished] (perf_counter)

    def started(self, trial_id: str) -> None:
        self.running.add(trial_id)
        self.times[trial_id] = [time.perf_counter()]

    def finished(self, trial_id: str, row: dict) -> None:
        self.running.discard(trial_id)
        self.times.setdefault(trial_id, [math.nan]).append(time.perf_counter())
        row = dict(row, session=self.session)
        ledger.append_row(self.folder, row)
        self.rows.append(row)
        self.say(self.line(row))

    def failed(self, trial_id: str, spec_id: str, error: str) -> None:
        self.running.discard(trial_id)
        self.errors.append(spec_id)
        self.say(f"sweep: trial {spec_id} was lost ({error}); it has no row, and --resume "
                 "runs it again")

    def line(self, row: dict) -> str:
        done, running = len(self.rows), len(self.running)
        what = ("diverged" if row.get("diverged") else "failed" if row.get("failed")
                else f"held {'0–' + str(row['held']) if row['held'] >= 0 else 'none'}")
        best = so_far(self.rows, self.cells)
        return (f"sweep: {done} of {self.total} done, {running} running, "
                f"{self.total - done - running} left · {row['id']} {what} in "
                f"{row['wall_seconds']:.0f} s" + (f" · best/median held: {best}" if best else ""))


def _callback(progress: Progress):
    from ray import tune

    class Ledger(tune.Callback):
        def on_trial_start(self, iteration, trials, trial, **info):
            progress.started(trial.trial_id)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            if "row" in result:
                progress.finished(trial.trial_id, json.loads(result["row"]))

        def on_trial_error(self, iteration, trials, trial, **info):
            error = "its worker failed"
            if trial.error_file and os.path.exists(trial.error_file):
                lines = [ln for ln in Path(trial.error_file).read_text().splitlines() if ln]
                error = lines[-1][:200] if lines else error
            progress.failed(trial.trial_id, trial.config["spec"]["id"], error)

    return Ledger()


def run_trials(folder: Path, plan: dict, specs: list[dict], progress: Progress,
               runner: str = "grid", cpus_per_trial: int = 1) -> float:
    """Run `specs` through Tune on the Ray this process is connected to; the seconds it took.
    A trial whose worker is lost is tried once more, then left for a resume."""
    from ray import tune

    start = time.perf_counter()
    tuner = tune.Tuner(
        tune.with_resources(_trainable, {"cpu": cpus_per_trial}),
        param_space={"runner": runner, "spec": tune.grid_search(specs)},
        tune_config=tune.TuneConfig(num_samples=1, reuse_actors=True,
                                    trial_name_creator=lambda t: t.config["spec"]["id"],
                                    trial_dirname_creator=lambda t: t.config["spec"]["id"]),
        run_config=tune.RunConfig(name=f"session{progress.session}",
                                  storage_path=str((folder / "tune").resolve()), verbose=0,
                                  callbacks=[_callback(progress)],
                                  # a trial reports once: stop it on that report, not after
                                  # Tune has waited a second for the finished function's errors
                                  stop={"training_iteration": 1},
                                  failure_config=tune.FailureConfig(max_failures=1)))
    tuner.fit()
    return time.perf_counter() - start


def run_on_ray(folder: Path, plan: dict, specs: list[dict], progress: Progress, *,
               address: str | None, cpus: int | None, dashboard: bool = False,
               runner: str = "grid", cpus_per_trial: int = 1) -> None:
    """Connect to Ray (a local one, shut down after), run `specs`; Ctrl-C ends it early, every
    row already in the ledger."""
    import ray

    t0 = time.perf_counter()
    owns = start_ray(address, cpus, dashboard)
    where = "a local Ray started" if address is None else f"connected to Ray at {address}"
    progress.say(f"echo-train: {where if owns else 'Ray already running here'} in "
                 f"{time.perf_counter() - t0:.1f} s")
    try:
        run_trials(folder, plan, specs, progress, runner, cpus_per_trial)
    except KeyboardInterrupt:
        pass
    finally:
        if owns:
            ray.shutdown()
