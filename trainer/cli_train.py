"""`echo-train fixed|variable`: train a model, evaluate it, and write its weights file, or
say why not in one line; a file that cannot be written after training is saved elsewhere."""

from __future__ import annotations

import math
import shlex
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from .alphabet import ALPHABETS, default_case
from .cli_base import DEVICES, CliError, Formatter, flag, resolve_device
from .config import CELLS, ConfigError, check_memory, check_range, run_metadata, validate
from .recipes import RECIPE_HELP, RECIPES, config, recipe_for
from .supervise import OutOfTime, in_worker, leave, train_supervised
from .text import count, inert


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, taking the same clean path as Ctrl-C."""

    signum = signal.SIGTERM

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__()
        self.signum = signum


def add_parsers(sub) -> None:
    """The `fixed` and `variable` commands, on argparse subparsers `sub`."""
    for kind, help_ in (("fixed", "train a fixed-delay model (GRUMemory)"),
                        ("variable", "train a variable-delay model (VariableDelayGRUMemory)")):
        recipes = "\n".join(f"  {n:9} {RECIPE_HELP[n]}" for n, r in RECIPES.items()
                             if r.kind == kind)
        t = sub.add_parser(
            kind, help=help_, formatter_class=Formatter,
            description=f"{help_}.\n\nSettings not given come from the recipe that suits the "
                        f"kind, alphabet and delay (or --recipe):\n{recipes}")
        t.add_argument("--recipe", choices=[n for n, r in RECIPES.items() if r.kind == kind],
                       help="start from this recipe (default: the one that suits the kind, "
                            "alphabet and delay)")
        t.add_argument("--cell", choices=list(CELLS), default="gru",
                       help="the recurrent layer: gru, a gated recurrent unit (the homework's); "
                            "lstm, a long short-term memory (a cell state beside its hidden "
                            "state); rnn, a plain tanh recurrent layer (no gates). The recipes "
                            "were tuned for gru")
        t.add_argument("--hidden", type=int, help=f"hidden size {_by_recipe('hidden', kind)}")
        if kind == "fixed":
            t.add_argument("--delay", type=int, help=f"echo delay in steps "
                                                     f"{_by_recipe('delay', kind)}")
        else:
            t.add_argument("--max-delay", dest="delay", type=int,
                           help=f"the model answers for every delay 0..MAX_DELAY "
                                f"{_by_recipe('delay', kind)}")
        if kind == "variable":
            t.add_argument("--trial", metavar="SWEEP.json:ID",
                           help="train exactly as this trial of `echo-train sweep --json` was "
                                "(its cell, size, delays, drawn settings, seed and step budget); "
                                "other settings are then refused")
        t.add_argument("--alphabet", choices=list(ALPHABETS),
                       help="letters: a-z (the homework's); alnum: a-z and 0-9; text: the 95 "
                            "printable ASCII characters, space and capitals included (default: "
                            "the recipe's, else letters)")
        t.add_argument("--seed", type=int, default=0,
                       help="seeds the weights and the training data: the same seed and "
                            "settings on the same machine and torch build give the same file")
        t.add_argument("--device", choices=DEVICES, default="auto",
                       help="auto: CUDA when present, else MPS, else the CPU")
        t.add_argument("--batch", type=int, help=f"streams per training step "
                                                 f"{_by_recipe('batch', kind)}")
        t.add_argument("--chunk", type=int,
                       help=f"steps per chunk of truncated back-propagation through time "
                            f"{_by_recipe('chunk', kind)}")
        t.add_argument("--lr", type=float, help=f"Adam learning rate {_by_recipe('lr', kind)}")
        t.add_argument("--target", type=float, default=0.9999,
                       help="stop early once held-out accuracy reaches this (0-1], with 95%% "
                            "confidence, at every delay and on long streams")
        t.add_argument("--max-seconds", type=float,
                       help=f"stop after this much wall time, checks included, whether or not "
                            f"the target is reached {_by_recipe('max_seconds', kind)}")
        t.add_argument("--max-steps", type=int, default=None,
                       help="stop after this many training steps (default: no limit)")
        t.add_argument("--threads", type=int, default=None,
                       help="PyTorch threads to train on (default: one per core this process "
                            "may run on; waiting threads spin briefly, then sleep, so a busy "
                            "machine slows a run rather than stalling it)")
        t.add_argument("--out", type=Path, default=Path(f"{kind}_delay.safetensors"),
                       help="weights file to write; a symbolic link is written through. An "
                            "existing file that is not an echo-gru weights file is refused "
                            "unless --force is given")
        t.add_argument("--force", action="store_true",
                       help="let --out replace an existing regular file that is not an echo-gru "
                            "weights file (never a directory, pipe, socket or device)")
        t.set_defaults(run=run, kind=kind)


def _by_recipe(field: str, kind: str) -> str:
    """'(default: the recipe's: 64 fixed)' style help for a setting the recipe decides."""
    values = ", ".join(f"{getattr(r, field):g} {name}" for name, r in RECIPES.items()
                       if r.kind == kind)
    return f"(default: the recipe's: {values})"


