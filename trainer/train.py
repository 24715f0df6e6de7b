"""Training: truncated BPTT over endless random streams, every delay's head at once.

The hidden state is carried from chunk to chunk (and zeroed when a row's stream restarts), so
the network learns to keep echoing far past the chunk length: the live app feeds it one
unbroken stream. Held-out checks run every `eval_every` steps (not on a clock, so a seeded run
is repeatable) and training stops early once they reach the target.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field

import torch

from .alphabet import Alphabet
from .config import TrainConfig  # defined there; importable from here too, as it always was
from .data import StreamChunks
from .evaluate import lower_bound, seed_accuracies, seed_counts, stream_accuracies
from .model import build

HELDOUT_SEED_OFFSET = 7919  # held-out data is drawn from seed + this, apart from training data


class TrainingDiverged(RuntimeError):
    pass


def confirm_size(target: float) -> int:
    """Characters per delay that can show `target` with 95% confidence: with no error at all,
    the Wilson bound clears 1 - 2.7/n, so n must be well past 2.7 / (1 - target) (4x: room for
    a few errors). At least 100,000, as many as the final test."""
    if target >= 1.0:
        return 10_000_000
    return max(100_000, min(10_000_000, math.ceil(4 * 2.706 / (1 - target))))


class Adam:
    """Adam (Kingma & Ba), computed as torch.optim.Adam computes it on the CPU (its single-tensor
    form, operation for operation, so a seeded run still gives the same weights), without what
    torch.optim's first use costs: it imports torch._dynamo, two seconds of every run's start.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float], eps: float = 1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1 - b1 ** float(self.steps))
        correction2_sqrt = (1 - b2 ** float(self.steps)) ** 0.5
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v.sqrt() / correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)


@dataclass
class Progress:
    step: int = 0
    samples: int = 0  # symbols trained on
    seconds: float = 0.0  # wall time, held-out checks included
    eval_seconds: float = 0.0  # the part of `seconds` spent in held-out checks
    loss: float = math.nan
    heldout: float = 0.0  # worst delay's held-out accuracy (seed metric)
    heldout_stream: float = 0.0  # worst delay's accuracy on held-out long streams
    reached: bool = False  # held-out checks show the target met, with confidence
    trained_delay: int = 0  # the longest delay whose head trains (below the max in a curriculum)
    by_delay: list = field(default_factory=list)  # the last check's accuracy per head delay
    history: list = field(default_factory=list)  # (seconds, eval_seconds, samples, heldout)


def build_model(cfg: TrainConfig):
    """The untrained model `cfg` trains (trainer.model.build)."""
    return build(cfg.kind, cfg.hidden, cfg.delay, Alphabet.named(cfg.alphabet), cell=cfg.cell)


def train(cfg: TrainConfig, on_progress=None, on_check=None, control=None):
    """Train a model per `cfg`; returns (model, Progress). After each held-out check,
    `on_progress(p)` is called, then `on_check(model, p)` (the model in eval mode: read its
    weights, do not train it). `control` (a trainer.supervise.Control) lets another thread
    follow the run and stop it between steps.

    KeyboardInterrupt propagates (after the model is left in eval mode): the caller decides what
    an interrupted run means; TrainingDiverged is raised on a non-finite loss.
    """
    torch.manual_seed(cfg.seed)
    dev = torch.device(cfg.device)
    model = build_model(cfg).to(dev)
    if cfg.orthogonal:
        with torch.no_grad():
            # one square per gate: a GRU's reset, update, new; an LSTM's four; an RNN's one
            for gate in model.recurrent.weight_hh_l0.chunk(model.gates):
                torch.nn.init.orthogonal_(gate)
    if cfg.cell == "lstm":
        with torch.no_grad():
            # the forget gate starts open (bias 1, as Jozefowicz et al. 2015 advise): at 0 an
            # LSTM halves its cell state every step and learned only the short delays here
            lstm, n = model.recurrent, cfg.hidden
            lstm.bias_ih_l0[n:2 * n].fill_(1.0)
            lstm.bias_hh_l0[n:2 * n].zero_()
    opt = Adam(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2))
    max_delay = max(model.head_delays)
    # the fixed model has one head, for its delay: give it targets for that delay only
    heads = torch.tensor(model.head_delays, device=dev)
    data = StreamChunks(cfg.batch, cfg.chunk, max_delay, len(model.alphabet),
                        reset_prob=cfg.reset_prob, seed=cfg.seed, device=dev)
    h = model.initial_state(cfg.batch)
    p = Progress()
    if control is not None:
        control.model, control.progress = model, p
    p.trained_delay = max_delay
    if cfg.curriculum is not None and model.kind == "variable":
        p.trained_delay = max(0, min(cfg.curriculum, max_delay))
    k = len(model.alphabet) + 1
    dropped = False
    start = time.perf_counter()
    model.train()
    try:
        for x, targets, reset in data:
            if control is not None and control.stop.is_set():
                break  # its supervisor has taken the model as it is (trainer.supervise)
            h = model.reset_rows(h, reset)
            out, h = model.fast_memory(x, h)
            n = p.trained_delay + 1 if model.kind == "variable" else 1
            at = scored_positions(p.step, cfg.head_stride)
            out, targets = out[:, at], targets[:, at]
            logits = model.all_heads(out, n)
            loss = head_loss(logits, targets.index_select(2, heads[:n]),
                             head_weights(heads[:n], max_delay, cfg.head_slope))
            opt.zero_grad()
            loss.backward()
            if cfg.clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            with control.lock if control is not None else nullcontext():
                if control is not None and control.stop.is_set():
                    break  # the weights change here only: once taken, they stay as they are
                opt.step()
                p.step += 1
                p.samples += x.numel()
            h = model.detach_state(h)
            if p.step % cfg.eval_every == 0 or _out_of_budget(cfg, p, start):
                p.loss = loss.item()
                if not math.isfinite(p.loss) or p.loss > 10 * math.log(k):
                    raise TrainingDiverged(
                        f"training diverged at step {p.step}: the loss is {p.loss:.4g}, far "
                        f"worse than guessing (try a smaller --lr than {cfg.lr:g})")
                if _check(model, cfg, p, start, on_progress, on_check, dropped):
                    break
                if not dropped and p.heldout >= cfg.lr_drop_at:
                    dropped = True
                    opt.lr *= cfg.lr_drop
    finally:
        model.eval()
    p.seconds = time.perf_counter() - start
    return model, p


