"""echo-gru's networks: data, models, training, evaluation and the weights file."""

from .threads import configure_waiting

configure_waiting()  # first: OpenMP reads how its threads wait when torch loads, below

# the names below load when first asked for: the app imports `trainer.text` and
# `trainer.threads` before its first frame, which must not wait for torch
_NAMES = {
    "alphabet": ("ALPHABETS", "BLANK", "N", "Alphabet", "idx_to_onehot"),
    "data": ("EchoDataset", "StreamChunks", "VariableDelayEchoDataset"),
    "evaluate": ("seed_accuracies", "stream_accuracies", "test_model", "test_variable_delay_model"),
    "model": ("GRUMemory", "VariableDelayGRUMemory"),
    "outpath": ("OutputError",),
    "weights": ("WeightsError", "load_model", "save_model", "shipped_weights"),
}
_HOME = {name: module for module, names in _NAMES.items() for name in names}

__all__ = [
    "ALPHABETS", "BLANK", "N", "Alphabet", "idx_to_onehot", "EchoDataset",
    "VariableDelayEchoDataset", "StreamChunks", "GRUMemory", "VariableDelayGRUMemory",
    "test_model", "test_variable_delay_model", "seed_accuracies", "stream_accuracies",
    "load_model", "save_model", "shipped_weights", "WeightsError", "OutputError",
]


def __getattr__(name):
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'trainer' has no attribute {name!r}")