def _train_config(args, device: str):
    """(recipe name, TrainConfig): the recipe that suits the run, with the options given; or a
    sweep's trial's (--trial)."""
    if getattr(args, "trial", None) is not None:
        return _trial_config(args, device)
    alphabet = args.alphabet or (RECIPES[args.recipe].alphabet if args.recipe else "letters")
    name = args.recipe or recipe_for(args.kind, alphabet, args.delay)
    cfg = config(name, kind=args.kind, cell=getattr(args, "cell", None), alphabet=alphabet,
                 hidden=args.hidden, delay=args.delay,
                 seed=args.seed, device=device, batch=args.batch, chunk=args.chunk, lr=args.lr,
                 target=args.target, max_seconds=args.max_seconds, max_steps=args.max_steps)
    return name, cfg


def _trial_config(args, device: str):
    from .sweep.space import TrialError, trial_config

    given = [flag(f, "variable") for f in ("recipe", "cell", "hidden", "delay", "alphabet", "batch", "chunk",
                               "lr", "max_seconds", "max_steps") if getattr(args, f) not in
             (None, "gru")] + (["--seed"] if args.seed != 0 else [])
    if given:
        raise CliError(f"--trial sets every training setting; leave out {', '.join(given)}")
    try:
        ident, cfg = trial_config(args.trial)
    except TrialError as e:
        raise CliError(str(e)) from None
    return f"sweep trial {ident}", replace(cfg, device=device)


def _check_writable(out: Path) -> Path:
    """The file --out will write (a link's target); refused now, before any training time."""
    from .outpath import OutputError, output_target

    try:
        return output_target(out)
    except OutputError as e:
        raise CliError(f"--out {e}") from None


def _previous(target: Path, out: Path, force: bool) -> str | None:
    """What the file --out replaces, read now (training may take hours and the file may change):
    None when there is none. A file that is not an echo-gru weights file is refused unless
    `force`."""
    from .weights import FORMAT, WeightsError, read_metadata

    if not target.exists():
        return None
    try:
        meta = read_metadata(target)
    except (WeightsError, RecursionError):
        meta = None
    if meta is None or meta.get("format") != FORMAT:
        if not force:
            via = f" (the target of the link {out})" if target != out else ""
            raise CliError(f"--out {target}{via}: is not an echo-gru weights file; refusing to "
                           "replace it (--force replaces it anyway)")
        return "not an echo-gru weights file"
    return describe_weights(meta)


_ALPHABET_NAMES = {"letters": "letters a–z", "alnum": "letters a–z and digits 0–9",
                   "text": "printable ASCII"}


