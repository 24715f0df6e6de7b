"""What a training run says: its checks (`Checkpoint`: figures and weights), and the messages
`Checked`, `Finished` and `Failed` a run hands its follower; `PlotData`, what the panel's plots
show of a run so far. No Textual, no torch until a checkpoint's model is built."""

from __future__ import annotations

from dataclasses import dataclass, field

from trainer.text import clip

from .frames import checked_header

@dataclass
class Checkpoint:
    """One held-out check of a run: its figures, and the model as it was then."""

    step: int
    seconds: float
    samples: int
    loss: float
    heldout: float
    trained_delay: int
    reached: bool
    weights: bytes = field(repr=False)
    final: bool = False
    by_delay: list[float] = field(default_factory=list)  # accuracy per head delay

    def in_training(self) -> float:
        """The worst held-out accuracy over the delays in training (all of them, without a
        curriculum): what the run is working on now."""
        return min(self.by_delay[:self.trained_delay + 1], default=self.heldout)

    def model(self, cfg: dict):
        """The model these weights belong to, in eval mode on the CPU; ValueError with one short
        sentence when the weights are not the model's (names, shapes) or not finite."""
        import torch
        from safetensors.torch import load

        from trainer.train import TrainConfig, build_model

        model = build_model(TrainConfig(**cfg))
        try:
            tensors = load(self.weights)
        except Exception:  # noqa: BLE001 - safetensors' own error is not one sentence
            raise ValueError("the checkpoint's weights are not safetensors data") from None
        expected = model.state_dict()
        if set(tensors) != set(expected):
            odd = sorted(set(tensors) ^ set(expected))
            raise ValueError(clip(f"the checkpoint's weights are not this model's tensors "
                                  f"({', '.join(odd)})", 200))
        for name, want in expected.items():
            got = tensors[name]
            if tuple(got.shape) != tuple(want.shape):
                raise ValueError(clip(f"the checkpoint's weights do not fit the model ({name} "
                                      f"is {list(got.shape)}, not {list(want.shape)})", 200))
            if not got.dtype.is_floating_point:
                raise ValueError(clip(f"the checkpoint's weights do not fit the model ({name} "
                                      f"holds {got.dtype}, not floating point)", 200))
            if not bool(torch.isfinite(got).all()):
                raise ValueError("the checkpoint's weights hold NaN or infinite values")
        model.load_state_dict(tensors)
        return model.eval()


@dataclass(frozen=True)
class Checked:
    """A held-out check of a run that goes on."""

    checkpoint: Checkpoint


@dataclass(frozen=True)
class Finished:
    """The run's end: its last check (`final`), or None when it ended before its first."""

    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class Failed:
    """The run's end in one sentence (the child's error, or why it could not be followed)."""

    text: str


RunMessage = Checked | Finished | Failed


def frame_message(header: dict, payload: bytes, cfg: dict | None = None) -> RunMessage:
    """What a frame says; FrameError when its header is not one the child writes (of the run
    of `cfg`, where given)."""
    kind, fields = checked_header(header, cfg)
    if kind == "error":
        return Failed(fields["message"])
    checkpoint = Checkpoint(weights=payload, **fields) if fields else None
    return Checked(checkpoint) if kind == "check" else Finished(checkpoint)



@dataclass
class PlotData:
    """What the panel's charts show: a run's checks so far."""

    delays: list[int] = field(default_factory=list)  # the model's head delays
    by_delay: list[float] = field(default_factory=list)  # the last check's, per head delay
    trained: int = 0  # the longest delay in training
    step: int = 1  # the curriculum's widening step
    target: float = 0.9999
    course: list[float] = field(default_factory=list)  # per check: worst delay in training
    losses: list[float] = field(default_factory=list)  # per check
