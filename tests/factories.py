"""Small seeded models for tests whose results must not change when the shipped weights do."""

import torch

from trainer import GRUMemory, VariableDelayGRUMemory


def untrained(kind: str, seed: int = 0, hidden: int = 16):
    torch.manual_seed(seed)
    if kind == "fixed":
        return GRUMemory(hidden, delay=3).eval()
    return VariableDelayGRUMemory(hidden, max_delay=5).eval()
