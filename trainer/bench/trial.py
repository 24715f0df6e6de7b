"""`python -m trainer.bench.trial`: one recipe, some settings changed, trained and timed; or
where a training step's time goes.

The tables of what was tried for the lesson and text recipes (docs/experiments.md) were made
with it:

    python -m trainer.bench.trial lesson head_stride=2 lr_drop_at=0.995 --threads 1
    python -m trainer.bench.trial text --profile 60

A trial prints one line of figures, then the run as one JSON line (its check-by-check curve
included). --profile times that many training steps instead (every head trained, after ten
to warm up), phase by phase. Any TrainConfig field can be set, as FIELD=VALUE.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields, replace

from ..config import ConfigError, TrainConfig, validate
from ..recipes import RECIPES, config
from ..text import count

PHASES = ("data", "memory", "heads and loss", "heads back", "memory back", "optimizer")
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "int | None": int,
          "float | None": float}


class TrialError(ValueError):
    """A setting refused, in one sentence."""


def with_settings(cfg: TrainConfig, settings: list[str]) -> TrainConfig:
    """`cfg` with each FIELD=VALUE of `settings` set, checked; TrialError names a bad one."""
    kinds = {f.name: f.type for f in fields(TrainConfig)}
    changes = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        if not sep or name not in kinds:
            raise TrialError(f"{setting!r} is not FIELD=VALUE with a training setting; the "
                             f"settings are: {', '.join(kinds)}")
        kind = _TYPES.get(str(kinds[name]), str)
        if kind is bool:
            if text not in ("true", "false"):
                raise TrialError(f"{name}={text}: not true or false")
            changes[name] = text == "true"
            continue
        try:
            changes[name] = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise TrialError(f"{name}={text}: not {what}") from None
    try:
        return validate(replace(cfg, **changes))
    except ConfigError as e:
        raise TrialError(str(e)) from None


def trial(cfg: TrainConfig) -> dict:
    """Train `cfg`: the figures of the run, and its curve (seconds, check seconds, held-out)."""
    from ..train import train

    _, p = train(cfg)
    return {"steps": p.step, "seconds": p.seconds, "check_seconds": p.eval_seconds,
            "reached": p.reached, "heldout": p.heldout, "stream": p.heldout_stream,
            "curve": [(s, e, h) for s, e, _, h in p.history]}


def profile(cfg: TrainConfig, steps: int, warm_up: int = 10) -> dict[str, float]:
    """Milliseconds a training step of `cfg` spends in each phase (PHASES), on average over
    `steps` steps, every head trained: what trainer.train.train's loop does, timed (the heads'
    and the memory's parts of the backward pass apart)."""
    import torch

    from ..data import StreamChunks
    from ..train import Adam, build_model, scored_positions

    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(cfg.device)
    opt = Adam(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2))
    heads = torch.tensor(model.head_delays, device=cfg.device)
    data = iter(StreamChunks(cfg.batch, cfg.chunk, max(model.head_delays), len(model.alphabet),
                             reset_prob=cfg.reset_prob, seed=cfg.seed, device=cfg.device))
    h, k = model.initial_state(cfg.batch), len(model.alphabet) + 1
    spent = dict.fromkeys(PHASES, 0.0)
    for step in range(warm_up + steps):
        marks = [time.perf_counter()]
        x, targets, reset = next(data)
        marks.append(time.perf_counter())
        out, h = model.fast_memory(x, model.reset_rows(h, reset))
        marks.append(time.perf_counter())
        # the heads run on a detached copy of the memory's output, so that the backward pass
        # can be timed in its two parts; the gradients are the same
        at = scored_positions(step, cfg.head_stride)
        scored = out[:, at]
        cut = scored.detach().requires_grad_()
        loss = torch.nn.functional.cross_entropy(
            model.all_heads(cut).reshape(-1, k), targets[:, at].index_select(2, heads).reshape(-1))
        marks.append(time.perf_counter())
        opt.zero_grad()
        loss.backward()
        marks.append(time.perf_counter())
        scored.backward(cut.grad)
        marks.append(time.perf_counter())
        opt.step()
        h = model.detach_state(h)
        marks.append(time.perf_counter())
        if step >= warm_up:
            for phase, t0, t1 in zip(PHASES, marks, marks[1:]):
                spent[phase] += t1 - t0
    return {phase: 1000 * s / steps for phase, s in spent.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.bench.trial", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", choices=list(RECIPES))
    parser.add_argument("settings", nargs="*", metavar="FIELD=VALUE",
                        help="a TrainConfig field to change, e.g. head_stride=2")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch's threads (default: one per core this process may run on)")
    parser.add_argument("--profile", type=int, metavar="STEPS", default=None,
                        help="time this many training steps, phase by phase, instead")
    args = parser.parse_intermixed_args(argv)
    try:
        cfg = with_settings(config(args.recipe), args.settings)
        if args.threads is not None and args.threads < 1:
            raise TrialError(f"--threads {args.threads} must be at least 1")
        if args.profile is not None and args.profile < 1:
            raise TrialError(f"--profile {args.profile} must be at least 1")
    except TrialError as e:
        print(f"trial: error: {e}", file=sys.stderr)
        return 2
    import torch

    from ..threads import use_threads

    use_threads(args.threads)  # the one policy: the cores given unless --threads says
    said = " ".join([args.recipe, *args.settings])
    if args.profile is not None:
        ms = profile(cfg, args.profile)
        parts = ", ".join(f"{phase} {v:.2f}" for phase, v in ms.items())
        threads = count(torch.get_num_threads(), "thread")
        print(f"{said}, {threads}: {sum(ms.values()):.2f} ms a step ({parts})")
        print(json.dumps({"recipe": args.recipe, "settings": args.settings,
                          "threads": torch.get_num_threads(), "ms": ms}))
        return 0
    r = trial(cfg)
    print(f"{said}, {count(torch.get_num_threads(), 'thread')}: "
          f"{'reached' if r['reached'] else 'not reached'} after {r['steps']:,} steps, "
          f"{r['seconds']:.1f} s ({r['check_seconds']:.1f} s of checks), worst delay "
          f"{100 * r['heldout']:.4f}%")
    print(json.dumps({"recipe": args.recipe, "settings": args.settings,
                      "threads": torch.get_num_threads(), **r}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
