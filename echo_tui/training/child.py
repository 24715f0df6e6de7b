"""The training child: trainer.train in a process of its own, writing a frame to its stdout at
every held-out check (`frames`), and one at its end. `python -m echo_tui.training CONFIG_JSON`
runs it for the app; `python -m echo_tui.training.slot CONFIG_JSON` for a served session."""

from __future__ import annotations

import os

from .frames import write_frame


def child(cfg: dict, out) -> int:
    """Train per `cfg`, writing a "check" frame at every check and a "done" or "error" one."""
    try:
        os.nice(10)  # the app's keys come first
    except (AttributeError, OSError):
        pass
    from trainer.threads import cores, use_threads  # first: it says how torch's threads wait

    use_threads(max(1, cores() - 1))  # the app keeps one core for its keys
    from safetensors.torch import save

    from trainer.config import resolve_device
    from trainer.train import TrainConfig, TrainingDiverged, train

    if cfg.get("device") == "auto":  # the one rule: CUDA, then MPS, then the CPU
        cfg = {**cfg, "device": resolve_device("auto")}
    last: list[tuple[dict, bytes]] = []

    def on_check(model, p) -> None:
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
        figures = {"step": p.step, "seconds": p.seconds, "samples": p.samples, "loss": p.loss,
                   "heldout": p.heldout, "trained_delay": p.trained_delay, "reached": p.reached,
                   "by_delay": p.by_delay}
        last[:] = [(figures, save(tensors))]
        write_frame(out, "check", *last[0])

    try:
        _, p = train(TrainConfig(**cfg), on_check=on_check)
    except TrainingDiverged as e:
        write_frame(out, "error", {"message": str(e)})
        return 1
    except Exception as e:  # noqa: BLE001 - the app shows it; the child just ends
        write_frame(out, "error", {"message": f"training failed: {type(e).__name__}: {e}"})
        return 1
    if last:
        figures, weights = last[0]
        write_frame(out, "done", {**figures, "reached": p.reached, "final": True}, weights)
    else:
        write_frame(out, "done", {})
    return 0
