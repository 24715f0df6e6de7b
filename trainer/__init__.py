"""echo-gru's networks: data, models, training, evaluation and the weights file."""

from .threads import configure_waiting

configure_waiting()  # first: OpenMP reads how its threads wait when torch loads, below

from .alphabet import ALPHABETS, BLANK, N, Alphabet, idx_to_onehot
from .data import EchoDataset, StreamChunks, VariableDelayEchoDataset
from .evaluate import (seed_accuracies, stream_accuracies, test_model,
                       test_variable_delay_model)
from .model import GRUMemory, VariableDelayGRUMemory
from .outpath import OutputError
from .weights import WeightsError, load_model, save_model, shipped_weights

__all__ = [
    "ALPHABETS", "BLANK", "N", "Alphabet", "idx_to_onehot", "EchoDataset",
    "VariableDelayEchoDataset", "StreamChunks", "GRUMemory", "VariableDelayGRUMemory",
    "test_model", "test_variable_delay_model", "seed_accuracies", "stream_accuracies",
    "load_model", "save_model", "shipped_weights", "WeightsError", "OutputError",
]