def describe_weights(meta: dict) -> str:
    """'variable, letters a–z, delays 0–8, hidden 128, held-out 99.9990%' (after the kind,
    'lstm cell' or 'rnn cell' for a model that is not a GRU): a weights file's metadata in one
    inert line (every value from the file escaped and clipped)."""
    def field(key: str) -> str:
        text = inert(meta.get(key, "?"))
        return text if len(text) <= 24 else text[:23] + "…"

    kind = meta.get("kind")
    parts = [field("kind")]
    if meta.get("cell", "gru") != "gru":
        parts.append(f"{field('cell')} cell")
    symbols = meta.get("alphabet")
    if isinstance(symbols, str) and symbols:
        case = meta.get("case", default_case(symbols))
        name = next((n for n, v in ALPHABETS.items() if v == (symbols, case)), None)
        parts.append(_ALPHABET_NAMES[name] if name else f"alphabet {field('alphabet')}")
    if kind == "fixed":
        parts.append(f"delay {field('delay')}")
    elif kind == "variable":
        parts.append(f"delays 0–{field('max_delay')}")
    parts.append(f"hidden {field('hidden_size')}")
    try:
        heldout = float(meta["heldout_accuracy"])
    except (KeyError, TypeError, ValueError):
        heldout = math.nan
    parts.append(f"held-out {100 * heldout:.4f}%" if 0 <= heldout <= 1
                 else "held-out not recorded")
    return ", ".join(parts)


def run(args) -> int:
    """`echo-train fixed|variable ...`: the exit status."""
    recipe, cfg = _train_config(args, args.device)
    try:
        validate(cfg, lambda field: flag(field, cfg.kind))
        if args.threads is not None:
            check_range("threads", args.threads, flag)
        check_memory(cfg, lambda field: flag(field, cfg.kind))
    except ConfigError as e:
        raise CliError(str(e)) from None
    target = _check_writable(args.out)
    previous = _previous(target, args.out, args.force)
    device = resolve_device(args.device)
    cfg = replace(cfg, device=device)
    return leave(_train_and_write(args, recipe, cfg, target, previous))


def _train_and_write(args, recipe, cfg, target, previous) -> int:
    """Train, evaluate and write --out (the settings checked): the exit status."""
    from .outpath import OutputError, remove_stale_temps
    from .report import TrainingBar, print_eval_table, print_reached
    from .threads import use_threads
    from .train import TrainingDiverged
    from .weights import save_model

    use_threads(args.threads)
    device = cfg.device

    for stale in remove_stale_temps(target):  # a killed save's (SIGKILL, a power cut)
        print(inert(f"echo-train: removed a stale temporary file {stale} left by an interrupted "
                    "save"), file=sys.stderr)
    terminate_as_interrupt()
    what = "delay" if cfg.kind == "fixed" else "max delay"
    cell = "" if cfg.cell == "gru" else f"{cfg.cell} cell, "
    try:  # from the first line on: a signal right after it must take the clean path too
        print(f"echo-train: training a {cfg.kind} model ({cell}hidden {cfg.hidden}, {what} "
              f"{cfg.delay}, {cfg.alphabet}; recipe {recipe}) on {device}; Ctrl-C stops "
              "without writing", flush=True)
        with TrainingBar(cfg) as bar:
            model, progress, cut = train_supervised(cfg, on_progress=bar.update,
                                                    on_wait=bar.tick)
        print_reached(cfg, progress, cut)
    except KeyboardInterrupt as e:
        return _interrupted(e, args.out)
    except TrainingDiverged as e:
        print(inert(f"echo-train: error: {e}; nothing written{_kept(args.out)}"),
              file=sys.stderr)
        return 1
    except OutOfTime as e:
        print(inert(f"echo-train: error: {e}{_kept(args.out)}"), file=sys.stderr)
        return 1
    try:
        t0 = time.perf_counter()
        seed, stream, cut = in_worker(lambda: final_counts(model), "echo-train final check")
        seed_acc = {d: c / t for d, (c, t) in seed.items()}
        stream_acc = {d: c / t for d, (c, t) in stream.items()}
        print_eval_table(f"{cfg.kind} model, hidden {cfg.hidden}, {cfg.alphabet}, trained on "
                         f"{device}", seed, stream,
                         footer=f"trained {progress.seconds:.1f} s, "
                                f"{count(progress.samples, 'symbol')}, "
                                f"{count(progress.step, 'step')}; evaluated in "
                                f"{time.perf_counter() - t0:.1f} s"
                                + (f" (cut short at {FINAL_CHECK_S:g} s)" if cut else ""),
                         **(_counted(seed, stream) if cut else {}))
        existed = target.exists()
        meta = run_metadata(cfg, progress, recipe=recipe,
                            command=" ".join(["echo-train", *map(shlex.quote, args.argv)]),
                            heldout=min(seed_acc.values()), stream=min(stream_acc.values()))
        try:
            save_model(model, args.out, **meta)
        except (OutputError, OSError) as e:  # --out changed during training, a full disk...
            return _save_elsewhere(model, meta, target, args.out, e)
    except KeyboardInterrupt as e:
        return _interrupted(e, args.out)
    via = f" (the target of the link {args.out})" if target != args.out else ""
    was = f" (was: {previous})" if existed and previous is not None else ""
    print(inert(f"{'replaced' if existed else 'wrote'} {target}{via}{was}"))
    print(inert(f"try it: echo-tui --weights {shlex.quote(str(args.out))}"))
    return 0


