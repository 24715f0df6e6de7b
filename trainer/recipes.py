"""The shipped recipes: how each model echo-gru ships (and benchmarks) is trained.

`echo-train`, `echo-train bench` and the app's training panel all read these, so a recipe is
changed in one place. Each is a whole TrainConfig; the weights file records the settings a run
used, so any file can be remade. `TrainConfig()`'s own defaults are the `fixed` recipe.
"""

from __future__ import annotations

from dataclasses import replace

from .config import TrainConfig

RECIPES: dict[str, TrainConfig] = {
    # the homework's fixed delay 4 on letters: 128 streams x 16 steps, a large step
    "fixed": TrainConfig(),
    # the homework's variable delays 0..8 on letters
    "variable": TrainConfig(kind="variable", hidden=128, delay=8, batch=64, chunk=32, lr=2e-3,
                            max_seconds=600.0),
    # printable ASCII, delays 0..8: the quick one for a lesson, 99.9% rather than 99.99%. On
    # one thread, as the panel trains (docs/training.md): the heads scored at every other
    # position, the step cut to 0.3x at 99.5% rather than 99.9%, checks every 100 steps: 62 s
    # where the same recipe without them took 137 s (54 s and 135 s in the app's panel)
    "lesson": TrainConfig(kind="variable", hidden=128, delay=8, alphabet="text", batch=64,
                          chunk=32, lr=3e-3, curriculum=4, curriculum_step=2, head_stride=2,
                          lr_drop_at=0.995, eval_every=100, target=0.999, max_seconds=600.0),
    # printable ASCII, delays 0..16: wider, with a delay curriculum. Hidden 192 at lr 5e-3:
    # 4,550 steps over seeds 0-4 (median; 4,850 worst) where 4e-3 took 4,800 (5,150), 3e-3
    # 5,450 from seed 0 and hidden 256 at 2e-3 7,500 (2 cores; docs/experiments.md)
    "text": TrainConfig(kind="variable", hidden=192, delay=16, alphabet="text", batch=64,
                        chunk=32, lr=5e-3, curriculum=4, curriculum_step=2,
                        max_seconds=3 * 3600.0),
    # letters, delays 0..32: the long-memory recipe
    "long": TrainConfig(kind="variable", hidden=256, delay=32, batch=64, chunk=48, lr=2e-3,
                        curriculum=8, curriculum_step=4, max_seconds=3 * 3600.0),
}
RECIPE_HELP = {
    "fixed": "fixed delay 4, letters (the homework's first model)",
    "variable": "delays 0-8, letters (the homework's second model)",
    "lesson": "delays 0-8, printable ASCII, to 99.9%: quick enough for a lesson",
    "text": "delays 0-16, printable ASCII (the app's default model)",
    "long": "delays 0-32, letters",
}


# what the app's training panel offers first, where it is not the command's default: a model
# that trains while a class watches
OFFERED_FIRST = {("variable", "text"): "lesson"}


def recipe_for(kind: str, alphabet: str = "letters", delay: int | None = None) -> str:
    """The name of the recipe that suits a run: its kind and alphabet, and the shortest
    recipe delay that reaches `delay` (the longest when none does). Without a delay, the
    command's default: the shortest, leaving out the panel's first offers."""
    same = [n for n, r in RECIPES.items() if r.kind == kind and r.alphabet == alphabet]
    same = same or [n for n, r in RECIPES.items() if r.kind == kind and r.alphabet == "letters"]
    same.sort(key=lambda n: RECIPES[n].delay)
    if delay is None:
        return next((n for n in same if n not in OFFERED_FIRST.values()), same[0])
    return next((n for n in same if RECIPES[n].delay >= delay), same[-1])


def offered_first(kind: str, alphabet: str) -> str:
    """The recipe the app's training panel fills its form from."""
    return OFFERED_FIRST.get((kind, alphabet)) or recipe_for(kind, alphabet)


def config(name: str, **overrides) -> TrainConfig:
    """Recipe `name` with some settings replaced (None values are left as the recipe has them)."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose one of: {', '.join(RECIPES)}")
    return replace(RECIPES[name], **{k: v for k, v in overrides.items() if v is not None})

# Seconds from a run's start to its target on the README's machine, and how measured: the app's
# panel shows them before a run. Remeasured 2026-12-08 on its 2 cores (an AMD EPYC) with the
# fused GRU pass (trainer.gru_cpu): the app's training (python -m echo_tui.bench [--lesson],
# start to takeover) where it was measured, else `echo-train` end to end, the median of seeds
# 0-4 (`echo-train sweep --recipe NAME`; docs/training.md). `long` was not remeasured (over an
# hour through torch.nn.GRU, on the faster Intel Xeon of the first figures), and says so.
MEASURED = {
    "fixed": (5.2, "in this app, 2 cores"),
    "variable": (34.9, "by echo-train, 2 cores"),
    "lesson": (54.8, "in this app, 2 cores"),
    "text": (204.4, "by echo-train, 2 cores"),
    "long": (4132.0, "by echo-train, on 2 cores of a faster CPU"),
}


def measured_time(name: str, cfg: TrainConfig) -> tuple[float, str] | None:
    """(seconds, how measured) for a run of recipe `name` as `cfg` sets it, or None when its
    model differs from the recipe's (no figure was measured for it)."""
    r = RECIPES.get(name)
    same = r is not None and (cfg.kind, cfg.alphabet, cfg.delay, cfg.hidden, cfg.cell) == (
        r.kind, r.alphabet, r.delay, r.hidden, r.cell)
    return MEASURED.get(name) if same else None