def head_weights(delays: torch.Tensor, max_delay: int, slope: float) -> torch.Tensor | None:
    """Each head's weight in the loss (see TrainConfig.head_slope), averaging 1; None when
    they are all alike."""
    if slope == 0 or max_delay == 0:
        return None
    w = 1 + slope * delays.to(torch.float32) / max_delay
    return w / w.mean()


def head_loss(logits: torch.Tensor, targets: torch.Tensor,
              weights: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy of logits (B, T, heads, K) against targets (B, T, heads), each head's
    part weighed by `weights` (None: the plain mean)."""
    k = logits.shape[-1]
    if weights is None:
        return torch.nn.functional.cross_entropy(logits.reshape(-1, k), targets.reshape(-1))
    each = torch.nn.functional.cross_entropy(logits.reshape(-1, k), targets.reshape(-1),
                                             reduction="none").view(targets.shape)
    return (each * weights).mean()


def scored_positions(step: int, stride: int) -> slice:
    """The positions of a chunk whose answers training step `step` scores: every `stride`-th,
    from an offset that turns with the step, so `stride` steps in a row score each position of a
    chunk once."""
    return slice(step % stride, None, stride)


def _questions(cfg, p, n_heads: int, dropped: bool, start) -> list[tuple[float, int]]:
    """What a check's accuracies decide, as (threshold, first n delays) for
    trainer.evaluate.seed_counts: whether the curriculum widens (or the target is met), and
    whether the step is cut. A check stops once all are answered no, which most checks are
    early on: the run goes on exactly as after a whole check. The last check (out of budget)
    decides nothing and is counted whole, for the run's record."""
    if _out_of_budget(cfg, p, start):
        return []
    trained = min(n_heads, p.trained_delay + 1)  # a variable model's head d is delay d's
    ask = [(cfg.target, n_heads) if trained == n_heads else (cfg.curriculum_at, trained)]
    return ask if dropped else ask + [(cfg.lr_drop_at, n_heads)]


def _out_of_budget(cfg, p, start) -> bool:
    return (time.perf_counter() - start >= cfg.max_seconds
            or (cfg.max_steps is not None and p.step >= cfg.max_steps))


def _check(model, cfg, p, start, on_progress, on_check, dropped: bool = False) -> bool:
    """Held-out check; True when training should stop. Cut short at --max-seconds."""
    t0 = time.perf_counter()
    deadline = start + cfg.max_seconds
    model.eval()
    seed = cfg.seed + HELDOUT_SEED_OFFSET
    max_delay = max(model.head_delays)
    acc = seed_accuracies(model, cfg.heldout_chars, seed=seed, deadline=deadline,
                          decides=_questions(cfg, p, len(model.head_delays), dropped, start))
    p.heldout = min(acc.values())
    p.by_delay = [acc[d] for d in model.head_delays]
    confident = False
    if p.trained_delay < max_delay:
        if min(acc[d] for d in range(p.trained_delay + 1)) >= cfg.curriculum_at:
            p.trained_delay = min(max_delay, p.trained_delay + cfg.curriculum_step)
    elif p.heldout >= cfg.target:
        # a pass on a small sample is often luck at 99.99%: confirm on as many characters as
        # the final test that the accuracy's lower confidence bound clears the target, and
        # that long streams hold, before stopping
        chars = cfg.confirm_chars or confirm_size(cfg.target)
        counts = seed_counts(model, chars, seed=seed + 1, deadline=deadline,
                             must_clear=cfg.target).values()
        p.heldout = min(c / t if t else 0.0 for c, t in counts)
        confident = min(lower_bound(c, t) for c, t in counts) >= cfg.target
        if confident:  # the streams cost more than the characters: only when they can decide
            p.heldout_stream = min(stream_accuracies(
                model, cfg.heldout_stream_steps, n_streams=8, seed=seed,
                deadline=deadline).values())
    p.eval_seconds += time.perf_counter() - t0
    p.seconds = time.perf_counter() - start
    p.history.append((p.seconds, p.eval_seconds, p.samples, p.heldout))
    p.reached = confident and p.heldout_stream >= cfg.target
    if on_progress:
        on_progress(p)
    if on_check:
        on_check(model, p)
    model.train()
    return p.reached or _out_of_budget(cfg, p, start)