FINAL_CHECK_S = 120.0  # the final check's time at most: minutes at hidden 4096, seconds for a recipe


def final_counts(model):
    """The final check's counts, each delay's, on the homework's check and on long streams,
    and whether FINAL_CHECK_S cut them short."""
    from .evaluate import seed_counts, stream_counts

    deadline = time.perf_counter() + FINAL_CHECK_S
    seed, stream = seed_counts(model, deadline=deadline), stream_counts(model, deadline=deadline)
    return seed, stream, time.perf_counter() >= deadline


def _counted(seed, stream) -> dict:
    """What a final check cut short compared: the fewest characters of any delay, and the
    streams' length (their delay-0 steps, over the 8 streams)."""
    return {"chars": min(t for _, t in seed.values()),
            "stream_steps": max(t for _, t in stream.values()) // 8}


def _save_elsewhere(model, meta: dict, target: Path, out: Path, e: Exception) -> int:
    """--out could not be written after training: the trained model goes to a new file beside
    it, else in the temporary folder, and one sentence names both. Exit status 1 either way."""
    from .outpath import OutputError, reason, write_fallback
    from .weights import model_bytes

    via = f" (the target of the link {out})" if target != out else ""
    failed = (f"--out {e}" if isinstance(e, OutputError)
              else f"--out {target}{via}: cannot be written ({reason(e)})")
    try:
        saved = write_fallback(target, model_bytes(model, **meta))
    except OSError as lost:
        print(inert(f"echo-train: error: {failed}; the trained model could not be saved "
                    f"elsewhere either ({lost.strerror or reason(lost)}) and is lost"),
              file=sys.stderr)
        return 1
    print(inert(f"echo-train: error: {failed}; the trained model was saved to {saved} instead"),
          file=sys.stderr)
    return 1


def _interrupted(e: KeyboardInterrupt, out: Path) -> int:
    print(inert(f"echo-train: interrupted; nothing written{_kept(out)}"), file=sys.stderr)
    return 128 + getattr(e, "signum", signal.SIGINT)


def _kept(out: Path) -> str:
    return f" ({out} left as it was)" if out.exists() else ""


def terminate_as_interrupt() -> None:
    """SIGTERM and SIGHUP (a closed terminal or ssh session) take the same clean path as
    Ctrl-C: stop, write nothing, leave --out whole, exit 128 + the signal's number. A SIGHUP
    that is ignored (`nohup echo-train ...`) stays ignored."""
    def handler(signum, frame):
        raise Interrupted(signum)
    signal.signal(signal.SIGTERM, handler)
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    if hangup is not None and signal.getsignal(hangup) is not signal.SIG_IGN:
        signal.signal(hangup, handler)
